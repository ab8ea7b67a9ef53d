package home

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/warden-policy/warden/packs/spec"
)

// BaselinesDir is the folder of a home's baselines: one reviewable file per
// stack, baselines/<project>/<stack>.yaml.
const BaselinesDir = "baselines"

// Baseline is the violations a stack already had when a team started
// enforcing: each is reported as advisory ("baselined on DATE"), so only
// new violations block. An entry covers exactly one violation: the same
// policy of the same pack on the same resource with the same message; a
// resource changed so that it violates in a new way (another message) is
// not covered. Baselines only shrink (warden baseline prune); adding to
// one is an explicit, reviewed act.
type Baseline struct {
	File    string // its path
	Stack   string // organization/project/stack
	Created time.Time
	Entries []*BaselineEntry
	index   map[baselineKey]*BaselineEntry
}

// BaselineEntry is one baselined violation.
type BaselineEntry struct {
	Pos     spec.Pos `yaml:"-"`
	Pack    string   `yaml:"pack"`
	Policy  string   `yaml:"policy"`
	URN     string   `yaml:"urn,omitempty"`
	Message string   `yaml:"message"`
	// Since is the day the violation was first seen.
	Since time.Time `yaml:"-"`
}

type baselineKey struct{ pack, policy, urn, message string }

func (e *BaselineEntry) key() baselineKey {
	return baselineKey{e.Pack, e.Policy, e.URN, e.Message}
}

// Covers returns the entry that covers a violation, or nil.
func (b *Baseline) Covers(pack, policy, urn, message string) *BaselineEntry {
	if b == nil {
		return nil
	}
	return b.index[baselineKey{pack, policy, urn, message}]
}

// NewBaseline is a baseline of a stack, its entries sorted and indexed.
func NewBaseline(file, stack string, created time.Time, entries []*BaselineEntry) *Baseline {
	b := &Baseline{File: file, Stack: stack, Created: created}
	for _, e := range entries {
		b.add(e)
	}
	b.sort()
	return b
}

func (b *Baseline) add(e *BaselineEntry) bool {
	if b.index == nil {
		b.index = map[baselineKey]*BaselineEntry{}
	}
	if b.index[e.key()] != nil {
		return false
	}
	b.index[e.key()] = e
	b.Entries = append(b.Entries, e)
	return true
}

func (b *Baseline) sort() {
	slices.SortFunc(b.Entries, func(x, y *BaselineEntry) int {
		return cmp.Or(cmp.Compare(x.URN, y.URN), cmp.Compare(x.Pack, y.Pack), cmp.Compare(x.Policy, y.Policy), cmp.Compare(x.Message, y.Message))
	})
}

// BaselinePath is where a stack's baseline lives in a home.
func BaselinePath(dir, project, stack string) string {
	return filepath.Join(dir, BaselinesDir, project, stack+".yaml")
}

// Baseline returns a stack's baseline, nil if it has none. The
// organization is resolved as groups resolve it (Org).
func (h *Home) Baseline(organization, project, stack string) *Baseline {
	return h.Baselines[h.Org(organization)+"/"+project+"/"+stack]
}

// loadBaselines reads every baseline of the home in dir, keyed by stack.
// A broken one is an error of the home: a deployment is never let through
// with a baseline nobody can read.
func loadBaselines(dir string) (map[string]*Baseline, spec.ErrorList) {
	root := filepath.Join(dir, BaselinesDir)
	out := map[string]*Baseline{}
	var errs spec.ErrorList
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return fs.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b, perrs := ParseBaseline(path, data)
		errs = append(errs, perrs...)
		if b == nil {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		want := strings.TrimSuffix(filepath.ToSlash(rel), ".yaml")
		parts := strings.Split(b.Stack, "/")
		switch {
		case len(parts) != 3 || slices.Contains(parts, ""):
			errs.Add(spec.Pos{File: path, Line: 1, Col: 1}, spec.CodeInvalid, "", "", "baseline of stack %q: want ORGANIZATION/PROJECT/STACK", b.Stack)
		case parts[1]+"/"+parts[2] != want:
			errs.Add(spec.Pos{File: path, Line: 1, Col: 1}, spec.CodeInvalid, "", "", "baseline of stack %q is in the file of %s: move it to %s", b.Stack, want, filepath.Join(BaselinesDir, parts[1], parts[2]+".yaml"))
		default:
			out[b.Stack] = b
		}
		return nil
	})
	if err != nil {
		errs.Add(spec.Pos{File: root}, spec.CodeInvalid, "", "", "reading baselines: %v", err)
	}
	return out, errs
}

// ParseBaseline reads one baseline file.
func ParseBaseline(file string, data []byte) (*Baseline, spec.ErrorList) {
	var doc yaml.Node
	if err := spec.ParseYAML(file, data, &doc); err != nil {
		var list spec.ErrorList
		if errors.As(err, &list) {
			return nil, list
		}
		return nil, spec.ErrorList{{Pos: spec.Pos{File: file}, Code: spec.CodeSchema, Msg: err.Error()}}
	}
	d := &decoder{spec.Decoder{File: file}}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, spec.ErrorList{{Pos: spec.Pos{File: file, Line: 1, Col: 1}, Code: spec.CodeSchema, Msg: "a baseline is a mapping with stack, created and violations"}}
	}
	b := &Baseline{File: file}
	date := func(n *yaml.Node) time.Time {
		t, err := time.Parse(time.DateOnly, d.Str(n))
		if err != nil {
			d.Errorf(n, spec.CodeSchema, "date %q: want YYYY-MM-DD", n.Value)
		}
		return t
	}
	d.Mapping(doc.Content[0], "baseline", []string{"stack", "created", "violations"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "stack":
			b.Stack = d.Str(v)
		case "created":
			b.Created = date(v)
		case "violations":
			if !d.Kind(v, yaml.SequenceNode, "a list of violations") {
				return
			}
			for _, n := range v.Content {
				e := &BaselineEntry{Pos: d.Pos(n)}
				d.Mapping(n, "baselined violation", []string{"pack", "policy", "urn", "message", "since"}, func(key string, _, fv *yaml.Node) {
					switch key {
					case "pack":
						e.Pack = d.Str(fv)
					case "policy":
						e.Policy = d.Str(fv)
					case "urn":
						e.URN = d.Str(fv)
					case "message":
						e.Message = d.Str(fv)
					case "since":
						e.Since = date(fv)
					}
				})
				if e.Pack == "" || e.Policy == "" {
					d.Errorf(n, spec.CodeSchema, "a baselined violation names its pack and policy")
					continue
				}
				if !b.add(e) {
					d.Errorf(n, spec.CodeInvalid, "violation listed twice (%s/%s on %s)", e.Pack, e.Policy, e.URN)
				}
			}
		}
	})
	if b.Stack == "" {
		d.Errorf(doc.Content[0], spec.CodeSchema, "a baseline names its stack (stack: ORG/PROJECT/STACK)")
	}
	if len(d.Errs) > 0 {
		return nil, d.Errs
	}
	return b, nil
}

// Marshal is the baseline's file: a header that says what it is, then the
// entries sorted by resource, so a review's diff reads well.
func (b *Baseline) Marshal() []byte {
	type entry struct {
		Policy  string `yaml:"policy"`
		Pack    string `yaml:"pack"`
		URN     string `yaml:"urn,omitempty"`
		Since   string `yaml:"since"`
		Message string `yaml:"message"`
	}
	doc := struct {
		Stack      string  `yaml:"stack"`
		Created    string  `yaml:"created"`
		Violations []entry `yaml:"violations"`
	}{Stack: b.Stack, Created: b.Created.Format(time.DateOnly), Violations: []entry{}}
	b.sort()
	for _, e := range b.Entries {
		doc.Violations = append(doc.Violations, entry{Policy: e.Policy, Pack: e.Pack, URN: e.URN, Since: e.Since.Format(time.DateOnly), Message: e.Message})
	}
	var buf bytes.Buffer
	buf.WriteString("# Warden baseline: violations this stack already had when its policies were\n" +
		"# enforced. Each is reported as advisory (\"baselined\"), so only new violations\n" +
		"# block. `warden baseline prune` drops the ones that are gone; nothing is added\n" +
		"# without `warden baseline create --add`.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		panic(fmt.Sprintf("encoding a baseline: %v", err)) // plain strings always encode
	}
	enc.Close()
	return buf.Bytes()
}

// Remove drops entries; it is how a baseline shrinks.
func (b *Baseline) Remove(drop func(*BaselineEntry) bool) []*BaselineEntry {
	var removed []*BaselineEntry
	kept := b.Entries[:0]
	for _, e := range b.Entries {
		if drop(e) {
			removed = append(removed, e)
			delete(b.index, e.key())
		} else {
			kept = append(kept, e)
		}
	}
	b.Entries = kept
	return removed
}

// Add adds entries it does not have yet and returns those it added.
func (b *Baseline) Add(entries []*BaselineEntry) []*BaselineEntry {
	var added []*BaselineEntry
	for _, e := range entries {
		if b.add(e) {
			added = append(added, e)
		}
	}
	b.sort()
	return added
}

// WriteBaseline writes a baseline to its file atomically, or removes the
// file when the baseline is empty (a stack with nothing left to forgive).
func WriteBaseline(b *Baseline) error {
	if len(b.Entries) == 0 {
		if err := os.Remove(b.File); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", b.File, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(b.File), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", b.File, err)
	}
	return writeFileAtomic(b.File, b.Marshal())
}

package home

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"gopkg.in/yaml.v3"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

// File is the name of a home's manifest.
const File = "warden.yaml"

// PacksDir is the folder of a home's own packs.
const PacksDir = "packs"

// Mode says when a group runs.
type Mode string

// Group modes.
const (
	Preventative Mode = "preventative" // during preview and update, in the plugin
	Audit        Mode = "audit"        // over existing state, in warden audit
)

// Home is a loaded policy home.
type Home struct {
	// Dir is the home's directory; empty for the embedded default.
	Dir          string
	File         string // path of warden.yaml
	Source       []byte
	Organization string
	Groups       []*Group
	Exceptions   []*Exception // in file order
	// FindingsStore is the findings ledger's URL (findings: {store: URL}),
	// "" for the default; a relative sqlite: path is against Dir.
	FindingsStore    string
	FindingsStorePos spec.Pos
	// Baselines are the stacks' baselines (baselines/<project>/<stack>.yaml),
	// by organization/project/stack.
	Baselines map[string]*Baseline
}

// ValidStoreURL reports whether s names a findings store Warden can open.
func ValidStoreURL(s string) bool {
	for _, p := range []string{"sqlite:", "postgres://", "postgresql://"} {
		if strings.HasPrefix(s, p) && len(s) > len(p) {
			return true
		}
	}
	return false
}

// redactStore hides what may be a password in a store URL.
func redactStore(s string) string {
	if at := strings.LastIndex(s, "@"); at >= 0 {
		if i := strings.Index(s, "://"); i >= 0 && i < at {
			return s[:i+3] + "…" + s[at:]
		}
	}
	return s
}

// Group is a named set of packs and the stacks (or, for audit, the
// sources) it governs.
type Group struct {
	Pos     spec.Pos
	Name    string
	Mode    Mode
	Default bool
	Stacks  []StackSelector
	Rule    *Rule
	Sources []Source
	Packs   []*PackEntry
	// Schedule, for an audit group, is how often warden audit --watch
	// runs it (schedule: "@every 6h", "@hourly", "@daily"); 0 when not
	// scheduled.
	Schedule time.Duration
	// MandatoryFrom raises every advisory policy of the group's packs at
	// or above this severity to mandatory ("" when not set).
	MandatoryFrom spec.Severity
}

// Stage is how a policy's level is rolled out. Shadow runs it unseen: its
// findings are recorded in the ledger, nothing is shown to the person
// deploying, nothing blocks. From, when set, is the first day a mandatory
// (or remediate) level applies; before it the policy runs advisory and
// each violation says when it will block.
type Stage struct {
	Shadow bool
	From   time.Time
}

// ParseLevel reads an enforcement level as warden.yaml takes it: one of
// the engine's four, "shadow", or "mandatory from YYYY-MM-DD" (also
// remediate). It returns the level the engine is given and the stage.
func ParseLevel(s string) (spec.Level, Stage, error) {
	if s == string(spec.Shadow) {
		return spec.Advisory, Stage{Shadow: true}, nil
	}
	if lvl, date, ok := strings.Cut(s, " from "); ok {
		l := spec.Level(strings.TrimSpace(lvl))
		if l != spec.Mandatory && l != spec.Remediate {
			return "", Stage{}, fmt.Errorf("enforcement level %q: only mandatory or remediate can start on a date", s)
		}
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(date))
		if err != nil {
			return "", Stage{}, fmt.Errorf("enforcement level %q: %q is not a date (want YYYY-MM-DD)", s, strings.TrimSpace(date))
		}
		return l, Stage{From: t}, nil
	}
	l := spec.Level(s)
	if !l.Valid() {
		return "", Stage{}, fmt.Errorf("enforcement level %q must be one of advisory, mandatory, remediate, disabled, shadow, or \"mandatory from YYYY-MM-DD\"", s)
	}
	return l, Stage{}, nil
}

// ParseSchedule reads an audit group's schedule: "@every DURATION" (Go
// durations: 30m, 6h, 1h30m; at least a minute), "@hourly" or "@daily".
func ParseSchedule(s string) (time.Duration, error) {
	switch s {
	case "@hourly":
		return time.Hour, nil
	case "@daily":
		return 24 * time.Hour, nil
	}
	rest, ok := strings.CutPrefix(s, "@every ")
	if !ok {
		return 0, fmt.Errorf("schedule %q: want \"@every DURATION\" (e.g. @every 6h), @hourly or @daily", s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(rest))
	if err != nil {
		return 0, fmt.Errorf("schedule %q: %q is not a duration (e.g. 30m, 6h, 1h30m)", s, rest)
	}
	if d < time.Minute {
		return 0, fmt.Errorf("schedule %q: at least a minute apart", s)
	}
	return d, nil
}

// Source is where an audit group finds state: a stack export file or a
// self-managed backend folder (file:// URL).
type Source struct {
	Pos  spec.Pos
	Text string
	Path string // resolved against the home's directory; "" for a cloud backend
	URL  string // a cloud backend's URL (s3://, gs://, azblob://), as pulumi login takes it
}

// cloudSource reports whether a source is a cloud backend URL.
func cloudSource(s string) bool {
	for _, p := range []string{"s3://", "gs://", "azblob://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// PackEntry is one pack of a group, resolved to a compiled pack.
type PackEntry struct {
	Pos   spec.Pos
	Name  string
	Range string // semver range as written; empty: newest
	// Level, when set, applies to every policy of the pack (below the
	// entry's per-policy config).
	Level spec.Level
	// Stage is how Level is rolled out (shadow, or mandatory from a date).
	Stage Stage
	// Config is per-policy config in the --policy-pack-config forms;
	// Stages the rollout of the levels it sets.
	Config map[string]engine.PolicyConfig
	Stages map[string]Stage
	Pack   *engine.Pack
	// Source says where the pack came from: "built-in" or its directory.
	Source string
}

// Load reads dir/warden.yaml and every pack it names. All problems are
// returned together as a spec.ErrorList.
func Load(dir string) (*Home, error) {
	file := filepath.Join(dir, File)
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, spec.ErrorList{{Pos: spec.Pos{File: file}, Code: spec.CodeSchema,
				Msg: "no " + File + " in the policy home (warden init creates one)"}}
		}
		return nil, fmt.Errorf("reading policy home: %w", err)
	}
	return Parse(dir, file, data)
}

// Exists reports whether dir has a warden.yaml.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, File))
	return err == nil
}

// Default is the embedded home: a default preventative group and a default
// audit group, each running every built-in pack at its own levels.
func Default() (*Home, error) {
	packs, err := builtin.Packs()
	if err != nil {
		return nil, err
	}
	g := &Group{Name: "default", Mode: Preventative, Default: true}
	a := &Group{Name: "default-audit", Mode: Audit, Default: true}
	for _, p := range packs {
		g.Packs = append(g.Packs, &PackEntry{Name: p.Name, Pack: p, Source: "built-in"})
		a.Packs = append(a.Packs, &PackEntry{Name: p.Name, Pack: p, Source: "built-in"})
	}
	return &Home{Groups: []*Group{g, a}}, nil
}

// FromPacks is a home of one default group (preventative and audit) that
// runs exactly these packs at their own levels.
func FromPacks(packs []*engine.Pack, source string) *Home {
	g := &Group{Name: "packs", Mode: Preventative, Default: true}
	a := &Group{Name: "packs-audit", Mode: Audit, Default: true}
	for _, p := range packs {
		g.Packs = append(g.Packs, &PackEntry{Name: p.Name, Pack: p, Source: source})
		a.Packs = append(a.Packs, &PackEntry{Name: p.Name, Pack: p, Source: source})
	}
	return &Home{Groups: []*Group{g, a}}
}

// Parse reads a warden.yaml held in memory; dir is the home's directory.
func Parse(dir, file string, data []byte) (*Home, error) {
	var doc yaml.Node
	if err := spec.ParseYAML(file, data, &doc); err != nil {
		return nil, err
	}
	return parseDoc(dir, file, data, &doc)
}

// parseDoc is Parse of an already parsed document (data's), which it only
// reads: the editor parses a text once and both edits and loads it.
func parseDoc(dir, file string, data []byte, doc *yaml.Node) (*Home, error) {
	h := &Home{Dir: dir, File: file, Source: data}
	d := &decoder{spec.Decoder{File: file}}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, spec.ErrorList{{Pos: spec.Pos{File: file, Line: 1, Col: 1}, Code: spec.CodeSchema, Msg: File + " is a mapping with organization and groups"}}
	}
	root := doc.Content[0]
	d.Mapping(root, File, []string{"organization", "groups", "exceptions", "findings"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "organization":
			h.Organization = d.Str(v)
		case "findings":
			d.Mapping(v, "findings", []string{"store"}, func(_ string, _, sv *yaml.Node) {
				h.FindingsStore, h.FindingsStorePos = d.Str(sv), d.Pos(sv)
				if !ValidStoreURL(h.FindingsStore) {
					d.Errorf(sv, spec.CodeInvalid, "findings store %q: want sqlite:PATH or postgres://HOST/DB (put the password in PGPASSWORD, not here)", redactStore(h.FindingsStore))
				}
			})
		case "exceptions":
			h.Exceptions = d.exceptions(v)
		case "groups":
			if d.Kind(v, yaml.SequenceNode, "a list of groups") {
				for _, n := range v.Content {
					if g := d.group(dir, n); g != nil {
						h.Groups = append(h.Groups, g)
					}
				}
			}
		}
	})
	seen := map[string]*Group{}
	for _, g := range h.Groups {
		if prev, ok := seen[g.Name]; ok {
			d.Errs.Add(g.Pos, spec.CodeInvalid, "", "", "duplicate group %q (first at line %d)", g.Name, prev.Pos.Line)
		}
		seen[g.Name] = g
	}
	lib := newLibrary(dir)
	for _, g := range h.Groups {
		for _, e := range g.Packs {
			d.Errs.Append(lib.resolve(e))
		}
	}
	if dir != "" {
		var errs spec.ErrorList
		h.Baselines, errs = loadBaselines(dir)
		d.Errs.Append(errs)
	}
	d.Errs.Sort()
	if err := d.Errs.Err(); err != nil {
		return nil, err
	}
	return h, nil
}

// decoder reads warden.yaml with the YAML kit pack.yaml's decoder uses.
type decoder struct{ spec.Decoder }

func (d *decoder) group(dir string, n *yaml.Node) *Group {
	g := &Group{Pos: d.Pos(n)}
	var sourcesNode *yaml.Node
	var scheduleNode *yaml.Node
	d.Mapping(n, "group", []string{"name", "mode", "default", "stacks", "stackRule", "sources", "schedule", "mandatoryFrom", "packs"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "mandatoryFrom":
			g.MandatoryFrom = spec.Severity(d.Str(v))
			if g.MandatoryFrom.Rank() == 0 {
				d.Errorf(v, spec.CodeSchema, "mandatoryFrom %q must be a severity: low, medium, high or critical", g.MandatoryFrom)
			}
		case "name":
			g.Name = d.Str(v)
		case "mode":
			switch m := Mode(d.Str(v)); m {
			case Preventative, Audit:
				g.Mode = m
			default:
				d.Errorf(v, spec.CodeSchema, "mode %q must be %q or %q", m, Preventative, Audit)
			}
		case "default":
			if v.Value != "true" && v.Value != "false" {
				d.Errorf(v, spec.CodeSchema, "default: want true or false")
			}
			g.Default = v.Value == "true"
		case "stacks":
			if d.Kind(v, yaml.SequenceNode, "a list of stacks (stack, project/stack, org/project/stack; * globs)") {
				for _, sn := range v.Content {
					sel, err := ParseStackSelector(d.Str(sn))
					if err != nil {
						d.Errorf(sn, spec.CodeSchema, "%v", err)
						continue
					}
					sel.Pos = d.Pos(sn)
					g.Stacks = append(g.Stacks, sel)
				}
			}
		case "stackRule":
			r, err := ParseRule(d.Str(v))
			if err != nil {
				d.Errorf(v, spec.CodeSchema, "%v", err)
				return
			}
			r.Pos = d.Pos(v)
			g.Rule = r
		case "schedule":
			scheduleNode = v
			sched, err := ParseSchedule(d.Str(v))
			if err != nil {
				d.Errorf(v, spec.CodeInvalid, "%v", err)
			}
			g.Schedule = sched
		case "sources":
			sourcesNode = v
			if d.Kind(v, yaml.SequenceNode, "a list of stack export files or backend URLs") {
				for _, sn := range v.Content {
					text := d.Str(sn)
					if cloudSource(text) {
						// Read through the backend URL as pulumi login takes it.
						g.Sources = append(g.Sources, Source{Pos: d.Pos(sn), Text: text, URL: text})
						continue
					}
					p := strings.TrimPrefix(text, "file://")
					if strings.Contains(p, "://") {
						d.Errorf(sn, spec.CodeSchema, "source %q: only stack export files and backend URLs (file://, s3://, gs://, azblob://) can be audited", text)
						continue
					}
					if !filepath.IsAbs(p) && dir != "" {
						p = filepath.Join(dir, p)
					}
					g.Sources = append(g.Sources, Source{Pos: d.Pos(sn), Text: text, Path: p})
				}
			}
		case "packs":
			if d.Kind(v, yaml.SequenceNode, "a list of packs") {
				for _, pn := range v.Content {
					if e := d.packEntry(pn); e != nil {
						g.Packs = append(g.Packs, e)
					}
				}
			}
		}
	})
	if g.Name == "" {
		d.Errorf(n, spec.CodeSchema, "group without a name")
	}
	if g.Mode == "" {
		g.Mode = Preventative
	}
	if scheduleNode != nil && g.Mode != Audit {
		d.Errorf(scheduleNode, spec.CodeSchema, "a schedule belongs to audit groups: group %q is %s (it runs on every preview and update)", g.Name, g.Mode)
	}
	if sourcesNode != nil && g.Mode != Audit {
		d.Errorf(sourcesNode, spec.CodeSchema, "sources belong to audit groups: group %q is %s (set mode: audit, or list stacks)", g.Name, g.Mode)
	}
	if g.Mode == Audit && len(g.Sources) == 0 && sourcesNode == nil {
		d.Errorf(n, spec.CodeSchema, "audit group %q has no sources: list stack export files or file:// backend folders", g.Name)
	}
	return g
}

func (d *decoder) packEntry(n *yaml.Node) *PackEntry {
	e := &PackEntry{Pos: d.Pos(n)}
	if n.Kind == yaml.ScalarNode { // - aws-foundations
		e.Name = n.Value
		return e
	}
	d.Mapping(n, "pack entry", []string{"pack", "version", "enforcementLevel", "config"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "pack":
			e.Name = d.Str(v)
		case "version":
			e.Range = d.Str(v)
			if _, err := semver.NewConstraint(e.Range); err != nil {
				d.Errorf(v, spec.CodeSchema, "version %q is not a semver range (^1, ~1.2, >=1.0.0 <2)", e.Range)
			}
		case "enforcementLevel":
			lvl, stage, err := ParseLevel(d.Str(v))
			if err != nil {
				d.Errorf(v, spec.CodeSchema, "%v", err)
			}
			e.Level, e.Stage = lvl, stage
		case "config":
			e.Config, e.Stages = d.config(v)
		}
	})
	if e.Name == "" {
		d.Errorf(n, spec.CodeSchema, "pack entry without a pack name")
		return nil
	}
	return e
}

// config reads policy config in the --policy-pack-config forms, with
// warden.yaml's staged levels (shadow, "mandatory from DATE"), which it
// returns apart: the engine is given the plain level.
func (d *decoder) config(n *yaml.Node) (map[string]engine.PolicyConfig, map[string]Stage) {
	out := map[string]engine.PolicyConfig{}
	stages := map[string]Stage{}
	if !d.Kind(n, yaml.MappingNode, "a mapping of policy names to levels or config") {
		return out, stages
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var val any
		if err := v.Decode(&val); err != nil {
			d.Errorf(v, spec.CodeSchema, "%v", err)
			continue
		}
		val = spec.Normalize(val)
		bad := false
		staged := func(s string) string {
			lvl, stage, err := ParseLevel(s)
			if err != nil {
				d.Errorf(v, spec.CodeSchema, "config for %s: %v", k.Value, err)
				bad = true
				return s
			}
			if stage != (Stage{}) {
				stages[k.Value] = stage
			}
			return string(lvl)
		}
		switch x := val.(type) {
		case string:
			val = staged(x)
		case map[string]any:
			if s, ok := x["enforcementLevel"].(string); ok {
				x["enforcementLevel"] = staged(s)
			}
		}
		if bad {
			continue
		}
		pc, err := engine.ParsePolicyConfig(val)
		if err != nil {
			d.Errorf(v, spec.CodeSchema, "config for %s: %v", k.Value, err)
			continue
		}
		pc.Pos = d.Pos(k)
		if pc.Level != "" && !pc.Level.Valid() {
			d.Errorf(v, spec.CodeSchema, "enforcement level %q must be one of advisory, mandatory, remediate, disabled", pc.Level)
		}
		out[k.Value] = pc
	}
	return out, stages
}

// library finds packs by name and version: the home's packs/ folder
// (packs/NAME/pack.yaml, or packs/NAME/VERSION/pack.yaml for several
// versions side by side) and the built-in catalog.
type library struct {
	dir   string
	cache map[string]*engine.Pack
}

func newLibrary(dir string) *library { return &library{dir: dir, cache: map[string]*engine.Pack{}} }

type candidate struct {
	version *semver.Version
	source  string // "built-in" or a directory
	pack    *engine.Pack
}

func (l *library) candidates(name string) ([]candidate, spec.ErrorList) {
	var out []candidate
	var errs spec.ErrorList
	if !spec.ValidName(name) { // never a path: packs/../x is not a pack
		return nil, nil
	}
	if builtin.Has(name) {
		if p, err := builtin.Pack(name); err == nil {
			out = append(out, candidate{version: semver.MustParse(p.Version), source: "built-in", pack: p})
		}
	}
	if l.dir == "" {
		return out, nil
	}
	base := filepath.Join(l.dir, PacksDir, name)
	dirs := []string{base}
	entries, err := os.ReadDir(base)
	switch {
	case err == nil:
		for _, e := range entries {
			if e.IsDir() {
				dirs = append(dirs, filepath.Join(base, e.Name()))
			}
		}
	case !errors.Is(err, fs.ErrNotExist):
		// A folder this user cannot read (another publisher's umask) is
		// not an unknown pack: say what is wrong with it.
		errs.Add(spec.Pos{File: base}, spec.CodeInvalid, name, "", "cannot read the pack folder: %v (every user of the home must be able to read it)", unwrapPath(err))
		return nil, errs
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, spec.PackFile)); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs.Add(spec.Pos{File: filepath.Join(dir, spec.PackFile)}, spec.CodeInvalid, name, "",
					"cannot read the pack: %v (every user of the home must be able to read it)", unwrapPath(err))
			}
			continue
		}
		p, err := l.load(dir)
		if err != nil {
			var list spec.ErrorList
			if errors.As(err, &list) {
				errs.Append(list)
				continue
			}
			errs.Add(spec.Pos{File: dir}, spec.CodeInvalid, name, "", "%v", err)
			continue
		}
		if p.Name != name {
			errs.Add(spec.Pos{File: filepath.Join(dir, spec.PackFile), Line: 1, Col: 1}, spec.CodeInvalid, p.Name, "",
				"pack in %s is named %q: a pack's folder is its name", dir, p.Name)
			continue
		}
		out = append(out, candidate{version: semver.MustParse(p.Version), source: dir, pack: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version.GreaterThan(out[j].version) })
	return out, errs
}

// unwrapPath drops the path an *fs.PathError repeats, since the error is
// already positioned at it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (l *library) load(dir string) (*engine.Pack, error) {
	if p, ok := l.cache[dir]; ok {
		return p, nil
	}
	p, err := engine.Load(dir)
	if err != nil {
		return nil, err
	}
	l.cache[dir] = p
	return p, nil
}

// resolve picks the newest version of the entry's pack within its range.
func (l *library) resolve(e *PackEntry) spec.ErrorList {
	cands, errs := l.candidates(e.Name)
	if len(errs) > 0 {
		return errs
	}
	var list spec.ErrorList
	if len(cands) == 0 {
		list.Add(e.Pos, spec.CodeInvalid, e.Name, "", "unknown pack %q: not built in (%s) and not in %s/", e.Name,
			strings.Join(append(builtin.Names(), builtin.Frameworks()...), ", "), PacksDir)
		return list
	}
	var c *semver.Constraints
	if e.Range != "" {
		c, _ = semver.NewConstraint(e.Range)
	}
	for i, cand := range cands {
		if c != nil && !c.Check(cand.version) {
			continue
		}
		if i+1 < len(cands) && cands[i+1].version.Equal(cand.version) {
			list.Add(e.Pos, spec.CodeInvalid, e.Name, "", "pack %s@%s exists twice (%s and %s)", e.Name, cand.version, cand.source, cands[i+1].source)
			return list
		}
		e.Pack, e.Source = cand.pack, cand.source
		return nil
	}
	var have []string
	for _, cand := range cands {
		have = append(have, cand.version.String())
	}
	list.Add(e.Pos, spec.CodeInvalid, e.Name, "", "no version of pack %q matches %q (have %s)", e.Name, e.Range, strings.Join(have, ", "))
	return list
}

// RunConfig is the engine config for an entry: the entry's level for every
// policy, then its per-policy config.
func (e *PackEntry) RunConfig() map[string]engine.PolicyConfig {
	out := make(map[string]engine.PolicyConfig, len(e.Config)+1)
	for k, v := range e.Config {
		out[k] = v
	}
	if e.Level != "" {
		all := out[engine.AllPolicies]
		if all.Level == "" {
			all.Level = e.Level
			all.Pos = e.Pos
		}
		out[engine.AllPolicies] = all
	}
	return out
}

// exceptions reads the exceptions mapping: id -> {reason, approvedBy,
// expires, match}.
func (d *decoder) exceptions(n *yaml.Node) []*Exception {
	var out []*Exception
	if !d.Kind(n, yaml.MappingNode, "a mapping of exception ids to exceptions") {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		e := &Exception{Pos: d.Pos(k), ID: k.Value}
		d.Mapping(v, "exception "+e.ID, []string{"reason", "approvedBy", "expires", "match"}, func(key string, _, fv *yaml.Node) {
			switch key {
			case "reason":
				e.Reason = strings.TrimSpace(d.Str(fv))
			case "approvedBy":
				e.ApprovedBy = d.Str(fv)
			case "expires":
				t, err := time.Parse(time.DateOnly, d.Str(fv))
				if err != nil {
					d.Errorf(fv, spec.CodeSchema, "expires %q is not a date: want YYYY-MM-DD", fv.Value)
					return
				}
				e.Expires = t
			case "match":
				if !d.Kind(fv, yaml.SequenceNode, "a list of {policies, targets}") {
					return
				}
				for _, mn := range fv.Content {
					m := ExceptionMatch{Pos: d.Pos(mn)}
					d.Mapping(mn, "match", []string{"policies", "targets"}, func(mk string, _, mv *yaml.Node) {
						if !d.Kind(mv, yaml.SequenceNode, "a list of strings") {
							return
						}
						for _, item := range mv.Content {
							s := d.Str(item)
							if mk == "policies" {
								m.Policies = append(m.Policies, s)
								continue
							}
							if err := validTarget(s); err != nil {
								d.Errorf(item, spec.CodeSchema, "%v", err)
							}
							m.Targets = append(m.Targets, s)
						}
					})
					if len(m.Policies) == 0 || len(m.Targets) == 0 {
						d.Errorf(mn, spec.CodeSchema, "exception %s: a match needs policies and targets", e.ID)
					}
					e.Match = append(e.Match, m)
				}
			}
		})
		if e.Reason == "" {
			d.Errorf(k, spec.CodeSchema, "exception %s has no reason: say why the waiver is safe", e.ID)
		}
		if len(e.Match) == 0 {
			d.Errorf(k, spec.CodeSchema, "exception %s matches nothing: add match: [{policies: [...], targets: [...]}]", e.ID)
		}
		out = append(out, e)
	}
	return out
}

// Package stackexport reads `pulumi stack export` files into engine
// resources: inputs for resource policies, outputs for stack policies, as
// `pulumi policy analyze` hands them to an analyzer.
package stackexport

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/urn"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

// unknownText is the sentinel of an unknown value in a state file.
const unknownText = sig.UnknownStringValue

// Stack is the content of one export.
type Stack struct {
	// Name, Project come from the resources' URNs
	// (urn:pulumi:<stack>::<project>::<type>::<name>), or a checkpoint's
	// stack reference, which also names the Organization.
	Name, Project, Organization string
	Resources                   []*Resource
	// Encrypted counts secret values whose ciphertext could not be read:
	// they are analyzed as unknown values, and the caller should say so.
	Encrypted int
	// WrongPassphrase is set when Options.Passphrase did not open the
	// stack's passphrase-encrypted secrets.
	WrongPassphrase bool

	decrypt func(ciphertext string) (plaintext string, ok bool)
}

// Resource is one resource of the export.
type Resource struct {
	Inputs  *engine.Resource // props = inputs
	Outputs *engine.Resource // props = outputs
	Custom  bool
}

// export is a `pulumi stack export` file, or a self-managed backend's
// checkpoint ({"version", "checkpoint": {"stack", "latest": deployment}}).
type export struct {
	Version    int         `json:"version"`
	Deployment *deployment `json:"deployment"`
	Checkpoint *struct {
		Stack  string      `json:"stack"`
		Latest *deployment `json:"latest"`
	} `json:"checkpoint"`
}

type deployment struct {
	SecretsProviders *secretsProvider `json:"secrets_providers"`
	Resources        []struct {
		URN                     string              `json:"urn"`
		Custom                  bool                `json:"custom"`
		Delete                  bool                `json:"delete"`
		Type                    string              `json:"type"`
		Inputs                  map[string]any      `json:"inputs"`
		Outputs                 map[string]any      `json:"outputs"`
		Parent                  string              `json:"parent"`
		Provider                string              `json:"provider"`
		Protect                 bool                `json:"protect"`
		Dependencies            []string            `json:"dependencies"`
		PropertyDependencies    map[string][]string `json:"propertyDependencies"`
		AdditionalSecretOutputs []string            `json:"additionalSecretOutputs"`
		Aliases                 []string            `json:"aliases"`
		DeleteBeforeReplace     bool                `json:"deleteBeforeReplace"`
		IgnoreChanges           []string            `json:"ignoreChanges"`
		CustomTimeouts          *struct {
			Create float64 `json:"create"`
			Update float64 `json:"update"`
			Delete float64 `json:"delete"`
		} `json:"customTimeouts"`
	} `json:"resources"`
}

// ErrNotExport is returned for JSON that is not a stack export.
var ErrNotExport = errors.New("not a stack export (want the output of `pulumi stack export`: {\"version\": 3, \"deployment\": {...}})")

// MaxDepth bounds how deeply a resource's property values may nest: the
// engine's bound (engine.MaxDepth), checked here while reading so that a
// hostile 10,000-deep export is refused at its position before anything
// walks it. Real exports stay within a few dozen levels.
const MaxDepth = engine.MaxDepth

// Versions Pulumi has written: `pulumi stack export` and self-managed
// checkpoints carry deployment schema versions 1 to 3.
const (
	minVersion = 1
	maxVersion = 3
)

// Error is a problem at a position of an export. File is set by ReadFile;
// Line and Col are 1-based, Col counting bytes.
type Error struct {
	File      string
	Line, Col int
	Msg       string
	Err       error // the cause, if any, for errors.Is (ErrNotExport)
}

// Error renders file:line:col: message, or "line L, column C: message" when
// the export was read from a stream without a name.
func (e *Error) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// errorAt is an Error at the byte data[off].
func errorAt(data []byte, off int64, err error, format string, args ...any) *Error {
	line, col := position(data, off+1)
	return &Error{Line: line, Col: col, Msg: fmt.Sprintf(format, args...), Err: err}
}

// Read parses an export. It is strict where Pulumi is: one JSON value and
// nothing after it, a schema version Pulumi writes, values at most MaxDepth
// deep; an export that breaks any of these is refused, not half-analyzed.
func Read(r io.Reader) (*Stack, error) { return ReadWith(r, Options{}) }

// ReadWith is Read with options (a passphrase for the stack's secrets).
func ReadWith(r io.Reader, opts Options) (*Stack, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var ex export
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&ex); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(data, se.Offset)
			return nil, &Error{Line: line, Col: col, Msg: se.Error() + " (is the file truncated?)", Err: err}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("unexpected end of file: the export is truncated")
		}
		return nil, fmt.Errorf("%w: %v", ErrNotExport, err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(data[off:])) > 0 {
		off += int64(len(data[off:]) - len(bytes.TrimLeft(data[off:], " \t\r\n")))
		return nil, errorAt(data, off, nil, "unexpected data after the export's JSON value (two exports in one file?)")
	}
	if ex.Checkpoint != nil {
		if ex.Checkpoint.Latest == nil {
			// A stack that was never deployed: nothing to analyze.
			ex.Checkpoint.Latest = &deployment{}
		}
		ex.Deployment = ex.Checkpoint.Latest
	}
	if ex.Deployment == nil || ex.Version == 0 {
		return nil, ErrNotExport
	}
	if ex.Version < minVersion || ex.Version > maxVersion {
		what := "stack export"
		if ex.Checkpoint != nil {
			what = "checkpoint"
		}
		msg := fmt.Sprintf("%s version %d is not one Pulumi writes (%d to %d)", what, ex.Version, minVersion, maxVersion)
		if ex.Version > maxVersion {
			msg = fmt.Sprintf("%s version %d is newer than this build reads (%d): written by a newer Pulumi; upgrade warden", what, ex.Version, maxVersion)
		}
		return nil, errorAt(data, valueOffset(data, "version"), nil, "%s", msg)
	}
	s := &Stack{}
	s.decrypt = decrypter(opts, ex.Deployment.SecretsProviders, s)
	if ex.Checkpoint != nil {
		// "organization/project/stack" in project-scoped backends.
		parts := strings.Split(ex.Checkpoint.Stack, "/")
		s.Name = parts[len(parts)-1]
		if len(parts) == 3 {
			s.Organization, s.Project = parts[0], parts[1]
		}
	}
	providers := map[string]*engine.Provider{}
	for _, r := range ex.Deployment.Resources {
		if strings.HasPrefix(r.Type, "pulumi:providers:") {
			props, err := s.values(r.URN, "inputs", r.Inputs)
			if err != nil {
				return nil, err
			}
			providers[r.URN] = &engine.Provider{Name: urnName(r.URN), Type: r.Type, URN: r.URN, Props: props}
		}
	}
	for _, r := range ex.Deployment.Resources {
		if r.Delete {
			continue // pending deletion: not part of the stack's state
		}
		if s.Project == "" {
			// A legacy checkpoint names its stack alone: the URNs say
			// the project.
			name, project := urnStack(r.URN)
			if s.Name == "" {
				s.Name = name
			}
			s.Project = project
		}
		base := engine.Resource{
			URN: r.URN, Type: r.Type, Name: urnName(r.URN), Parent: r.Parent,
			Dependencies: r.Dependencies, PropertyDependencies: r.PropertyDependencies,
			Options: engine.Options{
				Protect: r.Protect, IgnoreChanges: r.IgnoreChanges, DeleteBeforeReplace: r.DeleteBeforeReplace,
				Aliases: r.Aliases, AdditionalSecretOutputs: r.AdditionalSecretOutputs, Parent: r.Parent,
			},
		}
		if r.CustomTimeouts != nil {
			base.Options.CustomTimeouts = engine.CustomTimeouts{
				Create: seconds(r.CustomTimeouts.Create), Update: seconds(r.CustomTimeouts.Update), Delete: seconds(r.CustomTimeouts.Delete),
			}
		}
		if ref := r.Provider; ref != "" {
			urn := ref
			if i := strings.LastIndex(ref, "::"); i > 0 && strings.Count(ref, "::") > 3 {
				urn = ref[:i] // provider references are "<urn>::<id>"
			}
			base.Provider = providers[urn]
		}
		in, out := base, base
		var err error
		if in.Props, err = s.values(r.URN, "inputs", r.Inputs); err != nil {
			return nil, err
		}
		if out.Props, err = s.values(r.URN, "outputs", r.Outputs); err != nil {
			return nil, err
		}
		s.Resources = append(s.Resources, &Resource{Inputs: &in, Outputs: &out, Custom: r.Custom})
	}
	return s, nil
}

func seconds(f float64) string {
	if f == 0 {
		return ""
	}
	return fmt.Sprintf("%gs", f/1e9)
}

// values converts export values: secrets with plaintext become Secret,
// encrypted ones Secret of an unknown, the unknown sentinel Unknown. A value
// nested deeper than MaxDepth is refused, naming the resource and the path.
func (s *Stack) values(urn, field string, m map[string]any) (map[string]any, error) {
	if m == nil {
		return map[string]any{}, nil
	}
	c := converter{s: s}
	v := c.value(m, 1)
	if c.tooDeep != nil {
		return nil, fmt.Errorf("resource %s: %s: values nest more than %d levels deep", urn, pathString(field, c.tooDeep), MaxDepth)
	}
	return v.(map[string]any), nil
}

// converter walks one property tree, keeping the path to the current value
// (one element pushed and popped per level, so the walk stays linear and
// allocates nothing per value; the path is spelled out only for an error).
type converter struct {
	s       *Stack
	path    spec.Path
	tooDeep spec.Path // the path where MaxDepth was passed; nil while within it
}

func (c *converter) value(v any, depth int) any {
	if c.tooDeep != nil {
		return nil
	}
	switch v := v.(type) {
	case string:
		if v == unknownText {
			return engine.Unknown{}
		}
		return v
	case []any:
		if depth > MaxDepth {
			c.tooDeep = slices.Clone(c.path)
			return nil
		}
		for i, e := range v {
			c.path = append(c.path, spec.PathElem{Index: i, IsIndex: true})
			v[i] = c.value(e, depth+1)
			c.path = c.path[:len(c.path)-1]
		}
		return v
	case map[string]any:
		if depth > MaxDepth {
			c.tooDeep = slices.Clone(c.path)
			return nil
		}
		str := func(k string) string { s, _ := v[k].(string); return s }
		switch v[sig.Key] {
		case sig.Secret:
			pt, ok := v["plaintext"].(string)
			if ct, isCT := v["ciphertext"].(string); !ok && isCT && c.s.decrypt != nil {
				pt, ok = c.s.decrypt(ct)
			}
			if ok {
				var inner any
				if err := json.Unmarshal([]byte(pt), &inner); err == nil {
					return engine.Secret{Value: c.value(inner, depth+1)}
				}
			}
			c.s.Encrypted++
			return engine.Secret{Value: engine.Unknown{}}
		case sig.ResourceReference:
			id, hasID := v["id"].(string)
			return engine.ResourceRef(str("urn"), id, hasID)
		case sig.AssetSig:
			return engine.AssetValue(str("hash"), str("text"), str("path"), str("uri"))
		case sig.ArchiveSig:
			return engine.ArchiveValue(str("hash"), str("path"), str("uri"))
		}
		for k, e := range v {
			c.path = append(c.path, spec.PathElem{Key: k})
			v[k] = c.value(e, depth+1)
			c.path = c.path[:len(c.path)-1]
		}
		return v
	}
	return v
}

// pathString renders a property path under field (inputs.a.b[0]), eliding
// the middle of a very long one: the ends say where to look.
func pathString(field string, path spec.Path) string {
	segs := make([]string, 0, len(path)+1)
	segs = append(segs, field)
	for _, e := range path {
		if e.IsIndex {
			segs = append(segs, "["+strconv.Itoa(e.Index)+"]")
		} else {
			segs = append(segs, "."+e.Key)
		}
	}
	if len(segs) > 24 {
		segs = append(append(slices.Clone(segs[:12]), fmt.Sprintf("…(%d more)…", len(segs)-24)), segs[len(segs)-12:]...)
	}
	return strings.Join(segs, "")
}

// urnStack returns the stack and project of a URN ("" if it is not one).
func urnStack(s string) (stack, project string) {
	u, err := urn.Parse(s)
	if err != nil {
		return "", ""
	}
	return string(u.Stack()), string(u.Project())
}

// urnName returns the name part of a URN, or s if it is not one.
func urnName(s string) string {
	u, err := urn.Parse(s)
	if err != nil {
		return s
	}
	return u.Name()
}

// position is the line and column (1-based) of the byte data[off-1]: the
// last byte read when a decoder reports an error after off bytes.
func position(data []byte, off int64) (line, col int) {
	line = 1
	last := 0
	for i := 0; i < int(off)-1 && i < len(data); i++ {
		if data[i] == '\n' {
			line++
			last = i + 1
		}
	}
	return line, max(int(off)-last, 1)
}

// valueOffset is the offset of the value of a top-level key of a JSON
// object, or 0 when it cannot be found. It is used only to position an
// error, so it may decode the top level again.
func valueOffset(data []byte, key string) int64 {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return 0
		}
		if k, _ := t.(string); k == key {
			off := dec.InputOffset()
			for off < int64(len(data)) && strings.IndexByte(": \t\r\n", data[off]) >= 0 {
				off++
			}
			return off
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return 0
		}
	}
	return 0
}

// ReadFile reads an export or checkpoint file, gzipped or not.
func ReadFile(path string) (*Stack, error) { return ReadFileWith(path, Options{}) }

// ReadFileWith is ReadFile with options.
func ReadFileWith(path string, opts Options) (*Stack, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	st, err := ReadWith(r, opts)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			pe.File = path
			return nil, pe
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// Discover lists the stack checkpoints of a self-managed backend folder
// (the directory `pulumi login file://DIR` uses): DIR/.pulumi/stacks/, with
// or without project folders, plain or gzipped, sorted.
func Discover(dir string) ([]string, error) {
	root := filepath.Join(dir, ".pulumi", "stacks")
	if _, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("%s is not a Pulumi backend folder (no .pulumi/stacks): %w", dir, err)
	}
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".json.gz") {
			out = append(out, path)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

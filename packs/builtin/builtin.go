// Package builtin holds Warden's built-in packs, embedded in the binary:
// each directory is a pack (pack.yaml) with its test cases (tests/*.yaml).
// frameworks/ holds the framework views: a compliance framework's controls
// (frameworks/<name>.yaml), which select the built-in policies that name
// one of them (a policy's controls) into a pack of the framework's name, so
// a group applies "CIS AWS 3.0" as one pack.
package builtin

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

//go:embed */pack.yaml */tests/*.yaml frameworks/*.yaml
var files embed.FS

// checked holds each pack's checked expressions (engine.CheckedASTs),
// generated: a policy's first use plans its programs from them instead of
// parsing and checking CEL, which made the first resources of a type wait
// on a compile. TestCheckedFresh keeps them in step with the packs.
//
//go:generate go run ./internal/gencheck
//go:embed checked/*.bin
var checked embed.FS

// FS is the embedded tree: <pack>/pack.yaml and <pack>/tests/*.yaml.
func FS() fs.FS { return files }

// Checked is the embedded checked expressions: checked/<pack>.bin.
func Checked() fs.FS { return checked }

// Names lists the built-in packs, sorted; the framework views are not
// among them (Frameworks): they hold the same policies again.
func Names() []string { return slices.Clone(packNames()) }

// Frameworks lists the framework views, sorted.
func Frameworks() []string { return slices.Clone(viewNames()) }

// packNames and viewNames read the embedded tree once: it never changes,
// and Has and Pack ask on every pack a home resolves.
var (
	packNames = sync.OnceValue(func() []string {
		entries, _ := fs.ReadDir(files, ".")
		var out []string
		for _, e := range entries {
			if _, err := fs.Stat(files, path.Join(e.Name(), spec.PackFile)); e.IsDir() && err == nil {
				out = append(out, e.Name())
			}
		}
		sort.Strings(out)
		return out
	})
	viewNames = sync.OnceValue(func() []string {
		entries, _ := fs.ReadDir(files, frameworksDir)
		var out []string
		for _, e := range entries {
			if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
				out = append(out, name)
			}
		}
		sort.Strings(out)
		return out
	})
)

// Has reports whether name is a built-in pack or a framework view: a name
// a group can use without publishing anything.
func Has(name string) bool {
	return slices.Contains(packNames(), name) || slices.Contains(viewNames(), name)
}

const frameworksDir = "frameworks"

var frameworkFiles sync.Map // name -> func() (*spec.ControlFramework, error)

// Framework reads the named framework's controls, once per process.
func Framework(name string) (*spec.ControlFramework, error) {
	f, _ := frameworkFiles.LoadOrStore(name, sync.OnceValues(func() (*spec.ControlFramework, error) {
		file := path.Join(frameworksDir, name+".yaml")
		data, err := fs.ReadFile(files, file)
		if err != nil {
			return nil, fmt.Errorf("no built-in framework %q", name)
		}
		return spec.ParseFramework(file, data)
	}))
	return f.(func() (*spec.ControlFramework, error))()
}

// view composes the framework view: every built-in policy that names one
// of the framework's controls, at its own enforcement level, reporting the
// framework and the controls it checks as its compliance framework.
func view(name string) (*engine.Pack, error) {
	f, err := Framework(name)
	if err != nil {
		return nil, err
	}
	sp := &spec.Pack{
		File: path.Join(frameworksDir, name+".yaml"), Name: f.Name, Version: f.PackVersion,
		Description:      fmt.Sprintf("%s %s: the built-in policies mapped to its controls.", f.Title, f.Version),
		EnforcementLevel: spec.Advisory, Tags: []string{"framework"},
	}
	var sources []engine.Source
	from := map[string]string{} // policy -> its pack
	for _, src := range packNames() {
		p, err := Pack(src)
		if err != nil {
			return nil, err
		}
		asts, _ := checked.ReadFile("checked/" + src + ".bin")
		sources = append(sources, engine.Source{Spec: p.Spec, Checked: asts})
		for _, ps := range p.Spec.Policies {
			ids := ControlsIn(ps.Controls, name)
			if len(ids) == 0 {
				continue
			}
			// Config and reports name a policy alone: a view cannot hold
			// two of one name (required-tags of several clouds).
			if prev, dup := from[ps.Name]; dup {
				return nil, fmt.Errorf("framework %s: policy %s is in both %s and %s; a view's policy names must be unique", name, ps.Name, prev, src)
			}
			from[ps.Name] = src
			vp := *ps
			if vp.EnforcementLevel == "" {
				vp.EnforcementLevel = p.Level
			}
			vp.Framework = &spec.Framework{Name: f.Title, Version: f.Version, Reference: strings.Join(ids, ", ")}
			sp.Policies = append(sp.Policies, &vp)
		}
	}
	return engine.ComposeLazyChecked(sp, sources)
}

// ControlsIn returns the ids of the controls of framework among refs
// ("framework/control"), in order.
func ControlsIn(refs []string, framework string) []string {
	var ids []string
	for _, ref := range refs {
		if fw, id, ok := strings.Cut(ref, "/"); ok && fw == framework {
			ids = append(ids, id)
		}
	}
	return ids
}

// compiled memoizes each pack's compilation: a home that names one
// built-in pack pays for that one at start-up, not for the catalog.
var compiled sync.Map // name -> func() (*engine.Pack, error)

// Pack loads the named built-in pack or framework view, once per process. Its policies
// compile on first use (engine.LoadFSLazyChecked): TestEveryPolicyCompiles
// compiles all of them ahead of time, so a plugin start pays only for the
// policies its stack's resource types reach.
func Pack(name string) (*engine.Pack, error) {
	f, _ := compiled.LoadOrStore(name, sync.OnceValues(func() (*engine.Pack, error) {
		if slices.Contains(viewNames(), name) {
			return view(name)
		}
		asts, _ := checked.ReadFile("checked/" + name + ".bin") // none: compiled from source
		p, err := engine.LoadFSLazyChecked(files, name, asts)
		if err != nil {
			return nil, fmt.Errorf("built-in pack %s: %w", name, err)
		}
		return p, nil
	}))
	return f.(func() (*engine.Pack, error))()
}

// Packs compiles every built-in pack, once per process.
func Packs() ([]*engine.Pack, error) {
	var out []*engine.Pack
	for _, name := range Names() {
		p, err := Pack(name)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

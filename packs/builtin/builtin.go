// Package builtin holds Warden's built-in packs, embedded in the binary:
// each directory is a pack (pack.yaml) with its test cases (tests/*.yaml).
package builtin

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"github.com/warden-policy/warden/packs/engine"
)

//go:embed */pack.yaml */tests/*.yaml
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

// Names lists the built-in packs, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// compiled memoizes each pack's compilation: a home that names one
// built-in pack pays for that one at start-up, not for the catalog.
var compiled sync.Map // name -> func() (*engine.Pack, error)

// Pack loads the named built-in pack, once per process. Its policies
// compile on first use (engine.LoadFSLazyChecked): TestEveryPolicyCompiles
// compiles all of them ahead of time, so a plugin start pays only for the
// policies its stack's resource types reach.
func Pack(name string) (*engine.Pack, error) {
	f, _ := compiled.LoadOrStore(name, sync.OnceValues(func() (*engine.Pack, error) {
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

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

// FS is the embedded tree: <pack>/pack.yaml and <pack>/tests/*.yaml.
func FS() fs.FS { return files }

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

var (
	once  sync.Once
	packs []*engine.Pack
	err   error
)

// Packs compiles every built-in pack, once per process.
func Packs() ([]*engine.Pack, error) {
	once.Do(func() {
		for _, name := range Names() {
			p, e := engine.LoadFS(files, name)
			if e != nil {
				err = fmt.Errorf("built-in pack %s: %w", name, e)
				return
			}
			packs = append(packs, p)
		}
	})
	return packs, err
}

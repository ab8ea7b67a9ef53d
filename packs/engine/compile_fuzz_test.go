package engine_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

// maxSeed keeps fuzz seeds small enough to mutate and minimize quickly.
const maxSeed = 4 << 10

// FuzzCompilePack: compiling any pack.yaml never panics, every error
// (YAML, schema or CEL) is positioned in the file, and a pack that compiles
// has every policy of its manifest, reachable by name.
func FuzzCompilePack(f *testing.F) {
	for _, pat := range []string{"../builtin/*/pack.yaml", "testdata/*/*/pack.yaml"} {
		files, err := filepath.Glob(pat)
		if err != nil || len(files) == 0 {
			f.Fatalf("no seed files match %s", pat)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			// Keep seeds small: the fuzzer mutates and minimizes them quickly.
			if len(data) > maxSeed {
				data = data[:bytes.LastIndexByte(data[:maxSeed], '\n')+1]
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := engine.Parse("pack.yaml", data)
		if err != nil {
			var list spec.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not an ErrorList: %T %v", err, err)
			}
			for _, e := range list {
				if e.Pos.File != "pack.yaml" || !e.Pos.IsValid() {
					t.Fatalf("unpositioned error %q (pos %+v)", e.Error(), e.Pos)
				}
			}
			return
		}
		if len(p.Policies) != len(p.Spec.Policies) {
			t.Fatalf("%d policies compiled of %d", len(p.Policies), len(p.Spec.Policies))
		}
		for _, pol := range p.Spec.Policies {
			if p.Policy(pol.Name) == nil {
				t.Fatalf("policy %q is not reachable by name", pol.Name)
			}
		}
	})
}

package engine_test

import (
	"errors"
	"testing"

	"github.com/warden-policy/warden/internal/fuzzseed"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

// FuzzCompilePack: compiling any pack.yaml never panics, every error
// (YAML, schema or CEL) is positioned in the file, and a pack that compiles
// has every policy of its manifest, reachable by name.
func FuzzCompilePack(f *testing.F) {
	for _, seed := range fuzzseed.Files(f, "../builtin/*/pack.yaml", "testdata/*/*/pack.yaml") {
		f.Add(seed)
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

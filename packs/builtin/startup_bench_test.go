package builtin_test

import (
	"io/fs"
	"testing"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
)

// BenchmarkLoadCatalog compiles every built-in pack, as each plugin start
// does.
func BenchmarkLoadCatalog(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, name := range builtin.Names() {
			if _, err := engine.LoadFS(builtin.FS(), name); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCompileChecked compiles every built-in policy as a plugin does
// on first use, from the checked expressions the binary ships: what the
// first resources of each type wait for.
func BenchmarkCompileChecked(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, name := range builtin.Names() {
			asts, err := fs.ReadFile(builtin.Checked(), "checked/"+name+".bin")
			if err != nil {
				b.Fatal(err)
			}
			p, err := engine.LoadFSLazyChecked(builtin.FS(), name, asts)
			if err != nil {
				b.Fatal(err)
			}
			for _, pol := range p.Policies {
				if err := pol.Compile(); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

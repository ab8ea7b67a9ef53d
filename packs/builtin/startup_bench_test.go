package builtin_test

import (
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

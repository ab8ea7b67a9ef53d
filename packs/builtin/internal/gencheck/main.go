// Command gencheck writes the built-in packs' checked expressions
// (engine.CheckedASTs) into checked/<pack>.bin, which package builtin
// embeds: run by go generate in packs/builtin after a pack or Warden's CEL
// declarations change (TestCheckedFresh says when).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/warden-policy/warden/packs/engine"
)

func main() {
	fsys := os.DirFS(".")
	packs, err := filepath.Glob("*/pack.yaml")
	if err != nil {
		fail(err)
	}
	for _, p := range packs {
		name := filepath.Dir(p)
		data, err := engine.CheckedASTs(fsys, name)
		if err != nil {
			fail(fmt.Errorf("%s: %w", name, err))
		}
		if err := os.WriteFile(filepath.Join("checked", name+".bin"), data, 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gencheck:", err)
	os.Exit(1)
}

package commands

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/warden-policy/warden/packs/home"
)

// TestConcurrentEdits is issue 12 item 2: 10 groups new and 10 groups edit
// run at once on one home, as separate processes. Each read-modify-write
// of warden.yaml once raced the others, so all 20 reported success while
// only a few changes survived. Every change must survive now.
func TestConcurrentEdits(t *testing.T) {
	t.Setenv("WARDEN_HOME", "")
	// A small home, so that 20 processes under -race stay quick: the
	// smallest built-in pack, no packs folder.
	dir := t.TempDir()
	src := "organization: acme\ngroups:\n  - name: default\n    default: true\n    packs: [kubernetes-baseline]\n" +
		"  - name: shared\n    stacks: [base]\n    packs: [kubernetes-baseline]\n"
	if err := os.WriteFile(filepath.Join(dir, home.File), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 10
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for i := range n {
		for _, args := range [][]string{
			{"groups", "new", fmt.Sprintf("g%d", i), "--stack", fmt.Sprintf("s%d", i), "--pack", "kubernetes-baseline"},
			{"groups", "edit", "shared", "--add-stack", fmt.Sprintf("e%d", i)},
		} {
			cmd := exec.Command(os.Args[0], append(args, "--home", dir)...)
			cmd.Env = append(os.Environ(), envAsCLI+"=1")
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			cmds, outs = append(cmds, cmd), append(outs, &out)
		}
	}
	// Start them all before waiting for any, so they overlap.
	for _, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("%v: %v\n%s", cmd.Args[1:], err, outs[i])
		}
	}
	h, err := home.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lost []string
	for i := range n {
		if !slices.ContainsFunc(h.Groups, func(g *home.Group) bool { return g.Name == fmt.Sprintf("g%d", i) }) {
			lost = append(lost, fmt.Sprintf("group g%d", i))
		}
	}
	i := slices.IndexFunc(h.Groups, func(g *home.Group) bool { return g.Name == "shared" })
	if i < 0 {
		t.Fatal("group shared is gone")
	}
	var stacks []string
	for _, s := range h.Groups[i].Stacks {
		stacks = append(stacks, s.Text)
	}
	for i := range n {
		if s := fmt.Sprintf("e%d", i); !slices.Contains(stacks, s) {
			lost = append(lost, "stack "+s+" of group shared")
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d changes lost: %s", len(lost), 2*n, strings.Join(lost, ", "))
	}
}

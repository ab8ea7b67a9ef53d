package home

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestUngoverned(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, groups string
		want         string // substring of the one warning; "" for none
	}{
		{"default group", "  - {name: default, default: true, packs: [aws-foundations]}\n", ""},
		{"stacks only", "  - {name: prod, stacks: ['*/prod'], packs: [aws-foundations]}\n", ""},
		{"stack rule only", "  - {name: prod, stackRule: tier=critical, packs: [aws-foundations]}\n", ""},
		{"no groups", "", "has no preventative group"},
		{"audit only", "  - {name: nightly, mode: audit, sources: [a.json], packs: [aws-foundations]}\n", "has no preventative group"},
		{"selects nothing", "  - {name: orphan, packs: [aws-foundations]}\n", "no preventative group selects a stack"},
		{"runs nothing", "  - {name: default, default: true}\n  - {name: prod, stacks: [prod], packs: []}\n", "(default, prod) run no packs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := "organization: acme\ngroups:\n" + tc.groups
			if tc.groups == "" {
				src = "organization: acme\n"
			}
			h, err := Parse("", File, []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			got := h.Ungoverned()
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("warnings for a governed home: %q", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want) || !strings.HasPrefix(got[0], File)):
				t.Errorf("got %q, want one warning naming %s and containing %q", got, File, tc.want)
			}
		})
	}
	if d, err := Default(); err != nil || d.Ungoverned() != nil {
		t.Errorf("the embedded default home: %v %q", err, d.Ungoverned())
	}
}

// TestSaveRefusesUngoverning: an edit that leaves a governed home governing
// no stack is refused at the group it touched, and nothing is written; the
// same edit of a home that governed nothing already is allowed.
func TestSaveRefusesUngoverning(t *testing.T) {
	t.Parallel()
	const governed = "organization: acme\ngroups:\n  - name: prod\n    stacks: ['*/prod']\n    packs: [aws-foundations]\n  - name: qa\n    packs: [aws-foundations]\n"
	tests := []struct {
		name, src string
		edit      func(e *Editor) error
		refused   bool
	}{
		{"remove the last selecting group", governed, func(e *Editor) error { return e.removeGroupNode("prod") }, true},
		{"switch it to audit", governed, func(e *Editor) error {
			return e.editGroupNode("prod", func(n *yaml.Node) error {
				mapSet(n, "mode", scalar("audit"))
				mapDelete(n, "stacks")
				mapSet(n, "sources", seq("a.json"))
				return nil
			})
		}, true},
		{"remove a group that selects nothing", governed, func(e *Editor) error { return e.removeGroupNode("qa") }, false},
		{"already ungoverned", strings.Replace(governed, "    stacks: ['*/prod']\n", "", 1), func(e *Editor) error { return e.removeGroupNode("prod") }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, File)
			if err := os.WriteFile(file, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			e, err := OpenEditor(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.edit(e); err != nil {
				t.Fatal(err)
			}
			err = e.save()
			after, _ := os.ReadFile(file)
			var refused *RefusedError
			switch {
			case tc.refused && !errors.As(err, &refused):
				t.Fatalf("got %v, want a RefusedError", err)
			case tc.refused && (!strings.HasPrefix(err.Error(), file+":3:") || string(after) != tc.src):
				t.Errorf("refusal %q: want it at %s:3, and the file unchanged:\n%s", err, file, after)
			case !tc.refused && err != nil:
				t.Errorf("refused: %v", err)
			}
		})
	}
}

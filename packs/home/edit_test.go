package home

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/warden-policy/warden/packs/spec"
)

// TestEditGoldens applies each edit to testdata/edit/warden.yaml and
// compares the result with its golden file: the edited group changes, and
// every other byte (comments, order, formatting, other groups,
// exceptions) stays as it was.
func TestEditGoldens(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/edit/warden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(e *Editor) error
	}{
		{"add-group", func(e *Editor) error {
			g := mapping("name", "staging", "mode", "preventative")
			s := seq("*/staging")
			s.Style = yaml.FlowStyle
			mapSet(g, "stacks", s)
			entry := mapping("pack", "kubernetes-baseline")
			entry.Style = yaml.FlowStyle
			mapSet(g, "packs", &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{entry}})
			return e.addGroupNode(g)
		}},
		{"edit-group", func(e *Editor) error {
			return e.editGroupNode("production", func(n *yaml.Node) error {
				mapGet(n, "stacks").Content = append(mapGet(n, "stacks").Content, scalar("payments/live"))
				mapSet(n, "stackRule", scalar("tier=critical"))
				return nil
			})
		}},
		{"rename-first-group", func(e *Editor) error {
			return e.editGroupNode("default", func(n *yaml.Node) error {
				mapSet(n, "name", scalar("baseline"))
				return nil
			})
		}},
		{"remove-group", func(e *Editor) error { return e.removeGroupNode("production") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, File), src, 0o644); err != nil {
				t.Fatal(err)
			}
			e, err := OpenEditor(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.edit(e); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "edit", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, e.Source(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(e.Source()) != string(want) {
				t.Errorf("%s differs:\n%s", golden, e.Source())
			}
			if _, err := e.Home(); err != nil {
				t.Errorf("the edited home does not load: %v", err)
			}
		})
	}
}

// TestEditEmptyAndMissing: groups written as [] or absent.
func TestEditEmptyAndMissing(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"organization: acme\ngroups: []\n", "organization: acme # no groups yet\n"} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, File), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := OpenEditor(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.addGroupNode(mapping("name", "first", "mode", "preventative", "default", true)); err != nil {
			t.Fatal(err)
		}
		h, err := e.Home()
		if err != nil {
			t.Fatalf("%q: %v\n%s", src, err, e.Source())
		}
		if len(h.Groups) != 1 || h.Groups[0].Name != "first" || !h.Groups[0].Default {
			t.Errorf("%q: groups %+v", src, h.Groups)
		}
	}
}

// TestSaveRefusesInvalid: an edit that breaks the home is not written.
func TestSaveRefusesInvalid(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, _ := os.ReadFile("testdata/edit/warden.yaml")
	if err := os.WriteFile(filepath.Join(dir, File), src, 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := OpenEditor(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.editGroupNode("production", func(n *yaml.Node) error {
		mapSet(n, "mode", scalar("sometimes"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.save(); err == nil {
		t.Fatal("an invalid home was saved")
	}
	after, _ := os.ReadFile(filepath.Join(dir, File))
	if string(after) != string(src) {
		t.Error("the file changed after a refused edit")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left files behind: %v", entries)
	}
}

// flowHome is issue 12's home: groups written in flow style, where every
// group shares its line with "groups:". Splicing lines there once removed
// every group, the default included.
const flowHome = `organization: acme
groups: [{name: default, mode: preventative, default: true, packs: [aws-foundations]}, {name: staging, stacks: ["*/staging"], packs: [kubernetes-baseline]}]
`

// TestEditFlowStyleRefused: every edit of flow-style groups is refused with
// a RefusedError positioned at the groups list, and the text is unchanged.
func TestEditFlowStyleRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(e *Editor) error
	}{
		{"remove", func(e *Editor) error { return e.removeGroupNode("staging") }},
		{"edit", func(e *Editor) error {
			return e.editGroupNode("staging", func(n *yaml.Node) error {
				mapSet(n, "stackRule", scalar("tier=critical"))
				return nil
			})
		}},
		{"add", func(e *Editor) error { return e.addGroupNode(mapping("name", "qa", "mode", "preventative")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, File), []byte(flowHome), 0o644); err != nil {
				t.Fatal(err)
			}
			e, err := OpenEditor(dir)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.edit(e)
			var refused *RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("got %v, want a *RefusedError", err)
			}
			want := filepath.Join(dir, File) + ":2:9: "
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "flow style") {
				t.Errorf("error %q: want it to start with %q and name flow style", err, want)
			}
			if string(e.Source()) != flowHome {
				t.Errorf("the text changed:\n%s", e.Source())
			}
		})
	}
}

// TestVerifyRefusesCollateralChange: when a splice changes more than the
// group it targets (here, a second group vanishes with the removed one),
// the edit is refused and the text restored.
func TestVerifyRefusesCollateralChange(t *testing.T) {
	t.Parallel()
	src := []byte("organization: acme\ngroups:\n  - name: default\n    default: true\n  - name: staging\n  - name: qa\n")
	e := &Editor{File: File, src: src}
	before, err := e.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e.setSource([]byte("organization: acme\ngroups:\n  - name: default\n    default: true\n"), nil)
	err = e.verify(before, spec.Pos{File: File, Line: 5, Col: 5}, "staging", func(old, cur []any) bool {
		return sameGroups(slices.Delete(slices.Clone(old), 1, 2), cur)
	})
	var refused *RefusedError
	if !errors.As(err, &refused) || !strings.HasPrefix(err.Error(), "warden.yaml:5:5: ") {
		t.Fatalf("got %v, want a RefusedError at warden.yaml:5:5", err)
	}
	if string(e.Source()) != string(src) {
		t.Errorf("the text was not restored:\n%s", e.Source())
	}
}

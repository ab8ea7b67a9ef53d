package home

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/warden-policy/warden/packs/spec"
)

// editCopy is a copy of testdata/edit in a temporary home.
func editCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/edit/warden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, File), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTypedGroupEdits: the typed edits change the home as asked, through
// Edit, and a request that does not fit the home is a BadEditError that
// leaves the file alone.
func TestTypedGroupEdits(t *testing.T) {
	t.Parallel()
	dir := editCopy(t)
	rule := "tier=critical"
	steps := []func(e *Editor, h *Home) error{
		func(e *Editor, h *Home) error {
			return e.AddGroup(h, NewGroup{Name: "staging", Mode: Preventative, Stacks: []string{"*/staging"},
				Packs: []PackRef{{Name: "kubernetes-baseline", Level: spec.Mandatory}}})
		},
		func(e *Editor, h *Home) error {
			return e.ChangeGroup(h, "staging", GroupChange{Rule: &rule, AddStacks: []string{"*/qa"},
				AddPacks: []PackRef{{Name: "aws-foundations"}}, Levels: []PackRef{{Name: "aws-foundations", Level: spec.Advisory}}})
		},
		func(e *Editor, h *Home) error { return e.ChangeGroup(h, "production", GroupChange{Rename: "prod"}) },
	}
	for i, step := range steps {
		var ed *Editor
		if err := Edit(dir, func(e *Editor, h *Home) error { ed = e; return step(e, h) }); err != nil {
			t.Fatal(err)
		}
		// The file as read, then the edit's result: each parsed once, for
		// the edit, its check and the validation before writing alike.
		if ed.parses != 2 {
			t.Errorf("step %d parsed warden.yaml texts %d times, want 2", i, ed.parses)
		}
	}
	h, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := h.group("staging")
	if g == nil || g.Rule == nil || len(g.Stacks) != 2 || len(g.Packs) != 2 || g.Packs[0].Level != spec.Mandatory || g.Packs[1].Level != spec.Advisory {
		t.Fatalf("staging after the edits: %+v", g)
	}
	if h.group("prod") == nil || h.group("production") != nil {
		t.Error("production was not renamed")
	}
	if err := Edit(dir, func(e *Editor, h *Home) error { return e.RemoveGroup(h, "staging") }); err != nil || mustLoad(t, dir).group("staging") != nil {
		t.Errorf("remove staging: %v", err)
	}

	before, _ := os.ReadFile(filepath.Join(dir, File))
	for name, bad := range map[string]func(e *Editor, h *Home) error{
		"add an existing group":     func(e *Editor, h *Home) error { return e.AddGroup(h, NewGroup{Name: "prod", Mode: Preventative}) },
		"change a missing group":    func(e *Editor, h *Home) error { return e.ChangeGroup(h, "nope", GroupChange{}) },
		"rename a default group":    func(e *Editor, h *Home) error { return e.ChangeGroup(h, "default", GroupChange{Rename: "base"}) },
		"switch a default to audit": func(e *Editor, h *Home) error { return e.ChangeGroup(h, "default", GroupChange{Mode: Audit}) },
		"sources on a preventative": func(e *Editor, h *Home) error {
			return e.ChangeGroup(h, "prod", GroupChange{AddSources: []string{"file://x"}})
		},
		"remove a pack it lacks": func(e *Editor, h *Home) error {
			return e.ChangeGroup(h, "prod", GroupChange{RemovePacks: []string{"nope"}})
		},
		"add a pack it runs": func(e *Editor, h *Home) error {
			return e.ChangeGroup(h, "prod", GroupChange{AddPacks: []PackRef{{Name: "aws-foundations"}}})
		},
		"a level that is not one": func(e *Editor, h *Home) error {
			return e.ChangeGroup(h, "prod", GroupChange{Levels: []PackRef{{Name: "aws-foundations", Level: "blocking"}}})
		},
		"remove the default group": func(e *Editor, h *Home) error { return e.RemoveGroup(h, "default") },
	} {
		var be *BadEditError
		if err := Edit(dir, bad); !errors.As(err, &be) {
			t.Errorf("%s: %v, want a BadEditError", name, err)
		}
		if after, _ := os.ReadFile(filepath.Join(dir, File)); string(after) != string(before) {
			t.Errorf("%s changed the file", name)
		}
	}
}

func mustLoad(t *testing.T, dir string) *Home {
	t.Helper()
	h, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

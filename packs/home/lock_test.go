package home

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// TestEditConcurrent: edits through Edit from many goroutines at once all
// survive; each takes the home's lock (an flock on its own open file, so
// it excludes goroutines as it excludes processes) around its
// read-modify-write. The CLI's TestConcurrentEdits does the same with
// processes.
func TestEditConcurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, File)
	src := "# our policy home\norganization: acme\ngroups:\n  - name: default\n    default: true\n    packs: [aws-foundations]\n"
	if err := os.WriteFile(file, []byte(src), 0o640); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = Edit(dir, func(e *Editor, _ *Home) error {
				return e.addGroupNode(mapping("name", fmt.Sprintf("g%d", i), "stacks", seq(fmt.Sprintf("s%d", i))))
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("edit %d: %v", i, err)
		}
	}
	h, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !slices.ContainsFunc(h.Groups, func(g *Group) bool { return g.Name == fmt.Sprintf("g%d", i) }) {
			t.Errorf("group g%d was lost", i)
		}
	}
	// The write kept the file's mode and left only the file and the lock.
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode after edits: %v %v", st.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{LockFile, File}) {
		t.Errorf("files in the home: %v, want %s and %s", names, LockFile, File)
	}
}

// TestEditErrorWritesNothing: an error from fn, or an edit that does not
// change the text, leaves warden.yaml as it was, byte for byte.
func TestEditErrorWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, File)
	src := "organization: acme # keep me\ngroups:\n  - {name: default, default: true, packs: [aws-foundations]}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(file)
	boom := fmt.Errorf("boom")
	if err := Edit(dir, func(e *Editor, _ *Home) error {
		if err := e.removeGroupNode("default"); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Errorf("got %v, want fn's error", err)
	}
	if err := Edit(dir, func(*Editor, *Home) error { return nil }); err != nil {
		t.Errorf("a no-op edit: %v", err)
	}
	after, _ := os.Stat(file)
	if got, _ := os.ReadFile(file); string(got) != src || !os.SameFile(before, after) {
		t.Errorf("warden.yaml was rewritten:\n%s", got)
	}
}

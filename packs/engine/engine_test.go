package engine_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/packtest"
	"github.com/warden-policy/warden/packs/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestCases runs every case directory under testdata/cases: a pack.yaml and
// its tests/*.yaml, through the same runner as `warden test`.
func TestCases(t *testing.T) {
	dirs, err := filepath.Glob("testdata/cases/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no case directories: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			pack, err := engine.Load(dir)
			if err != nil {
				var buf bytes.Buffer
				spec.Print(&buf, err, readFile)
				t.Fatalf("loading pack:\n%s", buf.String())
			}
			suites, err := packtest.LoadSuites(dir)
			if err != nil {
				t.Fatalf("loading tests: %v", err)
			}
			results, err := packtest.Run(t.Context(), pack, suites)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) == 0 {
				t.Fatal("no test cases ran")
			}
			for _, r := range results {
				t.Run(r.Case.Name, func(t *testing.T) {
					for _, f := range r.Failures {
						t.Error(f)
					}
				})
			}
		})
	}
}

// TestErrors loads every broken pack under testdata/errors and compares the
// printed, positioned errors with errors.golden. Run with -update to rewrite.
func TestErrors(t *testing.T) {
	dirs, err := filepath.Glob("testdata/errors/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no error cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			_, err := engine.Load(dir)
			if err == nil {
				t.Fatal("the pack loaded; want errors")
			}
			var buf bytes.Buffer
			spec.Print(&buf, err, readFile)
			golden := filepath.Join(dir, "errors.golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("errors differ from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func readFile(name string) []byte {
	b, _ := os.ReadFile(name)
	return b
}

var _ = context.Background

// TestReadmeExamples keeps packs/README.md honest: its pack and test file
// are the readme case directory, byte for byte.
func TestReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"testdata/cases/readme/pack.yaml", "testdata/cases/readme/tests/readme.yaml"} {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(readme, append([]byte("```yaml\n"), want...)) {
			t.Errorf("packs/README.md does not show %s as it is", f)
		}
	}
}

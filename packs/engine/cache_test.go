package engine

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestASTCache: a pack loaded with the cache on is checked once; the next
// load parses and checks nothing and evaluates the same; a damaged cache
// file is compiled over; entries unused for long are trimmed.
// (Not parallel: the cache directory and the counter are process-wide.)
func TestASTCache(t *testing.T) {
	dir := t.TempDir()
	SetCacheDir(dir)
	t.Cleanup(func() { SetCacheDir("") })

	src, err := os.ReadFile(filepath.Join("testdata", "cases", "aws", "pack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	load := func(data []byte) (*Pack, int64) {
		t.Helper()
		before := checked.Load()
		p, err := Parse("pack.yaml", data)
		if err != nil {
			t.Fatal(err)
		}
		return p, checked.Load() - before
	}
	res := &Resource{URN: "urn:pulumi:dev::web::aws:s3/bucket:Bucket::b", Type: "aws:s3/bucket:Bucket", Name: "b",
		Props: map[string]any{"acl": "public-read", "bucket": "b", "tags": map[string]any{"env": "dev"}}}
	outcome := func(p *Pack) string {
		t.Helper()
		run, err := p.NewRun(Stack{Name: "dev"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out string
		for _, r := range run.Evaluate(t.Context(), res) {
			out += fmt.Sprintf("%s %d %d %d|", r.Policy.Name, len(r.Violations), len(r.Undecided), len(r.Errors))
		}
		return out
	}

	first, n := load(src)
	if n == 0 {
		t.Fatal("nothing was checked on the first load")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 {
		t.Fatalf("cache files %v, want one", files)
	}
	second, n := load(src)
	if n != 0 {
		t.Errorf("the second load checked %d expressions, want 0", n)
	}
	if a, b := outcome(first), outcome(second); a != b || a == "" {
		t.Errorf("cached pack evaluates %q, compiled %q", b, a)
	}

	if err := os.WriteFile(files[0], []byte("\xff\xff not a cache file"), 0o600); err != nil {
		t.Fatal(err)
	}
	third, n := load(src)
	if n == 0 {
		t.Error("a damaged cache file was trusted")
	}
	if outcome(third) != outcome(first) {
		t.Error("the pack compiled over a damaged cache evaluates differently")
	}
	if _, n := load(src); n != 0 {
		t.Errorf("the rewritten cache was not used (%d checked)", n)
	}

	old := filepath.Join(dir, "0123-from-an-earlier-build")
	if err := os.WriteFile(old, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	longAgo := time.Now().Add(-30 * 24 * time.Hour)
	if err := os.Chtimes(old, longAgo, longAgo); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[0], nil, 0o600); err != nil { // force a write
		t.Fatal(err)
	}
	load(src)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("an entry unused for 30 days was kept (%v)", err)
	}

	edited := append([]byte(nil), src...)
	edited = append(edited, '\n', '#', '\n')
	if _, n := load(edited); n != 0 {
		t.Errorf("a comment changed the cached expressions (%d checked)", n)
	}
	SetCacheDir("")
	if _, n := load(src); n == 0 {
		t.Error("with the cache off, nothing was checked")
	}
}

// TestCheckedASTs: a pack's checked expressions are the same bytes every
// time they are generated; loaded with them, the pack compiles every policy
// without parsing or checking anything and evaluates as compiled from
// source; checked expressions of other sources are ignored.
// (Not parallel: the counter is process-wide.)
func TestCheckedASTs(t *testing.T) {
	fsys := os.DirFS(filepath.Join("testdata", "cases"))
	data, err := CheckedASTs(fsys, "aws")
	if err != nil {
		t.Fatal(err)
	}
	again, err := CheckedASTs(fsys, "aws")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Fatal("generating the checked expressions twice gave different bytes")
	}
	res := &Resource{URN: "urn:pulumi:dev::web::aws:s3/bucket:Bucket::b", Type: "aws:s3/bucket:Bucket", Name: "b",
		Props: map[string]any{"acl": "public-read", "bucket": "b", "tags": map[string]any{"env": "dev"}}}
	outcome := func(p *Pack) (string, int64) {
		t.Helper()
		before := checked.Load()
		for _, pol := range p.Policies {
			if err := pol.compiled(); err != nil {
				t.Fatal(err)
			}
		}
		n := checked.Load() - before
		run, err := p.NewRun(Stack{Name: "dev"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out string
		for _, r := range run.Evaluate(t.Context(), res) {
			out += fmt.Sprintf("%s %d %d %d %v|", r.Policy.Name, len(r.Violations), len(r.Undecided), len(r.Errors), r.Violations)
		}
		return out, n
	}
	source, err := LoadFSLazy(fsys, "aws")
	if err != nil {
		t.Fatal(err)
	}
	want, n := outcome(source)
	if n == 0 || want == "" {
		t.Fatalf("compiled from source: %d checked, outcome %q", n, want)
	}
	withChecked, err := LoadFSLazyChecked(fsys, "aws", data)
	if err != nil {
		t.Fatal(err)
	}
	if got, n := outcome(withChecked); n != 0 || got != want {
		t.Errorf("with its checked expressions: %d checked, outcome\n%s\nwant\n%s", n, got, want)
	}
	other, err := CheckedASTs(fsys, "readme")
	if err != nil {
		t.Fatal(err)
	}
	mismatched, err := LoadFSLazyChecked(fsys, "aws", other)
	if err != nil {
		t.Fatal(err)
	}
	if got, n := outcome(mismatched); n == 0 || got != want {
		t.Errorf("with another pack's checked expressions: %d checked, outcome\n%s\nwant\n%s", n, got, want)
	}
}

package engine_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/warden-policy/warden/packs/engine"
)

// TestLoadFSLazy: a lazily loaded pack evaluates as the eagerly compiled
// one does, and a policy that does not compile reports it when evaluated
// instead of when loaded.
func TestLoadFSLazy(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "cases", "aws", "pack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	good := fstest.MapFS{"p/pack.yaml": {Data: data}}
	eager, err := engine.LoadFS(good, "p")
	if err != nil {
		t.Fatal(err)
	}
	lazy, err := engine.LoadFSLazy(good, "p")
	if err != nil {
		t.Fatal(err)
	}
	if len(lazy.Policies) != len(eager.Policies) {
		t.Fatalf("lazy pack has %d policies, eager %d", len(lazy.Policies), len(eager.Policies))
	}
	res := &engine.Resource{URN: "urn:pulumi:dev::web::aws:s3/bucket:Bucket::b", Type: "aws:s3/bucket:Bucket", Name: "b",
		Props: map[string]any{"acl": "public-read", "bucket": "b"}}
	summary := func(p *engine.Pack) string {
		run, err := p.NewRun(engine.Stack{Name: "dev"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range run.Evaluate(t.Context(), res) {
			out = append(out, fmt.Sprintf("%s: %d violations, %d errors", r.Policy.Name, len(r.Violations), len(r.Errors)))
		}
		return strings.Join(out, "\n")
	}
	if got, want := summary(lazy), summary(eager); got != want || !strings.Contains(want, "1 violations") {
		t.Errorf("lazy results:\n%s\nwant:\n%s", got, want)
	}

	broken := fstest.MapFS{"p/pack.yaml": {Data: []byte(`apiVersion: warden/v1
name: broken
version: 0.1.0
policies:
  - name: typo
    description: refers to a field that does not exist
    resourceTypes: [aws:s3/bucket:Bucket]
    violation: resource.prop.acl == "public-read"
`)}}
	if _, err := engine.LoadFS(broken, "p"); err == nil {
		t.Fatal("the broken pack loads eagerly")
	}
	p, err := engine.LoadFSLazy(broken, "p")
	if err != nil {
		t.Fatalf("lazy load: %v", err)
	}
	run, err := p.NewRun(engine.Stack{Name: "dev"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	results := run.Evaluate(t.Context(), res)
	if len(results) != 1 || len(results[0].Errors) == 0 || !strings.Contains(results[0].Errors[0].Error(), `has no field "prop"`) {
		t.Errorf("results %+v, want the compile error", results)
	}
}

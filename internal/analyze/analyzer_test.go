package analyze

import (
	"slices"
	"testing"

	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

func testSession(t *testing.T, overrides map[string]engine.PolicyConfig) (*Analyzer, *Session) {
	t.Helper()
	h, err := home.Load("../../analyzer/testdata/home")
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(h, home.Preventative, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.Session(engine.Stack{Organization: "acme", Project: "site", Name: "prod"}, true, overrides)
	if err != nil {
		t.Fatal(err)
	}
	return a, s
}

func bucket(acl string) *engine.Resource {
	return &engine.Resource{
		URN:  "urn:pulumi:prod::site::aws:s3/bucket:Bucket::www",
		Type: "aws:s3/bucket:Bucket", Name: "www", Props: map[string]any{"acl": acl},
	}
}

// TestSessionAnalyze: a violating resource gives a finding at the policy's
// level; a type no policy checks gives the same shared Skipped list on
// every call, which is what lets the adapter encode it once.
func TestSessionAnalyze(t *testing.T) {
	t.Parallel()
	_, s := testSession(t, nil)
	v := s.Analyze(t.Context(), bucket("public-read"))
	i := slices.IndexFunc(v.Findings, func(f findings.Finding) bool { return f.Policy == "s3-bucket-no-public-acl" })
	if i < 0 || v.Findings[i].Kind != findings.Violation || v.Findings[i].Level != spec.Mandatory || !v.Findings[i].Blocking() {
		t.Fatalf("findings: %+v", v.Findings)
	}
	if s.Name("aws-foundations", "s3-bucket-no-public-acl") != "s3-bucket-no-public-acl" {
		t.Error("exposed name")
	}
	other := &engine.Resource{URN: "urn:pulumi:prod::site::random:index/id:Id::x", Type: "random:index/id:Id", Name: "x"}
	a, b := s.Analyze(t.Context(), other), s.Analyze(t.Context(), other)
	if a.Skipped == nil || a.Skipped != b.Skipped || len(a.Skipped.List) == 0 || len(a.Findings) != 0 {
		t.Errorf("skipped lists: %p %p, findings %v", a.Skipped, b.Skipped, a.Findings)
	}
}

// TestOverrides: a reconciled config overrides only what differs from what
// was advertised; names no policy has come back as unknown, and the
// override reaches the session's run.
func TestOverrides(t *testing.T) {
	t.Parallel()
	a, s := testSession(t, nil)
	advertised := map[string]engine.PolicyConfig{}
	for _, p := range s.Policies() {
		advertised[p.Name] = engine.PolicyConfig{Level: p.Level, Properties: p.Advertised}
	}
	cfg := map[string]engine.PolicyConfig{
		"s3-bucket-no-public-acl":   {Level: spec.Advisory},
		"slow/ebs-volume-encrypted": advertised["slow/ebs-volume-encrypted"], // as advertised
		"no-such-policy":            {Level: spec.Mandatory},
		engine.AllPolicies:          {Level: spec.Advisory},
	}
	overrides, unknown := a.Overrides(advertised, cfg)
	if len(overrides) != 1 || overrides["s3-bucket-no-public-acl"].Level != spec.Advisory || !slices.Equal(unknown, []string{"no-such-policy"}) {
		t.Fatalf("overrides %v, unknown %v", overrides, unknown)
	}
	_, s = testSession(t, overrides)
	v := s.Analyze(t.Context(), bucket("public-read"))
	i := slices.IndexFunc(v.Findings, func(f findings.Finding) bool { return f.Policy == "s3-bucket-no-public-acl" })
	if i < 0 || v.Findings[i].Level != spec.Advisory || v.Findings[i].Blocking() {
		t.Fatalf("with the override: %+v", v.Findings)
	}
}

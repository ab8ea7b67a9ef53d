package engine_test

import (
	"strings"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

const scopePack = `
name: scope
version: 0.1.0
policies:
  - name: public
    description: no public ACL
    enforcementLevel: remediate
    violation: resource.props.?acl.orValue("") == "public-read"
    remediate:
      set: {acl: '"private"'}
  - name: sized
    description: config of its own beside the scope keys
    config:
      properties:
        max: {type: integer, default: 10}
      additionalProperties: false
    violation: resource.props.?size.orValue(0) > config.max
  - name: whole-stack
    kind: stack
    description: a stack policy
    violation: "false"
`

// TestNameScope: includeFor/excludeFor scope a resource policy by logical
// name, as Pulumi's Compliance-Ready policies do: excludeFor leaves a
// resource out (not applicable, not remediated), includeFor wins over it,
// patterns are unanchored, ignoreCase applies to both, and the keys sit
// beside a policy's own config, even one that allows nothing else.
func TestNameScope(t *testing.T) {
	t.Parallel()
	p := mustParse(t, scopePack)
	cfg := map[string]engine.PolicyConfig{
		"public": {Properties: map[string]any{"excludeFor": []any{"^corp-", "legacy"}, "includeFor": []any{"corp-keep"}, "ignoreCase": true, "logExcludedResources": true}},
		"sized":  {Properties: map[string]any{"max": 5.0, "excludeFor": []any{"big"}}},
	}
	run, err := p.NewRun(engine.Stack{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]any{"acl": "public-read", "size": 50.0}
	for _, tc := range []struct {
		name          string
		public, sized string // "violation", or the not-applicable reason's start
	}{
		{"corp-site", "excluded", "violation"},
		{"CORP-site", "excluded", "violation"}, // ignoreCase
		{"my-legacy-bucket", "excluded", "violation"},
		{"corp-keep-1", "violation", "violation"}, // includeFor wins
		{"site", "violation", "violation"},
		{"big-one", "violation", "excluded"},
	} {
		got := results(run.Evaluate(t.Context(), &engine.Resource{Type: "t:i:T", Name: tc.name, Props: bad}))
		for pol, want := range map[string]string{"public": tc.public, "sized": tc.sized} {
			r := got[pol]
			switch {
			case want == "violation" && len(r.Violations) != 1:
				t.Errorf("%s %s: %+v, want a violation", tc.name, pol, r)
			case want != "violation" && !strings.HasPrefix(r.NotApplicable, want):
				t.Errorf("%s %s: %+v, want not applicable (%s)", tc.name, pol, r, want)
			}
		}
		props, _ := run.Remediate(t.Context(), &engine.Resource{Type: "t:i:T", Name: tc.name, Props: bad})
		if excluded := tc.public != "violation"; excluded != (props["acl"] == "public-read") {
			t.Errorf("%s: remediated to %v (excluded: %v)", tc.name, props["acl"], excluded)
		}
	}
	if cfg["public"].Properties["excludeFor"] == nil {
		t.Error("NewRun changed the caller's config")
	}
}

// TestNameScopeErrors: a pattern RE2 cannot compile, a wrong type, or the
// keys on a stack policy are config errors, positioned and without the
// value.
func TestNameScopeErrors(t *testing.T) {
	t.Parallel()
	p := mustParse(t, scopePack)
	at := spec.Pos{File: "config.json", Line: 3, Col: 5}
	_, err := p.NewRun(engine.Stack{}, map[string]engine.PolicyConfig{
		"public":      {Pos: at, Properties: map[string]any{"excludeFor": []any{"(?<=secret-x)y", 7.0}, "ignoreCase": "yes"}},
		"sized":       {Properties: map[string]any{"includeFor": "one"}},
		"whole-stack": {Properties: map[string]any{"excludeFor": []any{"x"}}},
	})
	if err == nil {
		t.Fatal("bad scope config accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"config.json:3:5: validating policy config: scope 0.1.0  public: at /excludeFor/0: not a regular expression Warden can use (RE2 syntax): invalid named capture",
		"public: at /excludeFor/1: want a string",
		"public: at /ignoreCase: want a boolean",
		"sized: at /includeFor: want a list of regular expressions",
		"whole-stack: excludeFor scopes resource policies; a stack policy takes none",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "secret-x") {
		t.Errorf("the error quotes the pattern:\n%s", msg)
	}
}

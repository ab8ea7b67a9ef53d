package engine_test

import (
	"testing"

	"github.com/warden-policy/warden/packs/engine"
)

// TestInUnknownList: `x in list` over a property list holding an unknown
// value is undecided unless a known element equals x: CEL's own lists
// would answer false, and a policy requiring an entry would report a
// violation during a preview where the unknown may be that entry.
func TestInUnknownList(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `
name: in-unknown
version: 0.1.0
policies:
  - name: needs-audit
    description: the log types must include audit
    violation: '!("audit" in resource.props.?types.orValue([]))'
  - name: counts
    description: other list operations are unchanged
    violation: size(resource.props.types) > 2 || resource.props.types[0] == "bad"
`)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		types []any
		want  string // violation, pass, cant-run
	}{
		{"unknown only", []any{engine.Unknown{}}, "cant-run"},
		{"known other and unknown", []any{"api", engine.Unknown{}}, "cant-run"},
		{"known match beside unknown", []any{engine.Unknown{}, "audit"}, "pass"},
		{"all known, missing", []any{"api"}, "violation"},
		{"all known, present", []any{"audit", "api"}, "pass"},
	} {
		got := results(run.Evaluate(t.Context(), &engine.Resource{Type: "t:i:T", Name: "r", Props: map[string]any{"types": tc.types}}))
		r := got["needs-audit"]
		outcome := "pass"
		switch {
		case len(r.Violations) > 0:
			outcome = "violation"
		case len(r.Undecided) > 0:
			outcome = "cant-run"
		case len(r.Errors) > 0:
			outcome = "error"
		}
		if outcome != tc.want {
			t.Errorf("%s: %s (%+v), want %s", tc.name, outcome, r, tc.want)
		}
		if c := got["counts"]; len(c.Errors) > 0 || len(c.Undecided) > 0 && tc.types[0] != (engine.Unknown{}) {
			t.Errorf("%s: counts: %+v", tc.name, c)
		}
	}
}

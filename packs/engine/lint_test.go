package engine_test

import (
	"strings"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
)

// TestQuadraticWarning: a stack policy that goes through the resources
// once per forEach element is warned about, at the place that does it;
// sets built once, resources.referencing and byType in forEach are not.
func TestQuadraticWarning(t *testing.T) {
	t.Parallel()
	const head = "name: lint\nversion: 1.0.0\npolicies:\n  - name: p\n    kind: stack\n    description: d\n    forEach: resources.byType(\"t:m:Bucket\")\n"
	for _, tc := range []struct {
		name, body string
		warn       string // "" for none; else the position and the word
	}{
		{"exists over byType", `    violation: '!resources.byType("t:m:Versioning").exists(v, v.props.bucket == item.name)'` + "\n", "pack.yaml:8:59: lint/p: the violation"},
		{"per-item variable", "    variables:\n      mine: 'resources.filter(r, r.props.?bucket.orValue(\"\") == item.name)'\n    violation: size(variables.mine) == 0\n", "pack.yaml:9:30: lint/p: variable mine"},
		{"in on a list of resources", "    variables:\n      urns: 'resources.map(r, r.urn)'\n    violation: '!(item.urn in variables.urns)'\n", "the violation goes through"},
		{"exists over a variable", "    variables:\n      vs: 'resources.byType(\"t:m:Versioning\")'\n    violation: '!variables.vs.exists(v, v.props.bucket == item.name)'\n", "the violation goes through"},
		{"a set built once", "    variables:\n      names: 'sets.of(resources.byType(\"t:m:Versioning\").map(v, v.props.?bucket.orValue(\"\")))'\n    violation: '!(item.name in variables.names)'\n", ""},
		{"referencing", `    violation: '!resources.referencing("t:m:Versioning", "bucket", item, ["name"]).exists(v, v.props.on == true)'` + "\n", ""},
		{"the item's own lists", "    violation: 'item.props.?rules.orValue([]).exists(r, r.open)'\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := engine.Parse("pack.yaml", []byte(head+tc.body))
			if err != nil {
				t.Fatal(err)
			}
			got := p.Warnings.Error()
			if len(p.Warnings) == 0 {
				got = ""
			}
			if tc.warn == "" && got != "" || tc.warn != "" && (!strings.Contains(got, tc.warn) || !strings.Contains(got, "quadratic")) {
				t.Errorf("warnings %q, want %q", got, tc.warn)
			}
		})
	}
}

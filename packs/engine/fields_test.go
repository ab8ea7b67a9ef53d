package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
)

// TestResourceFields: every field of a resource's CEL view reads as the
// pack format documents it, in resource policies (resource) and in stack
// policies (item), whether the resource has options, a provider and
// dependencies or none.
func TestResourceFields(t *testing.T) {
	t.Parallel()
	full := &engine.Resource{URN: "urn:full", Type: "test:index:Full", Name: "full", Parent: "urn:parent",
		Props: map[string]any{"size": float64(3)},
		Options: engine.Options{Protect: true, IgnoreChanges: []string{"tags"}, Parent: "urn:parent",
			CustomTimeouts: engine.CustomTimeouts{Create: "60s"}},
		Provider:             &engine.Provider{Name: "default", Type: "pulumi:providers:test", URN: "urn:provider", Props: map[string]any{"region": "us-east-1"}},
		Dependencies:         []string{"urn:a", "urn:b"},
		PropertyDependencies: map[string][]string{"bucket": {"urn:a"}},
	}
	bare := &engine.Resource{URN: "urn:bare", Type: "test:index:Bare", Name: "bare"}
	checks := map[*engine.Resource][]string{
		full: {
			`R.urn == "urn:full" && R.type == "test:index:Full" && R.name == "full" && R.parent == "urn:parent"`,
			`R.props.size == 3.0`,
			`R.options.protect && !R.options.deleteBeforeReplace && R.options.ignoreChanges == ["tags"]`,
			`R.options.customTimeouts.create == "60s" && R.options.customTimeouts.update == "" && R.options.parent == "urn:parent"`,
			`R.options.aliases == [] && R.options.additionalSecretOutputs == []`,
			`R.provider.name == "default" && R.provider.type == "pulumi:providers:test" && R.provider.urn == "urn:provider"`,
			`R.provider.props.region == "us-east-1"`,
			`R.dependencies == ["urn:a", "urn:b"] && "urn:b" in R.dependencies && size(R.dependencies) == 2`,
			`R.propertyDependencies.bucket == ["urn:a"] && has(R.propertyDependencies.bucket) && !has(R.propertyDependencies.other)`,
			`R.propertyDependencies.?other.orValue([]) == [] && R.propertyDependencies.map(k, k) == ["bucket"]`,
			`[R.propertyDependencies.?bucket.orValue([]), R.dependencies].flatten() == ["urn:a", "urn:a", "urn:b"]`,
			`R.propertyDependencies == {"bucket": ["urn:a"]}`,
		},
		bare: {
			`R.dependencies == [] && R.propertyDependencies == {} && size(R.propertyDependencies) == 0`,
			`R.provider.name == "" && R.provider.props == {} && R.parent == ""`,
			`!R.options.protect && R.options.ignoreChanges == [] && R.options.customTimeouts.delete == ""`,
		},
	}
	for res, exprs := range checks {
		var pack strings.Builder
		pack.WriteString("name: fields\nversion: 1.0.0\npolicies:\n")
		for i, e := range exprs {
			fmt.Fprintf(&pack, "  - name: resource-%d\n    description: d\n    violation: '!(%s)'\n", i, strings.ReplaceAll(e, "R.", "resource."))
			fmt.Fprintf(&pack, "  - name: stack-%d\n    kind: stack\n    description: d\n    forEach: resources.byType(%q)\n    violation: '!(%s)'\n",
				i, res.Type, strings.ReplaceAll(e, "R.", "item."))
		}
		run, err := mustParse(t, pack.String()).NewRun(engine.Stack{Name: "prod"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		results := append(run.Evaluate(t.Context(), res), run.EvaluateStack(t.Context(), []*engine.Resource{full, bare})...)
		if len(results) != 2*len(exprs) {
			t.Fatalf("%s: %d results for %d policies", res.URN, len(results), 2*len(exprs))
		}
		for _, r := range results {
			if len(r.Violations) > 0 || len(r.Errors) > 0 || len(r.Undecided) > 0 {
				var i int
				fmt.Sscanf(r.Policy.Name[strings.LastIndex(r.Policy.Name, "-")+1:], "%d", &i)
				t.Errorf("%s %s: %s: violations %v, errors %v", res.URN, r.Policy.Name, exprs[i], r.Violations, r.Errors)
			}
		}
	}
}

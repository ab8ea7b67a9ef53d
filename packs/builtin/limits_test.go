package builtin_test

import (
	"testing"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
)

// TestStackPoliciesWithinLimits: on a mixed stack of 5,000 resources, and
// on 10,000 buckets half of which have a BucketLogging resource, every
// built-in stack policy finishes within its cost budget
// (engine.StackCostLimit and StackBudget): the budgets stop runaway
// policies, not the catalog.
func TestStackPoliciesWithinLimits(t *testing.T) {
	t.Parallel()
	packs, err := builtin.Packs()
	if err != nil {
		t.Fatal(err)
	}
	for _, stack := range [][]*engine.Resource{mixedStack(5_000), s3Stack(10_000)} {
		for _, p := range packs {
			run, err := p.NewRun(engine.Stack{Name: "prod", Project: "platform"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range run.EvaluateStack(t.Context(), stack) {
				if len(r.Errors) > 0 {
					t.Errorf("%d resources: %s/%s: %v", len(stack), p.Name, r.Policy.Name, r.Errors)
				}
			}
		}
	}
}

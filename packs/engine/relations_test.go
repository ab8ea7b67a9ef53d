package engine_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
)

// relationsPack states one rule three times: with the referencing index,
// with referencing on a list that has no index, and with the scan it
// replaces.
const relationsPack = `name: relations
version: 1.0.0
policies:
  - name: indexed
    kind: stack
    description: d
    forEach: resources.byType("test:s3:Bucket")
    violation: >-
      !resources.referencing("test:s3:Versioning*", "bucket", item, ["props.id", "props.bucket"])
        .exists(v, v.props.?status.orValue("") == "Enabled")
    message: "{{ item.name }} keeps no versions"
  - name: unindexed
    kind: stack
    description: d
    forEach: resources.byType("test:s3:Bucket")
    violation: >-
      !resources.filter(r, true).referencing("test:s3:Versioning*", "bucket", item, ["props.id", "props.bucket"])
        .exists(v, v.props.?status.orValue("") == "Enabled")
    message: "{{ item.name }} keeps no versions"
  - name: scanned
    kind: stack
    description: d
    forEach: resources.byType("test:s3:Bucket")
    violation: >-
      !resources.byType("test:s3:Versioning*").exists(v, v.props.?status.orValue("") == "Enabled" &&
        (has(v.propertyDependencies.bucket) ? item.urn in v.propertyDependencies.bucket :
         v.props.?bucket.orValue("") in [item.props.?id.orValue("-"), item.props.?bucket.orValue("-")]))
    message: "{{ item.name }} keeps no versions"
`

// TestReferencingMatchesScan: on random stacks with unknowns (statuses,
// names, ids) and secrets (names), the indexed relation decides what the
// scan decides. Where a relation by value cannot be decided (a referring
// value or a key unknown while something refers by value), the index says
// "can't run" for the bucket; the scan may still decide it through the
// predicate (a Suspended versioning), so there the index may be undecided,
// never decide otherwise. Without such ambiguity the two are identical.
func TestReferencingMatchesScan(t *testing.T) {
	t.Parallel()
	run, err := mustParse(t, relationsPack).NewRun(engine.Stack{Name: "prod"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	maybe := func(p float64, v, other any) any {
		if rng.Float64() < p {
			return other
		}
		return v
	}
	// outcome is, per bucket (forEach index), violation, undecided or pass.
	outcome := func(r engine.Result, n int) []string {
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %v", r.Policy.Name, r.Errors)
		}
		out := slices.Repeat([]string{"pass"}, n)
		for _, v := range r.Violations {
			out[v.Item] = "violation " + v.Message
		}
		for _, u := range r.Undecided {
			out[u.Item] = "undecided"
		}
		return out
	}
	decided, undecided, exact := 0, 0, 0
	for trial := range 500 {
		var rs []*engine.Resource
		ambiguous, byValue := false, false
		buckets := 1 + rng.IntN(6)
		for b := range buckets {
			name := fmt.Sprintf("b%d", b)
			urn := "urn:pulumi:prod::p::test:s3:Bucket::" + name
			r := &engine.Resource{URN: urn, Type: "test:s3:Bucket", Name: name, Props: map[string]any{
				"bucket": maybe(0.2, "acme-"+name, maybe(0.5, engine.Unknown{}, engine.Secret{Value: "acme-" + name})),
				"id":     maybe(0.3, "acme-"+name, engine.Unknown{}),
			}}
			for _, k := range []string{"bucket", "id"} {
				if r.Props[k] == (engine.Unknown{}) {
					ambiguous = true // an unknown key, if anything refers by value
				}
			}
			rs = append(rs, r)
		}
		for v := range rng.IntN(8) {
			target := fmt.Sprintf("b%d", rng.IntN(buckets+1)) // sometimes a bucket that does not exist
			r := &engine.Resource{URN: fmt.Sprintf("urn:pulumi:prod::p::test:s3:VersioningV2::v%d", v), Type: "test:s3:VersioningV2", Name: fmt.Sprint(v),
				Props: map[string]any{
					"status": maybe(0.3, "Enabled", maybe(0.5, engine.Unknown{}, "Suspended")),
					"bucket": maybe(0.2, "acme-"+target, maybe(0.5, engine.Unknown{}, engine.Secret{Value: "acme-" + target})),
				}}
			if rng.IntN(2) == 0 {
				r.PropertyDependencies = map[string][]string{"bucket": {"urn:pulumi:prod::p::test:s3:Bucket::" + target}}
			} else {
				byValue = true
				if r.Props["bucket"] == (engine.Unknown{}) {
					ambiguous, byValue = true, true
				}
			}
			rs = append(rs, r)
		}
		ambiguous = ambiguous && byValue
		got := results(run.EvaluateStack(t.Context(), rs))
		indexed, scanned := outcome(got["indexed"], buckets), outcome(got["scanned"], buckets)
		if unindexed := outcome(got["unindexed"], buckets); !slices.Equal(unindexed, indexed) {
			t.Fatalf("trial %d: on a list that is not the stack's, %v; on the stack's, %v", trial, unindexed, indexed)
		}
		for i := range buckets {
			if indexed[i] != scanned[i] && (!ambiguous || indexed[i] != "undecided") {
				for _, r := range rs {
					t.Logf("%s %v deps %v", r.URN, r.Props, r.PropertyDependencies)
				}
				t.Fatalf("trial %d, bucket %d: indexed %q, scanned %q (ambiguous %v)\nindexed %v\nscanned %v", trial, i, indexed[i], scanned[i], ambiguous, indexed, scanned)
			}
		}
		if !ambiguous {
			exact++
		}
		undecided += len(got["scanned"].Undecided)
		decided += len(got["scanned"].Violations)
	}
	if decided == 0 || undecided == 0 || exact < 50 {
		t.Errorf("the corpus gave %d violations, %d undecided buckets, %d unambiguous stacks: too few to compare", decided, undecided, exact)
	}
}

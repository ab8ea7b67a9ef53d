package builtin_test

import (
	"fmt"
	"testing"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

// BenchmarkS3AccessLogging runs s3-bucket-access-logging alone over stacks
// of n buckets, half of them logging to a log bucket through a
// BucketLogging resource. The ns/bucket metric stays flat as the stack
// grows: the policy builds its sets of log targets and logged buckets once
// per evaluation and looks each bucket up in them. (It used to scan a list
// of every bucket's targets per bucket: 100,000 buckets took 67 s.)
func BenchmarkS3AccessLogging(b *testing.B) {
	p, err := builtin.Pack("aws-foundations")
	if err != nil {
		b.Fatal(err)
	}
	run, err := p.NewRun(engine.Stack{Name: "prod"}, map[string]engine.PolicyConfig{
		engine.AllPolicies:         {Level: spec.Disabled},
		"s3-bucket-access-logging": {Level: spec.Advisory},
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1_000, 10_000} {
		stack := s3Stack(n)
		b.Run(fmt.Sprint("buckets=", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs := run.EvaluateStack(b.Context(), stack)
				if len(rs) != 1 || len(rs[0].Errors) > 0 || len(rs[0].Violations) != n/2 {
					b.Fatalf("got %d results, %d violations, errors %v; want %d violations", len(rs), len(rs[0].Violations), rs[0].Errors, n/2)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/bucket")
		})
	}
}

// s3Stack has n buckets; every even one has a BucketLogging resource that
// points at it by property dependency and logs to "logs".
func s3Stack(n int) []*engine.Resource {
	out := make([]*engine.Resource, 0, n+n/2)
	for i := range n {
		name := fmt.Sprintf("b%06d", i)
		urn := "urn:pulumi:prod::p::aws:s3/bucketV2:BucketV2::" + name
		out = append(out, &engine.Resource{URN: urn, Type: "aws:s3/bucketV2:BucketV2", Name: name,
			Props: map[string]any{"bucket": name, "id": name}})
		if i%2 == 0 {
			out = append(out, &engine.Resource{
				URN: "urn:pulumi:prod::p::aws:s3/bucketLoggingV2:BucketLoggingV2::" + name, Type: "aws:s3/bucketLoggingV2:BucketLoggingV2",
				Name: name, Props: map[string]any{"bucket": name, "targetBucket": "logs"},
				PropertyDependencies: map[string][]string{"bucket": {urn}},
			})
		}
	}
	return out
}

package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
)

// benchPack builds a pack of 110 policies over 11 resource types: 10 apply
// to aws:ec2/securityGroup:SecurityGroup, as in a realistic catalog where
// each type has a handful of policies.
func benchPack(tb testing.TB) *engine.Pack {
	tb.Helper()
	types := []string{
		"aws:ec2/securityGroup:SecurityGroup", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2",
		"aws:rds/instance:Instance", "aws:ebs/volume:Volume", "aws:iam/policy:Policy", "aws:iam/role:Role",
		"aws:lambda/function:Function", "aws:ec2/instance:Instance", "kubernetes:apps/v1:Deployment",
		"kubernetes:core/v1:Pod",
	}
	checks := []string{
		`item.?protocol.orValue("") in ["tcp", "6", "-1"] && ports.covers(item.?fromPort.orValue(0), item.?toPort.orValue(0), %d) && item.?cidrBlocks.orValue([]).exists(c, cidr.isOpen(c))`,
		`item.?description.orValue("") == "" && item.?fromPort.orValue(0) < %d`,
	}
	var b strings.Builder
	b.WriteString("name: bench\nversion: 1.0.0\npolicies:\n")
	n := 0
	for _, t := range types {
		for i := range 10 {
			fmt.Fprintf(&b, "  - name: p%03d\n    description: policy %d on %s\n    severity: high\n    resourceTypes: [%q]\n", n, n, t, t)
			if i%3 == 0 {
				fmt.Fprintf(&b, "    violation: '!has(resource.props.tags) || !(\"owner\" in resource.props.tags) || resource.props.tags.owner == \"%d\"'\n    message: \"no owner on {{ resource.name }}\"\n", i)
			} else {
				fmt.Fprintf(&b, "    forEach: resource.props.?ingress.orValue([])\n    violation: '%s'\n    message: \"rule {{ item.?fromPort.orValue(0) }} open\"\n",
					fmt.Sprintf(checks[i%2], 20+i))
			}
			n++
		}
	}
	p, err := engine.Parse("bench.yaml", []byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func benchResource(i int) *engine.Resource {
	return &engine.Resource{
		URN:  fmt.Sprintf("urn:pulumi:prod::web::aws:ec2/securityGroup:SecurityGroup::web-%d", i),
		Type: "aws:ec2/securityGroup:SecurityGroup", Name: fmt.Sprintf("web-%d", i),
		Props: map[string]any{
			"name": "web", "description": "web tier", "vpcId": "vpc-0a1b2c3d",
			"tags": map[string]any{"owner": "web", "env": "prod", "cost-center": "cc-42"},
			"ingress": []any{
				map[string]any{"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": []any{"0.0.0.0/0"}, "description": "https"},
				map[string]any{"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": []any{"10.0.0.0/8"}},
				map[string]any{"protocol": "tcp", "fromPort": 8080.0, "toPort": 8090.0, "cidrBlocks": []any{"0.0.0.0/0"}, "description": "alt"},
			},
			"egress": []any{map[string]any{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": []any{"0.0.0.0/0"}}},
		},
	}
}

// BenchmarkEvaluate: one security group against a 110-policy pack of which
// 10 apply to its type.
func BenchmarkEvaluate(b *testing.B) {
	p := benchPack(b)
	run, err := p.NewRun(engine.Stack{Name: "prod"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	res := benchResource(0)
	if got := len(run.Evaluate(b.Context(), res)); got != 10 {
		b.Fatalf("%d policies applied, want 10", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		run.Evaluate(b.Context(), res)
	}
}

// BenchmarkEvaluateParallel: the same, from all cores at once, as under
// concurrent Analyze calls.
func BenchmarkEvaluateParallel(b *testing.B) {
	p := benchPack(b)
	run, err := p.NewRun(engine.Stack{Name: "prod"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	res := benchResource(0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			run.Evaluate(b.Context(), res)
		}
	})
}

// BenchmarkCompile: loading the 110-policy pack, paid at every plugin start.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchPack(b)
	}
}

// BenchmarkEvaluateStack: a stack policy over 1,000 buckets and their
// public access blocks.
func BenchmarkEvaluateStack(b *testing.B) {
	p, err := engine.Load("testdata/cases/aws")
	if err != nil {
		b.Fatal(err)
	}
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var rs []*engine.Resource
	for i := range 500 {
		bucket := fmt.Sprintf("urn:pulumi:prod::web::aws:s3/bucketV2:BucketV2::b%d", i)
		rs = append(rs,
			&engine.Resource{URN: bucket, Type: "aws:s3/bucketV2:BucketV2", Name: fmt.Sprintf("b%d", i),
				Props: map[string]any{"id": fmt.Sprintf("b-%d", i), "bucket": fmt.Sprintf("b-%d", i)}},
			&engine.Resource{URN: bucket + "-pab", Type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
				Props: map[string]any{"bucket": fmt.Sprintf("b-%d", i)}, Dependencies: []string{bucket}},
		)
	}
	b.ReportAllocs()
	for b.Loop() {
		run.EvaluateStack(b.Context(), rs)
	}
}

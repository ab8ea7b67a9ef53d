package builtin_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
)

// relatedStack builds about n resources that relate as in real stacks, in
// groups of ten: an S3 bucket with its public access block, versioning,
// encryption and logging resources (each pointing at the bucket by
// property dependency), a VPC with a flow log, an IAM role with a policy
// attachment, an Azure SQL server with its auditing policy. Every fourth
// group leaves a relation out, so the stack policies find violations.
func relatedStack(n int) []*engine.Resource {
	out := make([]*engine.Resource, 0, n)
	add := func(typ, name string, props map[string]any, deps map[string][]string) string {
		urn := "urn:pulumi:prod::platform::" + typ + "::" + name
		out = append(out, &engine.Resource{URN: urn, Type: typ, Name: name, Props: props, PropertyDependencies: deps})
		return urn
	}
	for g := 0; len(out) < n; g++ {
		name := fmt.Sprintf("g%06d", g)
		missing := g%4 == 3
		bucket := add("aws:s3/bucketV2:BucketV2", name, map[string]any{"bucket": "acme-" + name, "id": "acme-" + name, "tags": map[string]any{"owner": "team"}}, nil)
		on := map[string][]string{"bucket": {bucket}}
		add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name, map[string]any{"bucket": "acme-" + name,
			"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}, on)
		if !missing {
			add("aws:s3/bucketVersioningV2:BucketVersioningV2", name, map[string]any{"bucket": "acme-" + name,
				"versioningConfiguration": map[string]any{"status": "Enabled"}}, on)
			add("aws:s3/bucketLoggingV2:BucketLoggingV2", name, map[string]any{"bucket": "acme-" + name, "targetBucket": "acme-logs"}, on)
		}
		add("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", name, map[string]any{"bucket": "acme-" + name,
			"rules": []any{map[string]any{"applyServerSideEncryptionByDefault": map[string]any{"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "key"}}}}, on)
		vpc := add("aws:ec2/vpc:Vpc", name, map[string]any{"cidrBlock": "10.0.0.0/16", "id": "vpc-" + name}, nil)
		if !missing {
			add("aws:ec2/flowLog:FlowLog", name, map[string]any{"vpcId": "vpc-" + name, "trafficType": "ALL"}, map[string][]string{"vpcId": {vpc}})
		}
		role := add("aws:iam/role:Role", name, map[string]any{"assumeRolePolicy": `{"Version":"2012-10-17","Statement":[]}`}, nil)
		add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", name, map[string]any{"role": name, "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
			map[string][]string{"role": {role}})
		server := add("azure-native:sql:Server", name, map[string]any{"serverName": "sql-" + name, "minimalTlsVersion": "1.2"}, nil)
		if !missing {
			add("azure-native:sql:ServerBlobAuditingPolicy", name, map[string]any{"serverName": "sql-" + name, "state": "Enabled", "retentionDays": 0},
				map[string][]string{"serverName": {server}})
		}
	}
	return out
}

// BenchmarkRelatedStack runs every built-in pack's stack policies over
// related stacks of growing size, the stack converted once for every pack
// (engine.StackInput), as the analyzer does: every stack policy joins
// through an index (sets built once, resources.referencing), so
// ns/resource stays flat. Measured (2 cores, -benchtime 3x): 24, 12.6 and
// 12.3 µs/resource at 1,000, 10,000 and 30,000 resources; before
// (s3-bucket-versioning and sql-server-auditing-enabled scanning per
// bucket, the stack converted once per pack) 65 and 182 µs at 1,000 and
// 10,000, and 30,000 ran s3-bucket-versioning out of its cost budget: an
// evaluation error, a blocked update at mandatory level.
func BenchmarkRelatedStack(b *testing.B) {
	packs, err := builtin.Packs()
	if err != nil {
		b.Fatal(err)
	}
	var runs []*engine.Run
	for _, p := range packs {
		run, err := p.NewRun(engine.Stack{Name: "prod", Project: "platform"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		runs = append(runs, run)
	}
	for _, n := range benchSizes() {
		stack := relatedStack(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				violations := 0
				in := engine.NewStackInput(stack) // once per AnalyzeStack, as the analyzer does
				for _, run := range runs {
					for _, res := range run.EvaluateStackInput(b.Context(), in) {
						violations += len(res.Violations)
						if len(res.Errors) > 0 {
							b.Fatalf("%s: %v", res.Policy.Name, res.Errors)
						}
					}
				}
				if violations == 0 {
					b.Fatal("no violations in a stack built to have some")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(stack)), "ns/resource")
		})
	}
}

// TestNoQuadraticPolicies: no built-in stack policy goes through the
// stack's resources once per element (warden validate's quadratic
// warning), so the catalog stays linear in the stack.
func TestNoQuadraticPolicies(t *testing.T) {
	t.Parallel()
	for _, name := range builtin.Names() {
		p, err := engine.LoadFS(builtin.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Warnings) > 0 {
			t.Errorf("%s:\n%v", name, p.Warnings)
		}
	}
}

// benchSizes are BenchmarkRelatedStack's stack sizes; WARDEN_BENCH_100K=1
// adds 100,000 (a minute and a few GB of the benchmark's own corpus).
func benchSizes() []int {
	if os.Getenv("WARDEN_BENCH_100K") != "" {
		return []int{1_000, 10_000, 30_000, 100_000}
	}
	return []int{1_000, 10_000, 30_000}
}

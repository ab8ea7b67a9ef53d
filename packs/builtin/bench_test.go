package builtin_test

import (
	"fmt"
	"testing"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
)

// mixedStack builds n realistic resources of the kinds a platform stack
// holds: buckets, security groups, databases, IAM policies, instances,
// Kubernetes deployments; some secret and some unknown values.
func mixedStack(n int) []*engine.Resource {
	out := make([]*engine.Resource, 0, n)
	for i := range n {
		name := fmt.Sprintf("r%05d", i)
		urn := func(t string) string { return "urn:pulumi:prod::platform::" + t + "::" + name }
		var r *engine.Resource
		switch i % 6 {
		case 0:
			r = &engine.Resource{Type: "aws:s3/bucket:Bucket", Props: map[string]any{
				"bucket": "acme-" + name, "acl": []string{"private", "public-read"}[i%2],
				"tags": map[string]any{"owner": "team-" + name, "env": "prod"},
			}}
		case 1:
			r = &engine.Resource{Type: "aws:ec2/securityGroup:SecurityGroup", Props: map[string]any{
				"name": name, "vpcId": "vpc-0a1b2c3d",
				"ingress": []any{
					map[string]any{"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": []any{"0.0.0.0/0"}},
					map[string]any{"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": []any{engine.Unknown{}}},
					map[string]any{"protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrBlocks": []any{"10.0.0.0/8"}},
				},
			}}
		case 2:
			r = &engine.Resource{Type: "aws:rds/instance:Instance", Props: map[string]any{
				"engine": "postgres", "instanceClass": "db.t3.medium", "allocatedStorage": 50.0,
				"password": engine.Secret{Value: "s3cret-" + name}, "storageEncrypted": i%4 == 0,
				"backupRetentionPeriod": 7.0, "publiclyAccessible": false,
			}}
		case 3:
			r = &engine.Resource{Type: "aws:iam/policy:Policy", Props: map[string]any{
				"policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::acme/*"}]}`,
			}}
		case 4:
			r = &engine.Resource{Type: "aws:ec2/instance:Instance", Props: map[string]any{
				"ami": "ami-0abcdef1234567890", "instanceType": "t3.micro",
				"metadataOptions": map[string]any{"httpTokens": "required"},
			}}
		default:
			r = &engine.Resource{Type: "kubernetes:apps/v1:Deployment", Props: map[string]any{
				"metadata": map[string]any{"name": name, "namespace": "web"},
				"spec": map[string]any{"replicas": 3.0, "template": map[string]any{"spec": map[string]any{
					"containers": []any{map[string]any{
						"name": "app", "image": "ghcr.io/acme/app:1.2.3",
						"resources":       map[string]any{"limits": map[string]any{"cpu": "1", "memory": "512Mi"}},
						"securityContext": map[string]any{"allowPrivilegeEscalation": false, "runAsNonRoot": true, "readOnlyRootFilesystem": true},
					}},
				}}},
			}}
		}
		r.Name, r.URN = name, urn(r.Type)
		out = append(out, r)
	}
	return out
}

// BenchmarkBuiltinStack evaluates a mixed stack of 10,000 resources
// against every built-in pack: b.N stacks, resource policies per resource
// then the stack policies.
func BenchmarkBuiltinStack(b *testing.B) {
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
	stack := mixedStack(10_000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		violations := 0
		for _, run := range runs {
			for _, r := range stack {
				for _, res := range run.Evaluate(b.Context(), r) {
					violations += len(res.Violations)
				}
			}
			run.EvaluateStack(b.Context(), stack)
		}
		if violations == 0 {
			b.Fatal("no violations in a stack built to have some")
		}
	}
	b.ReportMetric(float64(len(stack)), "resources/op")
}

// Command policyx is the reference side of Warden's performance comparison
// (issues 7 and 18): the eleven policies of testdata/bench/warden written with
// Pulumi's own Go policy SDK, policyx, as a Pulumi user would write them.
// It lives under testdata so that `go test ./...` and `go vet ./...` leave
// it alone; `make bench-setup` builds it.
//
// Each policy follows its Warden counterpart in packs/builtin on the
// resource types the benchmark corpus has. An unknown value (computed
// during preview) simply does not match here, as is usual in hand-written
// policies; Warden reports it as "can't be known during preview" instead,
// which is why the two differ on ec2-sg-no-public-ssh when the corpus has
// unknowns.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// get follows keys through nested maps; a missing key is the null value.
func get(m property.Map, keys ...string) property.Value {
	v := property.New(m)
	for _, k := range keys {
		if !v.IsMap() {
			return property.Value{}
		}
		v = v.AsMap().Get(k)
	}
	return v
}

func str(v property.Value) string {
	if v.IsString() {
		return v.AsString()
	}
	return ""
}

// truthy is Warden's `in [true, "true"]`.
func truthy(v property.Value) bool {
	return v.IsBool() && v.AsBool() || v.IsString() && v.AsString() == "true"
}

func items(v property.Value) []property.Value {
	if v.IsArray() {
		return v.AsArray().AsSlice()
	}
	return nil
}

func isOpen(cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	return err == nil && p.Bits() == 0
}

func num(v property.Value) float64 {
	if v.IsNumber() {
		return v.AsNumber()
	}
	return 0
}

// check builds a resource policy for the given types from a predicate
// returning the violation messages.
func check(name, desc string, level policyx.EnforcementLevel, types []string, f func(r policyx.AnalyzerResource) []string) policyx.Policy {
	return policyx.NewResourceValidationPolicy(name, policyx.ResourceValidationPolicyArgs{
		Description:      desc,
		EnforcementLevel: level,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			if !slices.Contains(types, args.Resource.Type) {
				return nil
			}
			for _, msg := range f(args.Resource) {
				args.Manager.ReportViolation(msg, args.Resource.URN)
			}
			return nil
		},
	})
}

func one(cond bool, msg string) []string {
	if cond {
		return []string{msg}
	}
	return nil
}

func policies() []policyx.Policy {
	adv, mand := policyx.EnforcementLevelAdvisory, policyx.EnforcementLevelMandatory
	return []policyx.Policy{
		check("s3-bucket-no-public-acl", "S3 buckets must not grant public access through ACLs.", mand,
			[]string{"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"}, func(r policyx.AnalyzerResource) []string {
				acl := strings.ToLower(str(r.Properties.Get("acl")))
				return one(slices.Contains([]string{"public-read", "public-read-write", "authenticated-read"}, acl),
					"the ACL "+acl+" makes the bucket readable by anyone")
			}),
		check("ec2-sg-no-public-ssh", "Security groups must not allow SSH (port 22) from the internet.", mand,
			[]string{"aws:ec2/securityGroup:SecurityGroup"}, func(r policyx.AnalyzerResource) []string {
				var out []string
				for _, in := range items(r.Properties.Get("ingress")) {
					if !in.IsMap() {
						continue
					}
					m := in.AsMap()
					proto, from, to := str(m.Get("protocol")), num(m.Get("fromPort")), num(m.Get("toPort"))
					ssh := proto == "-1" || proto == "all" ||
						(proto == "tcp" || proto == "6") && (from == 0 && to == 0 || from <= 22 && 22 <= to)
					open := slices.ContainsFunc(items(m.Get("cidrBlocks")), func(c property.Value) bool { return isOpen(str(c)) }) ||
						slices.ContainsFunc(items(m.Get("ipv6CidrBlocks")), func(c property.Value) bool { return isOpen(str(c)) })
					if ssh && open {
						out = append(out, fmt.Sprintf("ingress %s %g-%g is open to the internet", proto, from, to))
					}
				}
				return out
			}),
		check("rds-instance-storage-encrypted", "RDS instances must encrypt their storage.", adv,
			[]string{"aws:rds/instance:Instance"}, func(r policyx.AnalyzerResource) []string {
				_, replica := r.Properties.GetOk("replicateSourceDb")
				return one(!replica && !truthy(r.Properties.Get("storageEncrypted")), "database "+r.Name+" stores data unencrypted")
			}),
		check("rds-not-publicly-accessible", "RDS instances must not be publicly accessible.", mand,
			[]string{"aws:rds/instance:Instance"}, func(r policyx.AnalyzerResource) []string {
				return one(truthy(r.Properties.Get("publiclyAccessible")), "database "+r.Name+" is publicly accessible")
			}),
		check("iam-policy-no-full-admin", "IAM policies must not allow every action on every resource.", mand,
			[]string{"aws:iam/policy:Policy"}, func(r policyx.AnalyzerResource) []string {
				var doc struct{ Statement json.RawMessage }
				if json.Unmarshal([]byte(str(r.Properties.Get("policy"))), &doc) != nil {
					return nil
				}
				type stmt struct {
					Sid              string
					Effect           string
					Action, Resource any
				}
				var stmts []stmt
				if json.Unmarshal(doc.Statement, &stmts) != nil {
					var s stmt
					if json.Unmarshal(doc.Statement, &s) != nil {
						return nil
					}
					stmts = []stmt{s}
				}
				list := func(v any) []string {
					switch v := v.(type) {
					case string:
						return []string{v}
					case []any:
						var out []string
						for _, x := range v {
							if s, ok := x.(string); ok {
								out = append(out, s)
							}
						}
						return out
					}
					return nil
				}
				var out []string
				for _, s := range stmts {
					if s.Effect == "Allow" && slices.Contains(list(s.Resource), "*") &&
						(slices.Contains(list(s.Action), "*") || slices.Contains(list(s.Action), "*:*")) {
						sid := s.Sid
						if sid == "" {
							sid = "without a Sid"
						}
						out = append(out, "statement "+sid+" allows every action on every resource")
					}
				}
				return out
			}),
		check("ec2-imdsv2-required", "EC2 instances must require IMDSv2.", adv,
			[]string{"aws:ec2/instance:Instance"}, func(r policyx.AnalyzerResource) []string {
				tokens, endpoint := get(r.Properties, "metadataOptions", "httpTokens"), get(r.Properties, "metadataOptions", "httpEndpoint")
				return one((!tokens.IsString() || tokens.AsString() != "required") && str(endpoint) != "disabled",
					"instance "+r.Name+" does not require IMDSv2")
			}),
		check("ebs-volume-encrypted", "EBS volumes must be encrypted at rest.", adv,
			[]string{"aws:ebs/volume:Volume"}, func(r policyx.AnalyzerResource) []string {
				return one(!truthy(r.Properties.Get("encrypted")), "volume "+r.Name+" is not encrypted")
			}),
		check("kms-key-rotation-enabled", "Symmetric KMS keys must rotate automatically.", adv,
			[]string{"aws:kms/key:Key"}, func(r policyx.AnalyzerResource) []string {
				spec := str(r.Properties.Get("customerMasterKeySpec"))
				if spec == "" {
					spec = str(r.Properties.Get("keySpec"))
				}
				if spec != "" && spec != "SYMMETRIC_DEFAULT" {
					return nil
				}
				return one(!truthy(r.Properties.Get("enableKeyRotation")), "key "+r.Name+" does not rotate")
			}),
		check("dynamodb-pitr-enabled", "DynamoDB tables must have point-in-time recovery.", adv,
			[]string{"aws:dynamodb/table:Table"}, func(r policyx.AnalyzerResource) []string {
				return one(!truthy(get(r.Properties, "pointInTimeRecovery", "enabled")), "table "+r.Name+" has no point-in-time recovery")
			}),
		check("k8s-no-privileged-containers", "Containers must not run privileged.", mand,
			[]string{"kubernetes:apps/v1:Deployment"}, func(r policyx.AnalyzerResource) []string {
				var out []string
				pod := get(r.Properties, "spec", "template", "spec")
				for _, key := range []string{"containers", "initContainers", "ephemeralContainers"} {
					if !pod.IsMap() {
						break
					}
					for _, c := range items(pod.AsMap().Get(key)) {
						if c.IsMap() && truthy(get(c.AsMap(), "securityContext", "privileged")) {
							out = append(out, "container "+str(c.AsMap().Get("name"))+" is privileged")
						}
					}
				}
				return out
			}),
	}
}

// hasPublicAccessBlock is the stack policy: every bucket has a public
// access block pointing at it, by property dependency (the bucket's id is
// unknown while it is being created) or else by name, or the stack has a
// complete account-level block. The blocked buckets are sets built once,
// as a Go programmer would.
func hasPublicAccessBlock() policyx.Policy {
	flags := []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"}
	return policyx.NewStackValidationPolicy("s3-bucket-has-public-access-block", policyx.StackValidationPolicyArgs{
		Description:      "Every S3 bucket has a public access block pointing at it (or the account has one).",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			blockedURNs, blockedNames := map[string]bool{}, map[string]bool{}
			for _, r := range args.Resources {
				switch r.Type {
				case "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock":
					if !slices.ContainsFunc(flags, func(f string) bool { return !truthy(r.Properties.Get(f)) }) {
						return nil
					}
				case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
					if urns, ok := r.PropertyDependencies["bucket"]; ok {
						for _, u := range urns {
							blockedURNs[u] = true
						}
					} else {
						blockedNames[str(r.Properties.Get("bucket"))] = true
					}
				}
			}
			for _, r := range args.Resources {
				if r.Type != "aws:s3/bucket:Bucket" && r.Type != "aws:s3/bucketV2:BucketV2" {
					continue
				}
				id, bucket := r.Properties.Get("id"), r.Properties.Get("bucket")
				if blockedURNs[r.URN] || id.IsString() && blockedNames[id.AsString()] || bucket.IsString() && blockedNames[bucket.AsString()] {
					continue
				}
				args.Manager.ReportViolation("bucket "+r.Name+" has no public access block", r.URN)
			}
			return nil
		},
	})
}

func main() {
	err := policyx.Main(func(*pulumi.Context) (policyx.PolicyPack, error) {
		return policyx.NewPolicyPack("bench-reference", semver.MustParse("0.1.0"), policyx.EnforcementLevelAdvisory,
			append(policies(), hasPublicAccessBlock()))
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

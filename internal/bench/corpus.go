// Package bench drives an analyzer plugin the way the Pulumi engine does,
// with a deterministic corpus, and measures it: startup to ready, Analyze
// latency and throughput, AnalyzeStack time, the plugin's peak memory, and
// the diagnostics per policy (so that implementations can be compared).
package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

// Resource is one corpus entry.
type Resource struct {
	URN, Type, Name string
	Props           resource.PropertyMap
	// PropertyDependencies name, per input, the resources whose outputs
	// it was computed from (AnalyzeStack sends them; Analyze does not).
	PropertyDependencies map[string][]string
}

var (
	unknown = resource.MakeComputed(resource.NewStringProperty(""))
	secret  = func(s string) resource.PropertyValue { return resource.MakeSecret(resource.NewStringProperty(s)) }
	str     = resource.NewStringProperty
	num     = resource.NewNumberProperty
	boolean = resource.NewBoolProperty
	obj     = func(m map[string]resource.PropertyValue) resource.PropertyValue {
		pm := resource.PropertyMap{}
		for k, v := range m {
			pm[resource.PropertyKey(k)] = v
		}
		return resource.NewObjectProperty(pm)
	}
	arr = func(vs ...resource.PropertyValue) resource.PropertyValue { return resource.NewArrayProperty(vs) }
)

// Corpus builds n resources of eighteen AWS and Kubernetes types, with
// nested blocks, some secret and some unknown values, related as in real
// stacks: in every group of eighteen, a public access block, a versioning
// resource, a flow log and a role policy attachment point at a bucket, a
// VPC and a role of the group by property dependency (the bucket's id
// unknown, as during the preview that creates it, or its name). Every
// fourth group leaves a relation out, so stack policies find violations.
// The same n gives the same corpus.
func Corpus(stack, project string, n int) []Resource {
	out := make([]Resource, 0, n)
	urn := func(typ, name string) string {
		return fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", stack, project, typ, name)
	}
	for i := range n {
		name := fmt.Sprintf("r%06d", i)
		var typ string
		var p map[string]resource.PropertyValue
		var deps map[string][]string
		public := i%5 == 0
		g, first := i/groupSize, i-i%groupSize
		missing := g%4 == 3
		// related is the URN and name of the resource of this group at
		// the given case.
		related := func(c int) (string, string) {
			n := fmt.Sprintf("r%06d", first+c)
			return urn(groupTypes[c], n), n
		}
		switch i % groupSize {
		case 0:
			typ = "aws:s3/bucket:Bucket"
			acl := "private"
			if public {
				acl = "public-read"
			}
			p = map[string]resource.PropertyValue{"bucket": str("acme-" + name), "acl": str(acl),
				"tags": obj(map[string]resource.PropertyValue{"owner": str("team-a"), "env": str("prod")})}
		case 1:
			typ = "aws:s3/bucketV2:BucketV2"
			p = map[string]resource.PropertyValue{"bucket": str("acme-" + name), "tags": obj(map[string]resource.PropertyValue{"owner": str("team-b")})}
		case 2:
			typ = "aws:ec2/securityGroup:SecurityGroup"
			src := str("10.0.0.0/8")
			if public {
				src = str("0.0.0.0/0")
			}
			if i%7 == 0 {
				src = unknown
			}
			p = map[string]resource.PropertyValue{"name": str(name), "vpcId": str("vpc-0a1b2c3d"), "ingress": arr(
				obj(map[string]resource.PropertyValue{"protocol": str("tcp"), "fromPort": num(443), "toPort": num(443), "cidrBlocks": arr(str("0.0.0.0/0"))}),
				obj(map[string]resource.PropertyValue{"protocol": str("tcp"), "fromPort": num(22), "toPort": num(22), "cidrBlocks": arr(src)}),
				obj(map[string]resource.PropertyValue{"protocol": str("tcp"), "fromPort": num(5432), "toPort": num(5432), "cidrBlocks": arr(str("10.1.0.0/16"))}),
			)}
		case 3:
			typ = "aws:rds/instance:Instance"
			p = map[string]resource.PropertyValue{"engine": str("postgres"), "instanceClass": str("db.t3.medium"),
				"allocatedStorage": num(50), "password": secret("pw-" + name + "-s3cret"), "storageEncrypted": boolean(!public),
				"publiclyAccessible": boolean(false), "backupRetentionPeriod": num(7)}
		case 4:
			typ = "aws:iam/policy:Policy"
			action := `"s3:GetObject"`
			if public {
				action = `"*"`
			}
			p = map[string]resource.PropertyValue{"policy": str(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + action + `,"Resource":"*"}]}`)}
		case 5:
			typ = "aws:ec2/instance:Instance"
			p = map[string]resource.PropertyValue{"ami": str("ami-0abcdef1234567890"), "instanceType": str("t3.micro"),
				"metadataOptions": obj(map[string]resource.PropertyValue{"httpTokens": str("required")}), "associatePublicIpAddress": boolean(public)}
		case 6:
			typ = "aws:ebs/volume:Volume"
			p = map[string]resource.PropertyValue{"availabilityZone": str("us-east-1a"), "size": num(100), "encrypted": boolean(!public)}
		case 7:
			typ = "aws:lambda/function:Function"
			p = map[string]resource.PropertyValue{"runtime": str("nodejs20.x"), "handler": str("index.handler"), "role": unknown}
		case 8:
			typ = "aws:kms/key:Key"
			p = map[string]resource.PropertyValue{"description": str("key " + name), "enableKeyRotation": boolean(!public)}
		case 9:
			typ = "kubernetes:apps/v1:Deployment"
			priv := boolean(public)
			p = map[string]resource.PropertyValue{
				"metadata": obj(map[string]resource.PropertyValue{"name": str(name), "namespace": str("web")}),
				"spec": obj(map[string]resource.PropertyValue{"replicas": num(3), "template": obj(map[string]resource.PropertyValue{
					"spec": obj(map[string]resource.PropertyValue{"containers": arr(obj(map[string]resource.PropertyValue{
						"name": str("app"), "image": str("ghcr.io/acme/app:1.2.3"),
						"securityContext": obj(map[string]resource.PropertyValue{"privileged": priv, "allowPrivilegeEscalation": boolean(false)}),
						"resources":       obj(map[string]resource.PropertyValue{"limits": obj(map[string]resource.PropertyValue{"cpu": str("1"), "memory": str("512Mi")})}),
					}))}),
				})}),
			}
		case 10:
			typ = "kubernetes:core/v1:Service"
			p = map[string]resource.PropertyValue{"spec": obj(map[string]resource.PropertyValue{"type": str("ClusterIP"),
				"ports": arr(obj(map[string]resource.PropertyValue{"port": num(80)}))})}
		case 11:
			typ = "aws:dynamodb/table:Table"
			p = map[string]resource.PropertyValue{"hashKey": str("id"), "billingMode": str("PAY_PER_REQUEST"),
				"pointInTimeRecovery": obj(map[string]resource.PropertyValue{"enabled": boolean(!public)})}
		case 12:
			// The group's Bucket, or its BucketV2 in a group that
			// leaves the Bucket unblocked.
			bucketURN, bucketName := related(0)
			if missing {
				bucketURN, bucketName = related(1)
			}
			typ = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
			ref := unknown
			if g%2 == 1 {
				ref = str("acme-" + bucketName)
			}
			p = map[string]resource.PropertyValue{"bucket": ref, "blockPublicAcls": boolean(true), "blockPublicPolicy": boolean(true),
				"ignorePublicAcls": boolean(!public), "restrictPublicBuckets": boolean(true)}
			deps = map[string][]string{"bucket": {bucketURN}}
		case 13:
			typ = "aws:ec2/vpc:Vpc"
			p = map[string]resource.PropertyValue{"cidrBlock": str("10.0.0.0/16"), "enableDnsHostnames": boolean(true)}
		case 14:
			typ = "aws:ec2/flowLog:FlowLog"
			p = map[string]resource.PropertyValue{"vpcId": str("vpc-0a1b2c3d"), "trafficType": str("ALL"), "logDestinationType": str("s3")}
			if !missing {
				vpc, _ := related(13)
				p["vpcId"] = unknown
				deps = map[string][]string{"vpcId": {vpc}}
			}
		case 15:
			typ = "aws:iam/role:Role"
			p = map[string]resource.PropertyValue{"assumeRolePolicy": str(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}
		case 16:
			typ = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
			role, _ := related(15)
			arn := "arn:aws:iam::aws:policy/ReadOnlyAccess"
			if public {
				arn = "arn:aws:iam::aws:policy/AdministratorAccess"
			}
			p = map[string]resource.PropertyValue{"role": unknown, "policyArn": str(arn)}
			deps = map[string][]string{"role": {role}}
		default:
			typ = "aws:s3/bucketVersioningV2:BucketVersioningV2"
			bucket, _ := related(1)
			status := "Enabled"
			if missing {
				status = "Suspended"
			}
			p = map[string]resource.PropertyValue{"bucket": unknown,
				"versioningConfiguration": obj(map[string]resource.PropertyValue{"status": str(status)})}
			deps = map[string][]string{"bucket": {bucket}}
		}
		pm := resource.PropertyMap{}
		for k, v := range p {
			pm[resource.PropertyKey(k)] = v
		}
		out = append(out, Resource{URN: urn(typ, name), Type: typ, Name: name, Props: pm, PropertyDependencies: deps})
	}
	return out
}

// groupTypes are the corpus's types, in the order of a group.
var groupTypes = []string{
	"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:ec2/securityGroup:SecurityGroup", "aws:rds/instance:Instance",
	"aws:iam/policy:Policy", "aws:ec2/instance:Instance", "aws:ebs/volume:Volume", "aws:lambda/function:Function",
	"aws:kms/key:Key", "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "aws:dynamodb/table:Table",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:ec2/vpc:Vpc", "aws:ec2/flowLog:FlowLog",
	"aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:s3/bucketVersioningV2:BucketVersioningV2",
}

const groupSize = 18

var marshal = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true}

// options and provider are what the engine sends with every resource
// (marshalResourceOptions and marshalProvider in pkg resource/plugin):
// the stack as parent, zero timeouts, and the default provider of the
// resource's package. @pulumi/policy refuses a request without options.
func options(r Resource) *pulumirpc.AnalyzerResourceOptions {
	prefix, stack, project := scope(r.URN)
	return &pulumirpc.AnalyzerResourceOptions{
		Parent:         prefix + "::pulumi:pulumi:Stack::" + project + "-" + stack,
		CustomTimeouts: &pulumirpc.AnalyzerResourceOptions_CustomTimeouts{},
	}
}

func provider(r Resource) (*pulumirpc.AnalyzerProviderResource, error) {
	pkg, _, _ := strings.Cut(r.Type, ":")
	props := resource.PropertyMap{"version": str("6.0.0")}
	if pkg == "aws" {
		props["region"] = str("us-east-1")
	}
	mprops, err := plugin.MarshalProperties(props, marshal)
	if err != nil {
		return nil, err
	}
	typ := "pulumi:providers:" + pkg
	prefix, _, _ := scope(r.URN)
	return &pulumirpc.AnalyzerProviderResource{Type: typ, Name: "default_6_0_0",
		Urn: prefix + "::" + typ + "::default_6_0_0", Properties: mprops}, nil
}

// scope splits a corpus URN: its "urn:pulumi:STACK::PROJECT" prefix, the
// stack and the project.
func scope(urn string) (prefix, stack, project string) {
	parts := strings.SplitN(urn, "::", 3)
	return parts[0] + "::" + parts[1], strings.TrimPrefix(parts[0], "urn:pulumi:"), parts[1]
}

// wire is what every request carries of a resource besides its name:
// properties, options and provider, encoded as the engine encodes them.
func wire(r Resource) (*structpb.Struct, *pulumirpc.AnalyzerResourceOptions, *pulumirpc.AnalyzerProviderResource, error) {
	props, err := plugin.MarshalProperties(r.Props, marshal)
	if err != nil {
		return nil, nil, nil, err
	}
	prov, err := provider(r)
	if err != nil {
		return nil, nil, nil, err
	}
	return props, options(r), prov, nil
}

// AnalyzeRequests encodes the corpus as Analyze requests.
func AnalyzeRequests(rs []Resource) ([]*pulumirpc.AnalyzeRequest, error) {
	out := make([]*pulumirpc.AnalyzeRequest, len(rs))
	for i, r := range rs {
		props, opts, prov, err := wire(r)
		if err != nil {
			return nil, err
		}
		out[i] = &pulumirpc.AnalyzeRequest{Urn: r.URN, Type: r.Type, Name: r.Name, Properties: props, Options: opts, Provider: prov}
	}
	return out, nil
}

// StackRequest encodes the corpus as one AnalyzeStack request (outputs
// are the inputs here: the corpus has no computed outputs).
func StackRequest(rs []Resource) (*pulumirpc.AnalyzeStackRequest, error) {
	req := &pulumirpc.AnalyzeStackRequest{}
	for _, r := range rs {
		props, opts, prov, err := wire(r)
		if err != nil {
			return nil, err
		}
		res := &pulumirpc.AnalyzerResource{Urn: r.URN, Type: r.Type, Name: r.Name,
			Properties: props, Options: opts, Provider: prov, Parent: opts.GetParent()}
		if len(r.PropertyDependencies) > 0 {
			res.PropertyDependencies = map[string]*pulumirpc.AnalyzerPropertyDependencies{}
			for _, k := range slices.Sorted(maps.Keys(r.PropertyDependencies)) {
				urns := r.PropertyDependencies[k]
				res.PropertyDependencies[k] = &pulumirpc.AnalyzerPropertyDependencies{Urns: urns}
				res.Dependencies = append(res.Dependencies, urns...)
			}
		}
		req.Resources = append(req.Resources, res)
	}
	return req, nil
}

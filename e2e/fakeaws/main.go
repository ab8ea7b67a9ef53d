// Command fakeaws is a stand-in for the AWS provider in Warden's end-to-end
// tests and its real-CLI benchmark (make bench): it serves a schema with
// the resource types they use and keeps resources in memory of the Pulumi
// state alone, echoing inputs as outputs
// (plus the computed properties a real provider would return). Real AWS
// cannot be reached from the test machines; everything else in the tests is
// the real Pulumi CLI and language host.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const version = "7.0.0"

const schema = `{
  "name": "aws",
  "version": "7.0.0",
  "config": {},
  "provider": {"inputProperties": {"region": {"type": "string"}}, "properties": {"region": {"type": "string"}}},
  "types": {
    "aws:ec2/SecurityGroupIngress:SecurityGroupIngress": {
      "type": "object",
      "properties": {
        "protocol": {"type": "string"}, "fromPort": {"type": "integer"}, "toPort": {"type": "integer"},
        "cidrBlocks": {"type": "array", "items": {"type": "string"}},
        "ipv6CidrBlocks": {"type": "array", "items": {"type": "string"}},
        "description": {"type": "string"}
      }
    },
    "aws:ec2/InstanceMetadataOptions:InstanceMetadataOptions": {
      "type": "object", "properties": {"httpTokens": {"type": "string"}, "httpEndpoint": {"type": "string"}}
    },
    "aws:dynamodb/TablePointInTimeRecovery:TablePointInTimeRecovery": {
      "type": "object", "properties": {"enabled": {"type": "boolean"}}
    }
  },
  "resources": {
    "aws:s3/bucket:Bucket": {
      "inputProperties": {"bucket": {"type": "string"}, "acl": {"type": "string"}, "forceDestroy": {"type": "boolean"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}}},
      "properties": {"bucket": {"type": "string"}, "acl": {"type": "string"}, "forceDestroy": {"type": "boolean"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}}, "arn": {"type": "string"}}
    },
    "aws:ec2/securityGroup:SecurityGroup": {
      "inputProperties": {"name": {"type": "string"}, "description": {"type": "string"}, "vpcId": {"type": "string"},
        "ingress": {"type": "array", "items": {"$ref": "#/types/aws:ec2/SecurityGroupIngress:SecurityGroupIngress"}},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}}},
      "properties": {"name": {"type": "string"}, "description": {"type": "string"}, "vpcId": {"type": "string"},
        "ingress": {"type": "array", "items": {"$ref": "#/types/aws:ec2/SecurityGroupIngress:SecurityGroupIngress"}},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}}, "arn": {"type": "string"}}
    },
    "aws:ec2/eip:Eip": {
      "inputProperties": {"domain": {"type": "string"}},
      "properties": {"domain": {"type": "string"}, "publicIp": {"type": "string"}, "arn": {"type": "string"}}
    },
    "aws:rds/instance:Instance": {
      "inputProperties": {"engine": {"type": "string"}, "instanceClass": {"type": "string"}, "username": {"type": "string"},
        "password": {"type": "string", "secret": true}, "storageEncrypted": {"type": "boolean"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}}},
      "properties": {"engine": {"type": "string"}, "instanceClass": {"type": "string"}, "username": {"type": "string"},
        "password": {"type": "string", "secret": true}, "storageEncrypted": {"type": "boolean"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}}, "arn": {"type": "string"}}
    },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
      "inputProperties": {"bucket": {"type": "string"}, "blockPublicAcls": {"type": "boolean"}, "blockPublicPolicy": {"type": "boolean"},
        "ignorePublicAcls": {"type": "boolean"}, "restrictPublicBuckets": {"type": "boolean"}},
      "properties": {"bucket": {"type": "string"}, "blockPublicAcls": {"type": "boolean"}, "blockPublicPolicy": {"type": "boolean"},
        "ignorePublicAcls": {"type": "boolean"}, "restrictPublicBuckets": {"type": "boolean"}}
    },
    "aws:ebs/volume:Volume": {
      "inputProperties": {"availabilityZone": {"type": "string"}, "size": {"type": "integer"}, "encrypted": {"type": "boolean"}},
      "properties": {"availabilityZone": {"type": "string"}, "size": {"type": "integer"}, "encrypted": {"type": "boolean"}, "arn": {"type": "string"}}
    },
    "aws:kms/key:Key": {
      "inputProperties": {"description": {"type": "string"}, "enableKeyRotation": {"type": "boolean"}},
      "properties": {"description": {"type": "string"}, "enableKeyRotation": {"type": "boolean"}, "arn": {"type": "string"}}
    },
    "aws:iam/policy:Policy": {
      "inputProperties": {"policy": {"type": "string"}},
      "properties": {"policy": {"type": "string"}, "arn": {"type": "string"}}
    },
    "aws:dynamodb/table:Table": {
      "inputProperties": {"hashKey": {"type": "string"}, "billingMode": {"type": "string"},
        "pointInTimeRecovery": {"$ref": "#/types/aws:dynamodb/TablePointInTimeRecovery:TablePointInTimeRecovery"}},
      "properties": {"hashKey": {"type": "string"}, "billingMode": {"type": "string"},
        "pointInTimeRecovery": {"$ref": "#/types/aws:dynamodb/TablePointInTimeRecovery:TablePointInTimeRecovery"}, "arn": {"type": "string"}}
    },
    "aws:ec2/instance:Instance": {
      "inputProperties": {"ami": {"type": "string"}, "instanceType": {"type": "string"}, "associatePublicIpAddress": {"type": "boolean"},
        "metadataOptions": {"$ref": "#/types/aws:ec2/InstanceMetadataOptions:InstanceMetadataOptions"}},
      "properties": {"ami": {"type": "string"}, "instanceType": {"type": "string"}, "associatePublicIpAddress": {"type": "boolean"},
        "metadataOptions": {"$ref": "#/types/aws:ec2/InstanceMetadataOptions:InstanceMetadataOptions"}, "arn": {"type": "string"}}
    }
  }
}`

// computed are the output properties each type adds to its inputs, and the
// value they take once created.
var computed = map[string]map[string]string{
	"aws:s3/bucket:Bucket":                {"arn": "arn:aws:s3:::%s"},
	"aws:ec2/securityGroup:SecurityGroup": {"arn": "arn:aws:ec2:us-east-1:111122223333:security-group/%s"},
	"aws:ec2/eip:Eip":                     {"arn": "arn:aws:ec2:us-east-1:111122223333:elastic-ip/%s", "publicIp": "198.51.100.7"},
	"aws:rds/instance:Instance":           {"arn": "arn:aws:rds:us-east-1:111122223333:db:%s"},
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true}

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer
}

func (provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: schema}, nil
}

func (provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (provider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := plugin.UnmarshalProperties(req.GetOldInputs(), opts)
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), opts)
	if err != nil {
		return nil, err
	}
	d := olds.Diff(news)
	if d == nil || !d.AnyChanges() {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	var keys []string
	for _, k := range d.ChangedKeys() {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: keys}, nil
}

// outputs are the inputs plus computed properties: unknown during a
// preview, filled in when the resource is created or updated.
func outputs(urn string, inputs *structpb.Struct, preview bool) (*structpb.Struct, error) {
	props, err := plugin.UnmarshalProperties(inputs, opts)
	if err != nil {
		return nil, err
	}
	typ, name := urnTypeName(urn)
	for k, format := range computed[typ] {
		if preview {
			props[resource.PropertyKey(k)] = resource.MakeComputed(resource.NewStringProperty(""))
		} else if strings.Contains(format, "%s") {
			props[resource.PropertyKey(k)] = resource.NewStringProperty(fmt.Sprintf(format, name))
		} else {
			props[resource.PropertyKey(k)] = resource.NewStringProperty(format)
		}
	}
	return plugin.MarshalProperties(props, opts)
}

func urnTypeName(urn string) (string, string) {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return "", urn
	}
	typ := parts[2]
	if i := strings.LastIndex(typ, "$"); i >= 0 {
		typ = typ[i+1:]
	}
	return typ, parts[3]
}

func (provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	out, err := outputs(req.GetUrn(), req.GetProperties(), req.GetPreview())
	if err != nil {
		return nil, err
	}
	_, name := urnTypeName(req.GetUrn())
	id := name + "-1a2b3c"
	if req.GetPreview() {
		id = ""
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: out}, nil
}

func (provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	out, err := outputs(req.GetUrn(), req.GetNews(), req.GetPreview())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: out}, nil
}

func (provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (provider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func main() {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := grpc.NewServer()
	pulumirpc.RegisterResourceProviderServer(s, provider{})
	fmt.Printf("%d\n", lis.Addr().(*net.TCPAddr).Port)
	if err := s.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

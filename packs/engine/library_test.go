package engine

import (
	"testing"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
)

// TestLibrary evaluates each helper on the values real policies meet.
func TestLibrary(t *testing.T) {
	t.Parallel()
	envs, err := packEnvs()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		expr string
		want any // bool, int64, or "error"
	}{
		{`cidr.isOpen("0.0.0.0/0")`, true},
		{`cidr.isOpen("::/0")`, true},
		{`cidr.isOpen("10.0.0.0/8")`, false},
		{`cidr.isOpen("0.0.0.0/1")`, false},
		{`cidr.isPublic("8.8.8.0/24")`, true},
		{`cidr.isPublic("10.1.0.0/16")`, false},
		{`cidr.isPublic("172.16.0.0/8")`, true}, // wider than the private /12
		{`cidr.isPublic("192.168.1.7")`, false},
		{`cidr.isPublic("2001:db8::/48")`, false},
		{`cidr.isPublic("2600::/16")`, true},
		{`cidr.contains("10.0.0.0/8", "10.2.3.4")`, true},
		{`cidr.contains("10.0.0.0/8", "10.2.0.0/16")`, true},
		{`cidr.contains("10.2.0.0/16", "10.0.0.0/8")`, false},
		{`cidr.contains("10.0.0.0/8", "::1")`, false},
		{`cidr.overlaps("10.0.0.0/16", "10.0.255.0/24")`, true},
		{`cidr.overlaps("10.0.0.0/16", "10.1.0.0/16")`, false},
		{`cidr.valid("300.0.0.0/8")`, false},
		{`cidr.valid("fd00::/8")`, true},
		{`cidr.contains("not-a-cidr", "10.0.0.1")`, "error"},
		{`ports.covers(20, 30, 22)`, true},
		{`ports.covers(22.0, 22.0, 22)`, true},
		{`ports.covers(23, 30, 22)`, false},
		{`ports.covers(-1, -1, 22)`, true},
		{`ports.covers("22", "22", 22)`, true},
		{`ports.covers("*", 3389)`, true},
		{`ports.covers("1000-2000", 1500)`, true},
		{`ports.covers("1000-2000", 22)`, false},
		{`ports.covers(["80", "443", "20-23"], 22)`, true},
		{`ports.covers(["80", "443"], 22)`, false},
		{`ports.covers("ssh", 22)`, "error"},
		{`ports.covers(22.5, 23, 22)`, "error"},
		{`json.parse('{"a": [1, 2]}').a[1] == 2`, true},
		{`json.parse({"a": 1}).a == 1`, true},
		{`json.parse('{"a": ').a == 1`, "error"},
		{`json.parse('1 2') == 1`, "error"},
		{`json.valid('{"Version": "2012-10-17"}')`, true},
		{`json.valid('{')`, false},
		{`semver.compare("1.2.3", "1.10.0")`, int64(-1)},
		{`semver.compare("2.0.0", "2.0.0")`, int64(0)},
		{`semver.satisfies("1.4.0", "^1.2")`, true},
		{`semver.satisfies("2.0.0", "^1.2")`, false},
		{`semver.valid("v1.2.3")`, true},
		{`semver.valid("one")`, false},
		{`semver.compare("x", "1.0.0")`, "error"},
		{`"a,b".split(",").size() == 2`, true},             // strings extension
		{`[3, 1, 2].sort() == [1, 2, 3]`, true},            // lists extension
		{`math.greatest([1, 5, 3]) == 5`, true},            // math extension
		{`sets.contains([1, 2, 3], [2])`, true},            // sets extension
		{`base64.encode(b"hi") == "aGk="`, true},           // encoders extension
		{`cel.bind(x, 2, x * x) == 4`, true},               // bindings extension
		{`{"a": 1}.all(k, v, v == 1)`, true},               // two-variable comprehensions
		{`dyn(22.0) == 22 && 22 < 23.5 && 1u < 2.0`, true}, // numbers compare across types
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			ast, iss := envs.resource.Compile(tc.expr)
			if iss.Err() != nil {
				t.Fatalf("compile: %v", iss.Err())
			}
			prg, err := envs.resource.Program(ast)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := prg.Eval(cel.NoVars())
			if tc.want == "error" {
				if err == nil {
					t.Fatalf("got %v, want an error", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			switch want := tc.want.(type) {
			case bool:
				if out != types.Bool(want) {
					t.Fatalf("got %v, want %v", out, want)
				}
			case int64:
				if out != types.Int(want) {
					t.Fatalf("got %v, want %v", out, want)
				}
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pat, token string
		want       bool
	}{
		{"aws:s3/*:*", "aws:s3/bucket:Bucket", true},
		{"aws:s3/*:*", "aws:s3/bucketV2:BucketV2", true},
		{"aws:s3/*:*", "aws:ec2/instance:Instance", false},
		{"kubernetes:apps/v1:*", "kubernetes:apps/v1:Deployment", true},
		{"kubernetes:*:Deployment", "kubernetes:apps/v1:Deployment", true},
		{"kubernetes:*:Deployment", "kubernetes:apps/v1:StatefulSet", false},
		{"azure-native:storage*:StorageAccount", "azure-native:storage/v20230101:StorageAccount", true},
		{"*:*:*", "pulumi:providers:aws", true},
		{"aws:s3/*:*", "aws:s3:Bucket", false},
	}
	for _, tc := range tests {
		if got := matchesType([]string{tc.pat}, tc.token); got != tc.want {
			t.Errorf("matchesType(%q, %q) = %v, want %v", tc.pat, tc.token, got, tc.want)
		}
	}
}

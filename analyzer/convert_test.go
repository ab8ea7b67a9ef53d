package analyzer

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	"github.com/pulumi/pulumi/sdk/v3/go/propertyrpc"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

func TestPropsRoundTrip(t *testing.T) {
	t.Parallel()
	in := resource.PropertyMap{
		"n":      resource.NewNumberProperty(22),
		"s":      resource.NewStringProperty("x"),
		"b":      resource.NewBoolProperty(true),
		"null":   resource.NewNullProperty(),
		"list":   resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("a"), resource.MakeComputed(resource.NewStringProperty(""))}),
		"secret": resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{"k": resource.NewStringProperty("v")})),
		"out":    resource.NewOutputProperty(resource.Output{Known: false, Secret: true}),
	}
	got, err := propsFromProto(props(t, in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"n": 22.0, "s": "x", "b": true, "null": nil,
		"list":   []any{"a", engine.Unknown{}},
		"secret": engine.Secret{Value: map[string]any{"k": "v"}},
		"out":    engine.Secret{Value: engine.Unknown{}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("decoded (-want +got):\n%s", d)
	}
	back, err := propsToProto(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := propsFromProto(back)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got, again); d != "" {
		t.Errorf("round trip (-first +second):\n%s", d)
	}
}

func TestLevelsAndSeverities(t *testing.T) {
	t.Parallel()
	for _, l := range spec.Levels {
		if got := levelFromProto(levelToProto(l)); got != l {
			t.Errorf("level %s round-trips to %s", l, got)
		}
	}
	if severityToProto("") != pulumirpc.PolicySeverity_POLICY_SEVERITY_UNSPECIFIED ||
		severityToProto(spec.Critical) != pulumirpc.PolicySeverity_POLICY_SEVERITY_CRITICAL {
		t.Error("severity mapping")
	}
}

func TestStackFromProto(t *testing.T) {
	t.Parallel()
	s := stackFromProto(&pulumirpc.AnalyzerStackConfigureRequest{
		Stack: "prod", Project: "web", Organization: "acme", DryRun: true,
		Config: map[string]string{"web:a": "1", "web:pw": "secret"}, ConfigSecretKeys: []string{"web:pw"},
		Tags: map[string]string{"env": "prod"},
	})
	if s.Config["web:a"] != "1" || s.Config["web:pw"] != (engine.Secret{Value: "secret"}) || !s.DryRun || s.Tags["env"] != "prod" {
		t.Errorf("stack: %+v", s)
	}
}

func TestStackFromURN(t *testing.T) {
	t.Parallel()
	stack, project, ok := stackFromURN("urn:pulumi:prod::web::aws:s3/bucket:Bucket::site")
	if !ok || stack != "prod" || project != "web" {
		t.Errorf("got %q %q %v", stack, project, ok)
	}
	if _, _, ok := stackFromURN("not-a-urn"); ok {
		t.Error("parsed a non-URN")
	}
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args         []string
		home, engine string
	}{
		{[]string{"127.0.0.1:5000"}, "", "127.0.0.1:5000"},
		{[]string{"--logtostderr", "-v=9", "--tracing", "http://t", "127.0.0.1:5000"}, "", "127.0.0.1:5000"},
		{[]string{"--home", "/p", "--logflow", "127.0.0.1:5000"}, "/p", "127.0.0.1:5000"},
		{[]string{"--home=/p", "x", "127.0.0.1:6000"}, "/p", "127.0.0.1:6000"},
		{nil, "", ""},
	} {
		got, err := parseArgs(tc.args)
		if err != nil || got.home != tc.home || got.engine != tc.engine {
			t.Errorf("parseArgs(%q) = %+v, %v", tc.args, got, err)
		}
	}
}

// TestRunStdout: the plugin process prints its port and a newline on
// stdout, nothing else, and stops when its context ends.
func TestRunStdout(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	var stderr strings.Builder
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, Process{
			Args: []string{"testdata/home/pulumi-analyzer-warden", "127.0.0.1:1"}, Stdout: pw, Stderr: &stderr,
			Getenv: func(string) string { return "" }, Version: "0.1.0",
		})
		pw.Close()
	}()
	r := bufio.NewReader(pr)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if port, err := strconv.Atoi(strings.TrimSuffix(line, "\n")); err != nil || port <= 0 {
		t.Fatalf("first stdout line %q is not a port", line)
	}
	cancel()
	rest, _ := io.ReadAll(r)
	if len(rest) > 0 {
		t.Errorf("more on stdout after the port: %q", rest)
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d; stderr: %s", c, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if stderr.Len() > 0 {
		t.Errorf("logs at the default level: %s", stderr.String())
	}
}

// TestPropsFromProtoMatchesSDK decodes every shape the engine sends both
// ways, with the fast path and through the SDK's propertyrpc, and wants
// the same engine values.
func TestPropsFromProtoMatchesSDK(t *testing.T) {
	t.Parallel()
	text, err := resource.NewTextAsset("hello")
	if err != nil {
		t.Fatal(err)
	}
	in := resource.PropertyMap{
		"nested": resource.NewObjectProperty(resource.PropertyMap{
			"deep":  resource.NewArrayProperty([]resource.PropertyValue{resource.NewObjectProperty(resource.PropertyMap{"x": resource.NewNumberProperty(1)})}),
			"empty": resource.NewObjectProperty(resource.PropertyMap{}),
		}),
		"secretList":    resource.MakeSecret(resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("a")})),
		"secretUnknown": resource.MakeSecret(resource.MakeComputed(resource.NewStringProperty(""))),
		"knownOutput":   resource.NewOutputProperty(resource.Output{Element: resource.NewStringProperty("v"), Known: true}),
		"secretOutput":  resource.NewOutputProperty(resource.Output{Element: resource.NewNumberProperty(3), Known: true, Secret: true}),
		"ref":           resource.MakeCustomResourceReference("urn:pulumi:s::p::aws:s3/bucket:Bucket::b", "b-123", ""),
		"asset":         resource.NewAssetProperty(text),
		"__defaults":    resource.NewArrayProperty(nil),
	}
	s, err := plugin.MarshalProperties(in, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"knownOutput", "ref", "asset"} {
		if _, signed := s.GetFields()[k].GetStructValue().GetFields()[sig.Key]; !signed {
			t.Fatalf("%s is not sent as a signed struct: the test does not reach the SDK path", k)
		}
	}
	got, err := propsFromProto(s)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := propertyrpc.Unmarshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	for k, v := range pm.All {
		if !strings.HasPrefix(k, "__") {
			want[k] = fromPropertyValue(v)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("fast path differs from the SDK (-sdk +fast):\n%s", d)
	}
}

package analyzer

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
)

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: t.Output(), DisableTime: true, Level: hclog.Debug})
}

// newTestClient serves srv over bufconn with the production server options.
func newTestClient(t *testing.T, srv pulumirpc.AnalyzerServer) pulumirpc.AnalyzerClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(ServerOptions(testLogger(t))...)
	register(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pulumirpc.NewAnalyzerClient(conn)
}

func testServer(t *testing.T) *Server {
	t.Helper()
	h, err := home.Load("testdata/home")
	if err != nil {
		t.Fatal(err)
	}
	return NewServer(h, nil, Options{Version: "0.1.0", Logger: testLogger(t)})
}

func props(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const sgURN = "urn:pulumi:prod::web::aws:ec2/securityGroup:SecurityGroup::web"

func sgRequest(t *testing.T) *pulumirpc.AnalyzeRequest {
	return &pulumirpc.AnalyzeRequest{
		Urn: sgURN, Type: "aws:ec2/securityGroup:SecurityGroup", Name: "web",
		Properties: props(t, resource.NewPropertyMapFromMap(map[string]any{
			"tags": map[string]any{"team": "web"},
			"ingress": []any{
				map[string]any{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": []any{"0.0.0.0/0"}},
				map[string]any{"protocol": "tcp", "fromPort": 3389, "toPort": 3389,
					"cidrBlocks": []any{resource.MakeComputed(resource.NewStringProperty(""))}},
			},
			"description": resource.MakeSecret(resource.NewStringProperty("s3cr3t-description")),
		})),
	}
}

// replay drives the server as the engine does; withStack says whether the
// engine sends ConfigureStack (preview, up) or not (policy analyze).
func replay(t *testing.T, c pulumirpc.AnalyzerClient, withStack bool, config map[string]*pulumirpc.PolicyConfig) *pulumirpc.AnalyzeResponse {
	t.Helper()
	ctx := t.Context()
	dir := "testdata/home"
	if _, err := c.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{EngineAddress: "127.0.0.1:1", RootDirectory: &dir, ProgramDirectory: &dir}); err != nil {
		t.Fatal(err)
	}
	if withStack {
		if _, err := c.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{
			Stack: "prod", Project: "web", Organization: "acme", DryRun: true,
			Config: map[string]string{"web:dbPassword": "p4ss-w0rd-secret"}, ConfigSecretKeys: []string{"web:dbPassword"},
			Tags: map[string]string{"env": "prod"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	info, err := c.GetAnalyzerInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if !info.GetSupportsConfig() || len(info.GetPolicies()) == 0 {
		t.Fatalf("info: %v", info)
	}
	if config != nil {
		if _, err := c.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: config}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := c.Analyze(ctx, sgRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func byPolicy(resp *pulumirpc.AnalyzeResponse) map[string][]*pulumirpc.AnalyzeDiagnostic {
	m := map[string][]*pulumirpc.AnalyzeDiagnostic{}
	for _, d := range resp.GetDiagnostics() {
		m[d.GetPolicyName()] = append(m[d.GetPolicyName()], d)
	}
	return m
}

func TestCallOrder(t *testing.T) {
	t.Parallel()
	for _, withStack := range []bool{true, false} {
		name := "without ConfigureStack"
		if withStack {
			name = "with ConfigureStack"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, testServer(t))
			resp := replay(t, c, withStack, nil)
			diags := byPolicy(resp)
			ssh := diags["ec2-sg-no-public-ssh"]
			want := &pulumirpc.AnalyzeDiagnostic{
				PolicyName: "ec2-sg-no-public-ssh", PolicyPackName: "aws-foundations", PolicyPackVersion: "0.3.0",
				Description:      "Security groups must not allow SSH (port 22) from the internet.",
				Message:          "Security groups must not allow SSH (port 22) from the internet.\ningress tcp 22-22 is open to the internet",
				EnforcementLevel: pulumirpc.EnforcementLevel_MANDATORY,
				Severity:         pulumirpc.PolicySeverity_POLICY_SEVERITY_CRITICAL,
			}
			if len(ssh) != 1 {
				t.Fatalf("ssh diagnostics: %v", ssh)
			}
			if d := cmp.Diff(want, ssh[0], protocmp.Transform()); d != "" {
				t.Errorf("ssh diagnostic (-want +got):\n%s", d)
			}
			rdp := diags["ec2-sg-no-public-rdp"]
			if len(rdp) != 1 || rdp[0].GetEnforcementLevel() != pulumirpc.EnforcementLevel_ADVISORY ||
				!strings.Contains(rdp[0].GetMessage(), "can't run policy 'ec2-sg-no-public-rdp' from policy pack 'aws-foundations@v0.3.0' during preview: property value at .ingress.1.cidrBlocks.0 can't be known during preview") {
				t.Errorf("rdp: want one can't-run advisory, got %v", rdp)
			}
			if tag := diags["owner-tag"]; len(tag) != 1 || !strings.HasSuffix(tag[0].GetMessage(), "\nno owner tag") {
				t.Errorf("owner-tag: %v", tag)
			}
			na := map[string]string{}
			for _, n := range resp.GetNotApplicable() {
				na[n.GetPolicyName()] = n.GetReason()
			}
			for _, p := range []string{"s3-bucket-no-public-acl", "spin", "aws-foundations/ebs-volume-encrypted", "slow/ebs-volume-encrypted"} {
				if na[p] != analyze.TypeNotChecked {
					t.Errorf("not_applicable[%s] = %q", p, na[p])
				}
			}
			for _, d := range resp.GetDiagnostics() {
				if strings.Contains(d.GetMessage(), "s3cr3t") || strings.Contains(d.GetMessage(), "p4ss-w0rd") {
					t.Errorf("a secret in %s: %s", d.GetPolicyName(), d.GetMessage())
				}
			}
		})
	}
}

func TestGetAnalyzerInfo(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, testServer(t))
	info, err := c.GetAnalyzerInfo(t.Context(), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*pulumirpc.PolicyInfo{}
	for _, p := range info.GetPolicies() {
		got[p.GetName()] = p
	}
	ssh := got["ec2-sg-no-public-ssh"]
	if ssh == nil || ssh.GetSeverity() != pulumirpc.PolicySeverity_POLICY_SEVERITY_CRITICAL ||
		ssh.GetFramework().GetReference() != "5.2" || ssh.GetUrl() == "" || ssh.GetRemediationSteps() == "" ||
		ssh.GetPolicyType() != pulumirpc.PolicyType_POLICY_TYPE_RESOURCE || ssh.GetEnforcementLevel() != pulumirpc.EnforcementLevel_MANDATORY {
		t.Errorf("ssh info: %v", ssh)
	}
	if st := got["stack-has-buckets"]; st.GetPolicyType() != pulumirpc.PolicyType_POLICY_TYPE_STACK {
		t.Errorf("stack policy type: %v", st)
	}
	// The home's config becomes the level and the initial config.
	if l := got["aws-foundations/ebs-volume-encrypted"].GetEnforcementLevel(); l != pulumirpc.EnforcementLevel_REMEDIATE {
		t.Errorf("ebs level from warden.yaml: %v", l)
	}
	if got["ebs-volume-encrypted"] != nil {
		t.Error("a policy name two packs share is exposed unqualified")
	}
	schema := got["owner-tag"].GetConfigSchema().GetProperties().AsMap()
	if schema["tag"].(map[string]any)["default"] != "owner" {
		t.Errorf("owner-tag schema: %v", schema)
	}
	// Every resource policy takes the Compliance-Ready name-scope keys.
	if s := ssh.GetConfigSchema().GetProperties().AsMap(); s["excludeFor"] == nil || s["includeFor"] == nil || s["ignoreCase"] == nil {
		t.Errorf("ssh schema: %v", s)
	}
	if st := got["stack-has-buckets"].GetConfigSchema(); st != nil {
		t.Errorf("stack policy schema: %v", st)
	}
	if ic := info.GetInitialConfig()["aws-foundations/ebs-volume-encrypted"]; ic.GetEnforcementLevel() != pulumirpc.EnforcementLevel_REMEDIATE {
		t.Errorf("initial config: %v", ic)
	}
}

// TestConfigure: the reconciled config changes levels and properties.
func TestConfigure(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, testServer(t))
	cfgProps, _ := structpb.NewStruct(map[string]any{"tag": "team"})
	resp := replay(t, c, true, map[string]*pulumirpc.PolicyConfig{
		"all":                  {EnforcementLevel: pulumirpc.EnforcementLevel_ADVISORY},
		"ec2-sg-no-public-ssh": {EnforcementLevel: pulumirpc.EnforcementLevel_DISABLED},
		"owner-tag":            {EnforcementLevel: pulumirpc.EnforcementLevel_MANDATORY, Properties: cfgProps},
		"no-such-policy":       {EnforcementLevel: pulumirpc.EnforcementLevel_MANDATORY},
	})
	diags := byPolicy(resp)
	if len(diags["ec2-sg-no-public-ssh"]) != 0 {
		t.Error("a disabled policy reported")
	}
	if len(diags["owner-tag"]) != 0 {
		t.Errorf("owner-tag with tag=team should pass: %v", diags["owner-tag"])
	}
	bad, _ := structpb.NewStruct(map[string]any{"tag": 12})
	_, err := c.Configure(t.Context(), &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: map[string]*pulumirpc.PolicyConfig{"owner-tag": {Properties: bad}}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "slow 2.0.0  owner-tag: at /tag: got number, want string") {
		t.Errorf("bad config: %v", err)
	}
}

// TestRemediate: a remediation carries the complete inputs, secrets kept
// secret and the engine's internal keys kept, through the wire decoder and
// through the plain method.
func TestRemediate(t *testing.T) {
	t.Parallel()
	srv := testServer(t)
	c := newTestClient(t, srv)
	req := &pulumirpc.AnalyzeRequest{
		Urn: "urn:pulumi:prod::web::aws:ebs/volume:Volume::data", Type: "aws:ebs/volume:Volume", Name: "data",
		Properties: props(t, resource.PropertyMap{
			"size":       resource.NewNumberProperty(100),
			"encrypted":  resource.NewBoolProperty(false),
			"kmsKeyId":   resource.MakeSecret(resource.NewStringProperty("arn:aws:kms:key/secret-key")),
			"__defaults": resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("size")}),
		}),
	}
	for _, remediate := range []func(context.Context, *pulumirpc.AnalyzeRequest) (*pulumirpc.RemediateResponse, error){
		func(ctx context.Context, req *pulumirpc.AnalyzeRequest) (*pulumirpc.RemediateResponse, error) {
			return c.Remediate(ctx, req)
		},
		srv.Remediate,
	} {
		checkRemediation(t, remediate, req)
	}
}

func checkRemediation(t *testing.T, remediate func(context.Context, *pulumirpc.AnalyzeRequest) (*pulumirpc.RemediateResponse, error), req *pulumirpc.AnalyzeRequest) {
	t.Helper()
	resp, err := remediate(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetRemediations()) != 1 {
		t.Fatalf("remediations: %v", resp)
	}
	r := resp.GetRemediations()[0]
	got, err := plugin.UnmarshalProperties(r.GetProperties(), plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetPolicyName() != "aws-foundations/ebs-volume-encrypted" || !got["encrypted"].IsBool() || !got["encrypted"].BoolValue() {
		t.Errorf("remediation: %v %v", r.GetPolicyName(), got)
	}
	if !got["kmsKeyId"].IsSecret() {
		t.Errorf("a secret input lost its secretness: %v", got["kmsKeyId"])
	}
	if d := got["__defaults"]; !d.IsArray() || len(d.ArrayValue()) != 1 || d.ArrayValue()[0].StringValue() != "size" {
		t.Errorf("the engine's __defaults were not kept: %v", got)
	}
}

func TestAnalyzeStack(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, testServer(t))
	resp, err := c.AnalyzeStack(t.Context(), &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{
		{Urn: sgURN, Type: "aws:ec2/securityGroup:SecurityGroup", Name: "web", Properties: props(t, resource.PropertyMap{})},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d := byPolicy(resp)["stack-has-buckets"]
	if len(d) != 1 || d[0].GetUrn() != "" || !strings.HasSuffix(d[0].GetMessage(), "no bucket in the stack") {
		t.Errorf("stack diagnostics: %v", resp)
	}
}

// TestCancel: Cancel stops an evaluation in flight with Canceled, and the
// server keeps answering.
func TestCancel(t *testing.T) {
	t.Parallel()
	srv := testServer(t)
	// The evaluation is held in flight until Cancel has reached it, then
	// runs the spin policy with the cancelled context.
	inFlight := make(chan struct{})
	var once sync.Once
	srv.evaluating = func(ctx context.Context) {
		once.Do(func() { close(inFlight) })
		select {
		case <-ctx.Done():
		case <-time.After(time.Minute):
			t.Error("Cancel did not reach the evaluation in flight")
		}
	}
	c := newTestClient(t, srv)
	done := make(chan error, 1)
	go func() {
		_, err := c.Analyze(t.Context(), &pulumirpc.AnalyzeRequest{Urn: "urn:pulumi:prod::web::test:index:Spin::s", Type: "test:index:Spin", Name: "s",
			Properties: props(t, resource.PropertyMap{})})
		done <- err
	}()
	<-inFlight
	if _, err := c.Cancel(t.Context(), &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; status.Code(err) != codes.Canceled {
		t.Errorf("Analyze after Cancel: %v, want Canceled", err)
	}
	// Every later evaluation is refused too, and the server still answers.
	_, err := c.Analyze(t.Context(), sgRequest(t))
	if status.Code(err) != codes.Canceled {
		t.Errorf("Analyze after Cancel: %v, want Canceled", err)
	}
	if _, err := c.GetPluginInfo(t.Context(), &emptypb.Empty{}); err != nil {
		t.Errorf("the server died: %v", err)
	}
}

// TestBrokenHome: every RPC fails with the positioned load error.
func TestBrokenHome(t *testing.T) {
	t.Parallel()
	_, loadErr := home.Parse("testdata", "testdata/warden.yaml", []byte("groups:\n  - name: x\n    defualt: true\n"))
	if loadErr == nil {
		t.Fatal("the broken home loaded")
	}
	c := newTestClient(t, NewServer(nil, loadErr, Options{Logger: testLogger(t)}))
	_, err := c.GetAnalyzerInfo(t.Context(), &emptypb.Empty{})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), `testdata/warden.yaml:3:5: unknown field "defualt"`) {
		t.Errorf("GetAnalyzerInfo: %v", err)
	}
	if _, err := c.Analyze(t.Context(), sgRequest(t)); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Analyze: %v", err)
	}
}

// TestPanicRecovery: a panicking handler becomes an Internal error.
func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, panicky{})
	_, err := c.GetPluginInfo(t.Context(), &emptypb.Empty{})
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "boom") {
		t.Errorf("got %v, want Internal", err)
	}
}

type panicky struct {
	pulumirpc.UnimplementedAnalyzerServer
}

func (panicky) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	panic("boom")
}

// TestLargeStack: AnalyzeStack requests beyond gRPC's default 4 MiB limit
// are accepted.
func TestLargeStack(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, testServer(t))
	big := strings.Repeat("x", 1<<20)
	var rs []*pulumirpc.AnalyzerResource
	for i := range 8 {
		rs = append(rs, &pulumirpc.AnalyzerResource{Urn: sgURN + string(rune('a'+i)), Type: "aws:s3/bucket:Bucket",
			Properties: props(t, resource.PropertyMap{"blob": resource.NewStringProperty(big)})})
	}
	if _, err := c.AnalyzeStack(t.Context(), &pulumirpc.AnalyzeStackRequest{Resources: rs}); err != nil {
		t.Fatal(err)
	}
}

// TestNotApplicablePerType: the not-applicable entries are memoized per
// resource type within a session; each type gets its own, and a repeat
// of a type gets the same ones again.
func TestNotApplicablePerType(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, testServer(t))
	first := replay(t, c, true, nil)
	bucket := &pulumirpc.AnalyzeRequest{
		Urn:  "urn:pulumi:prod::web::aws:s3/bucket:Bucket::site",
		Type: "aws:s3/bucket:Bucket", Name: "site",
		Properties: props(t, resource.NewPropertyMapFromMap(map[string]any{"acl": "private"})),
	}
	resp, err := c.Analyze(t.Context(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	na := map[string]string{}
	for _, n := range resp.GetNotApplicable() {
		na[n.GetPolicyName()] = n.GetReason()
	}
	if r := na["ec2-sg-no-public-ssh"]; r != analyze.TypeNotChecked {
		t.Errorf("bucket: not_applicable[ec2-sg-no-public-ssh] = %q", r)
	}
	if _, ok := na["s3-bucket-no-public-acl"]; ok {
		t.Errorf("bucket: s3-bucket-no-public-acl reported not applicable to a bucket")
	}
	again, err := c.Analyze(t.Context(), sgRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(first.GetNotApplicable(), again.GetNotApplicable(), protocmp.Transform()); d != "" {
		t.Errorf("security group analyzed twice: not_applicable differ (-first +again):\n%s", d)
	}
}

// TestAnalyzeStackTimeout: stack policies still running when StackTimeout
// passes report a "stopped: time limit" error at their level, never a
// pass, and the call itself succeeds.
func TestAnalyzeStackTimeout(t *testing.T) {
	t.Parallel()
	req := &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{
		{Urn: sgURN, Type: "aws:ec2/securityGroup:SecurityGroup", Name: "web", Properties: props(t, resource.PropertyMap{})},
	}}
	normal, err := testServer(t).AnalyzeStack(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	h, err := home.Load("testdata/home")
	if err != nil {
		t.Fatal(err)
	}
	// Already passed when the policies start.
	srv := NewServer(h, nil, Options{Version: "0.1.0", Logger: testLogger(t), StackTimeout: -1})
	resp, err := newTestClient(t, srv).AnalyzeStack(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	d := byPolicy(resp)["stack-has-buckets"]
	if len(d) != 1 || !strings.Contains(d[0].GetMessage(), "policy failed to evaluate: stopped: time limit") {
		t.Fatalf("stack diagnostics: %v", resp)
	}
	want := byPolicy(normal)["stack-has-buckets"][0].GetEnforcementLevel()
	if got := d[0].GetEnforcementLevel(); got != want {
		t.Errorf("level %v, want the policy's (%v)", got, want)
	}
}

// TestAnalyzeDeepValue: a property nested deeper than engine.MaxDepth
// arrives over the wire and every policy that applies reports the
// positioned depth error at its level, instead of a pass.
func TestAnalyzeDeepValue(t *testing.T) {
	t.Parallel()
	v := structpb.NewStringValue("x")
	for range engine.MaxDepth + 5 {
		v = structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"a": v}})
	}
	req := sgRequest(t)
	req.Properties.Fields["deep"] = v
	resp, err := newTestClient(t, testServer(t)).Analyze(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetDiagnostics()) == 0 {
		t.Fatal("no diagnostics: the deep value passed")
	}
	for _, d := range resp.GetDiagnostics() {
		if !strings.Contains(d.GetMessage(), "policy failed to evaluate: property value at "+sgURN+" .deep.a.a") ||
			!strings.Contains(d.GetMessage(), "nests more than 256 levels deep") {
			t.Errorf("%s: message %q, want the positioned depth error", d.GetPolicyName(), d.GetMessage())
		}
	}
}

// TestWarmUp: once the stack is configured, every policy the session runs
// gets compiled in the background, before any resource asks for it.
func TestWarmUp(t *testing.T) {
	t.Parallel()
	h, err := home.Default()
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(h, nil, Options{Logger: testLogger(t)})
	if _, err := s.ConfigureStack(t.Context(), &pulumirpc.AnalyzerStackConfigureRequest{Stack: "dev", Project: "web", DryRun: true}); err != nil {
		t.Fatal(err)
	}
	s.warming.Wait()
	sess, err := s.current("")
	if err != nil {
		t.Fatal(err)
	}
	enabled := sess.Enabled()
	if len(enabled) < 100 {
		t.Fatalf("%d policies enabled with the catalog", len(enabled))
	}
	for _, pol := range enabled {
		if !pol.Compiled() {
			t.Errorf("%s/%s was not compiled", pol.Pack.Name, pol.Name)
		}
	}
}

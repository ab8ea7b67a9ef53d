package analyzer

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/urn"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
)

// Server implements pulumirpc.AnalyzerServer: a thin adapter over the
// domain analyzer (analyze.Analyzer) that every door shares. Each RPC
// converts its request (convert.go, propswire.go), asks the current
// analyze.Session once, and converts the verdict back; nothing here decides
// what a finding is. Build it with NewServer.
type Server struct {
	// Embedding the unimplemented server means a future RPC answers
	// Unimplemented, which the engine tolerates, instead of breaking.
	pulumirpc.UnimplementedAnalyzerServer

	log     hclog.Logger
	an      *analyze.Analyzer
	loadErr error // a broken home: every RPC fails with it
	name    string
	version string

	cancel     chan struct{}
	cancelOnce sync.Once
	// evaluating, when set (by tests), is called with each Analyze's
	// context just before its policies run: a test holds an evaluation
	// in flight with it, so Cancel can be tested without racing a sleep.
	evaluating func(context.Context)

	mu         sync.Mutex // serializes session replacement, never held by Analyze
	sess       atomic.Pointer[analyze.Session]
	advertised map[string]engine.PolicyConfig // what GetAnalyzerInfo said, for Configure
	// skipped caches the encoding of each analyze.Skipped list (shared per
	// session and resource type): every Analyze response carries one, over
	// a hundred messages with the whole catalog loaded.
	skipped sync.Map // *analyze.Skipped -> []*pulumirpc.PolicyNotApplicable
	// rec records the run in the findings ledger; nil when it is off.
	rec *recorder
	// warming counts the sessions whose policies are being compiled in
	// the background (see warm); tests wait on it.
	warming sync.WaitGroup
}

// Options configure a Server.
type Options struct {
	// Name and Version describe the analyzer to the engine.
	Name, Version string
	Logger        hclog.Logger
	// Now is the clock exceptions expire by; time.Now if nil.
	Now func() time.Time
	// StackTimeout bounds one AnalyzeStack; analyze.StackTimeout if zero.
	StackTimeout time.Duration
	// Findings is the findings ledger's URL (ledger.Locate), "" to record
	// nothing; Getenv is the environment the ledger's spool is found by.
	Findings string
	Getenv   func(string) string
}

// NewServer builds the analyzer for a loaded home. A home that failed to
// load is passed as loadErr: the server then fails every RPC with it, so the
// run stops with the positioned message instead of running unguarded.
func NewServer(h *home.Home, loadErr error, opts Options) *Server {
	s := &Server{log: opts.Logger, loadErr: loadErr, name: opts.Name, version: opts.Version, cancel: make(chan struct{})}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}
	if s.name == "" {
		s.name = "warden"
	}
	if s.loadErr == nil {
		s.loadErr = s.init(h, opts)
	}
	if s.loadErr != nil {
		s.log.Error("the policy home does not load; every policy request will fail", "error", s.loadErr)
	}
	if opts.Findings != "" && s.loadErr == nil {
		getenv := opts.Getenv
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		s.rec = &recorder{store: opts.Findings, getenv: getenv, version: opts.Version,
			log: func(msg string, args ...any) { s.log.Warn(msg, args...) }, debug: s.log.Debug}
	}
	return s
}

// Finish records the run in the findings ledger, if it was not already
// (at Cancel); the plugin calls it when it stops serving.
func (s *Server) Finish() { s.rec.finish("exit") }

// init builds the domain analyzer over the preventative groups and the
// first session (the whole catalog, until the stack is known).
func (s *Server) init(h *home.Home, opts Options) error {
	an, err := analyze.New(h, home.Preventative, analyze.Options{Now: opts.Now, StackTimeout: opts.StackTimeout})
	if err != nil {
		return err
	}
	s.an = an
	sess, err := an.Session(engine.Stack{}, false, nil)
	if err != nil {
		return err
	}
	s.sess.Store(sess)
	for _, w := range an.Warnings() {
		s.log.Warn(w)
	}
	return nil
}

// current returns the session, deriving the stack from a URN when the
// engine sent no ConfigureStack (pulumi policy analyze).
func (s *Server) current(urn string) (*analyze.Session, error) {
	if s.loadErr != nil {
		return nil, status.Error(codes.FailedPrecondition, s.loadErr.Error())
	}
	sess := s.sess.Load()
	if sess.Known || urn == "" {
		return sess, nil
	}
	stack, project, ok := stackFromURN(urn)
	if !ok {
		return sess, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.sess.Load(); cur.Known {
		return cur, nil
	}
	st := engine.Stack{Name: stack, Project: project, Organization: s.an.Home().Org("")}
	next, err := s.an.Session(st, true, sess.Overrides)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.sess.Store(next)
	s.warm(next)
	return next, nil
}

// warm compiles the session's policies in the background. Built-in packs
// compile a policy on first use, and the first resource of each type
// waited for its policies (the first Kubernetes Deployment, for about
// thirty of them: 22 ms at p99 over 100 resources with the catalog). The
// engine's first Analyze comes after its own start-up (language host,
// program, providers), so compiling from ConfigureStack takes that off the
// resources' path; an Analyze that needs a policy before then compiles it,
// or waits for it, once. The cost is the compiling of policies whose types
// the stack turns out not to have: 56 ms of CPU for the whole catalog
// (BenchmarkCompileChecked), in parallel with the engine.
func (s *Server) warm(sess *analyze.Session) {
	s.warming.Go(func() {
		for _, pol := range sess.Enabled() {
			_ = pol.Compile() // an error is reported by every evaluation
		}
	})
}

// stackFromURN reads the stack and project of urn:pulumi:<stack>::<project>::...
func stackFromURN(s string) (stack, project string, ok bool) {
	u, err := urn.Parse(s)
	if err != nil || u.Stack() == "" {
		return "", "", false
	}
	return string(u.Stack()), string(u.Project()), true
}

// stoppable ties a request context to Cancel.
func (s *Server) stoppable(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.cancel:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (s *Server) canceled() bool {
	select {
	case <-s.cancel:
		return true
	default:
		return false
	}
}

// Handshake records nothing: the home is chosen at start-up (see Run).
func (s *Server) Handshake(_ context.Context, req *pulumirpc.AnalyzerHandshakeRequest) (*pulumirpc.AnalyzerHandshakeResponse, error) {
	s.log.Debug("handshake", "root", req.GetRootDirectory(), "program", req.GetProgramDirectory())
	return &pulumirpc.AnalyzerHandshakeResponse{}, nil
}

// ConfigureStack binds the stack being deployed; the groups that apply are
// resolved for it.
func (s *Server) ConfigureStack(_ context.Context, req *pulumirpc.AnalyzerStackConfigureRequest) (*pulumirpc.AnalyzerStackConfigureResponse, error) {
	if s.loadErr != nil {
		return nil, status.Error(codes.FailedPrecondition, s.loadErr.Error())
	}
	stack := stackFromProto(req)
	stack.Organization = s.an.Home().Org(stack.Organization)
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := s.an.Session(stack, true, s.sess.Load().Overrides)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.sess.Store(next)
	s.warm(next)
	s.rec.configured(stack.DryRun)
	s.log.Debug("stack configured", "stack", stack.Name, "project", stack.Project, "organization", stack.Organization, "packs", len(next.Packs()))
	return &pulumirpc.AnalyzerStackConfigureResponse{}, nil
}

// GetAnalyzerInfo lists every policy that may run, under its exposed name,
// at the level the home gives it, with the home's config as initial config.
func (s *Server) GetAnalyzerInfo(context.Context, *emptypb.Empty) (*pulumirpc.AnalyzerInfo, error) {
	sess, err := s.current("")
	if err != nil {
		return nil, err
	}
	info := &pulumirpc.AnalyzerInfo{
		Name: s.name, DisplayName: "Warden", Version: s.version, SupportsConfig: true,
		Description:   "Warden policy home",
		InitialConfig: map[string]*pulumirpc.PolicyConfig{},
	}
	var packs []string
	for _, r := range sess.Packs() {
		packs = append(packs, r.Pack.String())
	}
	if len(packs) > 0 {
		info.Description = "Warden: " + strings.Join(packs, ", ")
	}
	advertised := map[string]engine.PolicyConfig{}
	for _, p := range sess.Policies() {
		pi, err := policyInfo(p.Name, p.Policy, p.Level)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		info.Policies = append(info.Policies, pi)
		pc := &pulumirpc.PolicyConfig{EnforcementLevel: levelToProto(p.Level)}
		if len(p.Properties) > 0 {
			st, err := structpb.NewStruct(p.Properties)
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "config of %s: %v", p.Name, err)
			}
			pc.Properties = st
		}
		info.InitialConfig[p.Name] = pc
		advertised[p.Name] = engine.PolicyConfig{Level: p.Level, Properties: p.Advertised}
	}
	s.mu.Lock()
	s.advertised = advertised
	s.mu.Unlock()
	return info, nil
}

// GetPluginInfo reports Warden's version.
func (s *Server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.version}, nil
}

// Configure binds the reconciled config the engine computed: levels and
// properties for every policy, defaults, the home's initial config and
// --policy-pack-config merged.
func (s *Server) Configure(_ context.Context, req *pulumirpc.ConfigureAnalyzerRequest) (*emptypb.Empty, error) {
	if s.loadErr != nil {
		return nil, status.Error(codes.FailedPrecondition, s.loadErr.Error())
	}
	cfg := configFromProto(req.GetPolicyConfig())
	s.mu.Lock()
	defer s.mu.Unlock()
	overrides, unknown := s.an.Overrides(s.advertised, cfg)
	for _, name := range unknown {
		s.log.Warn("policy config names a policy no pack of this home has; it is ignored", "policy", name)
	}
	cur := s.sess.Load()
	next, err := s.an.Session(cur.Stack, cur.Known, overrides)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.sess.Store(next)
	return &emptypb.Empty{}, nil
}

// resource finds the session for a request and decodes its resource;
// props, when not nil, decodes its properties (see propsFromWire), which
// are otherwise the request's own.
func (s *Server) resource(req *pulumirpc.AnalyzeRequest, props func() (map[string]any, error)) (*analyze.Session, *engine.Resource, error) {
	sess, err := s.current(req.GetUrn())
	if err != nil {
		return nil, nil, err
	}
	if props == nil {
		props = func() (map[string]any, error) { return propsFromProto(req.GetProperties()) }
	}
	res, err := resourceFromRequest(req, props)
	if err != nil {
		return nil, nil, status.Errorf(codes.InvalidArgument, "%s: %v", req.GetUrn(), err)
	}
	return sess, res, nil
}

// Analyze runs every resource policy that applies to one resource's inputs.
func (s *Server) Analyze(ctx context.Context, req *pulumirpc.AnalyzeRequest) (*pulumirpc.AnalyzeResponse, error) {
	return s.analyze(ctx, req, nil)
}

func (s *Server) analyze(ctx context.Context, req *pulumirpc.AnalyzeRequest, props func() (map[string]any, error)) (*pulumirpc.AnalyzeResponse, error) {
	ctx, cancel := s.stoppable(ctx)
	defer cancel()
	sess, res, err := s.resource(req, props)
	if err != nil {
		return nil, err
	}
	if s.evaluating != nil {
		s.evaluating(ctx)
	}
	v := sess.Analyze(ctx, res)
	if err := s.interrupted(ctx); err != nil {
		return nil, err
	}
	s.rec.resource(sess, res.URN, v.Findings)
	return s.response(sess, &v, true), nil
}

// AnalyzeStack runs the stack policies over every resource's outputs.
func (s *Server) AnalyzeStack(ctx context.Context, req *pulumirpc.AnalyzeStackRequest) (*pulumirpc.AnalyzeResponse, error) {
	var first string
	if len(req.GetResources()) > 0 {
		first = req.GetResources()[0].GetUrn()
	}
	return s.analyzeStack(ctx, first, func(sr *stackReader, add func(*engine.Resource)) error {
		for _, r := range req.GetResources() {
			res, err := sr.fromProto(r)
			if err != nil {
				return err
			}
			add(res)
		}
		return nil
	})
}

// analyzeStack runs the stack policies over the resources each yields
// (first is the first one's URN, which may name the stack); served over
// gRPC, each decodes them from the wire one at a time (see stackWire).
func (s *Server) analyzeStack(ctx context.Context, first string, read func(*stackReader, func(*engine.Resource)) error) (*pulumirpc.AnalyzeResponse, error) {
	ctx, cancel := s.stoppable(ctx)
	defer cancel()
	sess, err := s.current(first)
	if err != nil {
		return nil, err
	}
	if !sess.HasStackPolicies() {
		s.rec.stack(sess, nil, 0)
		return &pulumirpc.AnalyzeResponse{}, nil // only resource policies: nothing to decode
	}
	var resources []*engine.Resource
	sr := newStackReader(sess.StackReads())
	if err := read(sr, func(r *engine.Resource) { resources = append(resources, r) }); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	v := sess.AnalyzeStack(ctx, resources)
	if err := s.interrupted(ctx); err != nil {
		return nil, err
	}
	s.rec.stack(sess, v.Findings, sr.count)
	return s.response(sess, &v, false), nil
}

// Remediate runs the remediate-level policies of every pack in turn; each
// remediation carries the complete inputs after it, as the engine expects.
// An excepted resource is not remediated.
func (s *Server) Remediate(ctx context.Context, req *pulumirpc.AnalyzeRequest) (*pulumirpc.RemediateResponse, error) {
	return s.remediate(ctx, req, nil, func() (*structpb.Struct, error) { return req.GetProperties(), nil })
}

// remediate is Remediate over properties decoded by props (nil: from the
// request); raw gives them as sent, for the engine's internal keys.
func (s *Server) remediate(ctx context.Context, req *pulumirpc.AnalyzeRequest, props func() (map[string]any, error),
	raw func() (*structpb.Struct, error)) (*pulumirpc.RemediateResponse, error) {
	ctx, cancel := s.stoppable(ctx)
	defer cancel()
	sess, res, err := s.resource(req, props)
	if err != nil {
		return nil, err
	}
	rems := sess.Remediate(ctx, res)
	if err := s.interrupted(ctx); err != nil {
		return nil, err
	}
	resp := &pulumirpc.RemediateResponse{}
	for _, rem := range rems {
		out := &pulumirpc.Remediation{
			PolicyName: rem.Name, PolicyPackName: rem.Policy.Pack.Name, PolicyPackVersion: rem.Policy.Pack.Version,
			Description: rem.Policy.Description,
		}
		if rem.Err != nil {
			// A warning the engine shows; the analysis that follows
			// still reports the violation at remediate level.
			out.Diagnostic = fmt.Sprintf("remediation failed: %v", rem.Err)
		} else {
			st, err := propsToProto(rem.Props)
			if err != nil {
				return nil, status.Errorf(codes.Internal, "%s: encoding remediated inputs: %v", rem.Name, err)
			}
			if err := keepInternal(st, raw); err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "%s: %v", req.GetUrn(), err)
			}
			out.Properties = st
		}
		resp.Remediations = append(resp.Remediations, out)
	}
	return resp, nil
}

// keepInternal copies the engine's internal keys (__defaults, __meta: keys
// starting with __, which policies never see) from the inputs as sent into
// remediated ones. The engine sends them to Remediate and takes what comes
// back as the resource's complete inputs, as Pulumi's own analyzer server
// does (SkipInternalKeys: false): dropping them would lose the provider's
// record of which inputs are defaults.
func keepInternal(st *structpb.Struct, raw func() (*structpb.Struct, error)) error {
	orig, err := raw()
	if err != nil {
		return fmt.Errorf("decoding properties: %w", err)
	}
	for k, v := range orig.GetFields() {
		if strings.HasPrefix(k, "__") {
			if _, ok := st.Fields[k]; !ok {
				st.Fields[k] = v
			}
		}
	}
	return nil
}

// Cancel stops every evaluation in flight and every later one. The engine
// sends it when it shuts the plugin down, a second before killing it, so
// the run is recorded in the findings ledger here (after the verdicts, so
// the ledger never decides anything).
func (s *Server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancelOnce.Do(func() { close(s.cancel) })
	s.rec.finish("cancel")
	return &emptypb.Empty{}, nil
}

func (s *Server) interrupted(ctx context.Context) error {
	if s.canceled() {
		return status.Error(codes.Canceled, "analysis canceled")
	}
	if err := ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	return nil
}

// response encodes a verdict: each finding as a diagnostic, then the
// not-applicable entries. analyzed is set for Analyze, whose diagnostics
// the engine attaches to the analyzed resource.
func (s *Server) response(sess *analyze.Session, v *analyze.Verdict, analyzed bool) *pulumirpc.AnalyzeResponse {
	resp := &pulumirpc.AnalyzeResponse{}
	if len(v.Findings) > 0 {
		resp.Diagnostics = make([]*pulumirpc.AnalyzeDiagnostic, 0, len(v.Findings))
		for i := range v.Findings {
			f := &v.Findings[i]
			if f.Hidden() {
				continue // a shadow policy's: the ledger has it, the deployer does not see it
			}
			resp.Diagnostics = append(resp.Diagnostics, diagnostic(f, sess.Name(f.Pack, f.Policy), analyzed))
		}
	}
	skipped := s.encodeSkipped(v.Skipped)
	if len(v.NotApplicable) > 0 || len(skipped) > 0 {
		resp.NotApplicable = make([]*pulumirpc.PolicyNotApplicable, 0, len(v.NotApplicable)+len(skipped))
		for _, na := range v.NotApplicable {
			resp.NotApplicable = append(resp.NotApplicable, &pulumirpc.PolicyNotApplicable{PolicyName: na.Policy, Reason: na.Reason})
		}
		resp.NotApplicable = append(resp.NotApplicable, skipped...)
	}
	return resp
}

// encodeSkipped is a shared not-applicable list, encoded once. The
// messages are shared by every response: they are only read (marshaled).
func (s *Server) encodeSkipped(sk *analyze.Skipped) []*pulumirpc.PolicyNotApplicable {
	if sk == nil || len(sk.List) == 0 {
		return nil
	}
	if v, ok := s.skipped.Load(sk); ok {
		return v.([]*pulumirpc.PolicyNotApplicable)
	}
	out := make([]*pulumirpc.PolicyNotApplicable, len(sk.List))
	for i, na := range sk.List {
		out[i] = &pulumirpc.PolicyNotApplicable{PolicyName: na.Policy, Reason: na.Reason}
	}
	v, _ := s.skipped.LoadOrStore(sk, out)
	return v.([]*pulumirpc.PolicyNotApplicable)
}

// diagnostic is a finding as the engine takes it. A resource policy's
// diagnostic names no URN: the engine attaches it to the analyzed
// resource; nor does a can't-run, which is about the policy.
func diagnostic(f *findings.Finding, name string, analyzed bool) *pulumirpc.AnalyzeDiagnostic {
	d := &pulumirpc.AnalyzeDiagnostic{
		PolicyName: name, PolicyPackName: f.Pack, PolicyPackVersion: f.Version,
		Description: f.Description, Message: f.Text(), EnforcementLevel: levelToProto(f.ReportedLevel()),
		Severity: severityToProto(f.Severity),
	}
	if !analyzed && f.Kind != findings.CantRun {
		d.Urn = f.URN
	}
	if f.Kind == findings.CantRun {
		d.Message = f.Message
	}
	return d
}

// recoverPanic is the last line of defence: a panic anywhere in an RPC
// becomes an Internal error for that call, not a dead plugin mid-preview.
func recoverPanic(log hclog.Logger, method string, err *error) {
	if p := recover(); p != nil {
		log.Error("panic in RPC", "method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		*err = status.Errorf(codes.Internal, "internal error in %s: %v", method, p)
	}
}

package analyzer

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

// Server implements pulumirpc.AnalyzerServer. Build it with NewServer.
type Server struct {
	// Embedding the unimplemented server means a future RPC answers
	// Unimplemented, which the engine tolerates, instead of breaking.
	pulumirpc.UnimplementedAnalyzerServer

	log     hclog.Logger
	home    *home.Home
	loadErr error // a broken home: every RPC fails with it
	name    string
	version string

	cancel     chan struct{}
	cancelOnce sync.Once

	mu   sync.Mutex // serializes session replacement, never held by Analyze
	sess atomic.Pointer[session]
}

// Options configure a Server.
type Options struct {
	// Name and Version describe the analyzer to the engine.
	Name, Version string
	Logger        hclog.Logger
}

// NewServer builds the analyzer for a loaded home. A home that failed to
// load is passed as loadErr: the server then fails every RPC with it, so the
// run stops with the positioned message instead of running unguarded.
func NewServer(h *home.Home, loadErr error, opts Options) *Server {
	s := &Server{
		log: opts.Logger, home: h, loadErr: loadErr, name: opts.Name, version: opts.Version,
		cancel: make(chan struct{}),
	}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}
	if s.name == "" {
		s.name = "warden"
	}
	if s.loadErr == nil {
		sess, err := s.newSession(engine.Stack{}, false, nil)
		if err != nil {
			s.loadErr = err
		} else {
			s.sess.Store(sess)
		}
	}
	if s.loadErr != nil {
		s.log.Error("the policy home does not load; every policy request will fail", "error", s.loadErr)
	}
	return s
}

// session is everything one run evaluates with; immutable once built.
type session struct {
	stack      engine.Stack
	stackKnown bool // from ConfigureStack or the URNs
	config     map[string]engine.PolicyConfig
	packs      []*packRun
	byName     map[string]*exposed
	names      []string // exposed names, sorted
}

type packRun struct {
	res *home.Resolved
	run *engine.Run
}

// exposed is a policy under its analyzer-wide name.
type exposed struct {
	name string
	pol  *engine.Policy
	pr   *packRun
}

// newSession resolves the home for a stack and binds the reconciled config
// from Configure (nil before Configure).
func (s *Server) newSession(stack engine.Stack, known bool, cfg map[string]engine.PolicyConfig) (*session, error) {
	res, err := s.home.Resolve(home.Stack{Organization: stack.Organization, Project: stack.Project, Name: stack.Name, Tags: stack.Tags}, home.Preventative)
	if err != nil {
		return nil, err
	}
	sess := &session{stack: stack, stackKnown: known, config: cfg, byName: map[string]*exposed{}}
	names := exposedNames(res)
	for _, r := range res.Packs {
		pr := &packRun{res: r}
		runCfg := r.Config
		if cfg != nil {
			runCfg = map[string]engine.PolicyConfig{}
			for _, pol := range r.Pack.Policies {
				c, ok := cfg[names[pol]]
				if !ok {
					c = r.Config[pol.Name]
				}
				runCfg[pol.Name] = engine.PolicyConfig{Level: c.Level, Properties: c.Properties}
			}
		}
		run, err := r.Pack.NewRun(stack, runCfg)
		if err != nil {
			return nil, renameConfigError(err, names, r.Pack)
		}
		pr.run = run
		sess.packs = append(sess.packs, pr)
		for _, pol := range r.Pack.Policies {
			e := &exposed{name: names[pol], pol: pol, pr: pr}
			sess.byName[e.name] = e
			sess.names = append(sess.names, e.name)
		}
	}
	sort.Strings(sess.names)
	return sess, nil
}

// exposedNames gives every policy its analyzer-wide name: its own, or
// "<pack>/<policy>" when another pack has a policy of the same name.
func exposedNames(res *home.Resolution) map[*engine.Policy]string {
	count := map[string]int{}
	for _, r := range res.Packs {
		for _, pol := range r.Pack.Policies {
			count[pol.Name]++
		}
	}
	out := map[*engine.Policy]string{}
	for _, r := range res.Packs {
		for _, pol := range r.Pack.Policies {
			if count[pol.Name] > 1 {
				out[pol] = r.Pack.Name + "/" + pol.Name
			} else {
				out[pol] = pol.Name
			}
		}
	}
	return out
}

// renameConfigError reports config problems under the exposed names the
// user wrote in --policy-pack-config.
func renameConfigError(err error, names map[*engine.Policy]string, p *engine.Pack) error {
	var ce *engine.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	for i, pr := range ce.Problems {
		if pol := p.Policy(pr.Policy); pol != nil {
			ce.Problems[i].Policy = names[pol]
		}
	}
	return ce
}

// current returns the session, deriving the stack from a URN when the
// engine sent no ConfigureStack (pulumi policy analyze).
func (s *Server) current(urn string) (*session, error) {
	if s.loadErr != nil {
		return nil, status.Error(codes.FailedPrecondition, s.loadErr.Error())
	}
	sess := s.sess.Load()
	if sess.stackKnown || urn == "" {
		return sess, nil
	}
	stack, project, ok := stackFromURN(urn)
	if !ok {
		return sess, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.sess.Load(); cur.stackKnown {
		return cur, nil
	}
	st := engine.Stack{Name: stack, Project: project, Organization: s.home.Organization}
	next, err := s.newSession(st, true, sess.config)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.sess.Store(next)
	return next, nil
}

// stackFromURN reads the stack and project of urn:pulumi:<stack>::<project>::...
func stackFromURN(urn string) (stack, project string, ok bool) {
	rest, found := strings.CutPrefix(urn, "urn:pulumi:")
	if !found {
		return "", "", false
	}
	parts := strings.SplitN(rest, "::", 3)
	if len(parts) < 3 || parts[0] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
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
	if stack.Organization == "" {
		stack.Organization = s.home.Organization
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := s.newSession(stack, true, s.sess.Load().config)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.sess.Store(next)
	s.log.Debug("stack configured", "stack", stack.Name, "project", stack.Project, "organization", stack.Organization, "packs", len(next.packs))
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
	for _, pr := range sess.packs {
		packs = append(packs, pr.res.Pack.String())
	}
	if len(packs) > 0 {
		info.Description = "Warden: " + strings.Join(packs, ", ")
	}
	for _, name := range sess.names {
		e := sess.byName[name]
		level := e.pr.run.Level(e.pol)
		pi, err := policyInfo(name, e.pol, level)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		info.Policies = append(info.Policies, pi)
		pc := &pulumirpc.PolicyConfig{EnforcementLevel: levelToProto(level)}
		if props := e.pr.res.Config[e.pol.Name].Properties; len(props) > 0 {
			st, err := structpb.NewStruct(props)
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "config of %s: %v", name, err)
			}
			pc.Properties = st
		}
		info.InitialConfig[name] = pc
	}
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
	cur := s.sess.Load()
	for name := range cfg {
		// The engine passes "all" and unknown names through after applying
		// them; say so for names no pack has, which are most likely typos.
		if name != engine.AllPolicies && cur.byName[name] == nil {
			s.log.Warn("policy config names a policy no pack of this home has; it is ignored", "policy", name)
		}
	}
	next, err := s.newSession(cur.stack, cur.stackKnown, cfg)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.sess.Store(next)
	return &emptypb.Empty{}, nil
}

// Analyze runs every resource policy that applies to one resource's inputs.
func (s *Server) Analyze(ctx context.Context, req *pulumirpc.AnalyzeRequest) (*pulumirpc.AnalyzeResponse, error) {
	ctx, cancel := s.stoppable(ctx)
	defer cancel()
	sess, err := s.current(req.GetUrn())
	if err != nil {
		return nil, err
	}
	res, err := resourceFromRequest(req)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s: %v", req.GetUrn(), err)
	}
	resp := &pulumirpc.AnalyzeResponse{}
	for _, pr := range sess.packs {
		names := exposedNamesOf(sess, pr)
		for _, r := range pr.run.Evaluate(ctx, res) {
			diags, na := diagnostics(names[r.Policy], &r)
			resp.Diagnostics = append(resp.Diagnostics, diags...)
			resp.NotApplicable = append(resp.NotApplicable, na...)
		}
		for _, pol := range pr.res.Pack.SkippedFor(res.Type) {
			if pr.run.Level(pol) == spec.Disabled {
				continue
			}
			resp.NotApplicable = append(resp.NotApplicable, &pulumirpc.PolicyNotApplicable{
				PolicyName: names[pol], Reason: "resource type " + res.Type + " is not one the policy checks",
			})
		}
	}
	if err := s.interrupted(ctx); err != nil {
		return nil, err
	}
	return resp, nil
}

// AnalyzeStack runs the stack policies over every resource's outputs.
func (s *Server) AnalyzeStack(ctx context.Context, req *pulumirpc.AnalyzeStackRequest) (*pulumirpc.AnalyzeResponse, error) {
	ctx, cancel := s.stoppable(ctx)
	defer cancel()
	var first string
	if len(req.GetResources()) > 0 {
		first = req.GetResources()[0].GetUrn()
	}
	sess, err := s.current(first)
	if err != nil {
		return nil, err
	}
	resources := make([]*engine.Resource, 0, len(req.GetResources()))
	for _, r := range req.GetResources() {
		res, err := resourceFromStack(r)
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		resources = append(resources, res)
	}
	resp := &pulumirpc.AnalyzeResponse{}
	for _, pr := range sess.packs {
		names := exposedNamesOf(sess, pr)
		for _, r := range pr.run.EvaluateStack(ctx, resources) {
			diags, na := diagnostics(names[r.Policy], &r)
			resp.Diagnostics = append(resp.Diagnostics, diags...)
			resp.NotApplicable = append(resp.NotApplicable, na...)
		}
	}
	if err := s.interrupted(ctx); err != nil {
		return nil, err
	}
	return resp, nil
}

// Remediate runs the remediate-level policies of every pack in turn; each
// remediation carries the complete inputs after it, as the engine expects.
func (s *Server) Remediate(ctx context.Context, req *pulumirpc.AnalyzeRequest) (*pulumirpc.RemediateResponse, error) {
	ctx, cancel := s.stoppable(ctx)
	defer cancel()
	sess, err := s.current(req.GetUrn())
	if err != nil {
		return nil, err
	}
	res, err := resourceFromRequest(req)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s: %v", req.GetUrn(), err)
	}
	resp := &pulumirpc.RemediateResponse{}
	for _, pr := range sess.packs {
		names := exposedNamesOf(sess, pr)
		props, rems := pr.run.Remediate(ctx, res)
		for _, rem := range rems {
			out := &pulumirpc.Remediation{
				PolicyName: names[rem.Policy], PolicyPackName: pr.res.Pack.Name, PolicyPackVersion: pr.res.Pack.Version,
				Description: rem.Policy.Description,
			}
			switch {
			case rem.Changed:
				st, err := propsToProto(rem.Props)
				if err != nil {
					return nil, status.Errorf(codes.Internal, "%s: encoding remediated inputs: %v", names[rem.Policy], err)
				}
				out.Properties = st
			case len(rem.Result.Errors) > 0:
				// A warning the engine shows; the analysis that follows
				// still reports the violation at remediate level.
				out.Diagnostic = fmt.Sprintf("remediation failed: %v", errors.Join(rem.Result.Errors...))
			default:
				continue
			}
			resp.Remediations = append(resp.Remediations, out)
		}
		res.Props = props
	}
	if err := s.interrupted(ctx); err != nil {
		return nil, err
	}
	return resp, nil
}

// Cancel stops every evaluation in flight and every later one.
func (s *Server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancelOnce.Do(func() { close(s.cancel) })
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

func exposedNamesOf(sess *session, pr *packRun) map[*engine.Policy]string {
	out := make(map[*engine.Policy]string, len(pr.res.Pack.Policies))
	for _, name := range sess.names {
		if e := sess.byName[name]; e.pr == pr {
			out[e.pol] = name
		}
	}
	return out
}

// diagnostics turns one engine result into engine diagnostics: a
// violation at the policy's level, an advisory "can't run" per undecided
// element, and an error at the policy's level (a check that cannot run
// blocks where the policy would).
func diagnostics(name string, r *engine.Result) ([]*pulumirpc.AnalyzeDiagnostic, []*pulumirpc.PolicyNotApplicable) {
	pol := r.Policy
	if r.NotApplicable != "" {
		return nil, []*pulumirpc.PolicyNotApplicable{{PolicyName: name, Reason: r.NotApplicable}}
	}
	base := func(level spec.Level, msg, urn string) *pulumirpc.AnalyzeDiagnostic {
		text := pol.Description
		if msg != "" {
			text += "\n" + msg
		}
		return &pulumirpc.AnalyzeDiagnostic{
			PolicyName: name, PolicyPackName: pol.Pack.Name, PolicyPackVersion: pol.Pack.Version,
			Description: pol.Description, Message: text, EnforcementLevel: levelToProto(level),
			Urn: urn, Severity: severityToProto(pol.Severity),
		}
	}
	var out []*pulumirpc.AnalyzeDiagnostic
	for _, v := range r.Violations {
		out = append(out, base(r.Level, v.Message, v.URN))
	}
	for _, u := range r.Undecided {
		// Pulumi's SDKs word it so whatever the run; the engine's
		// conformance tests look for these words.
		msg := fmt.Sprintf("can't run policy '%s' from policy pack '%s@v%s' during preview: %s", name, pol.Pack.Name, pol.Pack.Version, u.Reason())
		d := base(spec.Advisory, "", "")
		d.Message = msg
		out = append(out, d)
	}
	for _, err := range r.Errors {
		out = append(out, base(r.Level, "policy could not be evaluated: "+err.Error(), ""))
	}
	return out, nil
}

// recoverPanic is the last line of defence: a panic anywhere in an RPC
// becomes an Internal error for that call, not a dead plugin mid-preview.
func recoverPanic(log hclog.Logger, method string, err *error) {
	if p := recover(); p != nil {
		log.Error("panic in RPC", "method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		*err = status.Errorf(codes.Internal, "internal error in %s: %v", method, p)
	}
}

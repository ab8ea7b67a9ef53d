package analyzer

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"slices"
	"sort"
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

	"github.com/warden-policy/warden/internal/findings"
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

	now     func() time.Time
	catalog *home.Resolution     // every pack some preventative group may run
	names   map[policyKey]string // exposed names, stable whatever the stack

	cancel     chan struct{}
	cancelOnce sync.Once
	// evaluating, when set (by tests), is called with each Analyze's
	// context just before its policies run: a test holds an evaluation
	// in flight with it, so Cancel can be tested without racing a sleep.
	evaluating func(context.Context)
	// stackTimeout bounds the evaluation of one AnalyzeStack (StackTimeout;
	// tests shorten it).
	stackTimeout time.Duration

	mu         sync.Mutex // serializes session replacement, never held by Analyze
	sess       atomic.Pointer[session]
	advertised map[string]engine.PolicyConfig // what GetAnalyzerInfo said, for Configure
}

type policyKey struct{ pack, policy string }

// Options configure a Server.
type Options struct {
	// Name and Version describe the analyzer to the engine.
	Name, Version string
	Logger        hclog.Logger
	// Now is the clock exceptions expire by; time.Now if nil.
	Now func() time.Time
}

// NewServer builds the analyzer for a loaded home. A home that failed to
// load is passed as loadErr: the server then fails every RPC with it, so the
// run stops with the positioned message instead of running unguarded.
func NewServer(h *home.Home, loadErr error, opts Options) *Server {
	s := &Server{
		log: opts.Logger, home: h, loadErr: loadErr, name: opts.Name, version: opts.Version,
		cancel: make(chan struct{}), now: opts.Now, stackTimeout: StackTimeout,
	}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.name == "" {
		s.name = "warden"
	}
	if s.loadErr == nil {
		s.loadErr = s.init()
	}
	if s.loadErr != nil {
		s.log.Error("the policy home does not load; every policy request will fail", "error", s.loadErr)
	}
	return s
}

// init builds what does not depend on the stack: the catalog, the exposed
// names, the first session. It reports what is wrong but not fatal.
func (s *Server) init() error {
	cat, err := s.home.Catalog(home.Preventative)
	if err != nil {
		return err
	}
	s.catalog = cat
	s.names = exposedNames(cat)
	sess, err := s.newSession(engine.Stack{}, false, nil)
	if err != nil {
		return err
	}
	s.sess.Store(sess)
	known := map[string]bool{}
	for k, name := range s.names {
		known[name], known[k.policy], known[k.pack+"/"+k.policy] = true, true, true
	}
	for _, w := range s.home.Warnings(s.now(), func(p string) bool { return known[p] }) {
		s.log.Warn(w)
	}
	return nil
}

// session is everything one run evaluates with; immutable once built.
type session struct {
	stack      engine.Stack
	stackKnown bool // from ConfigureStack or the URNs
	// overrides are the user's --policy-pack-config, as far as it differs
	// from what GetAnalyzerInfo advertised.
	overrides map[string]engine.PolicyConfig
	packs     []*packRun
	byName    map[string]*exposed
	names     []string // exposed names, sorted
	// unselected lists catalog policies no group applies to this stack.
	unselected []string
	// notApplicable memoizes, per resource type, the not-applicable
	// entries that do not depend on the resource: the policies of other
	// types and the unselected ones. Built once per type rather than for
	// every resource (over a hundred messages each with the whole catalog
	// loaded). Shared messages are only read: responses copy the slice.
	notApplicable sync.Map // type token -> []*pulumirpc.PolicyNotApplicable
}

// notApplicableFor is the resource-independent not-applicable list of a
// resource type in this session.
func (s *Server) notApplicableFor(sess *session, typ string) []*pulumirpc.PolicyNotApplicable {
	if v, ok := sess.notApplicable.Load(typ); ok {
		return v.([]*pulumirpc.PolicyNotApplicable)
	}
	var out []*pulumirpc.PolicyNotApplicable
	for _, pr := range sess.packs {
		for _, pol := range pr.res.Pack.SkippedFor(typ) {
			if pr.run.Level(pol) == spec.Disabled {
				continue
			}
			out = append(out, &pulumirpc.PolicyNotApplicable{
				PolicyName: s.nameOf(pol), Reason: "resource type " + typ + " is not one the policy checks",
			})
		}
	}
	for _, name := range sess.unselected {
		out = append(out, &pulumirpc.PolicyNotApplicable{
			PolicyName: name, Reason: "no policy group of the home applies it to stack " + sess.stack.Name,
		})
	}
	v, _ := sess.notApplicable.LoadOrStore(typ, out)
	return v.([]*pulumirpc.PolicyNotApplicable)
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

// newSession resolves the home for a stack (the catalog while the stack is
// unknown) and layers the user's overrides on top.
func (s *Server) newSession(stack engine.Stack, known bool, overrides map[string]engine.PolicyConfig) (*session, error) {
	res := s.catalog
	if known {
		var err error
		res, err = s.home.Resolve(home.Stack{Organization: stack.Organization, Project: stack.Project, Name: stack.Name, Tags: stack.Tags}, home.Preventative)
		if err != nil {
			return nil, err
		}
	}
	sess := &session{stack: stack, stackKnown: known, overrides: overrides, byName: map[string]*exposed{}}
	for _, r := range res.Packs {
		pr := &packRun{res: r}
		runCfg := make(map[string]engine.PolicyConfig, len(r.Pack.Policies))
		for _, pol := range r.Pack.Policies {
			c := r.Config[pol.Name]
			if o, ok := overrides[s.names[policyKey{r.Pack.Name, pol.Name}]]; ok {
				if o.Level != "" {
					c.Level = o.Level
				}
				if len(o.Properties) > 0 {
					props := make(map[string]any, len(c.Properties)+len(o.Properties))
					for k, v := range c.Properties {
						props[k] = v
					}
					for k, v := range o.Properties {
						props[k] = v
					}
					c.Properties = props
				}
			}
			runCfg[pol.Name] = engine.PolicyConfig{Level: c.Level, Properties: c.Properties, Pos: c.Pos}
		}
		run, err := r.Pack.NewRun(stack, runCfg)
		if err != nil {
			return nil, renameConfigError(err, s.names, r.Pack)
		}
		pr.run = run
		sess.packs = append(sess.packs, pr)
		for _, pol := range r.Pack.Policies {
			e := &exposed{name: s.names[policyKey{r.Pack.Name, pol.Name}], pol: pol, pr: pr}
			sess.byName[e.name] = e
			sess.names = append(sess.names, e.name)
		}
	}
	sort.Strings(sess.names)
	for _, r := range s.catalog.Packs {
		for _, pol := range r.Pack.Policies {
			if name := s.names[policyKey{r.Pack.Name, pol.Name}]; sess.byName[name] == nil && pol.Kind == spec.ResourceKind {
				sess.unselected = append(sess.unselected, name)
			}
		}
	}
	sort.Strings(sess.unselected)
	return sess, nil
}

// exposedNames gives every policy its analyzer-wide name: its own, or
// "<pack>/<policy>" when another pack has a policy of the same name.
func exposedNames(res *home.Resolution) map[policyKey]string {
	packsOf := map[string]map[string]bool{}
	for _, r := range res.Packs {
		for _, pol := range r.Pack.Policies {
			if packsOf[pol.Name] == nil {
				packsOf[pol.Name] = map[string]bool{}
			}
			packsOf[pol.Name][r.Pack.Name] = true
		}
	}
	out := map[policyKey]string{}
	for _, r := range res.Packs {
		for _, pol := range r.Pack.Policies {
			k := policyKey{r.Pack.Name, pol.Name}
			if len(packsOf[pol.Name]) > 1 {
				out[k] = r.Pack.Name + "/" + pol.Name
			} else {
				out[k] = pol.Name
			}
		}
	}
	return out
}

// renameConfigError reports config problems under the exposed names the
// user wrote in --policy-pack-config.
func renameConfigError(err error, names map[policyKey]string, p *engine.Pack) error {
	var ce *engine.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	for i, pr := range ce.Problems {
		if name, ok := names[policyKey{p.Name, pr.Policy}]; ok {
			ce.Problems[i].Policy = name
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
	st := engine.Stack{Name: stack, Project: project, Organization: s.home.Org("")}
	next, err := s.newSession(st, true, sess.overrides)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.sess.Store(next)
	return next, nil
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
	stack.Organization = s.home.Org(stack.Organization)
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := s.newSession(stack, true, s.sess.Load().overrides)
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
	advertised := map[string]engine.PolicyConfig{}
	for _, name := range sess.names {
		e := sess.byName[name]
		level := e.pr.run.Level(e.pol)
		pi, err := policyInfo(name, e.pol, level)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		info.Policies = append(info.Policies, pi)
		pc := &pulumirpc.PolicyConfig{EnforcementLevel: levelToProto(level)}
		props := e.pr.res.Config[e.pol.Name].Properties
		if len(props) > 0 {
			st, err := structpb.NewStruct(props)
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "config of %s: %v", name, err)
			}
			pc.Properties = st
		}
		info.InitialConfig[name] = pc
		advertised[name] = engine.PolicyConfig{Level: level, Properties: withSchemaDefaults(e.pol, props)}
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
	cur := s.sess.Load()
	known := map[string]bool{}
	for _, name := range s.names {
		known[name] = true
	}
	overrides := map[string]engine.PolicyConfig{}
	for name, c := range cfg {
		if name == engine.AllPolicies {
			continue // the engine has applied it to every policy already
		}
		if !known[name] {
			// The engine passes unknown names through; most are typos.
			s.log.Warn("policy config names a policy no pack of this home has; it is ignored", "policy", name)
			continue
		}
		if o, changed := override(s.advertised[name], c); changed {
			overrides[name] = o
		}
	}
	next, err := s.newSession(cur.stack, cur.stackKnown, overrides)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.sess.Store(next)
	return &emptypb.Empty{}, nil
}

// override is what the reconciled config c changes relative to what was
// advertised: the level if it differs, and the properties whose values
// differ. The rest comes from the stack's own resolution, which may differ
// from what was advertised before the stack was known.
func override(adv, c engine.PolicyConfig) (engine.PolicyConfig, bool) {
	var o engine.PolicyConfig
	changed := false
	if c.Level != "" && c.Level != adv.Level {
		o.Level, changed = c.Level, true
	}
	for k, v := range c.Properties {
		if av, ok := adv.Properties[k]; ok && reflect.DeepEqual(normalizeNumber(av), normalizeNumber(v)) {
			continue
		}
		if o.Properties == nil {
			o.Properties = map[string]any{}
		}
		o.Properties[k], changed = v, true
	}
	return o, changed
}

func normalizeNumber(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return v
}

// withSchemaDefaults adds the schema's top-level defaults under props, as
// the engine does when it reconciles config.
func withSchemaDefaults(pol *engine.Policy, props map[string]any) map[string]any {
	out := map[string]any{}
	if ps, ok := pol.ConfigSchema["properties"].(map[string]any); ok {
		for k, v := range ps {
			if m, ok := v.(map[string]any); ok {
				if d, ok := m["default"]; ok {
					out[k] = d
				}
			}
		}
	}
	for k, v := range props {
		out[k] = v
	}
	return out
}

// resource finds the session for a request and decodes its resource;
// props, when not nil, decodes its properties (see propsFromWire), which
// are otherwise the request's own.
func (s *Server) resource(req *pulumirpc.AnalyzeRequest, props func() (map[string]any, error)) (*session, *engine.Resource, error) {
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
	resp := &pulumirpc.AnalyzeResponse{}
	typeOf := func(string) string { return res.Type }
	for _, pr := range sess.packs {
		for _, r := range pr.run.Evaluate(ctx, res) {
			s.report(resp, sess, &r, res, typeOf)
		}
	}
	resp.NotApplicable = append(resp.NotApplicable, s.notApplicableFor(sess, res.Type)...)
	if err := s.interrupted(ctx); err != nil {
		return nil, err
	}
	return resp, nil
}

// StackTimeout bounds the stack policies of every pack together in one
// AnalyzeStack, on top of the engine's cost budgets (engine.StackBudget per
// pack), which do not count the time spent outside CEL. A policy still
// running when it passes, and every one after it, reports errStackTimeout at
// its level instead of a verdict, so a mandatory one blocks.
const StackTimeout = 2 * time.Minute

// errStackTimeout is the error of the stack policies StackTimeout stopped.
var errStackTimeout = fmt.Errorf("stopped: time limit: the stack policies took longer than %s together", StackTimeout)

// AnalyzeStack runs the stack policies over every resource's outputs.
func (s *Server) AnalyzeStack(ctx context.Context, req *pulumirpc.AnalyzeStackRequest) (*pulumirpc.AnalyzeResponse, error) {
	var first string
	if len(req.GetResources()) > 0 {
		first = req.GetResources()[0].GetUrn()
	}
	return s.analyzeStack(ctx, first, func(f func(*pulumirpc.AnalyzerResource) error) error {
		for _, r := range req.GetResources() {
			if err := f(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// analyzeStack runs the stack policies over the resources each yields
// (first is the first one's URN, which may name the stack); served over
// gRPC, each decodes them from the wire one at a time (see stackWire).
func (s *Server) analyzeStack(ctx context.Context, first string, each func(func(*pulumirpc.AnalyzerResource) error) error) (*pulumirpc.AnalyzeResponse, error) {
	ctx, cancel := s.stoppable(ctx)
	defer cancel()
	sess, err := s.current(first)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.AnalyzeResponse{}
	if !slices.ContainsFunc(sess.packs, func(pr *packRun) bool { return pr.run.Pack.HasStackPolicies() }) {
		return resp, nil // only resource policies: nothing to decode
	}
	var resources []*engine.Resource
	types := map[string]string{}
	err = each(func(r *pulumirpc.AnalyzerResource) error {
		res, err := resourceFromStack(r)
		if err != nil {
			return err
		}
		resources = append(resources, res)
		types[res.URN] = res.Type
		return nil
	})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	typeOf := func(urn string) string { return types[urn] }
	ectx, stop := context.WithTimeout(ctx, s.stackTimeout)
	defer stop()
	for _, pr := range sess.packs {
		for _, r := range pr.run.EvaluateStack(ectx, resources) {
			if ectx.Err() != nil && ctx.Err() == nil {
				timedOut(&r)
			}
			s.report(resp, sess, &r, nil, typeOf)
		}
	}
	if err := s.interrupted(ctx); err != nil {
		return nil, err
	}
	return resp, nil
}

// timedOut replaces the deadline errors of a result StackTimeout stopped
// with errStackTimeout, which says which limit it was.
func timedOut(r *engine.Result) {
	for i, err := range r.Errors {
		if errors.Is(err, context.DeadlineExceeded) {
			r.Errors[i] = errStackTimeout
		}
	}
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
	resp := &pulumirpc.RemediateResponse{}
	for _, pr := range sess.packs {
		excepted := func(pol *engine.Policy) bool {
			active, _ := s.home.Find(s.target(pol, req.GetUrn(), res.Type), s.now())
			return len(active) > 0
		}
		props, rems := pr.run.RemediateExcept(ctx, res, excepted)
		for _, rem := range rems {
			name := s.nameOf(rem.Policy)
			out := &pulumirpc.Remediation{
				PolicyName: name, PolicyPackName: pr.res.Pack.Name, PolicyPackVersion: pr.res.Pack.Version,
				Description: rem.Policy.Description,
			}
			switch {
			case rem.Changed:
				st, err := propsToProto(rem.Props)
				if err != nil {
					return nil, status.Errorf(codes.Internal, "%s: encoding remediated inputs: %v", name, err)
				}
				if err := keepInternal(st, raw); err != nil {
					return nil, status.Errorf(codes.InvalidArgument, "%s: %v", req.GetUrn(), err)
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
		res.Props = props // the next pack sees this pack's remediations
	}
	if err := s.interrupted(ctx); err != nil {
		return nil, err
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

func (s *Server) nameOf(pol *engine.Policy) string {
	return s.names[policyKey{pol.Pack.Name, pol.Name}]
}

func (s *Server) target(pol *engine.Policy, urn, typ string) home.Target {
	return home.Target{Pack: pol.Pack.Name, Policy: pol.Name, Exposed: s.nameOf(pol), URN: urn, Type: typ}
}

// report adds one engine result to resp: its findings (package findings
// derives and words them, as for the CLI) as diagnostics, or a
// not-applicable entry. A finding an exception waives is reported at
// advisory level with the exception's id and reason. urn is the analyzed
// resource (the engine attaches its diagnostics to it), "" in
// AnalyzeStack, where each finding names its own; typeOf finds a
// resource's type by URN.
func (s *Server) report(resp *pulumirpc.AnalyzeResponse, sess *session, r *engine.Result, res *engine.Resource, typeOf func(string) string) {
	name := s.nameOf(r.Policy)
	if r.NotApplicable != "" {
		resp.NotApplicable = append(resp.NotApplicable, &pulumirpc.PolicyNotApplicable{PolicyName: name, Reason: r.NotApplicable})
		return
	}
	for _, f := range findings.From(sess.stack.Name, sess.stack.Project, res, r) {
		f.Waive(s.home, name, typeOf(f.URN), s.now())
		resp.Diagnostics = append(resp.Diagnostics, diagnostic(&f, name, res != nil))
	}
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

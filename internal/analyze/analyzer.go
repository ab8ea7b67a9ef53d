package analyze

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

// Analyzer is the domain both doors share: which packs and policies a home
// applies to a stack, at which levels and under which names, and what each
// result is as a finding, exceptions applied. The plugin (package
// analyzer) is a pulumirpc adapter over it: it decodes a request, asks a
// Session, and encodes the Verdict; `warden analyze` and `warden audit`
// drive the same Session over an export (Report). It never sees a protocol
// type, and it is immutable once built.
type Analyzer struct {
	home         *home.Home
	mode         home.Mode
	now          func() time.Time
	stackTimeout time.Duration
	catalog      *home.Resolution     // every pack some group of the mode may run
	names        map[policyKey]string // exposed names, stable whatever the stack
	known        map[string]bool      // the exposed names
}

type policyKey struct{ pack, policy string }

// Options configure an Analyzer.
type Options struct {
	// Now is the clock exceptions expire by; time.Now if nil.
	Now func() time.Time
	// StackTimeout bounds the stack policies of one Session.AnalyzeStack call;
	// StackTimeout if zero, already passed if negative (for tests).
	StackTimeout time.Duration
}

// StackTimeout bounds the stack policies of every pack together in one
// Session.AnalyzeStack, on top of the engine's cost budgets (engine.StackBudget
// per pack), which do not count the time spent outside CEL. A policy still
// running when it passes, and every one after it, reports ErrStackTimeout
// at its level instead of a verdict, so a mandatory one blocks.
const StackTimeout = 2 * time.Minute

// ErrStackTimeout is the error of the stack policies StackTimeout stopped.
var ErrStackTimeout = fmt.Errorf("stopped: time limit: the stack policies took longer than %s together", StackTimeout)

// New builds the analyzer for the groups of mode in a loaded home.
func New(h *home.Home, mode home.Mode, opts Options) (*Analyzer, error) {
	cat, err := h.Catalog(mode)
	if err != nil {
		return nil, err
	}
	a := &Analyzer{home: h, mode: mode, now: opts.Now, stackTimeout: opts.StackTimeout, catalog: cat, names: exposedNames(cat)}
	if a.now == nil {
		a.now = time.Now
	}
	a.known = make(map[string]bool, len(a.names))
	for _, name := range a.names {
		a.known[name] = true
	}
	if a.stackTimeout == 0 {
		a.stackTimeout = StackTimeout
	}
	return a, nil
}

// Home is the policy home the analyzer decides by.
func (a *Analyzer) Home() *home.Home { return a.home }

// Known reports whether name is the exposed name of a policy some group of
// the home may run.
func (a *Analyzer) Known(name string) bool { return a.known[name] }

// Warnings are the home's warnings about its exceptions (expired, naming
// no policy) and its ungoverned stacks, for the operator's log.
func (a *Analyzer) Warnings() []string {
	known := map[string]bool{}
	for k, name := range a.names {
		known[name], known[k.policy], known[k.pack+"/"+k.policy] = true, true, true
	}
	return a.home.Warnings(a.now(), func(p string) bool { return known[p] })
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

// Session is everything one run evaluates with: the packs the home applies
// to one stack, at their levels, with the user's overrides. It is immutable
// once built, so any number of calls evaluate with it at once.
type Session struct {
	a *Analyzer
	// Stack is the stack the packs were resolved for; Known is false while
	// it is not known yet (every pack of the catalog then runs).
	Stack engine.Stack
	Known bool
	// Overrides are the user's config, as far as it differs from what the
	// home gives (see Overrides).
	Overrides map[string]engine.PolicyConfig

	packs  []*packRun
	byName map[string]*exposed
	names  []string // exposed names, sorted
	// unselected lists catalog policies no group applies to this stack.
	unselected []string
	// baseline is the stack's baseline, nil if none (or not known yet).
	baseline *home.Baseline
	// shadow lists the policies running in shadow; mandatoryOn the day a
	// staged policy, advisory until then, becomes mandatory.
	shadow      map[policyKey]bool
	mandatoryOn map[policyKey]string
	// skipped memoizes, per resource type, the not-applicable entries that
	// do not depend on the resource (see Skipped).
	skipped sync.Map // type token -> *Skipped
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

// Session resolves the home for a stack (the whole catalog while the stack
// is not known) and layers overrides, keyed by exposed name, on top.
func (a *Analyzer) Session(stack engine.Stack, known bool, overrides map[string]engine.PolicyConfig) (*Session, error) {
	res := a.catalog
	if known {
		var err error
		res, err = a.home.Resolve(home.Stack{Organization: stack.Organization, Project: stack.Project, Name: stack.Name, Tags: stack.Tags}, a.mode)
		if err != nil {
			return nil, err
		}
	}
	s := &Session{a: a, Stack: stack, Known: known, Overrides: overrides, byName: map[string]*exposed{},
		shadow: map[policyKey]bool{}, mandatoryOn: map[policyKey]string{}}
	y, m, d := a.now().UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if known {
		s.baseline = a.home.Baseline(stack.Organization, stack.Project, stack.Name)
	}
	for _, r := range res.Packs {
		pr := &packRun{res: r}
		runCfg := make(map[string]engine.PolicyConfig, len(r.Pack.Policies))
		for _, pol := range r.Pack.Policies {
			c := r.Config[pol.Name]
			k := policyKey{r.Pack.Name, pol.Name}
			stage := r.Stages[pol.Name]
			if o, ok := overrides[a.names[k]]; ok {
				if o.Level != "" {
					c.Level, stage = o.Level, home.Stage{} // the user's level is in force now
				}
				if len(o.Properties) > 0 {
					props := maps.Clone(c.Properties)
					if props == nil {
						props = make(map[string]any, len(o.Properties))
					}
					maps.Copy(props, o.Properties)
					c.Properties = props
				}
			}
			switch {
			case stage.Shadow:
				s.shadow[k] = true
			case !stage.From.IsZero() && today.Before(stage.From):
				c.Level = spec.Advisory
				s.mandatoryOn[k] = stage.From.Format(time.DateOnly)
			}
			runCfg[pol.Name] = c
		}
		run, err := r.Pack.NewRun(stack, runCfg)
		if err != nil {
			return nil, a.renameConfigError(err, r.Pack)
		}
		pr.run = run
		s.packs = append(s.packs, pr)
		for _, pol := range r.Pack.Policies {
			e := &exposed{name: a.names[policyKey{r.Pack.Name, pol.Name}], pol: pol, pr: pr}
			s.byName[e.name] = e
			s.names = append(s.names, e.name)
		}
	}
	sort.Strings(s.names)
	for _, r := range a.catalog.Packs {
		for _, pol := range r.Pack.Policies {
			if name := a.names[policyKey{r.Pack.Name, pol.Name}]; s.byName[name] == nil && pol.Kind == spec.ResourceKind {
				s.unselected = append(s.unselected, name)
			}
		}
	}
	sort.Strings(s.unselected)
	return s, nil
}

// renameConfigError reports config problems under the exposed names the
// user wrote in --policy-pack-config.
func (a *Analyzer) renameConfigError(err error, p *engine.Pack) error {
	var ce *engine.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	for i, pr := range ce.Problems {
		if name, ok := a.names[policyKey{p.Name, pr.Policy}]; ok {
			ce.Problems[i].Policy = name
		}
	}
	return ce
}

// Organization is the session's stack's organization as the home names it
// (Home.Org: self-managed backends all say "organization"), what groups
// resolve, baselines and the ledger use.
func (s *Session) Organization() string { return s.a.home.Org(s.Stack.Organization) }

// Name is a policy's exposed name.
func (s *Session) Name(pack, policy string) string {
	return s.a.names[policyKey{pack, policy}]
}

// Packs are the packs the session runs, with the groups that chose them.
func (s *Session) Packs() []*home.Resolved {
	out := make([]*home.Resolved, len(s.packs))
	for i, pr := range s.packs {
		out[i] = pr.res
	}
	return out
}

// HasStackPolicies reports whether any pack of the session has a stack
// policy, that is whether AnalyzeStack needs the stack's resources at all.
func (s *Session) HasStackPolicies() bool {
	return slices.ContainsFunc(s.packs, func(pr *packRun) bool { return pr.run.Pack.HasStackPolicies() })
}

// StackReads says which resources of a stack the session's stack
// policies can read (engine.Pack.StackReads): wanted reports it for a type
// token; nil when they may read any. AnalyzeStack gives the same results
// with or without the others. wanted is not safe for concurrent use.
func (s *Session) StackReads() (wanted func(typ string) bool) {
	var patterns []string
	for _, pr := range s.packs {
		if !pr.run.Pack.HasStackPolicies() {
			continue
		}
		p, all := pr.run.Pack.StackReads()
		if all {
			return nil
		}
		patterns = append(patterns, p...)
	}
	seen := map[string]bool{} // a stack has few types and many resources
	return func(typ string) bool {
		ok, found := seen[typ]
		if !found {
			ok = slices.ContainsFunc(patterns, func(p string) bool { return spec.MatchGlob(p, typ) })
			seen[typ] = ok
		}
		return ok
	}
}

// Enabled lists the policies the session runs (every one not disabled),
// pack by pack in declaration order.
func (s *Session) Enabled() []*engine.Policy {
	var out []*engine.Policy
	for _, pr := range s.packs {
		for _, pol := range pr.res.Pack.Policies {
			if pr.run.Level(pol) != spec.Disabled {
				out = append(out, pol)
			}
		}
	}
	return out
}

// Policy is one policy a session may run, as the engine is told of it.
type Policy struct {
	Name   string // exposed
	Policy *engine.Policy
	Level  spec.Level
	// Properties are the home's config for it; Advertised adds the
	// schema's defaults, as the engine does when it reconciles config.
	Properties, Advertised map[string]any
}

// Policies lists every policy of the session by exposed name.
func (s *Session) Policies() []Policy {
	out := make([]Policy, 0, len(s.names))
	for _, name := range s.names {
		e := s.byName[name]
		props := e.pr.res.Config[e.pol.Name].Properties
		out = append(out, Policy{
			Name: name, Policy: e.pol, Level: e.pr.run.Level(e.pol),
			Properties: props, Advertised: withSchemaDefaults(e.pol, props),
		})
	}
	return out
}

// withSchemaDefaults adds the schema's top-level defaults under props.
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
	maps.Copy(out, props)
	return out
}

// Overrides is what a reconciled config (every policy's level and
// properties, as the engine computes them from what was advertised and the
// user's --policy-pack-config) changes relative to advertised: per policy,
// the level if it differs and the properties whose values differ. The rest
// comes from the stack's own resolution, which may differ from what was
// advertised before the stack was known. Names no policy of the home has
// are returned in unknown (the engine passes them through; most are
// typos); engine.AllPolicies is left out, the engine has applied it.
func (a *Analyzer) Overrides(advertised, cfg map[string]engine.PolicyConfig) (overrides map[string]engine.PolicyConfig, unknown []string) {
	overrides = map[string]engine.PolicyConfig{}
	for name, c := range cfg {
		if name == engine.AllPolicies {
			continue
		}
		if !a.Known(name) {
			unknown = append(unknown, name)
			continue
		}
		if o, changed := override(advertised[name], c); changed {
			overrides[name] = o
		}
	}
	sort.Strings(unknown)
	return overrides, unknown
}

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

// Verdict is what a session decided about one resource or the stack.
type Verdict struct {
	// Findings are the violations, can't-runs and errors, waived where an
	// exception applies. Session.Name gives each policy's exposed name.
	Findings []findings.Finding
	// NotApplicable lists the policies that looked at the resource and did
	// not apply; Skipped those that never do for its type (nil for the
	// stack).
	NotApplicable []NotApplicable
	Skipped       *Skipped
}

// NotApplicable says that a policy, by exposed name, did not apply.
type NotApplicable struct{ Policy, Reason string }

// TypeNotChecked is the reason a policy is not applicable to a resource of
// a type its resourceTypes leave out.
const TypeNotChecked = "not a type it checks"

// Skipped is the not-applicable list that does not depend on the resource,
// only on its type: the policies of other types and the ones no group
// applies to the stack. It is built once per type and session and shared
// by every verdict, so it must not be modified; its identity is stable, so
// an adapter may cache its encoding by pointer.
type Skipped struct{ List []NotApplicable }

// skippedFor is the Skipped list of a resource type.
func (s *Session) skippedFor(typ string) *Skipped {
	if v, ok := s.skipped.Load(typ); ok {
		return v.(*Skipped)
	}
	sk := &Skipped{}
	for _, pr := range s.packs {
		for _, pol := range pr.res.Pack.SkippedFor(typ) {
			if pr.run.Level(pol) == spec.Disabled {
				continue
			}
			// Every Analyze response carries one of these per policy that
			// does not check the type (the engine's summaries count them),
			// so with the whole catalog they are most of its bytes: the
			// reason is short, and the type is the analyzed resource's.
			sk.List = append(sk.List, NotApplicable{Policy: s.Name(pol.Pack.Name, pol.Name), Reason: TypeNotChecked})
		}
	}
	for _, name := range s.unselected {
		sk.List = append(sk.List, NotApplicable{
			Policy: name, Reason: "no policy group of the home applies it to stack " + s.Stack.Name,
		})
	}
	v, _ := s.skipped.LoadOrStore(typ, sk)
	return v.(*Skipped)
}

// Analyze runs every resource policy that applies to one resource's
// inputs, in every pack of the session.
func (s *Session) Analyze(ctx context.Context, res *engine.Resource) Verdict {
	var v Verdict
	typeOf := func(string) string { return res.Type }
	for _, pr := range s.packs {
		for _, r := range pr.run.Evaluate(ctx, res) {
			s.add(&v, &r, res, typeOf)
		}
	}
	v.Skipped = s.skippedFor(res.Type)
	return v
}

// AnalyzeStack runs the stack policies of every pack over the resources (their
// outputs), within the analyzer's stack timeout.
func (s *Session) AnalyzeStack(ctx context.Context, resources []*engine.Resource) Verdict {
	var v Verdict
	if !s.HasStackPolicies() {
		return v
	}
	types := make(map[string]string, len(resources))
	for _, r := range resources {
		types[r.URN] = r.Type
	}
	typeOf := func(urn string) string { return types[urn] }
	ectx, stop := context.WithTimeout(ctx, s.a.stackTimeout)
	defer stop()
	in := engine.NewStackInput(resources) // converted once for every pack
	for _, pr := range s.packs {
		results := pr.run.EvaluateStackInput(ectx, in)
		// A large stack's findings are many: grow the slice once per pack,
		// not by doubling (copying them was a tenth of AnalyzeStack's
		// time at 100,000 resources).
		n := 0
		for _, r := range results {
			n += len(r.Violations) + len(r.Undecided) + len(r.Errors)
		}
		v.Findings = slices.Grow(v.Findings, n)
		for _, r := range results {
			if ectx.Err() != nil && ctx.Err() == nil {
				timedOut(&r)
			}
			s.add(&v, &r, nil, typeOf)
		}
	}
	return v
}

// timedOut replaces the deadline errors of a result StackTimeout stopped
// with ErrStackTimeout, which says which limit it was.
func timedOut(r *engine.Result) {
	for i, err := range r.Errors {
		if errors.Is(err, context.DeadlineExceeded) {
			r.Errors[i] = ErrStackTimeout
		}
	}
}

// add records one engine result: its findings (package findings derives
// and words them), each waived where an exception applies, or a
// not-applicable entry. res is the analyzed resource, nil for stack
// policies; typeOf finds a resource's type by URN.
func (s *Session) add(v *Verdict, r *engine.Result, res *engine.Resource, typeOf func(string) string) {
	name := s.Name(r.Policy.Pack.Name, r.Policy.Name)
	if r.NotApplicable != "" {
		v.NotApplicable = append(v.NotApplicable, NotApplicable{Policy: name, Reason: r.NotApplicable})
		return
	}
	k := policyKey{r.Policy.Pack.Name, r.Policy.Name}
	for _, f := range findings.From(s.Stack.Name, s.Stack.Project, res, r) {
		if s.shadow[k] {
			f.Level = spec.Shadow
		}
		f.MandatoryOn = s.mandatoryOn[k]
		f.Waive(s.a.home, name, typeOf(f.URN), s.a.now())
		f.Baseline(s.baseline)
		v.Findings = append(v.Findings, f)
	}
}

// Remediation is what one remediate-level policy did to a resource's
// inputs: Props, when it rewrote them (the complete inputs after it), or
// Err, when it failed.
type Remediation struct {
	Name   string // exposed
	Policy *engine.Policy
	Props  map[string]any
	Err    error
}

// Remediate runs the remediate-level policies of every pack in turn, each
// pack on the inputs the one before it left. An excepted resource is not
// remediated. Policies that neither changed nor failed are left out.
func (s *Session) Remediate(ctx context.Context, res *engine.Resource) []Remediation {
	var out []Remediation
	cur := *res
	for _, pr := range s.packs {
		excepted := func(pol *engine.Policy) bool {
			t := home.Target{Pack: pol.Pack.Name, Policy: pol.Name, Exposed: s.Name(pol.Pack.Name, pol.Name), URN: res.URN, Type: res.Type}
			active, _ := s.a.home.Find(t, s.a.now())
			return len(active) > 0
		}
		props, rems := pr.run.RemediateExcept(ctx, &cur, excepted)
		for _, rem := range rems {
			r := Remediation{Name: s.Name(rem.Policy.Pack.Name, rem.Policy.Name), Policy: rem.Policy}
			switch {
			case rem.Changed:
				r.Props = rem.Props
			case len(rem.Result.Errors) > 0:
				r.Err = errors.Join(rem.Result.Errors...)
			default:
				continue
			}
			out = append(out, r)
		}
		cur.Props = props // the next pack sees this pack's remediations
	}
	return out
}

package engine

import (
	"fmt"
	"io/fs"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/warden-policy/warden/packs/spec"
)

// Limits bound the work of every evaluation. CEL cost units are roughly one
// per operation and per element visited; the helpers of library.go charge
// by the size of what they read and return. On the reference machine a
// million units take 0.05 s (arithmetic over a list) to 0.55 s (field
// lookups in the property maps of many resources, under load), so each
// limit below is a bound on time too.
const (
	// CostLimit bounds one evaluation of one resource policy on one
	// resource: its guard, variables, forEach list, every element's
	// violation and every message draw from one budget, so a long forEach
	// cannot spend it again per element. Analyze sits on the critical path
	// of every resource.
	CostLimit = 1_000_000
	// StackCostLimit bounds one evaluation of one stack policy, all its
	// elements together. Stack policies run once per run and may visit
	// every resource of a large stack.
	StackCostLimit = 20_000_000
	// StackBudget bounds all the stack policies of one pack together in one
	// EvaluateStack (one AnalyzeStack): a pack of many stack policies does
	// not multiply StackCostLimit.
	StackBudget = 100_000_000
	// interruptEvery is how many comprehension iterations pass between checks
	// of the context, so cancellation stops long evaluations.
	interruptEvery = 100
)

// Pack is a compiled pack: immutable, safe for concurrent use.
type Pack struct {
	Spec        *spec.Pack
	Name        string
	Version     string
	Description string
	Level       spec.Level
	Tags        []string
	// Policies in declaration order.
	Policies []*Policy
	// Warnings are what is valid but slow (CodeQuadratic), positioned;
	// warden validate shows them. A lazily loaded pack has none.
	Warnings spec.ErrorList

	byName map[string]*Policy
	// stackPolicies lists the stack policies, resourceAny the resource
	// policies without a type filter, exact and globs the others.
	stackPolicies []*Policy
	resourceAny   []*Policy
	exact         map[string][]*Policy
	globs         []*Policy
	byType        sync.Map // type token -> *typeEntry, filled on first use
}

// Policy is one compiled policy.
type Policy struct {
	Spec        *spec.Policy
	Pack        *Pack
	Name        string
	Description string
	Kind        spec.Kind
	Severity    spec.Severity
	Level       spec.Level // the policy's own level, or the pack's
	Framework   *spec.Framework
	// Controls are the framework controls the policy checks
	// ("cis-aws-3.0/5.2"): what framework views select by.
	Controls         []string
	Tags             []string
	RemediationSteps string
	URL              string
	ResourceTypes    []string
	// ConfigSchema is the policy's JSON Schema (nil: no config).
	ConfigSchema map[string]any

	config *configSchema
	// code is the compiled expressions. A lazily loaded pack (LoadFSLazy)
	// compiles them on first use: build runs once, under once.
	code
	once     sync.Once
	done     atomic.Bool // once has run
	build    func() (code, error)
	buildErr error
}

// code is the compiled part of a policy.
type code struct {
	vars      []*variable
	varIndex  map[string]int
	when      *program
	whenWhy   string
	forEach   *program
	violation *program
	message   []messagePart
	remediate *remediation
	// reads are the type patterns of the resources a stack policy reads
	// (see StackReads); readsAll: it can read any resource.
	reads    []string
	readsAll bool
}

// Compile compiles the policy's expressions now, if its pack is lazily
// loaded and it was not used yet; the error is what every evaluation of
// the policy reports.
func (p *Policy) Compile() error { return p.compiled() }

// Compiled reports whether the policy's expressions were compiled (or
// failed to), without compiling them.
func (p *Policy) Compiled() bool { return p.build == nil || p.done.Load() }

// compiled makes sure the policy's expressions are compiled (see
// LoadFSLazy) and says whether they are; an error is the reason they are
// not, and every evaluation of the policy reports it.
func (p *Policy) compiled() error {
	p.once.Do(func() {
		if p.build != nil {
			p.code, p.buildErr = p.build()
		}
		p.done.Store(true)
	})
	return p.buildErr
}

type variable struct {
	name string
	prg  *program
	// perItem is set when the variable depends on item (directly or
	// through another variable): it is then evaluated once per element,
	// else once per evaluation of the policy.
	perItem bool
}

type program struct {
	expr *spec.Expr
	prg  cel.Program
}

type messagePart struct {
	literal string
	prg     *program
}

type remediation struct {
	set    []assignment
	remove []spec.Path
}

type assignment struct {
	path spec.Path
	text string
	prg  *program
}

// Load reads and compiles the pack in dir.
func Load(dir string) (*Pack, error) { return load(spec.LoadPack(dir)) }

// LoadFS reads and compiles the pack in dir of fsys.
func LoadFS(fsys fs.FS, dir string) (*Pack, error) { return load(spec.LoadPackFS(fsys, dir)) }

// LoadFSLazy reads the pack in dir of fsys and compiles each policy's
// expressions on first use instead of now. It is for packs whose every
// policy is known to compile -- the built-in catalog, which its tests
// compile in full -- so that a plugin start pays only for the policies
// the stack's resource types reach (a fresh process starts for every
// preview). A policy that fails to compile anyway reports the error at
// each evaluation. Config schemas are compiled now: Configure needs them.
func LoadFSLazy(fsys fs.FS, dir string) (*Pack, error) {
	sp, err := spec.LoadPackFS(fsys, dir)
	if err != nil {
		return nil, err
	}
	return compileLazy(sp, nil)
}

// compileLazy is a lazily compiled pack whose policies take their checked
// expressions from asts where it has them.
func compileLazy(sp *spec.Pack, asts map[string][]byte) (*Pack, error) {
	return compileAllWith(sp, nil, true, asts)
}

func load(sp *spec.Pack, err error) (*Pack, error) {
	if err != nil {
		if _, ok := err.(spec.ErrorList); !ok || sp == nil {
			return nil, err
		}
		// Keep going: compile what parsed, so CEL errors are reported too.
		return compileAll(sp, err.(spec.ErrorList), false)
	}
	return Compile(sp)
}

// Parse parses and compiles a pack manifest held in memory.
func Parse(file string, data []byte) (*Pack, error) {
	sp, err := spec.ParsePack(file, data)
	if err != nil {
		list, ok := err.(spec.ErrorList)
		if !ok {
			return nil, err
		}
		return compileAll(sp, list, false)
	}
	return Compile(sp)
}

// Compile turns a parsed pack into programs: one CEL environment per pack
// and policy kind, one program per expression, all built here, once. Every
// problem is returned in a spec.ErrorList, positioned in the YAML.
func Compile(sp *spec.Pack) (*Pack, error) { return compileAll(sp, nil, false) }

func compileAll(sp *spec.Pack, errs spec.ErrorList, lazy bool) (*Pack, error) {
	return compileAllWith(sp, errs, lazy, nil)
}

func compileAllWith(sp *spec.Pack, errs spec.ErrorList, lazy bool, asts map[string][]byte) (*Pack, error) {
	p := &Pack{
		Spec: sp, Name: sp.Name, Version: sp.Version, Description: sp.Description,
		Level: sp.EnforcementLevel, Tags: sp.Tags, byName: map[string]*Policy{}, exact: map[string][]*Policy{},
	}
	if p.Level == "" {
		p.Level = spec.Advisory
	}
	envs, err := packEnvs()
	if err != nil {
		return nil, fmt.Errorf("building CEL environment: %w", err)
	}
	// Policies compile independently: spread them over the cores (plugin
	// start-up pays for this on every preview), then index them in
	// declaration order.
	type slot struct {
		pol      *Policy
		errs     spec.ErrorList
		warnings spec.ErrorList
	}
	slots := make([]slot, len(sp.Policies))
	fresh := make([]map[string][]byte, len(sp.Policies))
	dir, digest := cachePath(), ""
	var cached map[string][]byte
	if dir != "" && !lazy {
		digest = packDigest(sp)
		if cached = loadASTs(dir, digest); cached == nil {
			cached = map[string][]byte{} // non-nil: record what gets checked
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(sp.Policies)) {
		wg.Go(func() {
			for i := range work {
				c := &compiler{pack: p, errs: &slots[i].errs, cached: cached, warnings: &slots[i].warnings}
				if lazy {
					slots[i].pol = c.deferred(sp.Policies[i], envs, asts)
				} else {
					slots[i].pol = c.policy(sp.Policies[i], envs)
				}
				fresh[i] = c.fresh
			}
		})
	}
	for i := range sp.Policies {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, sl := range slots {
		errs.Append(sl.errs)
		p.Warnings.Append(sl.warnings)
		pol := sl.pol
		if pol == nil {
			continue
		}
		if _, dup := p.byName[pol.Name]; dup {
			continue // reported by spec
		}
		p.Policies = append(p.Policies, pol)
		p.byName[pol.Name] = pol
		p.indexPolicy(pol)
	}
	errs.Sort()
	p.Warnings.Sort()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if digest != "" && slices.ContainsFunc(fresh, func(m map[string][]byte) bool { return len(m) > 0 }) {
		all := map[string][]byte{}
		for _, m := range append(fresh, cached) {
			maps.Copy(all, m)
		}
		saveASTs(dir, digest, all)
	}
	return p, nil
}

// Policy returns the named policy, or nil.
func (p *Pack) Policy(name string) *Policy { return p.byName[name] }

// StackReads is what the pack's stack policies can read of a stack: the
// resources whose type token matches one of patterns (globs as in
// resourceTypes), or every resource when all is set. A caller may leave
// the other resources out of EvaluateStack's input: no policy can tell.
// (A policy that does not compile reads nothing: it reports its error.)
// It compiles the stack policies of a lazily loaded pack.
func (p *Pack) StackReads() (patterns []string, all bool) {
	for _, pol := range p.stackPolicies {
		if pol.compiled() != nil {
			continue
		}
		patterns = append(patterns, pol.reads...)
		all = all || pol.readsAll
	}
	slices.Sort(patterns)
	return slices.Compact(patterns), all
}

// HasStackPolicies says whether the pack has any stack policy: without
// one, EvaluateStack has nothing to do and its input need not be built.
func (p *Pack) HasStackPolicies() bool { return len(p.stackPolicies) > 0 }

// String is "name@version".
func (p *Pack) String() string { return p.Name + "@" + p.Version }

type envSet struct{ resource, stack *cel.Env }

var (
	baseEnvOnce sync.Once
	baseEnvs    envSet
	baseEnvErr  error
)

// packEnvs returns the environments every pack compiles against. They hold
// no pack state, so they are built once per process and shared: every pack
// gets the same declarations at no start-up cost.
func packEnvs() (envSet, error) {
	baseEnvOnce.Do(func() {
		base, err := cel.NewEnv(
			cel.Variable("stack", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("config", cel.MapType(cel.StringType, cel.DynType)),
			cel.OptionalTypes(),
			cel.CrossTypeNumericComparisons(true),
			cel.DefaultUTCTimeZone(true),
			ext.Strings(), ext.Lists(), ext.Math(), ext.Sets(), ext.Bindings(), ext.TwoVarComprehensions(),
			ext.Encoders(ext.EncodersVersion(1)), // base64 and json.encode; json.parse is ours
			library(),
			byTypeFunction(),
			referencingFunction(),
		)
		if err != nil {
			baseEnvErr = err
			return
		}
		res, err := base.Extend(cel.Variable("resource", cel.MapType(cel.StringType, cel.DynType)))
		if err != nil {
			baseEnvErr = err
			return
		}
		st, err := base.Extend(cel.Variable("resources", cel.ListType(cel.MapType(cel.StringType, cel.DynType))))
		if err != nil {
			baseEnvErr = err
			return
		}
		baseEnvs = envSet{resource: res, stack: st}
	})
	return baseEnvs, baseEnvErr
}

type compiler struct {
	pack *Pack
	errs *spec.ErrorList
	pol  string
	// idents are the identifiers the last compiled expression refers to.
	idents map[string]bool
	// base is the environment the policy's own extend; programs are
	// planned against it (a checked AST carries every type and reference).
	base *cel.Env
	// cached are checked expressions from an earlier load (see cache.go),
	// by astKey; fresh are the ones this compiler checked; n counts the
	// policy's expressions.
	cached, fresh map[string][]byte
	n             int
	// ast is the last compiled expression's checked AST; fromResources
	// names the element-independent variables built from the stack's
	// resources; warnings collects what is valid but slow (see scan).
	ast           *cel.Ast
	fromResources map[string]bool
	warnings      *spec.ErrorList
	// reads and readsAll collect what the policy's expressions read of
	// the stack's resources (see noteReads).
	reads    []string
	readsAll bool
}

func (c *compiler) errorf(pos spec.Pos, code, format string, args ...any) {
	c.errs.Add(pos, code, c.pack.Name, c.pol, format, args...)
}

// deferred is the policy with its metadata and config schema, its
// expressions compiled on first use (see LoadFSLazy).
func (c *compiler) deferred(ps *spec.Policy, envs envSet, asts map[string][]byte) *Policy {
	pol := c.meta(ps)
	pack := c.pack
	pol.build = func() (code, error) {
		var errs spec.ErrorList
		full := (&compiler{pack: pack, errs: &errs, cached: asts}).policy(ps, envs)
		if err := errs.Err(); err != nil {
			return code{}, err
		}
		if full == nil {
			return code{}, fmt.Errorf("policy %s does not compile", ps.Name)
		}
		return full.code, nil
	}
	return pol
}

// meta is the policy without its expressions: what GetAnalyzerInfo,
// Configure and type indexing need.
func (c *compiler) meta(ps *spec.Policy) *Policy {
	c.pol = ps.Name
	pol := &Policy{
		Spec: ps, Pack: c.pack, Name: ps.Name, Description: ps.Description, Kind: ps.Kind,
		Severity: ps.Severity, Level: ps.EnforcementLevel, Framework: ps.Framework, Controls: ps.Controls,
		Tags: ps.Tags, RemediationSteps: ps.RemediationSteps, URL: ps.URL, ResourceTypes: ps.ResourceTypes,
	}
	if pol.Level == "" {
		pol.Level = c.pack.Level
	}
	if ps.Config != nil {
		pol.ConfigSchema = ps.Config.Value
		cs, err := compileSchema(ps.Config.Value)
		if err != nil {
			c.errorf(ps.Config.Pos, spec.CodeInvalid, "config schema: %v", err)
		}
		pol.config = cs
	}
	return pol
}

func (c *compiler) policy(ps *spec.Policy, envs envSet) *Policy {
	pol := c.meta(ps)
	pol.varIndex = map[string]int{}
	env := envs.resource
	if ps.Kind == spec.StackKind {
		env = envs.stack
	}
	c.base, c.n = env, 0
	c.reads, c.readsAll = nil, false
	defer func() { pol.reads, pol.readsAll = c.reads, c.readsAll }()
	// Variables see the resource (and item, under forEach); each may use the
	// ones declared before it. Environments are extended only when an
	// expression has to be checked (not when its checked AST is cached).
	var extra []cel.EnvOption
	if ps.ForEach != nil {
		extra = append(extra, cel.Variable("item", cel.DynType))
	}
	for _, v := range ps.Variables {
		venv := extended(env, slices.Clone(extra))
		prg, out := c.compile(venv, v.Expr, "variable "+v.Name, nil, ps.Kind)
		if prg == nil {
			continue
		}
		perItem := c.idents["item"]
		for _, prev := range pol.vars {
			perItem = perItem || prev.perItem && c.idents["variables."+prev.name]
		}
		if ps.Kind == spec.StackKind && ps.ForEach != nil && c.warnings != nil {
			if perItem {
				c.warnScan(c.ast, v.Expr, "variable "+v.Name)
			} else if mentionsResources(c.ast.NativeRep().Expr(), c.fromResources) {
				if c.fromResources == nil {
					c.fromResources = map[string]bool{}
				}
				c.fromResources[v.Name] = true
			}
		}
		pol.varIndex[v.Name] = len(pol.vars)
		pol.vars = append(pol.vars, &variable{name: v.Name, prg: prg, perItem: perItem})
		extra = append(extra, cel.Variable("variables."+v.Name, out))
	}
	// forEach and when are evaluated before there is an item.
	outer := extended(env, nil)
	if len(pol.vars) > 0 {
		outer = extended(env, withoutItem(extra, ps.ForEach != nil))
	}
	inner := outer
	if len(extra) > 0 {
		inner = extended(env, extra)
	}
	if ps.When != nil {
		pol.when, _ = c.compile(outer, ps.When.Expr, "when", cel.BoolType, ps.Kind)
		pol.whenWhy = ps.When.Reason
		if pol.whenWhy == "" {
			pol.whenWhy = "condition not met: " + strings.Join(strings.Fields(ps.When.Expr.Source), " ")
		}
	}
	if ps.ForEach != nil {
		pol.forEach, _ = c.compile(outer, ps.ForEach, "forEach", cel.ListType(cel.DynType), ps.Kind)
	}
	if ps.Violation != nil {
		pol.violation, _ = c.compile(inner, ps.Violation, "violation", cel.BoolType, ps.Kind)
		if pol.violation != nil && ps.Kind == spec.StackKind && ps.ForEach != nil && c.warnings != nil {
			c.warnScan(c.ast, ps.Violation, "the violation")
		}
	}
	if ps.Message != nil {
		for _, part := range ps.Message.Parts {
			if part.Expr == nil {
				pol.message = append(pol.message, messagePart{literal: part.Literal})
				continue
			}
			prg, _ := c.compile(inner, part.Expr, "message", nil, ps.Kind)
			pol.message = append(pol.message, messagePart{prg: prg})
		}
	}
	if r := ps.Remediate; r != nil {
		// Remediation sees the resource, not an item: it runs once per
		// resource when any item violates.
		rem := &remediation{}
		for _, a := range r.Set {
			prg, _ := c.compile(outer, a.Expr, "remediate "+a.Path.Text, nil, ps.Kind)
			rem.set = append(rem.set, assignment{path: a.Path.Path, text: a.Path.Text, prg: prg})
		}
		for _, rm := range r.Remove {
			rem.remove = append(rem.remove, rm.Path)
		}
		pol.remediate = rem
	}
	return pol
}

// extended is env extended with opts, built on first call and memoized.
func extended(env *cel.Env, opts []cel.EnvOption) func() (*cel.Env, error) {
	if len(opts) == 0 {
		return func() (*cel.Env, error) { return env, nil }
	}
	return sync.OnceValues(func() (*cel.Env, error) { return env.Extend(opts...) })
}

func withoutItem(opts []cel.EnvOption, hasItem bool) []cel.EnvOption {
	if hasItem {
		return opts[1:]
	}
	return opts
}

// resourceFields and stackFields are the fields of the resource and stack
// objects; a typo such as resource.prop is reported when the pack loads.
var (
	resourceFields = []string{"urn", "type", "name", "props", "options", "provider", "parent", "dependencies", "propertyDependencies"}
	stackFields    = []string{"name", "project", "organization", "tags", "config", "dryRun"}
)

// compile compiles one expression, reporting CEL errors at their YAML
// position. want, when set, is the type the result must have (dyn passes:
// property values are dynamic, and evaluation checks them).
func (c *compiler) compile(env func() (*cel.Env, error), e *spec.Expr, what string, want *cel.Type, kind spec.Kind) (*program, *cel.Type) {
	key := astKey(c.pol, c.n)
	c.n++
	var a *cel.Ast
	if data, ok := c.cached[key]; ok {
		a, _ = decodeAST(data) // a bad entry is compiled again
	}
	if a == nil {
		ext, err := env()
		if err != nil {
			c.errorf(e.Pos(), spec.CodeCompile, "%s: %v", what, err)
			return nil, nil
		}
		var iss *cel.Issues
		checked.Add(1)
		a, iss = ext.Compile(e.Source)
		if iss != nil && iss.Err() != nil {
			for _, ce := range iss.Errors() {
				c.errorf(e.At(ce.Location.Line(), ce.Location.Column()), spec.CodeCompile, "%s: %s", what, ce.Message)
			}
			return nil, nil
		}
		if c.cached != nil {
			if data, err := encodeAST(a); err == nil {
				if c.fresh == nil {
					c.fresh = map[string][]byte{}
				}
				c.fresh[key] = data
			}
		}
	}
	out := a.OutputType()
	if want != nil && !accepts(want, out) {
		c.errorf(e.Pos(), spec.CodeCompile, "%s must be of type %s, but the expression is of type %s", what, want, out)
		return nil, nil
	}
	ok := true
	info := a.NativeRep().SourceInfo()
	c.idents = map[string]bool{}
	celast.PreOrderVisit(a.NativeRep().Expr(), celast.NewExprVisitor(func(x celast.Expr) {
		if x.Kind() == celast.IdentKind {
			c.idents[x.AsIdent()] = true
		}
		if x.Kind() != celast.SelectKind || x.AsSelect().Operand().Kind() != celast.IdentKind {
			return
		}
		var fields []string
		switch x.AsSelect().Operand().AsIdent() {
		case "resource":
			fields = resourceFields
		case "stack":
			fields = stackFields
		case "item", "resources", "config":
			return
		default:
			return
		}
		if f := x.AsSelect().FieldName(); !slices.Contains(fields, f) {
			loc := info.GetStartLocation(x.ID())
			c.errorf(e.At(loc.Line(), loc.Column()), spec.CodeCompile, "%s: %s has no field %q (fields: %s)",
				what, x.AsSelect().Operand().AsIdent(), f, strings.Join(fields, ", "))
			ok = false
		}
	}))
	if !ok {
		return nil, nil
	}
	limit := uint64(CostLimit)
	if kind == spec.StackKind {
		limit = StackCostLimit
	}
	prg, err := c.base.Program(a,
		cel.CostLimit(limit),
		cel.InterruptCheckFrequency(interruptEvery),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		c.errorf(e.Pos(), spec.CodeCompile, "%s: %v", what, err)
		return nil, nil
	}
	c.ast = a
	if kind == spec.StackKind {
		c.noteReads(a)
	}
	return &program{expr: e, prg: prg}, out
}

// noteReads records which of the stack's resources a stack policy's
// expression can read: the type of each resources.byType(TYPE) and
// resources.referencing(TYPE, ...) with TYPE a literal; any other use of
// resources (its size, a scan, a computed type) can read them all.
func (c *compiler) noteReads(a *cel.Ast) {
	through := map[int64]bool{} // resources idents that are such a call's target
	expr := a.NativeRep().Expr()
	celast.PreOrderVisit(expr, celast.NewExprVisitor(func(x celast.Expr) {
		if x.Kind() != celast.CallKind {
			return
		}
		call := x.AsCall()
		if f := call.FunctionName(); !call.IsMemberFunction() || f != "byType" && f != "referencing" || len(call.Args()) == 0 {
			return
		}
		target, arg := call.Target(), call.Args()[0]
		if target.Kind() != celast.IdentKind || target.AsIdent() != "resources" || arg.Kind() != celast.LiteralKind {
			return
		}
		if pat, ok := arg.AsLiteral().(types.String); ok {
			c.reads = append(c.reads, string(pat))
			through[target.ID()] = true
		}
	}))
	celast.PreOrderVisit(expr, celast.NewExprVisitor(func(x celast.Expr) {
		if x.Kind() == celast.IdentKind && x.AsIdent() == "resources" && !through[x.ID()] {
			c.readsAll = true
		}
	}))
}

// accepts reports whether an expression of type out can serve where want is
// needed: dyn always can (property values are dynamic; evaluation checks
// them), and any list serves where a list is wanted.
func accepts(want, out *cel.Type) bool {
	switch {
	case out.IsExactType(cel.DynType):
		return true
	case want.Kind() == types.ListKind:
		return out.Kind() == types.ListKind
	}
	return out.IsAssignableType(want)
}

// typeEntry is the cached answer to "which resource policies apply to this
// type, and which are filtered out".
type typeEntry struct {
	applies []*Policy
	skipped []*Policy
}

func (p *Pack) indexPolicy(pol *Policy) {
	switch {
	case pol.Kind == spec.StackKind:
		p.stackPolicies = append(p.stackPolicies, pol)
	case len(pol.ResourceTypes) == 0:
		p.resourceAny = append(p.resourceAny, pol)
	default:
		glob := false
		for _, t := range pol.ResourceTypes {
			if strings.Contains(t, "*") {
				glob = true
			} else if !slices.Contains(p.exact[t], pol) {
				p.exact[t] = append(p.exact[t], pol)
			}
		}
		if glob {
			p.globs = append(p.globs, pol)
		}
	}
}

// forType returns the resource policies that apply to a type token, and
// those filtered out by their resourceTypes, in declaration order. Results
// are cached per token: a resource pays only for the policies of its type.
func (p *Pack) forType(token string) *typeEntry {
	if e, ok := p.byType.Load(token); ok {
		return e.(*typeEntry)
	}
	set := map[*Policy]bool{}
	for _, pol := range p.resourceAny {
		set[pol] = true
	}
	for _, pol := range p.exact[token] {
		set[pol] = true
	}
	for _, pol := range p.globs {
		if matchesType(pol.ResourceTypes, token) {
			set[pol] = true
		}
	}
	e := &typeEntry{}
	for _, pol := range p.Policies {
		if pol.Kind != spec.ResourceKind {
			continue
		}
		if set[pol] {
			e.applies = append(e.applies, pol)
		} else {
			e.skipped = append(e.skipped, pol)
		}
	}
	actual, _ := p.byType.LoadOrStore(token, e)
	return actual.(*typeEntry)
}

// matchesType reports whether token matches one of the patterns, in
// Warden's glob dialect (spec.MatchGlob: * is any run of characters).
func matchesType(patterns []string, token string) bool {
	return slices.ContainsFunc(patterns, func(pat string) bool { return spec.MatchGlob(pat, token) })
}

// SkippedFor lists the resource policies whose type filter excludes token,
// sorted by name: the analyzer reports them as not applicable.
func (p *Pack) SkippedFor(token string) []*Policy { return p.forType(token).skipped }

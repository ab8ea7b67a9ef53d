package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"

	"github.com/warden-policy/warden/packs/spec"
)

// Result is the verdict of one policy on one resource (or on the stack).
// A policy that runs once per forEach element can have several violations,
// undecided elements and errors at once: a known violation is reported even
// when another element cannot be decided.
type Result struct {
	Policy *Policy
	Level  spec.Level
	// NotApplicable is set, with the reason, when the policy's guard (when)
	// excluded the resource. Nothing else is set then.
	NotApplicable string
	Violations    []Violation
	// Undecided lists the elements whose verdict depends on values unknown
	// during preview ("can't run").
	Undecided []Undecided
	// Errors are evaluation failures (a property of the wrong type, a cost
	// limit); their text never contains a secret.
	Errors []error
}

// Passed reports whether the policy ran and found nothing.
func (r *Result) Passed() bool {
	return r.NotApplicable == "" && len(r.Violations) == 0 && len(r.Undecided) == 0 && len(r.Errors) == 0
}

// Violation is one finding. URN is set by stack policies to the offending
// resource (empty: the stack itself, or the analyzed resource).
type Violation struct {
	Message string
	URN     string
	Item    int // forEach index, -1 without forEach
}

// Undecided is an element whose verdict depends on unknown values.
type Undecided struct {
	Item   int // forEach index, -1 for the policy as a whole
	Values []ValueRef
}

// Reason renders the undecided element in Pulumi's words, without the
// "can't run policy" prefix the analyzer adds.
func (u Undecided) Reason() string {
	if len(u.Values) == 0 {
		return "property value can't be known during preview"
	}
	return fmt.Sprintf("property value at %s can't be known during preview", u.Values[0])
}

// Evaluate runs every resource policy that applies to res (by type, then by
// guard) and returns one Result per policy, in declaration order. Disabled
// policies are left out, as are policies whose type filter excludes the
// resource (see Pack.SkippedFor).
func (r *Run) Evaluate(ctx context.Context, res *Resource) []Result {
	applies := r.Pack.forType(res.Type).applies
	if len(applies) == 0 {
		return nil
	}
	s := newResourceState(ctx, r, res)
	out := make([]Result, 0, len(applies))
	for _, pol := range applies {
		set := r.settings[pol]
		if set.level == spec.Disabled {
			continue
		}
		if set.scope.excludes(res.Name) {
			out = append(out, Result{Policy: pol, Level: set.level, NotApplicable: excludedByConfigNA})
			continue
		}
		if s.inputErr != nil {
			out = append(out, Result{Policy: pol, Level: set.level, Errors: []error{s.inputErr}})
			continue
		}
		if ctx.Err() != nil {
			out = append(out, Result{Policy: pol, Level: set.level, Errors: []error{ctx.Err()}})
			continue
		}
		out = append(out, s.run(pol, set))
	}
	return out
}

// EvaluateStack runs the stack policies over every resource of the stack
// (outputs as props).
func (r *Run) EvaluateStack(ctx context.Context, resources []*Resource) []Result {
	return r.EvaluateStackInput(ctx, NewStackInput(resources))
}

// EvaluateStackInput is EvaluateStack over a StackInput that several
// packs' runs share, so the stack is converted once for all of them.
func (r *Run) EvaluateStackInput(ctx context.Context, in *StackInput) []Result {
	if len(r.Pack.stackPolicies) == 0 {
		return nil
	}
	s := newStackState(ctx, r, in)
	var out []Result
	for _, pol := range r.Pack.stackPolicies {
		set := r.settings[pol]
		if set.level == spec.Disabled {
			continue
		}
		if s.inputErr != nil {
			out = append(out, Result{Policy: pol, Level: set.level, Errors: []error{s.inputErr}})
			continue
		}
		if ctx.Err() != nil {
			out = append(out, Result{Policy: pol, Level: set.level, Errors: []error{ctx.Err()}})
			continue
		}
		out = append(out, s.run(pol, set))
	}
	return out
}

// state is one evaluation's view of its input: converted once, shared by
// every policy of the pack. The masked view, where secrets are unknowns
// flagged as secret, is built only when a message or a remediation needs it.
type state struct {
	ctx   context.Context
	r     *Run
	m     *markers
	real  view
	mask  func() view
	cache *view
	// secrets says whether anything in the input is secret; without, the
	// masked view is the real one.
	secrets  bool
	scrubber *strings.Replacer
	// inputErr, when set, is why the input cannot be evaluated (a value
	// nested too deep): every policy reports it instead of a verdict.
	inputErr error
	// budget is the running policy's; run sets it.
	budget *budget
	// limit sizes each policy's budget; total, when set, is shared by every
	// policy of the evaluation (see StackBudget).
	limit uint64
	total *budget
	own   budget // what budget points to while a policy runs
}

// view holds the CEL values of the variables an expression can see.
type view struct {
	resource  any
	resources any
	stack     any
	m         *markers
}

func newResourceState(ctx context.Context, r *Run, res *Resource) *state {
	m := &markers{base: unknownIDBase << 2}
	c := &converter{m: m, maxDepth: r.limits.maxDepth}
	s := &state{ctx: ctx, r: r, m: m, limit: r.limits.resource}
	s.real = view{resource: c.resource(res), stack: r.stack.real, m: m}
	if c.err != nil {
		c.err.URN = res.URN
		s.inputErr = c.err
	} else if r.stack.err != nil {
		s.inputErr = r.stack.err
	}
	s.secrets = m.nsecret > 0 || r.stack.m.nsecret > 0
	s.mask = func() view {
		mm := &markers{base: unknownIDBase << 3}
		mc := &converter{m: mm, mask: true}
		return view{resource: mc.resource(res), stack: r.stack.masked, m: mm}
	}
	return s
}

// StackInput is one stack's resources as stack policies see them, shared
// by every pack's EvaluateStack of one AnalyzeStack. A resource is
// converted to CEL values when a policy first reads it, once for all packs:
// stack policies read a few types through resources.byType, so on a large
// stack most resources are never converted (converting all of them, twice
// with the masked view, was most of AnalyzeStack's time and memory at
// 100,000 resources). It only reads the resources, and is safe for
// concurrent use.
type StackInput struct {
	resources []*Resource
	mu        sync.Mutex
	byDepth   map[int]*stackValues // by the converting run's depth limit
}

// stackValues is a StackInput under one depth limit. Every resource was
// scanned once up front, for what the whole evaluation must know before it
// starts: whether a value nests too deep (then nothing is evaluated) and
// every secret plaintext (for scrubbing). The CEL values of the real view,
// and of the masked one (secrets as unknowns), are built per resource on
// first access; a resource without secrets has one value for both views.
type stackValues struct {
	in       *StackInput
	maxDepth int
	m        *markers // the real view's, grown as resources are converted
	err      error    // a value nested too deep
	secret   []bool   // per resource: it holds a secret
	list     *resourceList

	mu        sync.Mutex // guards real and masked, and their shared values
	real      []ref.Val
	masked    []ref.Val
	shared    [2]shared // the real view's, the masked view's
	maskOnce  sync.Once
	mm        *markers // the masked view's
	maskedRes *resourceList
}

// NewStackInput wraps a stack's resources for EvaluateStackInput.
func NewStackInput(resources []*Resource) *StackInput {
	return &StackInput{resources: resources, byDepth: map[int]*stackValues{}}
}

func (in *StackInput) typeOf(i int) string { return in.resources[i].Type }

func (in *StackInput) values(maxDepth int) *stackValues {
	in.mu.Lock()
	defer in.mu.Unlock()
	if v := in.byDepth[maxDepth]; v != nil {
		return v
	}
	n := len(in.resources)
	v := &stackValues{in: in, maxDepth: maxDepth, m: &markers{base: unknownIDBase << 2},
		secret: make([]bool, n), real: make([]ref.Val, n), masked: make([]ref.Val, n)}
	for i := range v.shared {
		v.shared[i] = shared{providers: map[*Provider]map[string]any{}, options: map[optionsKey]map[string]any{}}
	}
	sc := scanner{m: v.m, limit: (&converter{maxDepth: maxDepth}).limit()}
	for i, res := range in.resources {
		if sc.resource(res) && v.err == nil {
			// Spell out where: convert it as evaluation would.
			c := &converter{m: &markers{}, named: true, maxDepth: maxDepth}
			c.resource(res)
			if c.err != nil {
				v.err = c.err
			}
		}
		v.secret[i] = sc.secret
	}
	v.list = newResourceList(v.elems(false), in.typeOf)
	in.byDepth[maxDepth] = v
	return v
}

// lazyElem is a list element standing for resource i of a stackValues,
// in the real or the masked view; stackAdapter converts it on access.
type lazyElem struct {
	v      *stackValues
	i      int
	masked bool
}

func (v *stackValues) elems(masked bool) []any {
	backing := make([]lazyElem, len(v.in.resources))
	out := make([]any, len(backing))
	for i := range backing {
		backing[i] = lazyElem{v: v, i: i, masked: masked}
		out[i] = &backing[i]
	}
	return out
}

// stackAdapter is the type adapter of the stack's resource lists: their
// elements are lazyElems, converted on first access.
type stackAdapter struct{}

func (stackAdapter) NativeToValue(value any) ref.Val {
	if e, ok := value.(*lazyElem); ok {
		return e.v.value(e.i, e.masked)
	}
	return types.DefaultTypeAdapter.NativeToValue(value)
}

// value is resource i's CEL value in the real or masked view.
func (v *stackValues) value(i int, masked bool) ref.Val {
	if masked && !v.secret[i] {
		masked = false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	cache, m, sh := v.real, v.m, &v.shared[0]
	if masked {
		cache, m, sh = v.masked, v.mm, &v.shared[1]
	}
	if cache[i] == nil {
		c := &converter{m: m, mask: masked, named: true, maxDepth: v.maxDepth, scanned: true, shared: sh}
		cache[i] = types.NewStringInterfaceMap(types.DefaultTypeAdapter, c.resource(v.in.resources[i]))
	}
	return cache[i]
}

func (v *stackValues) maskedList() (*resourceList, *markers) {
	v.maskOnce.Do(func() {
		v.mu.Lock()
		v.mm = &markers{base: unknownIDBase << 3}
		v.mu.Unlock()
		v.maskedRes = newResourceList(v.elems(true), v.in.typeOf)
	})
	return v.maskedRes, v.mm
}

// scanner walks a resource's values as converter.value does, without
// converting them: it notes secrets and says whether a value nests deeper
// than the limit.
type scanner struct {
	m      *markers
	limit  int
	secret bool // the last resource scanned holds a secret
	deep   bool
}

// resource scans a resource's properties and its provider's; it reports
// whether a value nests too deep.
func (sc *scanner) resource(r *Resource) bool {
	sc.secret, sc.deep = false, false
	sc.value(r.Props, 0)
	if r.Provider != nil {
		sc.value(r.Provider.Props, 0)
	}
	return sc.deep
}

func (sc *scanner) value(v any, depth int) {
	if depth > sc.limit {
		sc.deep = true
		return
	}
	switch v := v.(type) {
	case Secret:
		sc.secret = true
		sc.m.nsecret++
		sc.m.noteSecret(v.Value)
		sc.value(v.Value, depth)
	case *Secret:
		sc.value(*v, depth)
	case map[string]any:
		for _, e := range v {
			if !isScalar(e) {
				sc.value(e, depth+1)
			}
		}
	case []any:
		for _, e := range v {
			if !isScalar(e) {
				sc.value(e, depth+1)
			}
		}
	}
}

func newStackState(ctx context.Context, r *Run, in *StackInput) *state {
	v := in.values(r.limits.maxDepth)
	s := &state{ctx: ctx, r: r, m: v.m, secrets: v.m.nsecret > 0 || r.stack.m.nsecret > 0,
		limit: r.limits.stack,
		total: &budget{limit: r.limits.stackTotal, named: r.limits.stackTotal, shared: true}}
	if v.err != nil {
		s.inputErr = v.err
	} else if r.stack.err != nil {
		s.inputErr = r.stack.err
	}
	s.real = view{resources: v.list, stack: r.stack.real, m: v.m}
	s.mask = func() view {
		list, mm := v.maskedList()
		return view{resources: list, stack: r.stack.masked, m: mm}
	}
	return s
}

func (s *state) masked() view {
	if !s.secrets {
		return s.real
	}
	if s.cache == nil {
		v := s.mask()
		s.cache = &v
	}
	return *s.cache
}

// lookup finds what a CEL unknown id stands for, in any of the views.
func (s *state) lookup(id int64) (marker, bool) {
	for _, m := range []*markers{s.m, s.r.stack.m, s.r.stack.mm} {
		if mk, ok := m.lookup(id); ok {
			return mk, true
		}
	}
	if s.cache != nil {
		return s.cache.m.lookup(id)
	}
	return marker{}, false
}

// scrub replaces every known secret plaintext, in each of its escaped
// forms, in text. Rendering already masks values derived from secrets and
// errorText keeps them out of error text; this is the last line of defence.
// One replacer serves the whole evaluation: a stack holds many secrets.
func (s *state) scrub(text string) string {
	if s.scrubber == nil {
		var forms []string
		for _, sec := range slices.Concat(s.m.secrets, s.r.stack.m.secrets) {
			forms = append(forms, SecretForms(sec)...)
		}
		// Longest first: a secret that contains another is replaced whole.
		slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
		pairs := make([]string, 0, 2*len(forms))
		for _, f := range forms {
			pairs = append(pairs, f, "[secret]")
		}
		s.scrubber = strings.NewReplacer(pairs...)
	}
	return s.scrubber.Replace(text)
}

// activation resolves the names an expression can see. Variables are
// evaluated on first use and remembered for the rest of the evaluation.
type activation struct {
	ctx     context.Context
	v       *view
	config  any
	item    any
	hasItem bool
	pol     *Policy
	vals    []ref.Val
	// outer is the policy-wide activation of a forEach element: variables
	// that do not depend on item are evaluated and remembered there, once
	// for all elements.
	outer *activation
	// budget is what the policy's whole evaluation may still spend.
	budget *budget
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "resource":
		return a.v.resource, a.v.resource != nil
	case "resources":
		return a.v.resources, a.v.resources != nil
	case "stack":
		return a.v.stack, true
	case "config":
		return a.config, true
	case "item":
		return a.item, a.hasItem
	}
	if vname, ok := strings.CutPrefix(name, "variables."); ok {
		i, ok := a.pol.varIndex[vname]
		if !ok {
			return nil, false
		}
		if a.outer != nil && !a.pol.vars[i].perItem {
			return a.outer.ResolveName(name)
		}
		if a.vals[i] == nil {
			a.vals[i] = a.eval(a.pol.vars[i].prg)
		}
		return a.vals[i], true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// eval runs a program; failures come back as CEL error values. Its cost is
// charged to the policy's budget; once that is spent, every evaluation
// returns the cost-limit error, whatever it computed.
func (a *activation) eval(p *program) ref.Val {
	if p == nil {
		return types.NewErr("expression did not compile")
	}
	if a.budget.spent() {
		return types.WrapErr(a.budget.err())
	}
	out, det, err := p.prg.ContextEval(a.ctx, a)
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) {
		switch {
		case cancelled.Cause == interpreter.CostLimitExceeded:
			a.budget.exhaust()
		case a.ctx.Err() != nil:
			// Keep the context's error, so callers can tell a deadline
			// from a cancellation.
			return types.WrapErr(fmt.Errorf("%s: %w", cancelled.Message, a.ctx.Err()))
		}
	}
	if det != nil {
		if c := det.ActualCost(); c != nil {
			a.budget.charge(*c)
		}
	}
	if a.budget.spent() {
		return types.WrapErr(a.budget.err())
	}
	if err != nil {
		if out != nil && types.IsError(out) {
			return out
		}
		return types.WrapErr(err)
	}
	return out
}

func (a *activation) withItem(item any) *activation {
	b := *a
	b.item, b.hasItem = item, true
	b.vals = make([]ref.Val, len(a.pol.vars))
	b.outer = a
	return &b
}

func (s *state) activation(v *view, pol *Policy, set *policySettings) *activation {
	return &activation{ctx: s.ctx, v: v, config: set.config, pol: pol, vals: make([]ref.Val, len(pol.vars)), budget: s.budget}
}

// ErrCostLimit is wrapped by the error of a policy whose evaluation was
// stopped because it spent its cost budget (CostLimit, StackCostLimit,
// StackBudget). The policy has no verdict then: callers report the error at
// the policy's level, as any evaluation error, so a mandatory policy blocks.
var ErrCostLimit = errors.New("stopped: cost limit")

// budget is the cost one policy evaluation may spend, summed over every
// expression it runs (CEL's own limit applies per expression). A nil
// budget is unlimited.
type budget struct {
	limit, used uint64
	// named is the limit the error names: the policy's own, or, when
	// shared, the total of the pack's stack policies.
	named  uint64
	shared bool
	// reported is set once the policy's result holds the error.
	reported bool
}

func (b *budget) charge(c uint64) {
	if b != nil {
		b.used += c
	}
}

// exhaust marks the budget spent: an expression reached CEL's own limit,
// which is never above the policy's.
func (b *budget) exhaust() {
	if b != nil && b.used <= b.limit {
		b.used = b.limit + 1
	}
}

func (b *budget) spent() bool { return b != nil && b.used > b.limit }

func (b *budget) err() error {
	if b.shared {
		return fmt.Errorf("%w: the pack's stack policies together needed more than %d cost units", ErrCostLimit, b.named)
	}
	return fmt.Errorf("%w: the policy needed more than its %d cost units", ErrCostLimit, b.named)
}

// stop records, once, that the budget ran out at element item (-1: not
// in a forEach element) while evaluating what.
func (s *state) stop(res *Result, what string, item int) {
	if s.budget == nil || s.budget.reported {
		return
	}
	s.budget.reported = true
	if item >= 0 {
		what = fmt.Sprintf("%s: forEach element %d", what, item)
	}
	res.Errors = append(res.Errors, fmt.Errorf("%s: %w", what, s.budget.err()))
}

// run evaluates one policy. A panic inside CEL or a helper becomes an error
// in the result: one broken policy never stops the others.
func (s *state) run(pol *Policy, set *policySettings) (res Result) {
	res = Result{Policy: pol, Level: set.level}
	defer func() {
		if p := recover(); p != nil {
			res.Errors = append(res.Errors, fmt.Errorf("internal error: %s", s.scrub(fmt.Sprint(p))))
		}
	}()
	if err := pol.compiled(); err != nil {
		res.Errors = append(res.Errors, err)
		return res
	}
	s.budget = s.policyBudget()
	if s.total != nil && s.budget != nil {
		defer func() { s.total.charge(s.budget.used) }()
	}
	if s.budget.spent() {
		s.stop(&res, "policy", -1)
		return res
	}
	act := s.activation(&s.real, pol, set)
	if pol.when != nil {
		switch v := act.eval(pol.when); {
		case v == types.False:
			res.NotApplicable = pol.whenWhy
			return res
		case v == types.True:
		default:
			if !s.undecidedOrError(&res, v, -1, "when", s.again(pol, set, pol.when, nil)) {
				return res
			}
		}
	}
	if pol.forEach == nil {
		s.check(&res, act, pol, set, -1, nil)
		if s.budget.spent() {
			s.stop(&res, "message", -1) // a violation's message ran out
		}
		return res
	}
	list := act.eval(pol.forEach)
	lister, ok := list.(traits.Lister)
	if !ok {
		if !types.IsUnknownOrError(list) {
			list = types.NewErr("want a list, got %s", list.Type().TypeName())
		}
		s.undecidedOrError(&res, list, -1, "forEach", s.again(pol, set, pol.forEach, nil))
		return res
	}
	var maskedItems traits.Lister
	n := int(lister.Size().(types.Int))
	for i := range n {
		if s.budget.spent() {
			s.stop(&res, "violation", i)
			break
		}
		if err := s.ctx.Err(); err != nil {
			// One error for the rest, not one per element left (the
			// element it interrupted may have reported it already).
			if k := len(res.Errors); k == 0 || !errors.Is(res.Errors[k-1], err) {
				res.Errors = append(res.Errors, fmt.Errorf("violation: forEach element %d: %w", i, err))
			}
			break
		}
		item := lister.Get(types.Int(i))
		s.check(&res, act.withItem(item), pol, set, i, func() any {
			if maskedItems == nil {
				mv := s.masked()
				ml, ok := s.activation(&mv, pol, set).eval(pol.forEach).(traits.Lister)
				if !ok || int(ml.Size().(types.Int)) != n {
					return secretItem
				}
				maskedItems = ml
			}
			return maskedItems.Get(types.Int(i))
		})
		if s.budget.spent() {
			s.stop(&res, "violation", i)
			break
		}
	}
	return res
}

// policyBudget is the budget of the next policy: its own limit, or what is
// left of the shared total when that is less. It is the state's one budget
// value, reset: policies of a state run one after the other, and Evaluate
// runs one per policy, so it allocates nothing.
func (s *state) policyBudget() *budget {
	if s.limit == 0 {
		return nil
	}
	if s.total == nil || s.total.limit-min(s.total.used, s.total.limit) >= s.limit {
		s.own = budget{limit: s.limit, named: s.limit}
		return &s.own
	}
	s.own = budget{limit: s.total.limit - min(s.total.used, s.total.limit), named: s.total.named, shared: true}
	if s.total.spent() || s.own.limit == 0 {
		s.own.exhaust()
	}
	return &s.own
}

// secretItem stands for a forEach element that cannot be lined up with its
// masked twin (the list itself depends on a secret): everything rendered
// from it shows as a secret.
var secretItem = types.NewUnknown(-1, nil)

// check evaluates the violation for one element (or the whole resource).
func (s *state) check(res *Result, act *activation, pol *Policy, set *policySettings, item int, maskedItem func() any) {
	v := act.eval(pol.violation)
	switch {
	case v == types.True:
		res.Violations = append(res.Violations, Violation{
			Message: s.render(pol, set, item, maskedItem),
			URN:     itemURN(act),
			Item:    item,
		})
	case v == types.False:
	default:
		if _, isBool := v.(types.Bool); !isBool && !types.IsUnknownOrError(v) {
			v = types.NewErr("violation must be a bool, got %s", v.Type().TypeName())
		}
		s.undecidedOrError(res, v, item, "violation", s.again(pol, set, pol.violation, maskedItem))
	}
}

// itemURN is the URN of a stack policy's offending element: the item when
// it is a resource.
func itemURN(act *activation) string {
	if !act.hasItem || act.v.resources == nil {
		return ""
	}
	if m, ok := act.item.(traits.Mapper); ok {
		if u, found := m.Find(types.String("urn")); found {
			if s, ok := u.(types.String); ok {
				return string(s)
			}
		}
	}
	return ""
}

// undecidedOrError records an unknown or error verdict; it reports whether
// the value was neither (evaluation may go on). again evaluates the same
// expression in the masked view, for errorText.
func (s *state) undecidedOrError(res *Result, v ref.Val, item int, what string, again func() ref.Val) bool {
	switch v := v.(type) {
	case *types.Unknown:
		res.Undecided = append(res.Undecided, Undecided{Item: item, Values: s.refs(v)})
		return false
	case *types.Err:
		if errors.Is(v.Unwrap(), ErrCostLimit) {
			s.stop(res, what, item)
			return false
		}
		if errors.Is(v.Unwrap(), context.Canceled) || errors.Is(v.Unwrap(), context.DeadlineExceeded) {
			res.Errors = append(res.Errors, fmt.Errorf("%s: %w", what, v.Unwrap()))
			return false
		}
		msg := s.errorText(v, again)
		if item >= 0 {
			msg = fmt.Sprintf("forEach element %d: %s", item, msg)
		}
		res.Errors = append(res.Errors, fmt.Errorf("%s: %s", what, msg))
		return false
	}
	return true
}

// withheld is the text of an error that only a secret's value explains.
const withheld = "the error depends on a secret value; its details are withheld"

// errorText is the text of an evaluation error, safe to show. Error text is
// written by CEL and its helpers, which quote their arguments (timestamp()
// and friends, in every escaping there is, and after any transformation of
// the value), so scrubbing the plaintext cannot be enough: when the input
// holds secrets, the failing expression runs again in the masked view,
// where no secret is there to quote, and that run's error is the one shown.
// If the masked run does not fail the same way, the error is the secret's
// doing and its details are withheld. The verdict stays an error either
// way; only its text changes.
func (s *state) errorText(e *types.Err, again func() ref.Val) string {
	if !s.secrets || again == nil {
		return s.scrub(e.Error())
	}
	if me, ok := again().(*types.Err); ok {
		return s.scrub(me.Error())
	}
	return withheld
}

// again returns a function evaluating p in the masked view, for the
// element maskedItem gives when the policy iterates (nil otherwise).
func (s *state) again(pol *Policy, set *policySettings, p *program, maskedItem func() any) func() ref.Val {
	return func() ref.Val {
		mv := s.masked()
		act := s.activation(&mv, pol, set)
		if maskedItem != nil {
			act = act.withItem(maskedItem())
		}
		return act.eval(p)
	}
}

// refs lists the unknown values an unknown verdict depends on, sorted.
func (s *state) refs(u *types.Unknown) []ValueRef {
	var out []ValueRef
	for _, id := range u.IDs() {
		if mk, ok := s.lookup(id); ok && !mk.secret {
			out = append(out, mk.ref)
		}
	}
	slices.SortFunc(out, func(a, b ValueRef) int { return strings.Compare(a.String(), b.String()) })
	return slices.CompactFunc(out, func(a, b ValueRef) bool { return a.String() == b.String() })
}

// render builds a violation message in the masked view, so that a value
// derived from a secret shows as [secret] and an unknown one as [unknown].
func (s *state) render(pol *Policy, set *policySettings, item int, maskedItem func() any) string {
	if len(pol.message) == 0 {
		return ""
	}
	mv := s.masked()
	act := s.activation(&mv, pol, set)
	if item >= 0 {
		act = act.withItem(maskedItem())
	}
	var b strings.Builder
	for _, part := range pol.message {
		if part.prg == nil {
			b.WriteString(part.literal)
			continue
		}
		v := act.eval(part.prg)
		if e, ok := v.(*types.Err); ok {
			b.WriteString("[error: " + s.scrub(e.Error()) + "]")
			continue
		}
		text := format(v, s.describeUnknown)
		// Rendering is work CEL does not count: a forEach whose message
		// shows a large value would otherwise format it per element for
		// free.
		s.budget.charge(1 + uint64(len(text))/10)
		b.WriteString(text)
	}
	return s.scrub(b.String())
}

func (s *state) describeUnknown(u *types.Unknown) string {
	if u == secretItem {
		return "[secret]"
	}
	for _, id := range u.IDs() {
		if mk, ok := s.lookup(id); ok && mk.secret {
			return "[secret]"
		}
	}
	return "[unknown]"
}

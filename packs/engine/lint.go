package engine

import (
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"

	"github.com/warden-policy/warden/packs/spec"
)

// CodeQuadratic is the code of the warning for a stack policy that scans
// the stack's resources once per forEach element.
const CodeQuadratic = "quadratic"

// scan finds, in an expression evaluated once per forEach element of a
// stack policy, a place that goes through the stack's resources: a
// comprehension (exists, all, filter, map, ...) over resources, or over a
// list variable built from them, or `in` on such a list. Each is a scan
// per element: the policy is quadratic in the stack. resources.referencing
// is an index lookup, and `in` on a map (sets.of) a hash lookup: neither
// is a scan. It returns the offending node, or nil.
func scan(a *cel.Ast, fromResources map[string]bool) celast.Expr {
	native := a.NativeRep()
	var found celast.Expr
	celast.PreOrderVisit(native.Expr(), celast.NewExprVisitor(func(x celast.Expr) {
		if found != nil {
			return
		}
		switch x.Kind() {
		case celast.ComprehensionKind:
			if mentionsResources(x.AsComprehension().IterRange(), fromResources) {
				found = x
			}
		case celast.CallKind:
			call := x.AsCall()
			if call.FunctionName() == "@in" && len(call.Args()) == 2 {
				list := call.Args()[1]
				if t := native.GetType(list.ID()); t != nil && t.Kind() == types.ListKind && mentionsResources(list, fromResources) {
					found = x
				}
			}
		}
	}))
	return found
}

// mentionsResources reports whether e reads the stack's resources (or a
// variable built from them), other than through resources.referencing.
func mentionsResources(e celast.Expr, fromResources map[string]bool) bool {
	switch e.Kind() {
	case celast.IdentKind:
		id := e.AsIdent()
		return id == "resources" || fromResources[strings.TrimPrefix(id, "variables.")] && strings.HasPrefix(id, "variables.")
	case celast.SelectKind:
		return mentionsResources(e.AsSelect().Operand(), fromResources)
	case celast.CallKind:
		call := e.AsCall()
		if call.FunctionName() == "referencing" {
			return false
		}
		if call.IsMemberFunction() && mentionsResources(call.Target(), fromResources) {
			return true
		}
		for _, arg := range call.Args() {
			if mentionsResources(arg, fromResources) {
				return true
			}
		}
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			if mentionsResources(el, fromResources) {
				return true
			}
		}
	case celast.ComprehensionKind:
		c := e.AsComprehension()
		return mentionsResources(c.IterRange(), fromResources) || mentionsResources(c.Result(), fromResources) ||
			mentionsResources(c.LoopStep(), fromResources) || mentionsResources(c.AccuInit(), fromResources)
	}
	return false
}

// warnScan records a quadratic warning for expression e of the policy
// when a (its compiled AST) scans the resources per element.
func (c *compiler) warnScan(a *cel.Ast, e *spec.Expr, what string) {
	x := scan(a, c.fromResources)
	if x == nil {
		return
	}
	loc := a.NativeRep().SourceInfo().GetStartLocation(x.ID())
	c.warnings.Add(e.At(loc.Line(), loc.Column()), CodeQuadratic, c.pack.Name, c.pol,
		"%s goes through the stack's resources once per forEach element: the policy is quadratic in the stack "+
			"(on large stacks it runs out of its cost budget); build a set once in a variable that does not use item "+
			"(sets.of(...)), or join with resources.referencing(...)", what)
}

// Package engine is the front door to Warden's policy evaluation: it compiles
// a parsed pack (package spec) into CEL programs once, at load, and evaluates
// them per resource and per stack.
//
// The three phases follow cel-go's own: Compile (one CEL environment per
// policy kind, shared by every pack; one program per expression) → NewRun
// (bind a stack and a validated config) → Evaluate / EvaluateStack /
// Remediate (per resource, safe for concurrent use).
//
// # Values
//
// Resource properties are JSON-like Go values with two markers: Unknown (a
// value not known during preview) and Secret (a value whose plaintext may be
// inspected but never shown). Unknowns become CEL unknown values inside the
// data, so CEL's own partial-evaluation rules decide whether a verdict
// depends on them: `false && unknown` is false, `true || unknown` is true, a
// comparison with an unknown is unknown. A policy is reported as undecided
// ("can't run during preview") only when its verdict really is unknown, and
// the result names the unknown value's path (.tags.owner). Unlike attribute
// patterns, data-level unknowns stay precise inside lists: one unknown
// ingress rule does not hide a known violation in the rule beside it.
//
// Messages are rendered from a second, masked view of the same input in which
// every secret is an unknown flagged as secret: anything derived from a
// secret renders as [secret], anything unknown as [unknown]. Error text comes
// from the masked view too: when the input holds secrets, a failing
// expression is evaluated again with them masked, and an error only a
// secret explains is reported without its details, because CEL and its
// helpers quote their arguments. Every text is also scrubbed of secret
// plaintexts, quoted or escaped, as a last line of defence.
//
// # Numbers
//
// Pulumi numbers are float64. The environment enables CEL's cross-type
// numeric comparisons, so `resource.props.port == 22` and `< 23.5` hold for
// 22.0. Arithmetic mixing int and double needs an explicit int() or
// double(), as CEL requires.
//
// # Helpers
//
// Besides CEL's standard extensions (strings, lists, math, sets, bindings,
// two-variable comprehensions, base64 and json.encode), policies have
// json.parse, cidr.*, ports.covers, semver.* and sets.of: see library.go.
// The helpers (and json.encode) cost in proportion to the size of what they
// read and return.
//
// # Limits
//
// A policy's whole evaluation on one input -- guard, variables, forEach,
// every element, messages -- draws from one cost budget (CostLimit per
// resource policy, StackCostLimit per stack policy, StackBudget for a
// pack's stack policies together); a policy that spends it stops with an
// error wrapping ErrCostLimit. Values nested deeper than MaxDepth are
// refused with a DepthError. Evaluation checks its context, so Cancel and
// request deadlines stop long evaluations. A failure in one policy becomes
// an error in its Result, reported at the policy's level; the other
// policies still run.
package engine

package engine

import (
	"context"
	"fmt"

	"cel.dev/cel-go/common/types"

	"github.com/warden-policy/warden/packs/spec"
)

// Remediation is what one remediate-level policy did to a resource.
type Remediation struct {
	Policy *Policy
	// Changed is set when the policy was violated and rewrote the inputs;
	// Props are then the inputs after this policy (and those before it).
	Changed bool
	Props   map[string]any
	// Result is the policy's verdict on the inputs it was given.
	Result Result
}

// Remediate runs, in declaration order, every policy at level remediate that
// declares a remediation and applies to res. A violated policy rewrites the
// inputs; the next policy sees the rewritten ones. The returned props are
// res.Props when nothing changed. Values that were secret stay secret, and a
// value computed from a secret becomes one.
func (r *Run) Remediate(ctx context.Context, res *Resource) (map[string]any, []Remediation) {
	return r.RemediateExcept(ctx, res, nil)
}

// RemediateExcept is Remediate leaving out the policies skip says to (an
// exception covers the resource, say).
func (r *Run) RemediateExcept(ctx context.Context, res *Resource, skip func(*Policy) bool) (map[string]any, []Remediation) {
	props := res.Props
	var out []Remediation
	for _, pol := range r.Pack.forType(res.Type).applies {
		set := r.settings[pol]
		if set.level != spec.Remediate || pol.compiled() == nil && pol.remediate == nil || skip != nil && skip(pol) || set.scope.excludes(res.Name) {
			continue
		}
		cur := *res
		cur.Props = props
		s := newResourceState(ctx, r, &cur)
		if s.inputErr != nil {
			// Nothing is remediated on a value the engine refused.
			out = append(out, Remediation{Policy: pol, Result: Result{Policy: pol, Level: set.level, Errors: []error{s.inputErr}}})
			continue
		}
		result := s.run(pol, set)
		rem := Remediation{Policy: pol, Result: result}
		if len(result.Violations) > 0 {
			next, err := s.apply(pol, set, props)
			if err != nil {
				rem.Result.Errors = append(rem.Result.Errors, err)
			} else {
				props, rem.Changed, rem.Props = next, true, next
			}
		}
		out = append(out, rem)
	}
	return props, out
}

// apply computes every assignment on the current inputs, then writes them
// into a copy, so assignments do not see each other's results.
func (s *state) apply(pol *Policy, set *policySettings, props map[string]any) (map[string]any, error) {
	act := s.activation(&s.real, pol, set)
	values := make([]any, len(pol.remediate.set))
	for i, a := range pol.remediate.set {
		v := act.eval(a.prg)
		switch v := v.(type) {
		case *types.Unknown:
			return nil, fmt.Errorf("remediate %s: the value depends on %s, unknown during preview", a.text, refList(s.refs(v)))
		case *types.Err:
			return nil, fmt.Errorf("remediate %s: %s", a.text, s.errorText(v, s.again(pol, set, a.prg, nil)))
		}
		nv, err := fromCEL(v)
		if err != nil {
			return nil, fmt.Errorf("remediate %s: %v", a.text, err)
		}
		if s.secrets && s.derivedFromSecret(pol, set, a.prg) {
			nv = Secret{Value: nv}
		}
		values[i] = nv
	}
	out := deepCopy(props).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	for i, a := range pol.remediate.set {
		if err := setPath(out, a.path, values[i]); err != nil {
			return nil, fmt.Errorf("remediate %s: %v", a.text, err)
		}
	}
	for _, p := range pol.remediate.remove {
		removePath(out, p)
	}
	return out, nil
}

// derivedFromSecret evaluates the expression with secrets masked: if the
// result then depends on a masked secret, the value is secret.
func (s *state) derivedFromSecret(pol *Policy, set *policySettings, p *program) bool {
	mv := s.masked()
	u, ok := s.activation(&mv, pol, set).eval(p).(*types.Unknown)
	return ok && s.describeUnknown(u) == "[secret]"
}

func refList(refs []ValueRef) string {
	if len(refs) == 0 {
		return "a value"
	}
	return refs[0].String()
}

// setPath assigns v at path inside m, creating maps on the way. Secret
// containers on the way are opened and sealed again, and a value replacing a
// secret is secret.
func setPath(m map[string]any, path spec.Path, v any) error {
	var cur any = m
	var seal []func() // re-wrap opened secrets, innermost first
	for i, e := range path {
		last := i == len(path)-1
		if sec, ok := cur.(Secret); ok {
			cur = sec.Value
		}
		switch c := cur.(type) {
		case map[string]any:
			if e.IsIndex {
				return fmt.Errorf("%s is a map, not a list", path[:i])
			}
			if last {
				if _, wasSecret := c[e.Key].(Secret); wasSecret {
					if _, isSecret := v.(Secret); !isSecret {
						v = Secret{Value: v}
					}
				}
				c[e.Key] = v
				break
			}
			next, ok := c[e.Key]
			if !ok || next == nil {
				next = map[string]any{}
				c[e.Key] = next
			}
			if sec, ok := next.(Secret); ok {
				inner := deepCopy(sec.Value)
				key := e.Key
				c[key] = inner
				seal = append(seal, func() { c[key] = Secret{Value: c[key]} })
				next = inner
			}
			cur = next
		case []any:
			if !e.IsIndex {
				return fmt.Errorf("%s is a list, not a map", path[:i])
			}
			if e.Index >= len(c) {
				return fmt.Errorf("index %d is out of range: %s has %d elements", e.Index, path[:i], len(c))
			}
			if last {
				if _, wasSecret := c[e.Index].(Secret); wasSecret {
					if _, isSecret := v.(Secret); !isSecret {
						v = Secret{Value: v}
					}
				}
				c[e.Index] = v
				break
			}
			next := c[e.Index]
			if sec, ok := next.(Secret); ok {
				inner := deepCopy(sec.Value)
				idx := e.Index
				c[idx] = inner
				seal = append(seal, func() { c[idx] = Secret{Value: c[idx]} })
				next = inner
			}
			cur = next
		case Unknown:
			return fmt.Errorf("%s is unknown during preview", path[:i])
		default:
			return fmt.Errorf("%s is a %T, not a map or list", path[:i], cur)
		}
	}
	for i := len(seal) - 1; i >= 0; i-- {
		seal[i]()
	}
	return nil
}

// removePath deletes the value at path; a missing path is not an error.
func removePath(m map[string]any, path spec.Path) {
	var cur any = m
	for i, e := range path {
		if sec, ok := cur.(Secret); ok {
			cur = sec.Value
		}
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			if e.IsIndex {
				return
			}
			if last {
				delete(c, e.Key)
				return
			}
			cur = c[e.Key]
		case []any:
			if !e.IsIndex || e.Index >= len(c) {
				return
			}
			cur = c[e.Index]
		default:
			return
		}
	}
}

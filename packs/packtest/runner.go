package packtest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

// CaseResult is the outcome of one case.
type CaseResult struct {
	Suite    *Suite
	Case     *Case
	Failures []Failure
	// Seen records which outcome each policy produced, for coverage.
	Seen map[string]Outcome
}

// Passed reports whether every expectation held.
func (r *CaseResult) Passed() bool { return len(r.Failures) == 0 }

// Failure is one expectation that did not hold.
type Failure struct {
	Pos      spec.Pos
	Policy   string
	Expected string
	Got      string
}

func (f Failure) String() string {
	return fmt.Sprintf("%s: %s: expected %s, got %s", f.Pos, f.Policy, f.Expected, f.Got)
}

// Run runs every case of every suite against the pack and returns one result
// per case, in file order.
func Run(ctx context.Context, pack *engine.Pack, suites []*Suite) ([]*CaseResult, error) {
	var out []*CaseResult
	for _, s := range suites {
		for _, c := range s.Cases {
			r, err := runCase(ctx, pack, s, c)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func runCase(ctx context.Context, pack *engine.Pack, s *Suite, c *Case) (*CaseResult, error) {
	res := &CaseResult{Suite: s, Case: c, Seen: map[string]Outcome{}}
	run, err := pack.NewRun(c.Stack, s.Config)
	if err != nil {
		return nil, err // positioned at the config in the file
	}
	got := map[string]*engine.Result{}
	var results []engine.Result
	if c.Resource != nil {
		props, _ := run.Remediate(ctx, c.Resource)
		if c.Remediated != nil {
			if !reflect.DeepEqual(plain(props), plain(c.Remediated)) || !sameSecrets(props, c.Remediated) {
				res.Failures = append(res.Failures, Failure{Pos: c.Pos, Policy: "remediation",
					Expected: render(c.Remediated), Got: render(props)})
			}
		}
		analyzed := *c.Resource
		analyzed.Props = props
		results = run.Evaluate(ctx, &analyzed)
		for _, pol := range pack.SkippedFor(c.Resource.Type) {
			results = append(results, engine.Result{Policy: pol, NotApplicable: "type " + c.Resource.Type + " is not in resourceTypes"})
		}
	} else {
		results = run.EvaluateStack(ctx, c.Resources)
	}
	secrets := caseSecrets(c)
	for i := range results {
		got[results[i].Policy.Name] = &results[i]
		res.Seen[results[i].Policy.Name] = outcome(&results[i])
		// Whatever a case expects, a secret must never reach a message.
		if leak := leakedSecret(&results[i], secrets); leak != "" {
			res.Failures = append(res.Failures, Failure{Pos: c.Pos, Policy: results[i].Policy.Name,
				Expected: "no secret value in any message", Got: "a secret value in " + leak})
		}
	}
	for _, e := range c.Expect {
		pol := pack.Policy(e.Policy)
		if pol == nil {
			res.Failures = append(res.Failures, Failure{Pos: e.Pos, Policy: e.Policy, Expected: "a policy of that name", Got: "no such policy in pack " + pack.Name})
			continue
		}
		r := got[e.Policy]
		if r == nil {
			kind := "resource"
			if c.Resource == nil {
				kind = "stack"
			}
			if pol.Kind == spec.ResourceKind && c.Resource == nil || pol.Kind == spec.StackKind && c.Resource != nil {
				res.Failures = append(res.Failures, Failure{Pos: e.Pos, Policy: e.Policy, Expected: string(e.Result),
					Got: fmt.Sprintf("nothing: it is a %s policy and this is a %s case", pol.Kind, kind)})
				continue
			}
			r = &engine.Result{Policy: pol, NotApplicable: "disabled"}
		}
		if f := check(e, r); f != "" {
			res.Failures = append(res.Failures, Failure{Pos: e.Pos, Policy: e.Policy, Expected: describe(e), Got: f})
		}
	}
	return res, nil
}

func outcome(r *engine.Result) Outcome {
	switch {
	case r.NotApplicable != "":
		return NotApplicable
	case len(r.Errors) > 0:
		return Error
	case len(r.Violations) > 0:
		return Violation
	case len(r.Undecided) > 0:
		return CantRun
	}
	return Pass
}

// check returns "" when r meets e, else a description of what r is.
func check(e *Expectation, r *engine.Result) string {
	got := outcome(r)
	// A known violation beside an undecided element counts as a violation;
	// cant-run is checked on its own.
	ok := got == e.Result || e.Result == CantRun && len(r.Undecided) > 0 && len(r.Errors) == 0
	if ok {
		switch e.Result {
		case Violation:
			if e.Count > 0 && len(r.Violations) != e.Count {
				ok = false
			}
			if e.Message != "" && !slices.ContainsFunc(r.Violations, func(v engine.Violation) bool { return strings.Contains(v.Message, e.Message) }) {
				ok = false
			}
		case CantRun:
			if e.Path != "" && !slices.ContainsFunc(r.Undecided, func(u engine.Undecided) bool {
				return slices.ContainsFunc(u.Values, func(v engine.ValueRef) bool { return v.Path.String() == e.Path || v.String() == e.Path })
			}) {
				ok = false
			}
		case Error:
			if e.Message != "" && !slices.ContainsFunc(r.Errors, func(err error) bool { return strings.Contains(err.Error(), e.Message) }) {
				ok = false
			}
		}
	}
	if ok {
		return ""
	}
	return describeResult(r)
}

func describe(e *Expectation) string {
	s := string(e.Result)
	if e.Count > 0 {
		s += fmt.Sprintf(" x%d", e.Count)
	}
	if e.Message != "" {
		s += fmt.Sprintf(" with message containing %q", e.Message)
	}
	if e.Path != "" {
		s += " on " + e.Path
	}
	return s
}

func describeResult(r *engine.Result) string {
	var parts []string
	if r.NotApplicable != "" {
		return "not-applicable (" + r.NotApplicable + ")"
	}
	for _, v := range r.Violations {
		parts = append(parts, fmt.Sprintf("violation %q", v.Message))
	}
	for _, u := range r.Undecided {
		parts = append(parts, "cant-run ("+u.Reason()+")")
	}
	for _, err := range r.Errors {
		parts = append(parts, "error ("+err.Error()+")")
	}
	if len(parts) == 0 {
		return "pass"
	}
	return strings.Join(parts, "; ")
}

// plain strips secret markers, for comparing values.
func plain(v any) any {
	switch v := v.(type) {
	case engine.Secret:
		return plain(v.Value)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// sameSecrets reports whether the same paths are secret in a and b.
func sameSecrets(a, b any) bool {
	_, sa := a.(engine.Secret)
	_, sb := b.(engine.Secret)
	if sa != sb {
		return false
	}
	if sa {
		return sameSecrets(a.(engine.Secret).Value, b.(engine.Secret).Value)
	}
	switch av := a.(type) {
	case map[string]any:
		bv, _ := b.(map[string]any)
		for k := range av {
			if !sameSecrets(av[k], bv[k]) {
				return false
			}
		}
	case []any:
		bv, _ := b.([]any)
		for i := range av {
			if i < len(bv) && !sameSecrets(av[i], bv[i]) {
				return false
			}
		}
	}
	return true
}

// render shows props for a failure, with secrets named but not shown.
func render(v any) string {
	switch v := v.(type) {
	case engine.Secret:
		return "!secret"
	case engine.Unknown:
		return "!unknown"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + render(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = render(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case string:
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprint(v)
}

// caseSecrets lists the plaintexts of the secret values of a case, as
// strings, leaving out those too short to be told from ordinary text.
func caseSecrets(c *Case) []string {
	var out []string
	var walk func(v any, secret bool)
	walk = func(v any, secret bool) {
		switch v := v.(type) {
		case engine.Secret:
			walk(v.Value, true)
		case map[string]any:
			for _, e := range v {
				walk(e, secret)
			}
		case []any:
			for _, e := range v {
				walk(e, secret)
			}
		case nil:
		default:
			if s := fmt.Sprint(v); secret && len(s) >= 4 {
				out = append(out, s)
			}
		}
	}
	resources := c.Resources
	if c.Resource != nil {
		resources = append(resources, c.Resource)
	}
	for _, r := range resources {
		walk(r.Props, false)
		if r.Provider != nil {
			walk(r.Provider.Props, false)
		}
	}
	walk(c.Stack.Config, false)
	return out
}

// leakedSecret names the part of r that shows one of secrets, in any
// rendering, or "".
func leakedSecret(r *engine.Result, secrets []string) string {
	if len(secrets) == 0 {
		return ""
	}
	texts := map[string]string{"not-applicable reason": r.NotApplicable}
	for i, v := range r.Violations {
		texts[fmt.Sprintf("violation %d", i)] = v.Message
	}
	for i, e := range r.Errors {
		texts[fmt.Sprintf("error %d", i)] = e.Error()
	}
	for i, u := range r.Undecided {
		texts[fmt.Sprintf("can't-run reason %d", i)] = u.Reason()
	}
	for where, text := range texts {
		for _, s := range secrets {
			// Quoted, JSON- or XML-escaped, a secret is still shown.
			for _, form := range engine.SecretForms(s) {
				if strings.Contains(text, form) {
					return where
				}
			}
		}
	}
	return ""
}

// Coverage says which outcomes a policy's cases exercised.
type Coverage struct {
	Violation, Pass bool
}

// CoverageOf reports, for one policy, whether some passing case expected a
// violation and some passing case expected a pass.
func CoverageOf(results []*CaseResult, policy string) Coverage {
	var c Coverage
	for _, r := range results {
		if !r.Passed() {
			continue
		}
		for _, e := range r.Case.Expect {
			if e.Policy != policy {
				continue
			}
			c.Violation = c.Violation || e.Result == Violation
			c.Pass = c.Pass || e.Result == Pass
		}
	}
	return c
}

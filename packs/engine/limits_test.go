package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
)

// costPack holds policies that did unbounded work within the old limits:
// helpers charged one unit whatever their input, and every forEach element
// got a fresh budget.
const costPack = `
name: cost
version: 0.1.0
policies:
  - name: parse-many
    description: parses a large document again and again
    violation: lists.range(1000).all(i, json.parse(resource.props.doc).size() > 0)
  - name: ports-many
    description: scans a long port list again and again
    violation: lists.range(1000).all(i, !ports.covers(resource.props.ports, 22))
  - name: long-foreach
    description: a modest check on each of very many elements
    forEach: lists.range(200000)
    violation: lists.range(50).exists(x, x == item + 1000)
  - name: encode
    description: json.encode works within the limit
    violation: 'json.encode({"a": 1}) != "{\"a\":1}"'
  - name: cheap
    description: a cheap check beside the expensive ones
    violation: resource.props.size > 10
`

func bigResource() *engine.Resource {
	ports := make([]any, 20000)
	for i := range ports {
		ports[i] = fmt.Sprint(1000 + i%50000)
	}
	return &engine.Resource{Type: "test:index:Thing", URN: "urn:pulumi:s::p::test:index:Thing::t", Props: map[string]any{
		"doc":   "[" + strings.Repeat("1,", 100000) + "1]",
		"ports": ports,
		"size":  50.0,
	}}
}

// TestCostLimitWholeEvaluation: helpers are priced by the size of their
// input and a policy's elements share one budget, so each adversarial
// policy stops with the cost-limit error (not a pass) and the others run.
func TestCostLimitWholeEvaluation(t *testing.T) {
	t.Parallel()
	run, err := mustParse(t, costPack).NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := results(run.Evaluate(t.Context(), bigResource()))
	for _, name := range []string{"parse-many", "ports-many", "long-foreach"} {
		r := got[name]
		if len(r.Errors) != 1 || !errors.Is(r.Errors[0], engine.ErrCostLimit) || r.Passed() {
			t.Errorf("%s: got %+v, want one cost-limit error", name, r)
			continue
		}
		if msg := r.Errors[0].Error(); !strings.Contains(msg, "stopped: cost limit") {
			t.Errorf("%s: error %q does not say it was stopped", name, msg)
		}
	}
	if msg := got["long-foreach"].Errors[0].Error(); !strings.HasPrefix(msg, "violation: forEach element ") {
		t.Errorf("long-foreach: error %q does not name the element it stopped at", msg)
	}
	if r := got["encode"]; !r.Passed() {
		t.Errorf("encode: got %+v, want json.encode to work and the policy to pass", r)
	}
	if r := got["cheap"]; len(r.Violations) != 1 || len(r.Errors) != 0 {
		t.Errorf("cheap: got %+v, want one violation", r)
	}
}

// TestJSONEncode: json.encode is priced by its output, not as unbounded.
func TestJSONEncode(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `
name: enc
version: 0.1.0
policies:
  - name: encode
    description: encodes the props
    violation: json.encode(resource.props) == ""
    message: "{{ json.encode(resource.props.tags) }}"
  - name: encode-true
    description: encodes the props
    violation: json.encode(resource.props) != ""
    message: "{{ json.encode(resource.props.tags) }}"
`)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := results(run.Evaluate(t.Context(), &engine.Resource{Type: "t:i:T", Props: map[string]any{
		"tags": map[string]any{"a": 1.0}, "list": []any{"x", true, nil},
	}}))
	if r := got["encode"]; !r.Passed() {
		t.Errorf("encode: got %+v, want a pass", r)
	}
	if r := got["encode-true"]; len(r.Violations) != 1 || r.Violations[0].Message != `{"a":1}` {
		t.Errorf("encode-true: got %+v, want one violation with message {\"a\":1}", r)
	}
}

// TestStackCostLimit: a stack forEach that scans every resource per
// element stops at the policy's limit; the pack's stack policies share a
// budget, so the next one stops too once it is spent.
func TestStackCostLimit(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `
name: stack
version: 0.1.0
policies:
  - name: pairwise
    kind: stack
    description: looks for a partner of every resource among all of them
    forEach: resources
    violation: '!resources.exists(r, r.props.n == item.props.n + 100000.0)'
  - name: after
    kind: stack
    description: a cheap policy after the expensive one
    violation: size(resources) == 0
`)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var res []*engine.Resource
	for i := range 500 {
		res = append(res, &engine.Resource{URN: fmt.Sprint("urn:", i), Type: "t:i:T", Props: map[string]any{"n": float64(i)}})
	}
	// 500 × 500 comparisons cost about 3 million units.
	t.Run("policy limit", func(t *testing.T) {
		t.Parallel()
		got := results(run.WithLimits(0, 100_000, 0, 0).EvaluateStack(t.Context(), res))
		if r := got["pairwise"]; len(r.Errors) != 1 || !errors.Is(r.Errors[0], engine.ErrCostLimit) || len(r.Violations) >= 500 {
			t.Errorf("pairwise: got %d violations, errors %v; want a cost-limit error before the end", len(r.Violations), r.Errors)
		}
		if r := got["after"]; !r.Passed() {
			t.Errorf("after: got %+v, want a pass (its own budget)", r)
		}
	})
	t.Run("pack budget", func(t *testing.T) {
		t.Parallel()
		got := results(run.WithLimits(0, 100_000, 100_000, 0).EvaluateStack(t.Context(), res))
		if r := got["after"]; len(r.Errors) != 1 || !errors.Is(r.Errors[0], engine.ErrCostLimit) ||
			!strings.Contains(r.Errors[0].Error(), "stack policies together") {
			t.Errorf("after: got %+v, want the pack's budget spent", r)
		}
	})
}

// TestByTypeCost: byType on a list that is not the indexed resources scans
// it, and is priced so; on the resources it stays one lookup.
func TestByTypeCost(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `
name: bytype
version: 0.1.0
policies:
  - name: scan
    kind: stack
    description: filters a copy of the resources by type again and again
    variables:
      copy: resources.filter(r, true)
    violation: '!lists.range(1000).all(i, variables.copy.byType("t:i:T").size() > 0)'
  - name: lookup
    kind: stack
    description: looks the type up in the index again and again
    violation: '!lists.range(1000).all(i, resources.byType("t:i:T").size() > 0)'
`)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var res []*engine.Resource
	for i := range 500 {
		res = append(res, &engine.Resource{URN: fmt.Sprint("urn:", i), Type: "t:i:T"})
	}
	got := results(run.WithLimits(0, 100_000, 0, 0).EvaluateStack(t.Context(), res))
	if r := got["scan"]; len(r.Errors) != 1 || !errors.Is(r.Errors[0], engine.ErrCostLimit) {
		t.Errorf("scan: got %+v, want a cost-limit error", r)
	}
	if r := got["lookup"]; !r.Passed() {
		t.Errorf("lookup: got %+v, want a pass", r)
	}
}

// TestMessageCost: rendering counts against the budget, so a forEach whose
// message shows a large value stops instead of formatting it per element.
func TestMessageCost(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `
name: msg
version: 0.1.0
policies:
  - name: loud
    description: every element shows the whole document
    forEach: lists.range(20000)
    violation: "true"
    message: "{{ resource.props.doc }}"
`)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := results(run.Evaluate(t.Context(), &engine.Resource{Type: "t:i:T", Props: map[string]any{"doc": strings.Repeat("x", 10_000)}}))
	if r := got["loud"]; len(r.Errors) != 1 || !errors.Is(r.Errors[0], engine.ErrCostLimit) || len(r.Violations) >= 20000 {
		t.Errorf("loud: got %d violations and errors %v, want a cost-limit error before the end", len(r.Violations), r.Errors)
	}
}

// lateCancel is a context that reports itself cancelled from the after-th
// call of Err on, so a test can cancel in the middle of a forEach without
// racing a timer.
type lateCancel struct {
	context.Context
	after, calls int32
}

func (c *lateCancel) Err() error {
	if atomic.AddInt32(&c.calls, 1) > c.after {
		return context.Canceled
	}
	return nil
}

// TestCancelDuringForEach: a run cancelled in the middle of a forEach
// reports the cancellation once, not once per element left, and keeps it
// recognisable (errors.Is).
func TestCancelDuringForEach(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `
name: many
version: 0.1.0
policies:
  - name: each
    description: a check on each of many elements
    forEach: lists.range(10000)
    violation: item < 0
`)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := &lateCancel{Context: t.Context(), after: 50}
	rs := run.Evaluate(ctx, &engine.Resource{Type: "t:i:T"})
	if len(rs) != 1 || len(rs[0].Errors) != 1 || !errors.Is(rs[0].Errors[0], context.Canceled) {
		t.Fatalf("got %+v, want one cancellation error", rs)
	}
}

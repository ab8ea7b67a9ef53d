package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

const limitsPack = `
name: limits
version: 0.1.0
policies:
  - name: runaway
    description: nested comprehensions that never finish in time
    violation: >-
      lists.range(1000).map(x, lists.range(1000).map(y, x * y)).size() > 0
  - name: fine
    description: a cheap check beside the runaway one
    violation: resource.props.?size.orValue(0) > 10
    message: "size {{ resource.props.size }}"
  - name: tuned
    description: config with a schema and defaults
    config:
      properties:
        max: {type: integer, minimum: 1, default: 10}
        mode: {type: string, enum: [strict, lax]}
      required: [max]
    violation: resource.props.?size.orValue(0) > config.max
`

func mustParse(t testing.TB, src string) *engine.Pack {
	t.Helper()
	p, err := engine.Parse("pack.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

func results(rs []engine.Result) map[string]engine.Result {
	m := map[string]engine.Result{}
	for _, r := range rs {
		m[r.Policy.Name] = r
	}
	return m
}

// TestRunawayExpression: the cost limit stops a runaway expression with an
// error for that policy; the other policies still run.
func TestRunawayExpression(t *testing.T) {
	t.Parallel()
	p := mustParse(t, limitsPack)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := results(run.Evaluate(t.Context(), &engine.Resource{Type: "test:index:Thing", Props: map[string]any{"size": 50.0}}))
	if errs := got["runaway"].Errors; len(errs) != 1 || !strings.Contains(errs[0].Error(), "cost limit") {
		t.Errorf("runaway: got errors %v, want the cost limit", errs)
	}
	if v := got["fine"].Violations; len(v) != 1 || v[0].Message != "size 50" {
		t.Errorf("fine: got %+v, want one violation 'size 50'", got["fine"])
	}
	if v := got["tuned"].Violations; len(v) != 1 {
		t.Errorf("tuned: got %+v, want a violation at the default max of 10", got["tuned"])
	}
}

// TestCancel: a cancelled context stops evaluation with an error, never a
// verdict.
func TestCancel(t *testing.T) {
	t.Parallel()
	p := mustParse(t, limitsPack)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, r := range run.Evaluate(ctx, &engine.Resource{Type: "test:index:Thing", Props: map[string]any{"size": 50.0}}) {
		if len(r.Errors) == 0 || len(r.Violations) > 0 {
			t.Errorf("%s: got %+v, want only a cancellation error", r.Policy.Name, r)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	p := mustParse(t, limitsPack)
	tests := []struct {
		name string
		cfg  map[string]engine.PolicyConfig
		want []string // substrings of the error; none: valid
	}{
		{"defaults apply", nil, nil},
		{"valid override", map[string]engine.PolicyConfig{"tuned": {Properties: map[string]any{"max": 3.0, "mode": "lax"}}}, nil},
		{"all sets every level", map[string]engine.PolicyConfig{"all": {Level: spec.Disabled}}, nil},
		{"wrong type", map[string]engine.PolicyConfig{"tuned": {Properties: map[string]any{"max": "ten"}}},
			[]string{"validating policy config: limits 0.1.0  tuned: at /max: got string, want integer"}},
		{"below minimum and not in enum", map[string]engine.PolicyConfig{"tuned": {Properties: map[string]any{"max": 0.0, "mode": "loose"}}},
			[]string{"tuned: at /max: minimum: got 0, want 1", "tuned: at /mode: value must be one of"}},
		{"unknown policy", map[string]engine.PolicyConfig{"nope": {Level: spec.Mandatory}}, []string{"limits 0.1.0  nope: no such policy in the pack"}},
		{"bad level", map[string]engine.PolicyConfig{"fine": {Level: "blocking"}}, []string{`fine: enforcement level "blocking" is not one of`}},
		{"config for a policy without schema", map[string]engine.PolicyConfig{"fine": {Properties: map[string]any{"x": 1.0}}},
			[]string{"fine: the policy takes no config, got x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.NewRun(engine.Stack{}, tc.cfg)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLevels(t *testing.T) {
	t.Parallel()
	p := mustParse(t, limitsPack)
	run, err := p.NewRun(engine.Stack{}, map[string]engine.PolicyConfig{
		"all": {Level: spec.Mandatory}, "runaway": {Level: spec.Disabled},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := results(run.Evaluate(t.Context(), &engine.Resource{Type: "test:index:Thing", Props: map[string]any{"size": 1.0}}))
	if _, ran := got["runaway"]; ran {
		t.Error("a disabled policy ran")
	}
	if l := got["fine"].Level; l != spec.Mandatory {
		t.Errorf("fine runs at %q, want mandatory from all", l)
	}
}

// TestConcurrentEvaluation shares one Run between many goroutines, as the
// analyzer does under concurrent Analyze calls; run it with -race.
func TestConcurrentEvaluation(t *testing.T) {
	t.Parallel()
	p, err := engine.Load("testdata/cases/aws")
	if err != nil {
		t.Fatal(err)
	}
	run, err := p.NewRun(engine.Stack{Name: "prod", Config: map[string]any{"db:password": engine.Secret{Value: "s3cr3t-pass"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				res := &engine.Resource{
					Type: "aws:ec2/securityGroup:SecurityGroup", Name: fmt.Sprintf("sg-%d-%d", g, i),
					Props: map[string]any{
						"tags": map[string]any{"owner": engine.Secret{Value: "owner-secret"}},
						"ingress": []any{
							map[string]any{"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": []any{"0.0.0.0/0"}},
							map[string]any{"protocol": "tcp", "fromPort": float64(i), "toPort": 443.0, "cidrBlocks": []any{engine.Unknown{}}},
						},
					},
				}
				rs := results(run.Evaluate(t.Context(), res))
				sg := rs["ec2-sg-no-public-ssh"]
				wantUndecided := 0
				if i <= 22 {
					wantUndecided = 1
				}
				if len(sg.Violations) != 1 || len(sg.Undecided) != wantUndecided {
					errs <- fmt.Errorf("%s: got %d violations, %d undecided; want 1, %d", res.Name, len(sg.Violations), len(sg.Undecided), wantUndecided)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestUndecidedReason(t *testing.T) {
	t.Parallel()
	u := engine.Undecided{Values: []engine.ValueRef{{Path: spec.Path{{Key: "tags"}, {Key: "owner"}}}}}
	if got, want := u.Reason(), "property value at .tags.owner can't be known during preview"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

const memoPack = `
name: memo
version: 0.1.0
policies:
  - name: per-item
    description: a variable that depends on the element is evaluated per element
    resourceTypes: ["test:index:Thing"]
    forEach: resource.props.?rules.orValue([])
    variables:
      port: item.port
      allowed: '[80, 443]'
    violation: '!(variables.port in variables.allowed)'
    message: "port {{ variables.port }}"
  - name: by-type
    kind: stack
    description: resources.byType uses the index, with globs
    forEach: resources.byType("test:index:*")
    violation: '!resources.byType("test:extra:Tag").exists(t, t.props.target == item.name)'
    message: "{{ item.name }} has no tag"
`

// TestVariableScope: per-element variables are not shared between
// elements; element-independent ones are (the forEach list has three
// elements, two violate).
func TestVariableScope(t *testing.T) {
	t.Parallel()
	p := mustParse(t, memoPack)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := results(run.Evaluate(t.Context(), &engine.Resource{Type: "test:index:Thing", Props: map[string]any{
		"rules": []any{map[string]any{"port": 80.0}, map[string]any{"port": 22.0}, map[string]any{"port": 8080.0}},
	}}))
	v := got["per-item"].Violations
	if len(v) != 2 || v[0].Message != "port 22" || v[1].Message != "port 8080" {
		t.Errorf("violations: %+v", v)
	}
}

func TestByType(t *testing.T) {
	t.Parallel()
	p := mustParse(t, memoPack)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := []*engine.Resource{
		{URN: "urn:a", Type: "test:index:Thing", Name: "a"},
		{URN: "urn:b", Type: "test:index:Other", Name: "b"},
		{URN: "urn:c", Type: "test:other:Thing", Name: "c"},
		{URN: "urn:t", Type: "test:extra:Tag", Name: "t", Props: map[string]any{"target": "b"}},
	}
	got := results(run.EvaluateStack(t.Context(), rs))
	v := got["by-type"].Violations
	if len(v) != 1 || v[0].URN != "urn:a" || v[0].Message != "a has no tag" {
		t.Errorf("violations: %+v", got["by-type"])
	}
}

package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
)

const falsePack = `
name: nothing
version: 0.1.0
policies:
  - name: never
    description: finds nothing
    violation: "false"
  - name: never-stack
    kind: stack
    description: finds nothing
    violation: "false"
`

// nested returns props nested depth levels deep (alternating maps and
// lists), with an unknown value at the bottom.
func nested(depth int) map[string]any {
	var v any = engine.Unknown{}
	for i := depth - 1; i > 0; i-- {
		if i%2 == 0 {
			v = []any{v}
		} else {
			v = map[string]any{"a": v}
		}
	}
	return map[string]any{"top": v}
}

// TestMaxDepth: a value nested deeper than MaxDepth is refused with its
// resource and path, as an error of every policy (so a mandatory one
// blocks), never as a pass; a value at MaxDepth is evaluated.
func TestMaxDepth(t *testing.T) {
	t.Parallel()
	run, err := mustParse(t, falsePack).NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const urn = "urn:pulumi:s::p::t:i:T::deep"
	deep := &engine.Resource{URN: urn, Type: "t:i:T", Props: nested(engine.MaxDepth + 1)}
	check := func(t *testing.T, rs []engine.Result) {
		t.Helper()
		if len(rs) != 1 {
			t.Fatalf("got %d results, want 1", len(rs))
		}
		r := rs[0]
		var de *engine.DepthError
		if len(r.Errors) != 1 || !errors.As(r.Errors[0], &de) || r.Passed() {
			t.Fatalf("%s: got %+v, want one DepthError", r.Policy.Name, r)
		}
		msg := r.Errors[0].Error()
		want := fmt.Sprintf("property value at %s .top.a.0.a", urn)
		if !strings.HasPrefix(msg, want) || !strings.HasSuffix(msg, fmt.Sprintf("nests more than %d levels deep", engine.MaxDepth)) {
			t.Errorf("error %q: want it to start %q and name the limit", msg, want)
		}
		if len(de.Path) != engine.MaxDepth+1 {
			t.Errorf("path has %d elements, want %d", len(de.Path), engine.MaxDepth+1)
		}
	}
	t.Run("resource", func(t *testing.T) {
		t.Parallel()
		check(t, run.Evaluate(t.Context(), deep))
	})
	t.Run("stack", func(t *testing.T) {
		t.Parallel()
		check(t, run.EvaluateStack(t.Context(), []*engine.Resource{deep}))
	})
	t.Run("at the limit", func(t *testing.T) {
		t.Parallel()
		ok := &engine.Resource{URN: urn, Type: "t:i:T", Props: nested(engine.MaxDepth)}
		for _, r := range run.Evaluate(t.Context(), ok) {
			if !r.Passed() {
				t.Errorf("%s: got %+v, want a pass", r.Policy.Name, r)
			}
		}
	})
}

// BenchmarkDeepNesting converts and evaluates one resource nested depth
// levels deep (the limit raised for the benchmark). Time and memory per op
// grow linearly with depth: 4k takes about four times 1k. (Before the
// converter linked its path instead of copying it per level, they grew
// with the square.)
func BenchmarkDeepNesting(b *testing.B) {
	run, err := mustParse(b, falsePack).NewRun(engine.Stack{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	run = run.WithLimits(0, 0, 0, 1<<20)
	for _, depth := range []int{1000, 4000} {
		res := &engine.Resource{URN: "urn:deep", Type: "t:i:T", Props: nested(depth)}
		b.Run(fmt.Sprint("depth=", depth), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, r := range run.Evaluate(b.Context(), res) {
					if !r.Passed() {
						b.Fatalf("%+v", r)
					}
				}
			}
		})
	}
}

// TestMaxDepthRemediate: a resource refused for its depth is not remediated.
func TestMaxDepthRemediate(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `
name: fix
version: 0.1.0
enforcementLevel: remediate
policies:
  - name: private
    description: buckets are private
    violation: resource.props.?acl.orValue("private") != "private"
    remediate:
      set: {acl: '"private"'}
`)
	run, err := p.NewRun(engine.Stack{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	props := nested(engine.MaxDepth + 1)
	props["acl"] = "public-read"
	_, rems := run.Remediate(t.Context(), &engine.Resource{URN: "urn:deep", Type: "t:i:T", Props: props})
	var de *engine.DepthError
	if len(rems) != 1 || rems[0].Changed || len(rems[0].Result.Errors) != 1 || !errors.As(rems[0].Result.Errors[0], &de) {
		t.Fatalf("got %+v, want no change and a DepthError", rems)
	}
}

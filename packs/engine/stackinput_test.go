package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
)

// sharedPack has stack policies that read secrets (in messages, masked)
// and unknowns (undecided), so a shared StackInput's real and masked views
// are both used.
const sharedPack = `name: shared
version: 1.0.0
policies:
  - name: weak-password
    kind: stack
    description: d
    forEach: resources.byType("test:index:Db")
    violation: size(item.props.password) < 12
    message: "{{ item.name }} password {{ item.props.password }} is short"
  - name: open-port
    kind: stack
    description: d
    forEach: resources.byType("test:index:Rule")
    violation: item.props.port == 22
    message: "{{ item.name }} opens {{ item.props.port }}"
`

// TestStackInputShared: runs of several packs evaluating one StackInput,
// at once, give exactly what each gives from its own EvaluateStack, with
// secrets and unknowns in the stack (run with -race).
func TestStackInputShared(t *testing.T) {
	t.Parallel()
	var rs []*engine.Resource
	for i := range 300 {
		name := fmt.Sprintf("r%03d", i)
		switch i % 3 {
		case 0:
			rs = append(rs, &engine.Resource{URN: "urn:db:" + name, Type: "test:index:Db", Name: name,
				Props: map[string]any{"password": engine.Secret{Value: []string{"tiny-pw1", "a-long-enough-secret"}[i%2]}}})
		case 1:
			var port any = float64(20 + i%5)
			if i%7 == 0 {
				port = engine.Unknown{}
			}
			rs = append(rs, &engine.Resource{URN: "urn:rule:" + name, Type: "test:index:Rule", Name: name, Props: map[string]any{"port": port}})
		default:
			rs = append(rs, &engine.Resource{URN: "urn:x:" + name, Type: "test:index:Other", Name: name})
		}
	}
	describe := func(results []engine.Result) []string {
		var out []string
		for _, r := range results {
			for _, v := range r.Violations {
				out = append(out, r.Policy.Name+" "+v.URN+" "+v.Message)
			}
			out = append(out, fmt.Sprintf("%s undecided %d errors %v", r.Policy.Name, len(r.Undecided), r.Errors))
		}
		slices.Sort(out)
		return out
	}
	var runs []*engine.Run
	var want [][]string
	for range 4 {
		run, err := mustParse(t, sharedPack).NewRun(engine.Stack{Name: "prod"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run)
		want = append(want, describe(run.EvaluateStack(t.Context(), rs)))
	}
	joined := strings.Join(want[0], "\n")
	if !strings.Contains(joined, "password [secret] is short") || !strings.Contains(joined, "open-port undecided 14") || strings.Contains(joined, "tiny-pw1") {
		t.Fatalf("the stack did not give masked violations and undecided ones:\n%s", joined)
	}
	in := engine.NewStackInput(rs)
	var wg sync.WaitGroup
	got := make([][]string, len(runs))
	for i, run := range runs {
		wg.Go(func() { got[i] = describe(run.EvaluateStackInput(t.Context(), in)) })
	}
	wg.Wait()
	for i := range runs {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("run %d over the shared input:\n%v\nalone:\n%v", i, got[i], want[i])
		}
	}
}

package engine_test

import (
	"errors"
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

// TestStackInputUnreadResources: a stack policy converts only the
// resources it reads, but what the whole stack holds still counts: a
// secret of a resource no policy reads is scrubbed from messages, and a
// value nested too deep anywhere stops every stack policy.
func TestStackInputUnreadResources(t *testing.T) {
	t.Parallel()
	const pack = `name: unread
version: 1.0.0
policies:
  - name: echo
    kind: stack
    description: d
    forEach: resources.byType("test:index:Echo")
    violation: "true"
    message: "{{ item.name }} says {{ item.props.text }}"
`
	run, err := mustParse(t, pack).NewRun(engine.Stack{Name: "prod"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := []*engine.Resource{
		{URN: "urn:db", Type: "test:index:Db", Name: "db", Props: map[string]any{"password": engine.Secret{Value: "correct-horse-battery"}}},
		{URN: "urn:echo", Type: "test:index:Echo", Name: "echo", Props: map[string]any{"text": "the password is correct-horse-battery"}},
	}
	results := run.EvaluateStack(t.Context(), rs)
	if len(results) != 1 || len(results[0].Violations) != 1 {
		t.Fatalf("results %+v", results)
	}
	if msg := results[0].Violations[0].Message; msg != "echo says the password is [secret]" {
		t.Errorf("message %q", msg)
	}

	var deep any = "bottom"
	for range engine.MaxDepth + 1 {
		deep = map[string]any{"k": deep}
	}
	rs = append(rs, &engine.Resource{URN: "urn:deep", Type: "test:index:Other", Name: "deep", Props: map[string]any{"v": deep}})
	results = run.EvaluateStack(t.Context(), rs)
	var de *engine.DepthError
	if len(results) != 1 || len(results[0].Errors) != 1 || !errors.As(results[0].Errors[0], &de) || de.URN != "urn:deep" {
		t.Fatalf("results %+v, want a depth error for urn:deep", results)
	}
}

// TestStackReads: a pack's stack policies read the types they name in
// resources.byType and resources.referencing with a literal type, from any
// of their expressions; any other use of resources reads every resource.
func TestStackReads(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		policies string
		want     []string
		all      bool
	}{
		{"byType and referencing", `
  - name: p
    kind: stack
    description: d
    variables:
      blocked: sets.of(resources.byType("aws:s3/bucketPublicAccessBlock:*").map(b, b.urn))
    forEach: resources.byType("aws:s3/bucket:Bucket")
    violation: '!(item.urn in variables.blocked) && resources.referencing("aws:s3/bucketVersioning*:*", "bucket", item, ["name"]).size() == 0'
    message: "{{ item.name }}"`, []string{"aws:s3/bucket:Bucket", "aws:s3/bucketPublicAccessBlock:*", "aws:s3/bucketVersioning*:*"}, false},
		{"size in a message", `
  - name: p
    kind: stack
    description: d
    forEach: resources.byType("a:b:C")
    violation: "true"
    message: "{{ item.name }} of {{ size(resources) }}"`, []string{"a:b:C"}, true},
		{"a computed type", `
  - name: p
    kind: stack
    description: d
    variables:
      t: '"a:b:" + "C"'
    violation: size(resources.byType(variables.t)) > 0`, nil, true},
		{"a scan", `
  - name: p
    kind: stack
    description: d
    violation: resources.exists(r, r.type == "a:b:C")`, nil, true},
		{"resource policies only", `
  - name: p
    description: d
    violation: resource.props.x == 1`, nil, false},
	} {
		pack := mustParse(t, "name: reads\nversion: 1.0.0\npolicies:"+c.policies+"\n")
		got, all := pack.StackReads()
		if !slices.Equal(got, c.want) || all != c.all {
			t.Errorf("%s: reads %v all %v, want %v all %v", c.name, got, all, c.want, c.all)
		}
	}
}

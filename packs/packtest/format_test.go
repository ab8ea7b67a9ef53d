package packtest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

const suiteHead = "apiVersion: warden/v1\nkind: PackTest\ncases:\n"

// Test files go through spec.ParseYAML: aliases that contain themselves or
// expand to billions of nodes are refused with a position instead of
// overflowing the stack or exhausting memory (issue 12, item 4).
func TestParseSuiteRefusesAliasBombs(t *testing.T) {
	t.Parallel()
	laughs := "  - name: c\n    resource:\n      type: aws:s3/bucket:Bucket\n      props:\n"
	prev := `["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]`
	for i, name := range strings.Split("abcdefghi", "") {
		laughs += "        " + name + ": &" + name + " " + prev + "\n"
		if i < 8 {
			prev = "[" + strings.TrimSuffix(strings.Repeat("*"+name+",", 10), ",") + "]"
		}
	}
	laughs += "    expect: {p: pass}\n"
	tests := []struct{ name, in, want string }{
		{"recursive alias", suiteHead + "  - name: c\n    resource:\n      type: t:m:T\n      props: &r {self: *r}\n    expect: {p: pass}\n",
			"t.yaml:7:24: alias *r refers to the value that contains it"},
		{"billion laughs", suiteHead + laughs, "aliases expand this document to more than"},
		{"second document", suiteHead + "  - name: c\n    resource: {type: t:m:T}\n    expect: {p: pass}\n---\ncases: []\n",
			"t.yaml:7:1: a second YAML document"},
		{"duplicate key", suiteHead + "  - name: c\n    name: d\n    resource: {type: t:m:T}\n    expect: {p: pass}\n",
			`t.yaml:5:5: duplicate key "name"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := ParseSuite("t.yaml", []byte(tc.in))
			var list spec.ErrorList
			if !errors.As(err, &list) || len(list) != 1 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseSuite = %v, want one error containing %q", err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestParseSuiteValues(t *testing.T) {
	t.Parallel()
	in := suiteHead + `  - name: c
    resource:
      type: t:m:T
      props:
        shared: &s {a: 1}
        again: *s
        q: !secret "42"
        u: !unknown
    expect: {p: pass}
`
	s, err := ParseSuite("t.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	props := s.Cases[0].Resource.Props
	if m, ok := props["again"].(map[string]any); !ok || m["a"] != float64(1) {
		t.Errorf("alias: got %#v", props["again"])
	}
	if got := props["q"]; got != (engine.Secret{Value: "42"}) {
		t.Errorf("quoted secret: got %#v", got)
	}
	if _, ok := props["u"].(engine.Unknown); !ok {
		t.Errorf("unknown: got %#v", props["u"])
	}
}

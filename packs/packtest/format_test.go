package packtest

import (
	"errors"
	"slices"
	"strings"
	"testing"

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
			_, err := ParseSuite("t.yaml", []byte(tc.in))
			var list spec.ErrorList
			if !errors.As(err, &list) || len(list) != 1 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseSuite = %v, want one error containing %q", err, tc.want)
			}
		})
	}
}

// TestParseSuiteKit: test files read with the YAML kit of pack.yaml and
// warden.yaml: an unknown key is positioned and gets the same suggestion,
// a mapping where a list belongs says what it found.
func TestParseSuiteKit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{suiteHead + "  - name: c\n    resource: {type: t:m:T}\n    expct: {p: pass}\n",
			`t.yaml:6:5: unknown field "expct" in case (did you mean "expect"?)`},
		{suiteHead + "  - name: c\n    resource: {type: t:m:T, optoins: {}}\n    expect: {p: pass}\n",
			`t.yaml:5:29: unknown field "optoins" in resource (did you mean "options"?)`},
		{suiteHead + "  - name: c\n    resource: {type: t:m:T}\n    expect: {p: {result: pass, xyz: 1}}\n",
			`t.yaml:6:32: unknown field "xyz" in expectation (want one of result, message, count, path)`},
		{suiteHead + "  - name: c\n    resource: [t:m:T]\n    expect: {p: pass}\n",
			`t.yaml:5:15: want a mapping (resource), got a list`},
	} {
		_, err := ParseSuite("t.yaml", []byte(tc.in))
		var list spec.ErrorList
		if !errors.As(err, &list) || !slices.ContainsFunc(list, func(e *spec.Error) bool { return e.Error() == tc.want }) {
			t.Errorf("ParseSuite = %v, want among its errors %q", list, tc.want)
		}
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

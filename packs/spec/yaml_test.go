package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// billionLaughs is a ~600-byte file that expands to 10^9 scalars.
const billionLaughs = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func nested(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

func TestParseYAMLRefuses(t *testing.T) {
	t.Parallel()
	// Each input is refused with exactly this positioned message.
	tests := []struct {
		name, in, want string
	}{
		{"recursive alias", "props: &r {self: *r}\n", "f.yaml:1:18: alias *r refers to the value that contains it: the value would be infinite"},
		{"recursive alias in list", "a: &r [1, [*r]]\n", "f.yaml:1:12: alias *r refers to the value that contains it: the value would be infinite"},
		{"billion laughs", billionLaughs, "f.yaml:2:8: aliases expand this document to more than 11100 nodes (it has 110): write the values out"},
		{"second document", "a: 1\n---\nb: 2\n", "f.yaml:2:1: a second YAML document: this file holds exactly one (remove the --- and what follows, or merge them)"},
		{"empty second document", "a: 1\n--- \n", "f.yaml:2:1: a second YAML document: this file holds exactly one (remove the --- and what follows, or merge them)"},
		{"duplicate key", "a: 1\nb: 2\na: 3\n", `f.yaml:3:1: duplicate key "a" (first at line 1)`},
		{"duplicate nested key", "a: {x: 1, x: 2}\n", `f.yaml:1:11: duplicate key "x" (first at line 1)`},
		{"merge key", "base: &b {x: 1}\nc:\n  <<: *b\n", "f.yaml:3:3: merge keys (<<) are not supported: write the keys out"},
		{"mapping key", "? [a]\n: 1\n", "f.yaml:1:3: a mapping key must be a string, not a list or mapping"},
		{"too deep", "a: " + nested(MaxYAMLDepth) + "\n", fmt.Sprintf("f.yaml:1:%d: values nest more than %d levels deep", MaxYAMLDepth+3, MaxYAMLDepth)},
		{"too deep through alias", "a: &a " + nested(200) + "\nb: " + nested(100)[:100] + "*a" + nested(100)[100:] + "\n",
			fmt.Sprintf("f.yaml:2:104: values nest more than %d levels deep (through alias *a)", MaxYAMLDepth)},
		{"syntax", "a: [1\n", "f.yaml:1: invalid YAML: did not find expected ',' or ']'"},
		{"control character", "a: 1\nb: \x01\n", "f.yaml:2:4: invalid YAML: control characters are not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			var n yaml.Node
			err := ParseYAML("f.yaml", []byte(tc.in), &n)
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.in)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("want an ErrorList of one error, got %T %v", err, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got %s\nwant %s", got, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestParseYAMLAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"comment only", "# nothing\n"},
		{"leading marker", "---\na: 1\n"},
		{"end marker", "a: 1\n...\n"},
		{"aliases reused a few times", "x: &x {a: [1, 2, 3]}\ny: [*x, *x, *x, *x]\n"},
		{"alias as key", "k: &k name\nm: {*k : 1}\n"},
		{"quoted merge-like key", "\"<<\": 1\n"},
		{"deep but within bound", "a: " + nested(MaxYAMLDepth-1) + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n yaml.Node
			if err := ParseYAML("f.yaml", []byte(tc.in), &n); err != nil {
				t.Fatalf("refused: %v", err)
			}
			var want yaml.Node
			if err := yaml.Unmarshal([]byte(tc.in), &want); err != nil {
				t.Fatal(err)
			}
			if n.Kind != want.Kind || len(n.Content) != len(want.Content) {
				t.Errorf("node differs from yaml.Unmarshal's: kind %v/%v", n.Kind, want.Kind)
			}
		})
	}
}

func TestParseYAMLIntoValue(t *testing.T) {
	t.Parallel()
	var v struct {
		A []int `yaml:"a"`
	}
	if err := ParseYAML("f.yaml", []byte("a: [1, 2]\n"), &v); err != nil || len(v.A) != 2 {
		t.Fatalf("got %v, %v", v, err)
	}
	if err := ParseYAML("f.yaml", []byte("a: [1, 2]\n---\na: [3]\n"), &v); err == nil {
		t.Fatal("second document accepted when decoding into a value")
	}
	err := ParseYAML("f.yaml", []byte("# a\na: [1, x]\n"), &v)
	if want := "f.yaml:2: cannot unmarshal !!str `x` into int"; err == nil || err.Error() != want {
		t.Errorf("type error: got %v, want %s", err, want)
	}
}

// A pack manifest goes through the same decoder: its errors come back in
// the pack's ErrorList, positioned.
func TestParsePackRefusesAliasBombs(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"apiVersion: warden/v1\nname: p\nversion: 1.0.0\ntags: &r [*r]\n",
		billionLaughs,
		"name: p\nversion: 1.0.0\n---\nname: q\n",
	} {
		_, err := ParsePack("pack.yaml", []byte(in))
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 || !list[0].Pos.IsValid() || list[0].Code != CodeSyntax {
			t.Errorf("ParsePack(%q) = %v, want one positioned syntax error", in, err)
		}
	}
}

// Found by FuzzParsePack: a required field written with no value
// (`version:`) passed every check, since the checks skipped empty values.
func TestParsePackEmptyRequiredField(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"name: p\nversion:\n":        `pack.yaml:2:9: p: field "version" is empty`,
		"name: ~\nversion: 1.0.0\n":  `pack.yaml:1:7: field "name" is empty`,
		"name: ''\nversion: 1.0.0\n": `pack.yaml:1:7: field "name" is empty`,
		"version: 1.0.0\n":           `pack.yaml:1:1: missing required field "name"`,
	} {
		_, err := ParsePack("pack.yaml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePack(%q) = %v, want %s", in, err, want)
		}
	}
}

package spec

import (
	"bytes"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // Path.String(), or "" for an error
	}{
		{"acl", ".acl"},
		{"tags.owner", ".tags.owner"},
		{"ingress[0].cidrBlocks", ".ingress.0.cidrBlocks"},
		{`tags["cost-center"]`, ".tags.cost-center"},
		{"a[1][2].b", ".a.1.2.b"},
		{"", ""},
		{"a..b", ""},
		{"a.", ""},
		{"a[x]", ""},
		{"a[0", ""},
		{"a[0]b", ""},
	}
	for _, tc := range tests {
		p, err := ParsePath(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParsePath(%q) = %v, want an error", tc.in, p)
		case tc.want != "" && err != nil:
			t.Errorf("ParsePath(%q): %v", tc.in, err)
		case tc.want != "" && p.String() != tc.want:
			t.Errorf("ParsePath(%q) = %s, want %s", tc.in, p, tc.want)
		}
	}
}

func TestErrorListSortAndPrint(t *testing.T) {
	t.Parallel()
	var l ErrorList
	l.Add(Pos{File: "b.yaml", Line: 1, Col: 1}, CodeSchema, "p", "", "second file")
	l.Add(Pos{File: "a.yaml", Line: 3, Col: 5}, CodeSchema, "p", "q", "later")
	l.Add(Pos{File: "a.yaml", Line: 2, Col: 9}, CodeSchema, "p", "q", "earlier")
	l.Add(Pos{File: "a.yaml", Line: 2, Col: 9}, CodeSchema, "p", "q", "earlier")
	l.Sort()
	if len(l) != 3 {
		t.Fatalf("duplicates kept: %v", l)
	}
	var buf bytes.Buffer
	Print(&buf, l, func(string) []byte { return []byte("name: x\n\tviolation: true\nthird line\n") })
	want := "a.yaml:2:9: p/q: earlier\n" +
		" | \tviolation: true\n" +
		" | \t       ^\n" +
		"a.yaml:3:5: p/q: later\n" +
		" | third line\n" +
		" |     ^\n" +
		"b.yaml:1:1: p: second file\n" +
		" | name: x\n" +
		" | ^\n"
	if got := buf.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if (ErrorList{}).Err() != nil {
		t.Error("an empty list is not an error")
	}
}

func TestLevelRank(t *testing.T) {
	t.Parallel()
	order := []Level{Disabled, Advisory, Remediate, Mandatory}
	for i := 1; i < len(order); i++ {
		if order[i].Rank() <= order[i-1].Rank() {
			t.Errorf("%s should outrank %s", order[i], order[i-1])
		}
	}
	if Level("strict").Valid() {
		t.Error("unknown level is valid")
	}
}

// TestValidName: the engine's name rule, without the names that would be
// another folder when a pack's name becomes one.
func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"aws-foundations": true, "a.b": true, "v1.2_x": true, ".hidden": true,
		".": false, "..": false, "...": false, "": false, "a/b": false, `a\b`: false, "a b": false,
		strings.Repeat("a", 101): false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

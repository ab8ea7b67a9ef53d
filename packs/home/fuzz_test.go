package home

import (
	"errors"
	"os"
	"testing"

	"github.com/warden-policy/warden/packs/spec"
)

// flowHomeAcme is the flow-style home of issue 12, item 1 (see flowHome),
// with a pack entry that resolves by range.
const flowHomeAcme = `organization: acme
groups: [{name: default, default: true, packs: [aws-foundations, {pack: acme, version: ^1}]}, {name: staging, stacks: ['*/staging'], packs: [{pack: aws-foundations, enforcementLevel: mandatory}]}]
`

// FuzzParseHome: a warden.yaml never panics the loader, every error names a
// file (warden.yaml errors also a line), and a home it accepts is one the
// plugin can run: named, unique groups of known modes whose every pack
// entry is resolved to a compiled pack. Packs resolve against testdata/home,
// which holds several versions of a pack "acme".
func FuzzParseHome(f *testing.F) {
	for _, file := range []string{"testdata/home/warden.yaml", "testdata/edit/warden.yaml", "testdata/errors/warden.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(flowHome))
	f.Add([]byte(flowHomeAcme))
	f.Add([]byte(flowHomeAcme + "---\ngroups: []\n"))
	f.Add([]byte("groups:\n  - &g {name: a, packs: [acme]}\n  - *g\nexceptions: {x: {reason: r, match: [{policies: [p], targets: ['urn:pulumi:*']}]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := Parse("testdata/home", "w.yaml", data)
		if err != nil {
			var list spec.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not an ErrorList: %T %v", err, err)
			}
			for _, e := range list {
				if e.Pos.File == "" || (e.Pos.File == "w.yaml" && !e.Pos.IsValid()) {
					t.Fatalf("unpositioned error %q", e.Error())
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, g := range h.Groups {
			if g.Name == "" || seen[g.Name] || (g.Mode != Preventative && g.Mode != Audit) {
				t.Fatalf("accepted group %q (mode %q, seen before: %v)", g.Name, g.Mode, seen[g.Name])
			}
			seen[g.Name] = true
			for _, e := range g.Packs {
				if e.Pack == nil || e.Pack.Name != e.Name {
					t.Fatalf("group %q: pack entry %q is not resolved", g.Name, e.Name)
				}
			}
		}
		// Loading is a function of the bytes.
		if _, err := Parse("testdata/home", "w.yaml", data); err != nil {
			t.Fatalf("accepted once, refused again: %v", err)
		}
	})
}

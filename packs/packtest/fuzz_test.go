package packtest

import (
	"errors"
	"slices"
	"testing"

	"github.com/warden-policy/warden/internal/fuzzseed"
	"github.com/warden-policy/warden/packs/spec"
)

// FuzzParseSuite: a test file never panics the loader, every error is
// positioned in the file, and a suite it accepts is one the runner can run:
// named cases with either a resource or resources, and known outcomes.
func FuzzParseSuite(f *testing.F) {
	for _, seed := range fuzzseed.Files(f, "../builtin/*/tests/*.yaml", "../engine/testdata/cases/*/tests/*.yaml") {
		f.Add(seed)
	}
	f.Add([]byte(suiteHead + "  - name: c\n    resource:\n      type: t:m:T\n      props: &r {self: *r}\n    expect: {p: pass}\n"))
	f.Add([]byte(suiteHead + "  - name: c\n    resource: {type: t:m:T, props: {s: !secret {a: 1}, u: !unknown }}\n    expect: {p: {result: violation, count: 2}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuite("t.yaml", data)
		if err != nil {
			var list spec.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not an ErrorList: %T %v", err, err)
			}
			for _, e := range list {
				if e.Pos.File != "t.yaml" || !e.Pos.IsValid() {
					t.Fatalf("unpositioned error %q", e.Error())
				}
			}
			return
		}
		for _, c := range s.Cases {
			if c.Name == "" || (c.Resource == nil) == (c.Resources == nil) || len(c.Expect) == 0 {
				t.Fatalf("accepted case %q: resource %v, %d resources, %d expectations", c.Name, c.Resource != nil, len(c.Resources), len(c.Expect))
			}
			for _, e := range c.Expect {
				if !slices.Contains(outcomes, e.Result) {
					t.Fatalf("accepted outcome %q", e.Result)
				}
			}
		}
	})
}

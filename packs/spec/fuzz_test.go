package spec

import (
	"errors"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/warden-policy/warden/internal/fuzzseed"
)

var packSeedPatterns = []string{
	"../builtin/*/pack.yaml",
	"../engine/testdata/*/*/pack.yaml",
	"../home/testdata/home/packs/*/*/pack.yaml",
}

// checkPositioned fails unless err is nil or an ErrorList whose every error
// names file and, for YAML problems, a line.
func checkPositioned(t *testing.T, file string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is not an ErrorList: %T %v", err, err)
	}
	for _, e := range list {
		if e.Pos.File != file || !e.Pos.IsValid() {
			t.Fatalf("unpositioned error %q (pos %+v)", e.Error(), e.Pos)
		}
	}
}

// FuzzParseYAML: the decoder never panics, refuses with one positioned
// error, and what it accepts keeps its promises when walked by a naive
// recursive reader: no cycle, nesting within MaxYAMLDepth, expansion within
// the bound, unique scalar keys, and no second document.
func FuzzParseYAML(f *testing.F) {
	for _, s := range fuzzseed.Files(f, packSeedPatterns...) {
		f.Add(s)
	}
	for _, s := range []string{billionLaughs, "props: &r {self: *r}\n", "a: 1\n---\nb: 2\n", "x: &x {a: [1, 2]}\ny: [*x, *x]\n",
		"a: {x: 1, x: 2}\n", "<<: {a: 1}\n", "a: " + nested(MaxYAMLDepth) + "\n", "? [a]\n: 1\n", "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc yaml.Node
		err := ParseYAML("f.yaml", data, &doc)
		if err != nil {
			checkPositioned(t, "f.yaml", err)
			if list := err.(ErrorList); len(list) != 1 {
				t.Fatalf("want one error, got %d: %v", len(list), err)
			}
			return
		}
		limit := maxAliasExpansion(yamlCount(&doc))
		size := 0
		var walk func(n *yaml.Node, depth int, path map[*yaml.Node]bool)
		walk = func(n *yaml.Node, depth int, path map[*yaml.Node]bool) {
			if n.Kind == yaml.AliasNode {
				if path[n.Alias] {
					t.Fatalf("accepted a cycle through alias %s at %d:%d", n.Value, n.Line, n.Column)
				}
				n = n.Alias
			}
			if size++; size > limit {
				t.Fatalf("accepted a document that expands past %d nodes", limit)
			}
			if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
				if depth++; depth > MaxYAMLDepth {
					t.Fatalf("accepted nesting deeper than %d at %d:%d", MaxYAMLDepth, n.Line, n.Column)
				}
			}
			if n.Kind == yaml.MappingNode {
				seen := map[string]bool{}
				for i := 0; i+1 < len(n.Content); i += 2 {
					k := n.Content[i]
					if k.Kind == yaml.AliasNode {
						k = k.Alias
					}
					if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" || seen[k.Value] {
						t.Fatalf("accepted key %q (kind %v, tag %s) at %d:%d", k.Value, k.Kind, k.Tag, k.Line, k.Column)
					}
					seen[k.Value] = true
				}
			}
			path[n] = true
			for _, c := range n.Content {
				walk(c, depth, path)
			}
			delete(path, n)
		}
		walk(&doc, 0, map[*yaml.Node]bool{})
	})
}

// yamlCount counts distinct nodes, as the decoder's bound does.
func yamlCount(n *yaml.Node) int {
	c := yamlChecker{}
	return c.count(n)
}

// FuzzParsePack: ParsePack never panics, positions every error in the
// file, and a pack it accepts has the properties its checks promise.
func FuzzParsePack(f *testing.F) {
	for _, s := range fuzzseed.Files(f, packSeedPatterns...) {
		f.Add(s)
	}
	f.Add([]byte("apiVersion: warden/v1\nname: p\nversion: 1.0.0\npolicies: [{name: a, violation: 'true', tags: &t [*t]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePack("pack.yaml", data)
		if p == nil {
			t.Fatal("ParsePack returned no pack")
		}
		checkPositioned(t, "pack.yaml", err)
		if err != nil {
			return
		}
		if !NameRE.MatchString(p.Name) || !IsSemver(p.Version) || !p.EnforcementLevel.Valid() {
			t.Fatalf("accepted pack %q version %q level %q", p.Name, p.Version, p.EnforcementLevel)
		}
		seen := map[string]bool{}
		for _, pol := range p.Policies {
			if seen[pol.Name] {
				t.Fatalf("accepted duplicate policy %q", pol.Name)
			}
			seen[pol.Name] = true
		}
		// Parsing is a function of the bytes: the same input gives the same
		// verdict again.
		if _, err := ParsePack("pack.yaml", data); err != nil {
			t.Fatalf("accepted once, refused again: %v", err)
		}
	})
}

// FuzzParseFramework: a framework file never panics the parser, and every
// error it reports is positioned; what it accepts has unique control ids,
// each with a title, and a reason for every control no policy can check.
func FuzzParseFramework(f *testing.F) {
	for _, s := range fuzzseed.Files(f, "../builtin/frameworks/*.yaml") {
		f.Add(s)
	}
	f.Add([]byte("kind: Framework\nname: x\ncontrols: [{id: \"1\", title: t, iac: false}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fw, err := ParseFramework("f.yaml", data)
		if err != nil {
			checkPositioned(t, "f.yaml", err)
			return
		}
		seen := map[string]bool{}
		for _, c := range fw.Controls {
			if c.ID == "" || c.Title == "" || seen[c.ID] || !c.IaC && c.Why == "" {
				t.Fatalf("accepted a bad control %+v", c)
			}
			seen[c.ID] = true
		}
	})
}

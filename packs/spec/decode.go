package spec

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decoder is the YAML kit every Warden file decoder is built on: pack.yaml
// here, warden.yaml in package home, tests/*.yaml in package packtest. It
// gives them one behaviour: positions (file:line:col of the node), kind
// checks that say what was found, unknown keys refused with the nearest
// known one as a suggestion, duplicate keys, and errors collected with a
// code and the pack and policy they concern. Parse the text with
// ParseYAML first; Decoder only walks nodes.
type Decoder struct {
	File string
	Errs ErrorList
	// Pack and Policy name what errors concern, while known.
	Pack, Policy string
}

// Pos is the position of n.
func (d *Decoder) Pos(n *yaml.Node) Pos { return Pos{File: d.File, Line: n.Line, Col: n.Column} }

// Errorf records an error at n.
func (d *Decoder) Errorf(n *yaml.Node, code, format string, args ...any) {
	d.ErrorAt(d.Pos(n), code, format, args...)
}

// ErrorAt records an error at p.
func (d *Decoder) ErrorAt(p Pos, code, format string, args ...any) {
	d.Errs.Add(p, code, d.Pack, d.Policy, format, args...)
}

var kindNames = map[yaml.Kind]string{
	yaml.DocumentNode: "a document", yaml.SequenceNode: "a list", yaml.MappingNode: "a mapping",
	yaml.ScalarNode: "a scalar", yaml.AliasNode: "an alias",
}

// Kind checks that n is of kind k (an alias is resolved in place first),
// recording "want <want>, got <what n is>" when it is not.
func (d *Decoder) Kind(n *yaml.Node, k yaml.Kind, want string) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		*n = *n.Alias
	}
	if n.Kind == k {
		return true
	}
	got := kindNames[n.Kind]
	if n.Kind == yaml.ScalarNode {
		got = fmt.Sprintf("%s %q", shortTag(n.Tag), n.Value)
	}
	d.Errorf(n, CodeSchema, "want %s, got %s", want, got)
	return false
}

func shortTag(tag string) string {
	switch tag {
	case "!!str":
		return "string"
	case "!!int", "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	}
	return "scalar"
}

// Str is a scalar's text ("" for null).
func (d *Decoder) Str(n *yaml.Node) string {
	if !d.Kind(n, yaml.ScalarNode, "a string") || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// StrList is a list of strings.
func (d *Decoder) StrList(n *yaml.Node) []string {
	if !d.Kind(n, yaml.SequenceNode, "a list of strings") {
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, d.Str(c))
	}
	return out
}

// Fields walks a mapping's pairs, recording a duplicate key instead of
// passing it on (ParseYAML refuses duplicates in a file; nodes built or
// edited in memory can still have them). what names the mapping in
// messages.
func (d *Decoder) Fields(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node)) {
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			d.Errorf(k, CodeSchema, "duplicate key %q in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		fn(k.Value, k, v)
	}
}

// Mapping is Fields over a node that must be a mapping whose keys are all
// in known: any other key is recorded with Unknown and not passed on. A
// nil known takes any key (a map of names, as policy config).
func (d *Decoder) Mapping(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node)) {
	if !d.Kind(n, yaml.MappingNode, "a mapping ("+what+")") {
		return
	}
	d.Fields(n, what, func(key string, k, v *yaml.Node) {
		if known == nil {
			fn(key, k, v)
			return
		}
		for _, w := range known {
			if w == key {
				fn(key, k, v)
				return
			}
		}
		d.Unknown(k, what, known)
	})
}

// Unknown records a key that is not one of known, suggesting the nearest
// known key when it looks like a typo of one, listing them otherwise.
func (d *Decoder) Unknown(k *yaml.Node, what string, known []string) {
	msg := fmt.Sprintf("unknown field %q in %s", k.Value, what)
	if s := closest(k.Value, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else if len(known) > 0 {
		msg += " (want one of " + strings.Join(known, ", ") + ")"
	}
	d.Errorf(k, CodeSchema, "%s", msg)
}

// ValueOf is the value of key in mapping n, nil if absent.
func (d *Decoder) ValueOf(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// closest suggests the known word nearest to s, when it is near enough to be
// a typo (edit distance at most a third of its length, and at least 1).
func closest(s string, known []string) string {
	best, bestD := "", len(s)/3+1
	for _, k := range known {
		if dist := editDistance(strings.ToLower(s), strings.ToLower(k)); dist < bestD || dist == 0 {
			best, bestD = k, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

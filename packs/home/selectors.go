package home

import (
	"fmt"
	"strings"

	"github.com/warden-policy/warden/packs/spec"
)

// StackSelector names stacks: "stack", "project/stack" or
// "org/project/stack", each segment a glob in Warden's dialect
// (spec.MatchGlob: * matches any run of characters, nothing else is
// special).
type StackSelector struct {
	Pos  spec.Pos
	Text string
	segs []string // org, project, stack; "*" where the selector is silent
}

// ParseStackSelector reads one selector.
func ParseStackSelector(s string) (StackSelector, error) {
	parts := strings.Split(s, "/")
	for _, p := range parts {
		if p == "" {
			return StackSelector{}, fmt.Errorf("stack %q has an empty segment: want stack, project/stack or org/project/stack", s)
		}
		if i := strings.IndexAny(p, `?[]\`); i >= 0 {
			// path.Match's wildcards, which selectors once took: refused
			// rather than matched literally, which would select nothing
			// without a word. No stack, project or organization name
			// holds these characters.
			return StackSelector{}, fmt.Errorf("stack %q: %q is not a wildcard here: * is the only one (any run of characters)", s, p[i:i+1])
		}
	}
	var segs []string
	switch len(parts) {
	case 1:
		segs = []string{"*", "*", parts[0]}
	case 2:
		segs = []string{"*", parts[0], parts[1]}
	case 3:
		segs = parts
	default:
		return StackSelector{}, fmt.Errorf("stack %q has %d segments: want stack, project/stack or org/project/stack", s, len(parts))
	}
	return StackSelector{Text: s, segs: segs}, nil
}

// Matches reports whether the selector names the stack.
func (s StackSelector) Matches(st Stack) bool {
	for i, v := range []string{st.Organization, st.Project, st.Name} {
		if !spec.MatchGlob(s.segs[i], v) {
			return false
		}
	}
	return true
}

// Rule is a stack-tag rule in Pulumi Cloud's grammar: terms joined by ","
// (AND), alternatives joined by " OR ". A term is key=value, key!=value
// (true when the tag is absent too), key (present) or !key (absent).
type Rule struct {
	Pos  spec.Pos
	Text string
	alts [][]term
}

type term struct {
	key, value string
	op         string // "=", "!=", "has", "!has"
}

func (t term) String() string {
	switch t.op {
	case "has":
		return t.key
	case "!has":
		return "!" + t.key
	}
	return t.key + t.op + t.value
}

// ParseRule reads a tag rule.
func ParseRule(s string) (*Rule, error) {
	r := &Rule{Text: s}
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty stack rule")
	}
	for _, alt := range strings.Split(s, " OR ") {
		var terms []term
		for _, raw := range strings.Split(alt, ",") {
			t, err := parseTerm(strings.TrimSpace(raw))
			if err != nil {
				return nil, fmt.Errorf("stack rule %q: %w", s, err)
			}
			terms = append(terms, t)
		}
		r.alts = append(r.alts, terms)
	}
	return r, nil
}

func parseTerm(s string) (term, error) {
	bad := func(why string) (term, error) { return term{}, fmt.Errorf("term %q %s", s, why) }
	switch {
	case s == "":
		return bad("is empty (a stray ',' or ' OR '?)")
	case strings.ContainsAny(s, " \t"):
		if strings.Contains(strings.ToUpper(s), " OR") || strings.Contains(strings.ToUpper(s), "OR ") {
			return bad(`has spaces: OR must be upper case with one space each side (" OR ")`)
		}
		return bad("has spaces: tag keys and values have none")
	}
	if k, v, ok := strings.Cut(s, "!="); ok {
		if k == "" || v == "" || strings.ContainsAny(k+v, "=!") {
			return bad("is malformed: want key!=value")
		}
		return term{key: k, value: v, op: "!="}, nil
	}
	if k, v, ok := strings.Cut(s, "="); ok {
		if k == "" || v == "" || strings.ContainsAny(k+v, "=!") {
			return bad("is malformed: want key=value")
		}
		return term{key: k, value: v, op: "="}, nil
	}
	if k, ok := strings.CutPrefix(s, "!"); ok {
		if k == "" || strings.Contains(k, "!") {
			return bad("is malformed: want !key")
		}
		return term{key: k, op: "!has"}, nil
	}
	if strings.Contains(s, "!") {
		return bad("is malformed")
	}
	return term{key: s, op: "has"}, nil
}

// Match reports whether the rule selects a stack with these tags, and the
// alternative that matched (for explanations).
func (r *Rule) Match(tags map[string]string) (bool, string) {
	for _, alt := range r.alts {
		all := true
		for _, t := range alt {
			v, has := tags[t.key]
			var ok bool
			switch t.op {
			case "=":
				ok = has && v == t.value
			case "!=":
				ok = !has || v != t.value
			case "has":
				ok = has
			case "!has":
				ok = !has
			}
			if !ok {
				all = false
				break
			}
		}
		if all {
			parts := make([]string, len(alt))
			for i, t := range alt {
				parts[i] = t.String()
			}
			return true, strings.Join(parts, ",")
		}
	}
	return false, ""
}

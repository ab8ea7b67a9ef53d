package engine

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
)

// The config keys every resource policy takes, beside its own, to scope it
// by resource name: the keys of Pulumi's Compliance-Ready policies (the
// compliance-policy-manager's policyConfigSchema and shouldEvalPolicy), so
// a team's --policy-pack-config carries over. Each pattern is a regular
// expression matched, unanchored, against the resource's logical name. A
// name an includeFor pattern matches is evaluated, even when excludeFor
// matches it too; one only excludeFor matches is not (the policy is not
// applicable to it, with the reason); any other is evaluated: includeFor
// alone excludes nothing. ignoreCase makes both case-insensitive.
// logExcludedResources is taken for the same config to be valid: Warden
// always reports an excluded resource as not applicable, with why.
//
// Patterns are RE2 (Go's regexp), which has no lookaround or
// backreferences; a pattern it cannot compile is a config error, never
// silently ignored (the source logs and ignores it): a scope that does
// not mean what it says must not decide what a policy sees.
const (
	ConfigIncludeFor   = "includeFor"
	ConfigExcludeFor   = "excludeFor"
	ConfigIgnoreCase   = "ignoreCase"
	ConfigLogExcluded  = "logExcludedResources"
	excludedByConfigNA = "excluded by name (the policy's excludeFor config)"
)

// ScopeKeys are the scope keys, in the order they are documented.
var ScopeKeys = []string{ConfigIncludeFor, ConfigExcludeFor, ConfigIgnoreCase, ConfigLogExcluded}

// ScopeSchema is the JSON Schema of the scope keys, as the analyzer
// advertises them beside a resource policy's own config.
func ScopeSchema() map[string]any {
	patterns := func(what string) map[string]any {
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"},
			"description": "regular expressions matched against resource names: " + what}
	}
	return map[string]any{
		ConfigIncludeFor:  patterns("resources to evaluate even when excludeFor matches"),
		ConfigExcludeFor:  patterns("resources the policy does not apply to"),
		ConfigIgnoreCase:  map[string]any{"type": "boolean", "description": "match includeFor and excludeFor ignoring case"},
		ConfigLogExcluded: map[string]any{"type": "boolean", "description": "accepted for Compliance-Ready configs; excluded resources are always reported as not applicable"},
	}
}

// nameScope is a policy's includeFor/excludeFor, compiled.
type nameScope struct {
	include, exclude []*regexp.Regexp
}

// excludes reports whether the scope leaves out the resource named name.
func (n *nameScope) excludes(name string) bool {
	if n == nil {
		return false
	}
	match := func(res []*regexp.Regexp) bool {
		return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(name) })
	}
	return !match(n.include) && match(n.exclude)
}

// takeScope removes the scope keys from props and compiles them; the
// problems name the key and item, never the value (config may hold
// secrets). A stack policy takes none: it sees the whole stack.
func takeScope(props map[string]any, stack bool) (*nameScope, []string) {
	var present bool
	for _, k := range ScopeKeys {
		if _, ok := props[k]; ok {
			present = true
		}
	}
	if !present {
		return nil, nil
	}
	var problems []string
	if stack {
		for _, k := range ScopeKeys {
			if _, ok := props[k]; ok {
				problems = append(problems, fmt.Sprintf("%s scopes resource policies; a stack policy takes none", k))
				delete(props, k)
			}
		}
		return nil, problems
	}
	ignoreCase := false
	for _, k := range []string{ConfigIgnoreCase, ConfigLogExcluded} {
		v, ok := props[k]
		if !ok {
			continue
		}
		b, isBool := v.(bool)
		if !isBool {
			problems = append(problems, fmt.Sprintf("at /%s: want a boolean", k))
		}
		if k == ConfigIgnoreCase {
			ignoreCase = b
		}
		delete(props, k)
	}
	compile := func(k string) []*regexp.Regexp {
		v, ok := props[k]
		if !ok {
			return nil
		}
		delete(props, k)
		list, isList := v.([]any)
		if !isList {
			problems = append(problems, fmt.Sprintf("at /%s: want a list of regular expressions", k))
			return nil
		}
		var out []*regexp.Regexp
		for i, e := range list {
			s, isStr := e.(string)
			if !isStr {
				problems = append(problems, fmt.Sprintf("at /%s/%d: want a string", k, i))
				continue
			}
			if s == "" {
				continue // as the source: an empty pattern is no pattern
			}
			if ignoreCase {
				s = "(?i)" + s
			}
			re, err := regexp.Compile(s)
			if err != nil {
				code := "invalid"
				if se, ok := err.(*syntax.Error); ok {
					code = string(se.Code)
				}
				problems = append(problems, fmt.Sprintf("at /%s/%d: not a regular expression Warden can use (RE2 syntax): %s", k, i, code))
				continue
			}
			out = append(out, re)
		}
		return out
	}
	n := &nameScope{include: compile(ConfigIncludeFor), exclude: compile(ConfigExcludeFor)}
	return n, problems
}

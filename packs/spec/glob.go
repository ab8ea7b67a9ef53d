package spec

import "strings"

// MatchGlob reports whether s matches pat in Warden's one glob dialect,
// used wherever a pattern names things: a policy's resourceTypes and
// resources.byType (type tokens), an exception's targets (URNs and type
// tokens) and a group's stacks (each segment of a stack selector).
//
// '*' matches any run of characters, none included, whatever they are:
// ':' and '/' too, so "aws:s3/*:*" is every S3 resource whatever its module
// path and "urn:pulumi:prod::site::*" every resource of one stack. Every
// other character matches itself: there is no '?', no [...] class and no
// escape, because the names matched are full of characters other dialects
// treat specially (a resource name may hold '[' or '?'), and one rule
// everywhere is one rule to learn. Where a name cannot hold such a
// character (type tokens, stack names) the pattern refuses it instead.
//
// Matching is linear in len(s) per '*' and does not allocate.
func MatchGlob(pat, s string) bool {
	head, rest, wild := strings.Cut(pat, "*")
	if !wild {
		return pat == s
	}
	if !strings.HasPrefix(s, head) {
		return false
	}
	s = s[len(head):]
	for {
		var part string
		part, rest, wild = strings.Cut(rest, "*")
		if !wild {
			return strings.HasSuffix(s, part) // the last part ends s
		}
		// A middle part matches at its leftmost occurrence: any later
		// one leaves less of s for the parts after it.
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
}

// IsGlob reports whether pat has a wildcard.
func IsGlob(pat string) bool { return strings.Contains(pat, "*") }

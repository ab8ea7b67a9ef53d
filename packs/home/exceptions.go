package home

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/warden-policy/warden/packs/spec"
)

// Exception waives policies for some resources: Pulumi's model (an id, a
// required reason, matches of policies x URNs) with glob URNs and type
// tokens as targets, who approved it, and an expiry date.
type Exception struct {
	Pos        spec.Pos
	ID         string
	Reason     string
	ApprovedBy string
	// Expires is the last day the exception applies (UTC); zero: never.
	Expires time.Time
	Match   []ExceptionMatch
}

// ExceptionMatch pairs policies with targets.
type ExceptionMatch struct {
	Pos spec.Pos
	// Policies are exposed policy names ("s3-bucket-no-public-acl") or
	// "pack/policy".
	Policies []string
	// Targets are URNs (with * globs) or type tokens (with * globs).
	Targets []string
}

// Expired reports whether the exception no longer applies on day now.
func (e *Exception) Expired(now time.Time) bool {
	if e.Expires.IsZero() {
		return false
	}
	y, m, d := now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return today.After(e.Expires)
}

// Describe is how the exception shows beside a violation it waives.
func (e *Exception) Describe() string {
	var extra []string
	if e.ApprovedBy != "" {
		extra = append(extra, "approved by "+e.ApprovedBy)
	}
	if !e.Expires.IsZero() {
		extra = append(extra, "expires "+e.Expires.Format(time.DateOnly))
	}
	s := fmt.Sprintf("excepted by %s: %s", e.ID, e.Reason)
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// Target is what an exception is matched against.
type Target struct {
	Pack, Policy string // the policy's pack and own name
	Exposed      string // the policy's analyzer-wide name
	URN, Type    string
}

// Matches reports whether the exception covers the target, ignoring expiry.
func (e *Exception) Matches(t Target) bool {
	for _, m := range e.Match {
		if !slices.ContainsFunc(m.Policies, func(p string) bool {
			return p == t.Exposed || p == t.Policy || p == t.Pack+"/"+t.Policy
		}) {
			continue
		}
		if slices.ContainsFunc(m.Targets, func(pat string) bool { return matchTarget(pat, t) }) {
			return true
		}
	}
	return false
}

func matchTarget(pat string, t Target) bool {
	if strings.HasPrefix(pat, "urn:") {
		return spec.MatchGlob(pat, t.URN)
	}
	return t.Type != "" && spec.MatchGlob(pat, t.Type)
}

// Find returns the exceptions that cover t and are in force on day now, and
// those that would cover it but have expired.
func (h *Home) Find(t Target, now time.Time) (active, expired []*Exception) {
	for _, e := range h.Exceptions {
		if !e.Matches(t) {
			continue
		}
		if e.Expired(now) {
			expired = append(expired, e)
		} else {
			active = append(active, e)
		}
	}
	return active, expired
}

// Warnings lists what is wrong but not fatal about the home's exceptions:
// expired ones, and policies no pack of the home has.
func (h *Home) Warnings(now time.Time, known func(policy string) bool) []string {
	var out []string
	for _, e := range h.Exceptions {
		if e.Expired(now) {
			out = append(out, fmt.Sprintf("%s: exception %s expired on %s and no longer applies", e.Pos, e.ID, e.Expires.Format(time.DateOnly)))
		}
		for _, m := range e.Match {
			for _, p := range m.Policies {
				if !known(p) {
					out = append(out, fmt.Sprintf("%s: exception %s names policy %q, which no pack of this home has", m.Pos, e.ID, p))
				}
			}
		}
	}
	return out
}

// validTarget checks a target's form.
func validTarget(s string) error {
	if strings.HasPrefix(s, "urn:") {
		if !strings.HasPrefix(s, "urn:pulumi:") || strings.Count(s, "::") < 3 && !strings.Contains(s, "*") {
			return fmt.Errorf("target %q is not a URN (urn:pulumi:<stack>::<project>::<type>::<name>)", s)
		}
		return nil
	}
	if !spec.IsTypeToken(s) {
		return fmt.Errorf("target %q is neither a URN nor a type token (pkg:module:Type)", s)
	}
	return nil
}

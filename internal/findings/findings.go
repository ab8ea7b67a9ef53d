// Package findings owns what Warden reports: the finding model and its
// wording. A finding is one result of one policy on one resource (or on
// the stack): a violation, a can't-run, an evaluation error, each maybe
// waived by an exception. The analyzer plugin marshals findings to
// pulumirpc diagnostics, the CLI prints them, and the ledger will store
// them; all of them derive findings here, so the same input gives the same
// findings, in the same words, through every door.
package findings

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/urn"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

// Kind is what a finding reports.
type Kind string

// Finding kinds.
const (
	Violation Kind = "violation"
	CantRun   Kind = "cant-run" // the verdict depends on a value that is not known
	Error     Kind = "error"    // the policy failed to evaluate
)

// Finding is one result of one policy on one resource (or the stack).
type Finding struct {
	Stack            string        `json:"stack"`
	Project          string        `json:"project"`
	URN              string        `json:"urn,omitempty"`
	Type             string        `json:"type,omitempty"`
	Pack             string        `json:"pack"`
	Version          string        `json:"version"`
	Policy           string        `json:"policy"`
	Kind             Kind          `json:"kind"`
	Level            spec.Level    `json:"enforcementLevel"`
	Severity         spec.Severity `json:"severity,omitempty"`
	Description      string        `json:"description"`
	Message          string        `json:"message,omitempty"`
	RemediationSteps string        `json:"remediationSteps,omitempty"`
	URL              string        `json:"url,omitempty"`
	// Exception is set when an exception waives the finding; it then does
	// not block.
	Exception *ExceptionRef `json:"exception,omitempty"`
	// Expired names an exception that would waive it but has expired, on
	// ExpiredOn.
	Expired   string `json:"expiredException,omitempty"`
	ExpiredOn string `json:"expiredOn,omitempty"`
	// Baselined is the day a baselined violation was first seen: it
	// existed before enforcement and does not block (see home.Baseline).
	Baselined string `json:"baselined,omitempty"`
	// MandatoryOn is the day a staged policy, advisory until then, becomes
	// mandatory.
	MandatoryOn string `json:"mandatoryOn,omitempty"`
}

// ExceptionRef identifies the exception that waives a finding.
type ExceptionRef struct {
	ID         string `json:"id"`
	Reason     string `json:"reason"`
	ApprovedBy string `json:"approvedBy,omitempty"`
	Expires    string `json:"expires,omitempty"`
}

// Describe is the exception as a finding shows it.
func (e *ExceptionRef) Describe() string {
	var extra []string
	if e.ApprovedBy != "" {
		extra = append(extra, "approved by "+e.ApprovedBy)
	}
	if e.Expires != "" {
		extra = append(extra, "expires "+e.Expires)
	}
	s := fmt.Sprintf("excepted by %s: %s", e.ID, e.Reason)
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// Blocking reports whether the finding fails a run, as the engine decides:
// a violation at mandatory or remediate level. An evaluation error at those
// levels blocks too: a guard that cannot run must not let a change through.
func (f *Finding) Blocking() bool {
	if f.Kind == CantRun || f.Exception != nil || f.Baselined != "" {
		return false
	}
	return f.Level == spec.Mandatory || f.Level == spec.Remediate
}

// ReportedLevel is the level the engine is told: the policy's own, or
// advisory when an exception waives the finding or a baseline covers it.
func (f *Finding) ReportedLevel() spec.Level {
	if f.Exception != nil || f.Baselined != "" {
		return spec.Advisory
	}
	return f.Level
}

// Text is the finding in one block of text, as a diagnostic carries it:
// the policy's description, the message, and what an exception says.
func (f *Finding) Text() string {
	text := f.Description
	if f.Message != "" {
		text += "\n" + f.Message
	}
	if f.Expired != "" {
		text += "\n" + f.ExpiredNote()
	}
	if f.Exception != nil {
		text += "\n" + f.Exception.Describe()
	}
	if f.Baselined != "" {
		text += "\n" + f.BaselineNote()
	}
	if f.MandatoryOn != "" {
		text += "\n" + f.StagedNote()
	}
	return text
}

// StagedNote says when a staged policy's violations start to block.
func (f *Finding) StagedNote() string {
	return "this policy becomes mandatory on " + f.MandatoryOn + ": from then on this violation blocks"
}

// Hidden reports whether the person deploying never sees the finding: a
// policy in shadow, whose findings only the ledger keeps.
func (f *Finding) Hidden() bool { return f.Level == spec.Shadow }

// BaselineNote says why a baselined violation does not block.
func (f *Finding) BaselineNote() string {
	return "baselined on " + f.Baselined + ": it existed before enforcement; only new violations block"
}

// Baseline marks a violation the stack's baseline covers (b may be nil).
// A waived finding stays waived: the exception is the stronger word.
func (f *Finding) Baseline(b *home.Baseline) {
	if f.Kind != Violation || f.Exception != nil || b == nil {
		return
	}
	if e := b.Covers(f.Pack, f.Policy, f.URN, f.Message); e != nil {
		f.Baselined = e.Since.Format(time.DateOnly)
	}
}

// ExpiredNote says that an exception no longer waives the finding.
func (f *Finding) ExpiredNote() string {
	return fmt.Sprintf("exception %s expired on %s and no longer applies", f.Expired, f.ExpiredOn)
}

// From turns one engine result into findings. res is the evaluated
// resource (nil for stack policies, whose violations name their resource).
func From(stack, project string, res *engine.Resource, r *engine.Result) []Finding {
	pol := r.Policy
	base := Finding{
		Stack: stack, Project: project, Pack: pol.Pack.Name, Version: pol.Pack.Version, Policy: pol.Name,
		Level: r.Level, Severity: pol.Severity, Description: pol.Description,
		RemediationSteps: pol.RemediationSteps, URL: pol.URL,
	}
	if res != nil {
		base.URN, base.Type = res.URN, res.Type
	}
	out := make([]Finding, 0, len(r.Violations)+len(r.Undecided)+len(r.Errors))
	for _, v := range r.Violations {
		f := base
		f.Kind, f.Message = Violation, v.Message
		if v.URN != "" {
			f.URN, f.Type = v.URN, ""
		}
		out = append(out, f)
	}
	for _, u := range r.Undecided {
		f := base
		f.Kind, f.Level = CantRun, spec.Advisory
		// Pulumi's SDKs word it so whatever the run; the engine's
		// conformance tests look for these words.
		f.Message = fmt.Sprintf("can't run policy '%s' from policy pack '%s@v%s' during preview: %s", pol.Name, pol.Pack.Name, pol.Pack.Version, u.Reason())
		out = append(out, f)
	}
	for _, err := range r.Errors {
		f := base
		f.Kind, f.Message = Error, "policy failed to evaluate: "+err.Error()
		out = append(out, f)
	}
	return out
}

// Waive applies the home's exceptions to a finding: an active one waives
// it, an expired one is noted. exposed is the policy's name as the run
// exposes it (pack/policy when two packs share a name); typ is the
// resource's type when the finding does not carry it. A can't-run is never
// waived: it is advisory already.
func (f *Finding) Waive(h *home.Home, exposed, typ string, now time.Time) {
	if f.Kind == CantRun {
		return
	}
	if f.Type != "" {
		typ = f.Type
	}
	active, expired := h.Find(home.Target{Pack: f.Pack, Policy: f.Policy, Exposed: exposed, URN: f.URN, Type: typ}, now)
	if len(active) > 0 {
		e := active[0]
		f.Exception = &ExceptionRef{ID: e.ID, Reason: e.Reason, ApprovedBy: e.ApprovedBy}
		if !e.Expires.IsZero() {
			f.Exception.Expires = e.Expires.Format(time.DateOnly)
		}
		f.Expired, f.ExpiredOn = "", ""
	} else if len(expired) > 0 {
		f.Expired, f.ExpiredOn = expired[0].ID, expired[0].Expires.Format(time.DateOnly)
	}
}

// Summary counts what a run found.
type Summary struct {
	Resources  int `json:"resources"`
	Policies   int `json:"policies"`
	Violations int `json:"violations"`
	Blocking   int `json:"blocking"`
	Excepted   int `json:"excepted"`
	Baselined  int `json:"baselined,omitempty"`
	CantRun    int `json:"cantRun"`
	Errors     int `json:"errors"`
}

// Summarize counts findings.
func Summarize(resources, policies int, fs []Finding) Summary {
	s := Summary{Resources: resources, Policies: policies}
	for i := range fs {
		switch fs[i].Kind {
		case Violation:
			s.Violations++
		case CantRun:
			s.CantRun++
		case Error:
			s.Errors++
		}
		if fs[i].Blocking() {
			s.Blocking++
		}
		if fs[i].Exception != nil {
			s.Excepted++
		}
		if fs[i].Baselined != "" {
			s.Baselined++
		}
	}
	return s
}

// ID is a finding's stable identity: the same for the same policy of the
// same pack on the same resource of the same stack, whatever the pack's
// version, the message or the run. It is the ledger's key and what people
// type (warden findings show ID): 12 lower-case base32 characters (60 bits
// of SHA-256, so a million findings collide with odds below 1 in 2 million).
func ID(organization, project, stack, pack, policy, urn string) string {
	h := sha256.New()
	for _, s := range []string{organization, project, stack, pack, policy, urn} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return strings.ToLower(base32.StdEncoding.EncodeToString(h.Sum(nil))[:12])
}

// ResourceName is the part of a URN people read: the resource's type
// (without its parents) and name, "(stack)" for a stack policy's finding.
func ResourceName(s string) string {
	if s == "" {
		return "(stack)"
	}
	u, err := urn.Parse(s)
	if err != nil {
		return s
	}
	return string(u.Type()) + "::" + u.Name()
}

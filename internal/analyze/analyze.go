// Package analyze runs compiled packs over a stack's resources and turns
// engine results into findings: the unit every report (CLI output, audit
// summaries) is made of. The plugin does the same per RPC in package
// analyzer; this package serves whole-state analysis (`warden analyze`).
package analyze

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/warden-policy/warden/internal/stackexport"
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
	// Expired names an exception that would waive it but has expired.
	Expired string `json:"expiredException,omitempty"`
}

// ExceptionRef identifies the exception that waives a finding.
type ExceptionRef struct {
	ID         string `json:"id"`
	Reason     string `json:"reason"`
	ApprovedBy string `json:"approvedBy,omitempty"`
	Expires    string `json:"expires,omitempty"`
}

// Blocking reports whether the finding fails a run, as the engine decides:
// a violation at mandatory or remediate level. An evaluation error at those
// levels blocks too: a guard that cannot run must not let a change through.
func (f *Finding) Blocking() bool {
	if f.Kind == CantRun || f.Exception != nil {
		return false
	}
	return f.Level == spec.Mandatory || f.Level == spec.Remediate
}

// Summary counts what a run found.
type Summary struct {
	Resources  int `json:"resources"`
	Policies   int `json:"policies"`
	Violations int `json:"violations"`
	Blocking   int `json:"blocking"`
	Excepted   int `json:"excepted"`
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
	}
	return s
}

// Report is the analysis of one stack.
type Report struct {
	Stack    home.Stack `json:"-"`
	Name     string     `json:"stack"`  // org/project/stack
	Source   string     `json:"source"` // the file it came from
	Packs    []string   `json:"packs"`  // name@version
	Groups   []string   `json:"groups"` // the groups that apply
	Ran      []string   `json:"-"`      // pack/policy of every policy that ran
	Findings []Finding  `json:"findings"`
	Summary  Summary    `json:"summary"`
	// Encrypted counts secret values that could not be read.
	Encrypted int `json:"encryptedSecrets,omitempty"`
}

// Stack analyzes an exported stack as `pulumi policy analyze` does, with
// the groups of the mode that select it: resource policies on each
// resource's inputs, stack policies on every resource's outputs.
// Remediations are not applied to state. Exceptions of the home apply.
func Stack(ctx context.Context, h *home.Home, mode home.Mode, st *stackexport.Stack, ident home.Stack, now time.Time) (*Report, error) {
	res, err := h.Resolve(ident, mode)
	if err != nil {
		return nil, err
	}
	rep := &Report{Stack: ident, Name: ident.Organization + "/" + ident.Project + "/" + ident.Name, Encrypted: st.Encrypted}
	seen := map[string]bool{}
	for _, r := range res.Packs {
		rep.Packs = append(rep.Packs, r.Pack.String())
		for _, g := range r.Groups {
			if !seen[g.Group] {
				seen[g.Group] = true
				rep.Groups = append(rep.Groups, g.Group)
			}
		}
	}
	estack := engine.Stack{Name: ident.Name, Project: ident.Project, Organization: ident.Organization, Tags: ident.Tags}
	outputs := make([]*engine.Resource, len(st.Resources))
	types := map[string]string{}
	for i, r := range st.Resources {
		outputs[i] = r.Outputs
		types[r.Inputs.URN] = r.Inputs.Type
	}
	policies := 0
	for _, r := range res.Packs {
		run, err := r.Pack.NewRun(estack, r.Config)
		if err != nil {
			return nil, err
		}
		policies += len(r.Pack.Policies)
		for _, pol := range r.Pack.Policies {
			if run.Level(pol) != spec.Disabled {
				rep.Ran = append(rep.Ran, r.Pack.Name+"/"+pol.Name)
			}
		}
		for _, sr := range st.Resources {
			for _, result := range run.Evaluate(ctx, sr.Inputs) {
				rep.Findings = append(rep.Findings, Findings(ident.Name, ident.Project, sr.Inputs, &result)...)
			}
		}
		for _, result := range run.EvaluateStack(ctx, outputs) {
			rep.Findings = append(rep.Findings, Findings(ident.Name, ident.Project, nil, &result)...)
		}
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Kind == CantRun {
			continue
		}
		typ := f.Type
		if typ == "" {
			typ = types[f.URN]
		}
		active, expired := h.Find(home.Target{Pack: f.Pack, Policy: f.Policy, Exposed: f.Policy, URN: f.URN, Type: typ}, now)
		if len(active) > 0 {
			e := active[0]
			f.Exception = &ExceptionRef{ID: e.ID, Reason: e.Reason, ApprovedBy: e.ApprovedBy}
			if !e.Expires.IsZero() {
				f.Exception.Expires = e.Expires.Format(time.DateOnly)
			}
		} else if len(expired) > 0 {
			f.Expired = expired[0].ID
		}
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.Blocking() != b.Blocking() {
			return a.Blocking()
		}
		return false
	})
	rep.Summary = Summarize(len(st.Resources), policies, rep.Findings)
	return rep, nil
}

// Identify names the stack of an export: the URNs give stack and project;
// the organization is the home's unless the caller knows better.
func Identify(st *stackexport.Stack, org string) home.Stack {
	return home.Stack{Organization: org, Project: st.Project, Name: st.Name}
}

// Findings turns one engine result into findings. res is the analyzed
// resource (nil for stack policies, whose violations name their resource).
func Findings(stack, project string, res *engine.Resource, r *engine.Result) []Finding {
	pol := r.Policy
	base := Finding{
		Stack: stack, Project: project, Pack: pol.Pack.Name, Version: pol.Pack.Version, Policy: pol.Name,
		Level: r.Level, Severity: pol.Severity, Description: pol.Description,
		RemediationSteps: pol.RemediationSteps, URL: pol.URL,
	}
	if res != nil {
		base.URN, base.Type = res.URN, res.Type
	}
	var out []Finding
	for _, v := range r.Violations {
		f := base
		f.Kind, f.Message = Violation, v.Message
		if v.URN != "" {
			f.URN = v.URN
		}
		out = append(out, f)
	}
	for _, u := range r.Undecided {
		f := base
		f.Kind = CantRun
		f.Level = spec.Advisory
		f.Message = fmt.Sprintf("can't run policy '%s' from policy pack '%s@v%s': %s", pol.Name, pol.Pack.Name, pol.Pack.Version, u.Reason())
		out = append(out, f)
	}
	for _, err := range r.Errors {
		f := base
		f.Kind, f.Message = Error, "policy failed to evaluate: "+err.Error()
		out = append(out, f)
	}
	return out
}

// Package analyze runs compiled packs over a stack's resources and turns
// engine results into findings: the unit every report (CLI output, audit
// summaries) is made of. The plugin does the same per RPC in package
// analyzer; this package serves whole-state analysis (`warden analyze`).
package analyze

import (
	"context"
	"fmt"

	"github.com/warden-policy/warden/internal/stackexport"
	"github.com/warden-policy/warden/packs/engine"
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
}

// Blocking reports whether the finding fails a run, as the engine decides:
// a violation at mandatory or remediate level. An evaluation error at those
// levels blocks too: a guard that cannot run must not let a change through.
func (f *Finding) Blocking() bool {
	if f.Kind == CantRun {
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
	}
	return s
}

// State analyzes an exported stack as `pulumi policy analyze` does:
// resource policies on each resource's inputs, stack policies on every
// resource's outputs. Remediations are not applied to state.
func State(ctx context.Context, runs []*engine.Run, st *stackexport.Stack) []Finding {
	var out []Finding
	outputs := make([]*engine.Resource, len(st.Resources))
	for i, r := range st.Resources {
		outputs[i] = r.Outputs
	}
	for _, run := range runs {
		for _, r := range st.Resources {
			for _, res := range run.Evaluate(ctx, r.Inputs) {
				out = append(out, Findings(st.Name, st.Project, r.Inputs, &res)...)
			}
		}
		for _, res := range run.EvaluateStack(ctx, outputs) {
			out = append(out, Findings(st.Name, st.Project, nil, &res)...)
		}
	}
	return out
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

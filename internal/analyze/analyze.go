// Package analyze runs compiled packs over a whole stack's state, as
// `warden analyze` and `warden audit` do, and reports its findings (package
// findings: the same the plugin derives per RPC during preview and up).
package analyze

import (
	"context"
	"sort"
	"time"

	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/internal/stackexport"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

// Report is the analysis of one stack.
type Report struct {
	Stack    home.Stack         `json:"-"`
	Name     string             `json:"stack"`  // org/project/stack
	Source   string             `json:"source"` // the file it came from
	Packs    []string           `json:"packs"`  // name@version
	Groups   []string           `json:"groups"` // the groups that apply
	Ran      []string           `json:"-"`      // pack/policy of every policy that ran
	Findings []findings.Finding `json:"findings"`
	Summary  findings.Summary   `json:"summary"`
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
				rep.Findings = append(rep.Findings, findings.From(ident.Name, ident.Project, sr.Inputs, &result)...)
			}
		}
		for _, result := range run.EvaluateStack(ctx, outputs) {
			rep.Findings = append(rep.Findings, findings.From(ident.Name, ident.Project, nil, &result)...)
		}
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		f.Waive(h, f.Policy, types[f.URN], now)
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.Blocking() != b.Blocking() {
			return a.Blocking()
		}
		return false
	})
	rep.Summary = findings.Summarize(len(st.Resources), policies, rep.Findings)
	return rep, nil
}

// Identify names the stack of an export: the URNs give stack and project;
// the organization is the home's unless the caller knows better.
func Identify(st *stackexport.Stack, org string) home.Stack {
	return home.Stack{Organization: org, Project: st.Project, Name: st.Name}
}

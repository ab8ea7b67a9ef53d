// Package analyze is the domain analyzer both of Warden's doors go
// through. An Analyzer decides, for a home and a mode, which packs,
// policies, levels and names apply to a stack (a Session), and turns every
// engine result into a finding (package findings), exceptions applied. The
// plugin (package analyzer) adapts it to pulumirpc, one Session call per
// RPC; `warden analyze` and `warden audit` drive the same Session over an
// export (Report), so the same resource gives the same findings through
// every door.
package analyze

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/internal/stackexport"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
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

// Report analyzes an exported stack as `pulumi policy analyze` does, with
// the groups of the analyzer's mode that select it: resource policies on
// each resource's inputs, stack policies on every resource's outputs,
// through the same Session the plugin uses. Remediations are not applied
// to state. Exceptions of the home apply.
func (a *Analyzer) Report(ctx context.Context, st *stackexport.Stack, ident home.Stack) (*Report, error) {
	estack := engine.Stack{Name: ident.Name, Project: ident.Project, Organization: ident.Organization, Tags: ident.Tags}
	sess, err := a.Session(estack, true, nil)
	if err != nil {
		return nil, err
	}
	rep := &Report{Stack: ident, Name: ident.Organization + "/" + ident.Project + "/" + ident.Name, Encrypted: st.Encrypted}
	seen := map[string]bool{}
	order := map[string]int{} // pack name -> position, to list findings pack by pack
	policies := 0
	for i, r := range sess.Packs() {
		rep.Packs = append(rep.Packs, r.Pack.String())
		order[r.Pack.Name] = i
		policies += len(r.Pack.Policies)
		for _, g := range r.Groups {
			if !seen[g.Group] {
				seen[g.Group] = true
				rep.Groups = append(rep.Groups, g.Group)
			}
		}
	}
	for _, pol := range sess.Enabled() {
		rep.Ran = append(rep.Ran, pol.Pack.Name+"/"+pol.Name)
	}
	outputs := make([]*engine.Resource, len(st.Resources))
	for i, r := range st.Resources {
		outputs[i] = r.Outputs
		rep.Findings = append(rep.Findings, sess.Analyze(ctx, r.Inputs).Findings...)
	}
	rep.Findings = append(rep.Findings, sess.AnalyzeStack(ctx, outputs).Findings...)
	// Pack by pack (each pack's resources in state order, then its stack
	// policies), what blocks first.
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := &rep.Findings[i], &rep.Findings[j]
		if a.Blocking() != b.Blocking() {
			return a.Blocking()
		}
		return order[a.Pack] < order[b.Pack]
	})
	rep.Summary = findings.Summarize(len(st.Resources), policies, rep.Findings)
	return rep, nil
}

// Identify names the stack of an export: the URNs give stack and project;
// the organization is the home's unless the caller knows better.
func Identify(st *stackexport.Stack, org string) home.Stack {
	return home.Stack{Organization: org, Project: st.Project, Name: st.Name}
}

// EnvNow names the variable that sets the day Warden's dated rules see:
// staged levels ("mandatory from DATE"), exceptions' expiry. It is how a
// team tries a rollout ahead of its date, and how tests pass a date in
// rather than wait for one. YYYY-MM-DD or RFC 3339.
const EnvNow = "WARDEN_NOW"

// Clock is the clock of EnvNow: time.Now when it is not set, else that
// instant, always. A value that does not parse is an error, never ignored:
// a rollout must not start early or late by a typo.
func Clock(getenv func(string) string) (func() time.Time, error) {
	v := getenv(EnvNow)
	if v == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, v); err != nil {
			return nil, fmt.Errorf("$%s %q: want a date (YYYY-MM-DD) or an RFC 3339 time", EnvNow, v)
		}
	}
	return func() time.Time { return t }, nil
}

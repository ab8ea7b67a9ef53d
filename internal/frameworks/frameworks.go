// Package frameworks maps compliance frameworks' controls to the built-in
// policies that check them, and says how stacks stand per control: the
// report behind `warden packs show <framework>` and `warden compliance
// --framework`. A control's policies are the built-in policies that name
// it (a policy's controls); which controls no policy can check from a
// Pulumi program is the framework file's to say (iac: false, why).
package frameworks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/packs/builtin"
)

// Status is where a control stands.
type Status string

const (
	// NotCheckable: no policy can check the control from a program's
	// resource inputs or its stack (live state, processes).
	NotCheckable Status = "not-checkable"
	// NoPolicy: checkable from IaC, but no built-in policy checks it yet.
	NoPolicy Status = "no-policy"
	// NotRun: its policies ran on no stack in the ledger.
	NotRun Status = "not-run"
	// Passing: its policies ran, and none has an open finding, on every
	// stack where they ran.
	Passing Status = "passing"
	// Failing: a policy of the control has an open finding on some stack.
	Failing Status = "failing"
)

// Control is one control with its policies and, in a report, its standing.
type Control struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	IaC      bool     `json:"iac"`
	Why      string   `json:"why,omitempty"`
	Policies []string `json:"policies"` // pack/policy of the built-in packs
	Status   Status   `json:"status"`
	// Stacks is the number of stacks its policies ran on, Failing of those
	// with an open finding of one of them; Open counts those findings.
	Stacks  int `json:"stacks"`
	Failing int `json:"failingStacks"`
	Open    int `json:"openFindings"`
}

// Summary counts controls by status; Score is the share of the controls
// that ran which pass (1 when none ran).
type Summary struct {
	Controls     int     `json:"controls"`
	NotCheckable int     `json:"notCheckable"`
	NoPolicy     int     `json:"noPolicy"`
	NotRun       int     `json:"notRun"`
	Passing      int     `json:"passing"`
	Failing      int     `json:"failing"`
	Score        float64 `json:"score"`
	Stacks       int     `json:"stacks"`
}

// Report is a framework's controls.
type Report struct {
	Name     string    `json:"name"`
	Title    string    `json:"title"`
	Version  string    `json:"version"`
	URL      string    `json:"url,omitempty"`
	Controls []Control `json:"controls"`
	Summary  Summary   `json:"summary"`
}

// Map lists the framework's controls with the built-in policies that check
// each, without any standing: a checkable control is NoPolicy or NotRun.
func Map(name string) (*Report, error) {
	f, err := builtin.Framework(name)
	if err != nil {
		return nil, fmt.Errorf("framework %s: %w", name, err)
	}
	byControl := map[string][]string{}
	for _, src := range builtin.Names() {
		p, err := builtin.Pack(src)
		if err != nil {
			return nil, err
		}
		for _, pol := range p.Policies {
			for _, id := range builtin.ControlsIn(pol.Controls, name) {
				byControl[id] = append(byControl[id], src+"/"+pol.Name)
			}
		}
	}
	r := &Report{Name: f.Name, Title: f.Title, Version: f.Version, URL: f.URL}
	for _, c := range f.Controls {
		rc := Control{ID: c.ID, Title: c.Title, IaC: c.IaC, Why: c.Why, Policies: byControl[c.ID]}
		if rc.Policies == nil {
			rc.Policies = []string{}
		}
		switch {
		case !c.IaC:
			rc.Status = NotCheckable
		case len(rc.Policies) == 0:
			rc.Status = NoPolicy
		default:
			rc.Status = NotRun
		}
		r.Controls = append(r.Controls, rc)
	}
	r.summarize()
	return r, nil
}

// Evaluate is Map with each control's standing on the stacks of the
// ledger. A policy counts when it ran under its built-in pack or under a
// framework view (a CIS EKS view runs the Kubernetes policies a CIS
// Kubernetes report asks about); a pack of another name may hold another
// policy of the same name, and does not count.
func Evaluate(name string, stacks []ledger.StackStanding) (*Report, error) {
	r, err := Map(name)
	if err != nil {
		return nil, err
	}
	r.Summary.Stacks = len(stacks)
	views := builtin.Frameworks()
	for i := range r.Controls {
		c := &r.Controls[i]
		if c.Status != NotRun {
			continue
		}
		var names []string // pack/policy as it may have run
		for _, ref := range c.Policies {
			_, pol, _ := strings.Cut(ref, "/")
			names = append(names, ref)
			for _, view := range views {
				names = append(names, view+"/"+pol)
			}
		}
		for _, st := range stacks {
			ran := slices.ContainsFunc(st.Ran, func(p string) bool { return slices.Contains(names, p) })
			if !ran {
				continue
			}
			c.Stacks++
			open := 0
			for _, n := range names {
				open += st.Open[n]
			}
			if open > 0 {
				c.Failing++
				c.Open += open
			}
		}
		switch {
		case c.Failing > 0:
			c.Status = Failing
		case c.Stacks > 0:
			c.Status = Passing
		}
	}
	r.summarize()
	return r, nil
}

func (r *Report) summarize() {
	s := Summary{Controls: len(r.Controls), Stacks: r.Summary.Stacks, Score: 1}
	for _, c := range r.Controls {
		switch c.Status {
		case NotCheckable:
			s.NotCheckable++
		case NoPolicy:
			s.NoPolicy++
		case NotRun:
			s.NotRun++
		case Passing:
			s.Passing++
		case Failing:
			s.Failing++
		}
	}
	if ran := s.Passing + s.Failing; ran > 0 {
		s.Score = float64(s.Passing) / float64(ran)
	}
	r.Summary = s
}

// Checked is the framework's controls that a policy checks.
func (r *Report) Checked() int {
	return r.Summary.Controls - r.Summary.NotCheckable - r.Summary.NoPolicy
}

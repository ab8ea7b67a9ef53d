package frameworks

import (
	"strings"
	"testing"

	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/packs/builtin"
)

// TestMap: every control of every framework is listed, in the file's
// order, with the built-in policies that name it; a control is
// not-checkable exactly when the file says so.
func TestMap(t *testing.T) {
	t.Parallel()
	for _, name := range builtin.Frameworks() {
		f, err := builtin.Framework(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Map(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Controls) != len(f.Controls) {
			t.Fatalf("%s: %d controls, file has %d", name, len(r.Controls), len(f.Controls))
		}
		for i, c := range r.Controls {
			if c.ID != f.Controls[i].ID || (c.Status == NotCheckable) != !f.Controls[i].IaC {
				t.Errorf("%s %s: %+v", name, c.ID, c)
			}
			if c.Status != NotCheckable && (c.Status == NoPolicy) != (len(c.Policies) == 0) {
				t.Errorf("%s %s: status %s with policies %v", name, c.ID, c.Status, c.Policies)
			}
			for _, ref := range c.Policies {
				pack, pol, _ := strings.Cut(ref, "/")
				p, err := builtin.Pack(pack)
				if err != nil || p.Policy(pol) == nil {
					t.Errorf("%s %s: no policy %s", name, c.ID, ref)
				}
			}
		}
	}
}

// TestEvaluate: a control fails on an open finding of one of its policies,
// passes where they ran clean (under the built-in pack or a framework
// view, its own or another), and a pack of another name that happens to hold a policy of the
// same name does not count.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	fw := builtin.Frameworks()[0]
	m, err := Map(fw)
	if err != nil {
		t.Fatal(err)
	}
	var target *Control
	for i := range m.Controls {
		if m.Controls[i].Status == NotRun {
			target = &m.Controls[i]
			break
		}
	}
	if target == nil {
		t.Fatalf("%s: no control with a policy", fw)
	}
	ref := target.Policies[0]
	_, pol, _ := strings.Cut(ref, "/")
	stacks := []ledger.StackStanding{
		{Stack: "acme/web/prod", Ran: []string{ref}, Open: map[string]int{ref: 2}},
		{Stack: "acme/web/dev", Ran: []string{fw + "/" + pol}, Open: map[string]int{}},
		{Stack: "acme/web/other", Ran: []string{"acme/" + pol}, Open: map[string]int{"acme/" + pol: 5}},
		{Stack: "acme/web/viewed", Ran: []string{builtin.Frameworks()[len(builtin.Frameworks())-1] + "/" + pol}, Open: map[string]int{}},
	}
	r, err := Evaluate(fw, stacks)
	if err != nil {
		t.Fatal(err)
	}
	var got Control
	for _, c := range r.Controls {
		if c.ID == target.ID {
			got = c
		}
	}
	if got.Status != Failing || got.Stacks != 3 || got.Failing != 1 || got.Open != 2 {
		t.Errorf("control %s: %+v", target.ID, got)
	}
	stacks[0].Open = map[string]int{}
	r, err = Evaluate(fw, stacks)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Controls {
		if c.ID == target.ID && (c.Status != Passing || c.Stacks != 3 || c.Failing != 0) {
			t.Errorf("control %s once clean: %+v", target.ID, c)
		}
	}
	s := r.Summary
	if s.Controls != len(r.Controls) || s.Passing+s.Failing+s.NotRun+s.NoPolicy+s.NotCheckable != s.Controls || s.Failing != 0 || s.Passing == 0 || s.Score != 1 || s.Stacks != 4 {
		t.Errorf("summary %+v", s)
	}
}

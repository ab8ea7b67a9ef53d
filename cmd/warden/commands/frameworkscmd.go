package commands

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/warden-policy/warden/internal/frameworks"
	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
)

// controlCount is a framework view's controls, counted.
type controlCount struct {
	Total        int `json:"total"`
	Checked      int `json:"checked"`
	NoPolicy     int `json:"noPolicy"`
	NotCheckable int `json:"notCheckable"`
}

func countControls(r *frameworks.Report) *controlCount {
	return &controlCount{Total: r.Summary.Controls, Checked: r.Checked(), NoPolicy: r.Summary.NoPolicy, NotCheckable: r.Summary.NotCheckable}
}

// packKind says whether a pack is a framework view: a built-in one named
// after a framework.
func packKind(name, source string) string {
	if source == "built-in" && slices.Contains(builtin.Frameworks(), name) {
		return "framework"
	}
	return "pack"
}

// frameworkView is the catalog's line for a framework view.
func frameworkView(name string) (packView, error) {
	p, err := builtin.Pack(name)
	if err != nil {
		return packView{}, err
	}
	r, err := frameworks.Map(name)
	if err != nil {
		return packView{}, err
	}
	return packView{
		Name: p.Name, Kind: "framework", Version: p.Version, Source: "built-in", Policies: len(p.Policies),
		Frameworks: []string{r.Title + " " + r.Version}, Controls: countControls(r),
	}, nil
}

// printControls writes a framework's controls: those a policy checks (with
// their standing when standing is set), those no policy checks yet, and
// those no policy can check from IaC, with why.
func printControls(w io.Writer, controls []frameworks.Control, standing bool) error {
	var checked, none, never []frameworks.Control
	for _, c := range controls {
		switch c.Status {
		case frameworks.NotCheckable:
			never = append(never, c)
		case frameworks.NoPolicy:
			none = append(none, c)
		default:
			checked = append(checked, c)
		}
	}
	fmt.Fprintf(w, "\nControls checked by a policy (%d):\n", len(checked))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if standing {
		fmt.Fprintln(tw, "  CONTROL\tSTATUS\tSTACKS\tOPEN\tPOLICIES\tTITLE")
	} else {
		fmt.Fprintln(tw, "  CONTROL\tPOLICIES\tTITLE")
	}
	for _, c := range checked {
		var names []string
		for _, ref := range c.Policies {
			_, pol, _ := strings.Cut(ref, "/")
			names = append(names, pol)
		}
		if standing {
			stacks := "-"
			if c.Stacks > 0 {
				stacks = fmt.Sprintf("%d of %d failing", c.Failing, c.Stacks)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\n", c.ID, c.Status, stacks, c.Open, strings.Join(names, ", "), c.Title)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.ID, strings.Join(names, ", "), c.Title)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nControls checkable from IaC that no built-in policy checks yet (%d):\n", len(none))
	for _, c := range none {
		fmt.Fprintf(w, "  %s  %s\n", c.ID, c.Title)
	}
	fmt.Fprintf(w, "\nControls no policy can check from IaC (%d):\n", len(never))
	for _, c := range never {
		fmt.Fprintf(w, "  %s  %s: %s\n", c.ID, c.Title, c.Why)
	}
	return nil
}

// unknownControls warns about controls a pack's policies name in a built-in
// framework that has no such control: no view would select the policy for
// it. Frameworks Warden does not ship are the pack's own business.
func unknownControls(p *engine.Pack) []string {
	var out []string
	for _, pol := range p.Policies {
		for i, ref := range pol.Controls {
			fw, id, _ := strings.Cut(ref, "/")
			if !slices.Contains(builtin.Frameworks(), fw) {
				continue
			}
			f, err := builtin.Framework(fw)
			if err != nil || f.Control(id) != nil {
				continue
			}
			out = append(out, fmt.Sprintf("%s: %s/%s: %s has no control %q: the %s view will not select the policy for it",
				pol.Spec.ControlPos[i], p.Name, pol.Name, fw, id, fw))
		}
	}
	return out
}

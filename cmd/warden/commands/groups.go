package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

func newCmdGroups(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{Use: "groups", Short: "List policy groups and explain which apply to a stack"}
	cmd.AddCommand(newCmdGroupsList(ios, nil), newCmdGroupsResolve(ios, nil),
		newCmdGroupsNew(ios, nil), newCmdGroupsEdit(ios, nil), newCmdGroupsRemove(ios, nil))
	return cmd
}

type groupsListOptions struct {
	IO     *IOStreams
	Home   string
	Output string
}

func newCmdGroupsList(ios *IOStreams, runF func(context.Context, *groupsListOptions) error) *cobra.Command {
	opts := &groupsListOptions{IO: ios}
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the home's groups",
		Example: "  warden groups list --home ./policy",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.Output, "human", "json"); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return groupsListRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the built-in packs)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output format: human, json")
	return cmd
}

type groupView struct {
	Name    string   `json:"name"`
	Mode    string   `json:"mode"`
	Default bool     `json:"default"`
	Stacks  []string `json:"stacks,omitempty"`
	Rule    string   `json:"stackRule,omitempty"`
	Sources []string `json:"sources,omitempty"`
	Packs   []string `json:"packs"`
}

func viewGroup(g *home.Group) groupView {
	v := groupView{Name: g.Name, Mode: string(g.Mode), Default: g.Default, Packs: []string{}}
	for _, s := range g.Stacks {
		v.Stacks = append(v.Stacks, s.Text)
	}
	if g.Rule != nil {
		v.Rule = g.Rule.Text
	}
	for _, s := range g.Sources {
		v.Sources = append(v.Sources, s.Text)
	}
	for _, p := range g.Packs {
		v.Packs = append(v.Packs, p.Pack.String())
	}
	return v
}

func groupsListRun(opts *groupsListOptions) error {
	h, err := loadHome(opts.Home, nil)
	if err != nil {
		return err
	}
	var views []groupView
	for _, g := range h.Groups {
		views = append(views, viewGroup(g))
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, views)
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMODE\tSELECTS\tPACKS")
	for _, v := range views {
		name := v.Name
		if v.Default {
			name += " (default)"
		}
		var sel []string
		switch {
		case v.Default:
			sel = append(sel, "every stack")
		case v.Mode == string(home.Audit):
			sel = v.Sources
		}
		if !v.Default {
			sel = append(sel, v.Stacks...)
			if v.Rule != "" {
				sel = append(sel, "tags: "+v.Rule)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, v.Mode, strings.Join(sel, ", "), strings.Join(v.Packs, ", "))
	}
	return tw.Flush()
}

type groupsResolveOptions struct {
	IO     *IOStreams
	Home   string
	Stack  string
	Tags   []string
	Mode   string
	Output string
	Now    func() time.Time
}

func newCmdGroupsResolve(ios *IOStreams, runF func(context.Context, *groupsResolveOptions) error) *cobra.Command {
	opts := &groupsResolveOptions{IO: ios, Now: wardenNow}
	cmd := &cobra.Command{
		Use:   "resolve --stack org/project/stack",
		Short: "Explain which groups select a stack, and which policies run at which level, with which config",
		Example: "  warden groups resolve --home ./policy --stack acme/payments/prod\n" +
			"  warden groups resolve --stack acme/web/staging --tag tier=critical -o json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Stack == "" {
				return &FlagError{Err: fmt.Errorf("--stack is required")}
			}
			if err := checkOutput(opts.Output, "human", "json"); err != nil {
				return err
			}
			if opts.Mode != string(home.Preventative) && opts.Mode != string(home.Audit) {
				return &FlagError{Err: fmt.Errorf("--mode %q: want preventative or audit", opts.Mode)}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return groupsResolveRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the built-in packs)")
	cmd.Flags().StringVar(&opts.Stack, "stack", "", "the stack as org/project/stack")
	cmd.Flags().StringArrayVar(&opts.Tags, "tag", nil, "a stack tag key=value (repeatable)")
	cmd.Flags().StringVar(&opts.Mode, "mode", string(home.Preventative), "which groups: preventative or audit")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output format: human, json")
	return cmd
}

type resolutionView struct {
	Stack      string            `json:"stack"`
	Tags       map[string]string `json:"tags,omitempty"`
	Groups     []home.GroupMatch `json:"groups"`
	Packs      []packRunView     `json:"packs"`
	Exceptions []exceptionView   `json:"exceptions"`
	Baseline   *baselineView     `json:"baseline,omitempty"`
}

// baselineView is a stack's baseline as groups resolve shows it.
type baselineView struct {
	File       string `json:"file"`
	Created    string `json:"created"`
	Violations int    `json:"violations"`
}

type packRunView struct {
	Pack     string       `json:"pack"`
	Source   string       `json:"source"`
	Groups   []string     `json:"groups"`
	Policies []policyView `json:"policies"`
}

type policyView struct {
	Name   string         `json:"name"`
	Level  string         `json:"enforcementLevel"`
	From   string         `json:"levelFrom,omitempty"`
	Config map[string]any `json:"config,omitempty"`
}

type exceptionView struct {
	ID       string   `json:"id"`
	Reason   string   `json:"reason"`
	Expires  string   `json:"expires,omitempty"`
	Expired  bool     `json:"expired"`
	Policies []string `json:"policies"`
	Targets  []string `json:"targets"`
}

func groupsResolveRun(opts *groupsResolveOptions) error {
	h, err := loadHome(opts.Home, nil)
	if err != nil {
		return err
	}
	st, err := parseStackRef(opts.Stack)
	if err != nil {
		return err
	}
	if st.Tags, err = parseTags(opts.Tags); err != nil {
		return err
	}
	res, err := h.Resolve(st, home.Mode(opts.Mode))
	if err != nil {
		return err
	}
	v := resolutionView{Stack: opts.Stack, Tags: st.Tags, Groups: h.Applies(st, home.Mode(opts.Mode)), Packs: []packRunView{}, Exceptions: []exceptionView{}}
	for _, r := range res.Packs {
		pv := packRunView{Pack: r.Pack.String(), Source: r.Source}
		for _, g := range r.Groups {
			pv.Groups = append(pv.Groups, g.Group)
		}
		for _, pol := range r.Pack.Policies {
			c := r.Config[pol.Name]
			pv.Policies = append(pv.Policies, policyView{Name: pol.Name, Level: stagedLevel(c.Level, r.Stages[pol.Name]), From: r.LevelFrom[pol.Name], Config: c.Properties})
		}
		v.Packs = append(v.Packs, pv)
	}
	prefix := "urn:pulumi:" + st.Name + "::" + st.Project + "::"
	for _, e := range h.Exceptions {
		ev := exceptionView{ID: e.ID, Reason: e.Reason, Expired: e.Expired(opts.Now())}
		if !e.Expires.IsZero() {
			ev.Expires = e.Expires.Format(time.DateOnly)
		}
		applies := false
		for _, m := range e.Match {
			for _, t := range m.Targets {
				if !strings.HasPrefix(t, "urn:") || urnPrefixMatches(t, prefix) {
					applies = true
					ev.Targets = append(ev.Targets, t)
				}
			}
			ev.Policies = append(ev.Policies, m.Policies...)
		}
		if applies {
			v.Exceptions = append(v.Exceptions, ev)
		}
	}
	if b := h.Baseline(st.Organization, st.Project, st.Name); b != nil {
		rel, err := filepath.Rel(h.Dir, b.File)
		if err != nil {
			rel = b.File
		}
		v.Baseline = &baselineView{File: rel, Created: b.Created.Format(time.DateOnly), Violations: len(b.Entries)}
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, v)
	}
	return writeResolution(opts.IO.Out, v)
}

// stagedLevel is a level as warden.yaml writes it, with its rollout:
// "shadow", "mandatory from 2027-01-15".
func stagedLevel(l spec.Level, st home.Stage) string {
	switch {
	case st.Shadow:
		return string(spec.Shadow)
	case !st.From.IsZero():
		return string(l) + " from " + st.From.Format(time.DateOnly)
	}
	return string(l)
}

// urnPrefixMatches reports whether a URN target (with * globs) can name a
// resource of the stack whose URNs start with prefix.
func urnPrefixMatches(target, prefix string) bool {
	head, _, _ := strings.Cut(target, "*")
	n := min(len(head), len(prefix))
	return head[:n] == prefix[:n]
}

func writeResolution(w io.Writer, v resolutionView) error {
	fmt.Fprintf(w, "Stack %s", v.Stack)
	if len(v.Tags) > 0 {
		var tags []string
		for k, val := range v.Tags {
			tags = append(tags, k+"="+val)
		}
		sort.Strings(tags)
		fmt.Fprintf(w, " (tags: %s)", strings.Join(tags, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\nGroups that apply:")
	if len(v.Groups) == 0 {
		fmt.Fprintln(w, "  none: no policies run for this stack")
	}
	for _, g := range v.Groups {
		fmt.Fprintf(w, "  %-20s %s\n", g.Group, g.Why)
	}
	for _, p := range v.Packs {
		fmt.Fprintf(w, "\n%s (%s), from %s:\n", p.Pack, p.Source, strings.Join(p.Groups, ", "))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  POLICY\tLEVEL\tFROM\tCONFIG")
		for _, pol := range p.Policies {
			cfg := ""
			if len(pol.Config) > 0 {
				b, _ := json.Marshal(pol.Config)
				cfg = string(b)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", pol.Name, pol.Level, pol.From, cfg)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(v.Exceptions) > 0 {
		fmt.Fprintln(w, "\nExceptions that may apply:")
		for _, e := range v.Exceptions {
			state := ""
			if e.Expired {
				state = " [expired: no longer applies]"
			} else if e.Expires != "" {
				state = " [until " + e.Expires + "]"
			}
			fmt.Fprintf(w, "  %s%s: %s\n    policies %s on %s\n", e.ID, state, e.Reason, strings.Join(e.Policies, ", "), strings.Join(e.Targets, ", "))
		}
	}
	if b := v.Baseline; b != nil {
		fmt.Fprintf(w, "\nBaseline: %d violations accepted on %s (%s): reported as advisory; only new violations block\n", b.Violations, b.Created, b.File)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

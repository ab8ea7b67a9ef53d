package commands

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/internal/version"
	"github.com/warden-policy/warden/packs/home"
)

// ledgerOptions are what every command that reads or records the findings
// ledger takes: the home (whose findings.store names the store) and an
// explicit store URL.
type ledgerOptions struct {
	Home  string
	Store string
}

func (o *ledgerOptions) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Home, "home", "", "policy home whose findings store to use (default $WARDEN_HOME, else the embedded default's)")
	cmd.Flags().StringVar(&o.Store, "store", "", "findings store URL, overriding the home's: sqlite:PATH or postgres://HOST/DB (default $"+ledger.EnvStore+")")
}

// url is the store the options name, "" when recording is off.
func (o *ledgerOptions) url(h *home.Home) string {
	if o.Store == "off" {
		return ""
	}
	if o.Store != "" {
		return o.Store
	}
	return ledger.Locate(h, os.Getenv)
}

// open connects to the store for reading or triage.
func (o *ledgerOptions) open(ctx context.Context, ios *IOStreams) (*ledger.Store, error) {
	h, err := home.Open(home.Find(o.Home, os.Getenv, ""))
	if err != nil {
		return nil, err
	}
	url := o.url(h)
	if url == "" {
		return nil, &FlagError{Err: fmt.Errorf("the findings ledger is off ($%s=off): give --store", ledger.EnvStore)}
	}
	s, warning, err := ledger.Connect(ctx, url, os.Getenv)
	if warning != "" {
		fmt.Fprintf(ios.ErrOut, "warning: %s\n", warning)
	}
	return s, err
}

// recordReport saves what analyze or audit found in the findings ledger
// (--store, else the home's); a store problem is a warning, never the
// command's outcome.
func recordReport(ctx context.Context, ios *IOStreams, h *home.Home, store string, kind ledger.Kind, started time.Time, rep *analyze.Report) {
	o := ledgerOptions{Store: store}
	url := o.url(h)
	if url == "" {
		return
	}
	r := &ledger.Run{
		ID: ledger.NewRunID(started), Organization: rep.Stack.Organization, Project: rep.Stack.Project, Stack: rep.Stack.Name,
		Kind: kind, Started: started, Finished: time.Now(), Version: version.Version, Packs: rep.Packs, Groups: rep.Groups,
		Source: rep.Source, Complete: true, Blocked: rep.Summary.Blocking > 0, Ran: rep.Ran, Resources: rep.Summary.Resources,
		Findings: rep.Findings,
	}
	if w := ledger.Save(ctx, url, os.Getenv, r); w != "" {
		fmt.Fprintf(ios.ErrOut, "warning: %s\n", w)
	}
}

func newCmdFindings(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "findings <command>",
		Short: "List, show and triage the findings the ledger tracks",
		Long: "Every run (pulumi preview and up through the plugin, warden analyze and audit) is recorded in the\n" +
			"findings ledger. A finding is one policy on one resource of one stack; updates and audits open,\n" +
			"fix and reopen findings, previews only show what they would do.",
	}
	cmd.AddCommand(newCmdFindingsList(ios, nil), newCmdFindingsShow(ios, nil), newCmdFindingsUpdate(ios, nil))
	return cmd
}

type findingsListOptions struct {
	IO *IOStreams
	ledgerOptions
	By       string
	Status   []string
	Severity []string
	Pack     string
	Policy   string
	Stack    string
	Assignee string
	Group    string
	Output   string
}

func newCmdFindingsList(ios *IOStreams, runF func(context.Context, *findingsListOptions) error) *cobra.Command {
	opts := &findingsListOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List findings, one per line or grouped by policy, resource or stack",
		Example: "  warden findings list --home ./policy\n" +
			"  warden findings list --by policy --status open --severity critical,high\n" +
			"  warden findings list --stack acme/web/prod -o csv",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return findingsListRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&opts.By, "by", "", "group by policy, resource or stack")
	cmd.Flags().StringSliceVar(&opts.Status, "status", nil, "only these statuses: open, in-progress, by-design, fixed, ignored")
	cmd.Flags().StringSliceVar(&opts.Severity, "severity", nil, "only these severities: critical, high, medium, low")
	cmd.Flags().StringVar(&opts.Pack, "pack", "", "only this pack")
	cmd.Flags().StringVar(&opts.Policy, "policy", "", "only this policy")
	cmd.Flags().StringVar(&opts.Stack, "stack", "", "only this stack: stack, project/stack or org/project/stack")
	cmd.Flags().StringVar(&opts.Assignee, "assignee", "", "only findings assigned to this person")
	cmd.Flags().StringVar(&opts.Group, "group", "", "only findings of the packs a group of the home lists, on the stacks it selects (by name; tag rules see no tags)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output: human, json or csv")
	return cmd
}

func (o *findingsListOptions) filter() (ledger.Filter, error) {
	f := ledger.Filter{Severity: o.Severity, Pack: o.Pack, Policy: o.Policy, Stack: o.Stack, Assignee: o.Assignee}
	for _, s := range o.Status {
		st := ledger.Status(s)
		if !st.Valid() {
			return f, &FlagError{Err: fmt.Errorf("unknown status %q: want open, in-progress, by-design, fixed or ignored", s)}
		}
		f.Status = append(f.Status, st)
	}
	for _, s := range o.Severity {
		if s != "critical" && s != "high" && s != "medium" && s != "low" {
			return f, &FlagError{Err: fmt.Errorf("unknown severity %q: want critical, high, medium or low", s)}
		}
	}
	return f, nil
}

func findingsListRun(ctx context.Context, opts *findingsListOptions) error {
	if err := checkOutput(opts.Output, "human", "json", "csv"); err != nil {
		return err
	}
	f, err := opts.filter()
	if err != nil {
		return err
	}
	by := ledger.Grouping(opts.By)
	if by != "" && by != ledger.ByPolicy && by != ledger.ByResource && by != ledger.ByStack {
		return &FlagError{Err: fmt.Errorf("--by %q: want policy, resource or stack", opts.By)}
	}
	s, err := opts.open(ctx, opts.IO)
	if err != nil {
		return err
	}
	defer s.Close()
	if opts.Group != "" {
		h, err := home.Open(home.Find(opts.Home, os.Getenv, ""))
		if err != nil {
			return err
		}
		if err := s.ForGroup(ctx, h, opts.Group, &f); err != nil {
			return err
		}
	}
	if by != "" {
		groups, err := s.Grouped(ctx, f, by)
		if err != nil {
			return err
		}
		return writeGroups(opts.IO.Out, opts.Output, by, groups)
	}
	list, err := s.Findings(ctx, f)
	if err != nil {
		return err
	}
	return writeFindings(opts.IO.Out, opts.Output, list)
}

func writeFindings(w io.Writer, format string, list []*ledger.Finding) error {
	switch format {
	case "json":
		if list == nil {
			list = []*ledger.Finding{}
		}
		return writeJSON(w, map[string]any{"findings": list})
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"id", "status", "priority", "severity", "level", "organization", "project", "stack", "pack", "policy", "urn", "assignee", "reason", "exception", "first_seen", "last_seen", "message"})
		for _, f := range list {
			cw.Write([]string{f.ID, string(f.Status), f.Priority, f.Severity, f.Level, f.Organization, f.Project, f.Stack, f.Pack, f.Policy, f.URN,
				f.Assignee, f.Reason, f.Exception, f.FirstSeen.Format(time.RFC3339), f.LastSeen.Format(time.RFC3339), f.Message})
		}
		cw.Flush()
		return cw.Error()
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no findings")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tPRI\tSEVERITY\tSTACK\tPOLICY\tRESOURCE\tASSIGNEE")
	for _, f := range list {
		status := string(f.Status)
		if f.Exception != "" {
			status += " (excepted)"
		} else if f.Baselined != "" {
			status += " (baselined)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, status, f.Priority, f.Severity, f.Organization+"/"+f.Project+"/"+f.Stack,
			f.Pack+"/"+f.Policy, findings.ResourceName(f.URN), f.Assignee)
	}
	return tw.Flush()
}

func writeGroups(w io.Writer, format string, by ledger.Grouping, groups []ledger.Group) error {
	switch format {
	case "json":
		if groups == nil {
			groups = []ledger.Group{}
		}
		return writeJSON(w, map[string]any{"by": by, "groups": groups})
	case "csv":
		cw := csv.NewWriter(w)
		head := []string{string(by), "severity", "total"}
		for _, s := range ledger.Statuses {
			head = append(head, string(s))
		}
		cw.Write(head)
		for _, g := range groups {
			row := []string{g.Key, g.Severity, fmt.Sprint(g.Total)}
			for _, s := range ledger.Statuses {
				row = append(row, fmt.Sprint(g.ByStatus[s]))
			}
			cw.Write(row)
		}
		cw.Flush()
		return cw.Error()
	}
	if len(groups) == 0 {
		_, err := fmt.Fprintln(w, "no findings")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tSEVERITY\tTOTAL\tOPEN\tIN-PROGRESS\tBY-DESIGN\tFIXED\tIGNORED\n", strings.ToUpper(string(by)))
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", g.Key, g.Severity, g.Total, g.ByStatus[ledger.StatusOpen], g.ByStatus[ledger.StatusInProgress],
			g.ByStatus[ledger.StatusByDesign], g.ByStatus[ledger.StatusFixed], g.ByStatus[ledger.StatusIgnored])
	}
	return tw.Flush()
}

type findingsShowOptions struct {
	IO *IOStreams
	ledgerOptions
	ID     string
	Output string
}

func newCmdFindingsShow(ios *IOStreams, runF func(context.Context, *findingsShowOptions) error) *cobra.Command {
	opts := &findingsShowOptions{IO: ios}
	cmd := &cobra.Command{
		Use:     "show ID",
		Short:   "Show a finding, its history and the runs that saw it",
		Example: "  warden findings show 3kq7x2m4ab5c",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return findingsShowRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output: human or json")
	return cmd
}

func findingsShowRun(ctx context.Context, opts *findingsShowOptions) error {
	if err := checkOutput(opts.Output, "human", "json"); err != nil {
		return err
	}
	s, err := opts.open(ctx, opts.IO)
	if err != nil {
		return err
	}
	defer s.Close()
	f, history, seen, err := s.Finding(ctx, opts.ID)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		if history == nil {
			history = []ledger.Change{}
		}
		if seen == nil {
			seen = []ledger.Sighting{}
		}
		return writeJSON(opts.IO.Out, map[string]any{"finding": f, "history": history, "runs": seen})
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "finding %s: %s/%s on %s\n", f.ID, f.Pack, f.Policy, f.Organization+"/"+f.Project+"/"+f.Stack)
	if f.URN != "" {
		fmt.Fprintf(w, "  resource   %s\n", f.URN)
	}
	fmt.Fprintf(w, "  status     %s", f.Status)
	if f.Reason != "" {
		fmt.Fprintf(w, " (%s)", f.Reason)
	}
	fmt.Fprintf(w, "\n  priority   %s\n  severity   %s\n  level      %s\n", f.Priority, f.Severity, f.Level)
	if f.Assignee != "" {
		fmt.Fprintf(w, "  assignee   %s\n", f.Assignee)
	}
	if f.Exception != "" {
		fmt.Fprintf(w, "  excepted   by %s\n", f.Exception)
	}
	if f.Baselined != "" {
		fmt.Fprintf(w, "  baselined  since %s (the stack's baseline: it does not block)\n", f.Baselined)
	}
	fmt.Fprintf(w, "  first seen %s\n  last seen  %s (run %s)\n", f.FirstSeen.Format(time.RFC3339), f.LastSeen.Format(time.RFC3339), f.LastRun)
	fmt.Fprintf(w, "  message    %s\n", strings.ReplaceAll(f.Message, "\n", "\n             "))
	fmt.Fprintln(w, "history:")
	for _, c := range history {
		from := c.From
		if from == "" {
			from = "-"
		}
		fmt.Fprintf(w, "  %s  %-22s %s: %s -> %s\n", c.At.Format(time.RFC3339), c.Actor, c.Field, from, c.To)
	}
	fmt.Fprintln(w, "runs that saw it:")
	for _, sg := range seen {
		fmt.Fprintf(w, "  %s  %-14s %s  %s\n", sg.At.Format(time.RFC3339), sg.Kind, sg.Run, sg.Level)
	}
	return nil
}

type findingsUpdateOptions struct {
	IO *IOStreams
	ledgerOptions
	IDs      []string
	Status   string
	Reason   string
	Priority string
	Assignee string
	Actor    string
	set      func(name string) bool
	Now      func() time.Time
}

func newCmdFindingsUpdate(ios *IOStreams, runF func(context.Context, *findingsUpdateOptions) error) *cobra.Command {
	opts := &findingsUpdateOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "update ID...",
		Short: "Triage findings: status, reason, priority, assignee (several at once)",
		Long: "Update changes every finding named, or none (an unknown ID changes nothing). by-design and\n" +
			"ignored need a --reason. Every change is kept in the finding's history with who and when\n" +
			"(--actor, default $WARDEN_ACTOR, else your user name).",
		Example: "  warden findings update 3kq7x2m4ab5c --assignee ana --priority P1\n" +
			"  warden findings update 3kq7x2m4ab5c 9pz1r0w2cd3e --status ignored --reason 'sandbox account'",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IDs = args
			opts.set = func(name string) bool { return cmd.Flags().Changed(name) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return findingsUpdateRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&opts.Status, "status", "", "open, in-progress, by-design, fixed or ignored")
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why (needed for by-design and ignored)")
	cmd.Flags().StringVar(&opts.Priority, "priority", "", "P0 (most urgent) to P4")
	cmd.Flags().StringVar(&opts.Assignee, "assignee", "", "who owns it (\"\" to unassign)")
	cmd.Flags().StringVar(&opts.Actor, "actor", "", "who is making the change, for the history")
	return cmd
}

func findingsUpdateRun(ctx context.Context, opts *findingsUpdateOptions) error {
	var t ledger.Triage
	if opts.set("status") {
		st := ledger.Status(opts.Status)
		t.Status = &st
	}
	if opts.set("reason") {
		t.Reason = &opts.Reason
	}
	if opts.set("priority") {
		t.Priority = &opts.Priority
	}
	if opts.set("assignee") {
		t.Assignee = &opts.Assignee
	}
	if err := t.Check(); err != nil {
		return err
	}
	actor := actorName(opts.Actor)
	s, err := opts.open(ctx, opts.IO)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Update(ctx, opts.IDs, t, actor, opts.Now()); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "updated %d finding(s)\n", len(opts.IDs))
	return nil
}

// actorName is who a triage edit is recorded as: the --actor flag, else
// $WARDEN_ACTOR, else the user's login name.
func actorName(flag string) string {
	if flag != "" {
		return flag
	}
	if a := os.Getenv("WARDEN_ACTOR"); a != "" {
		return a
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

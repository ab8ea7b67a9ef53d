package commands

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/internal/frameworks"
	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/packs/builtin"
)

func newCmdRuns(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs <command>",
		Short: "List and show the recorded runs: previews, updates, analyses and audits",
	}
	cmd.AddCommand(newCmdRunsList(ios, nil), newCmdRunsShow(ios, nil))
	return cmd
}

type runsListOptions struct {
	IO *IOStreams
	ledgerOptions
	Stack  string
	Limit  int
	Output string
}

func newCmdRunsList(ios *IOStreams, runF func(context.Context, *runsListOptions) error) *cobra.Command {
	opts := &runsListOptions{IO: ios}
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List runs, newest first",
		Example: "  warden runs list --home ./policy --stack web/prod",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runsListRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&opts.Stack, "stack", "", "only this stack: stack, project/stack or org/project/stack")
	cmd.Flags().IntVar(&opts.Limit, "limit", 20, "at most this many runs (0: all)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output: human or json")
	return cmd
}

func runsListRun(ctx context.Context, opts *runsListOptions) error {
	if err := checkOutput(opts.Output, "human", "json"); err != nil {
		return err
	}
	if opts.Limit < 0 {
		return &FlagError{Err: fmt.Errorf("--limit %d: want 0 or more", opts.Limit)}
	}
	s, err := opts.open(ctx, opts.IO)
	if err != nil {
		return err
	}
	defer s.Close()
	runs, err := s.Runs(ctx, opts.Stack, opts.Limit)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		out := make([]map[string]any, 0, len(runs))
		for _, r := range runs {
			out = append(out, map[string]any{"stack": r.Name(), "run": r})
		}
		return writeJSON(opts.IO.Out, map[string]any{"runs": out})
	}
	if len(runs) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "no runs")
		return err
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tKIND\tSTACK\tRESULT\tVIOLATIONS\tBLOCKING")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", r.ID, r.Started.Local().Format(time.DateTime), r.Kind, r.Name(), result(r), r.Violations, r.Blocking)
	}
	return tw.Flush()
}

// result is how a run ended, in a word.
func result(r *ledger.Run) string {
	switch {
	case r.Blocked:
		return "blocked"
	case !r.Complete:
		return "stopped"
	}
	return "passed"
}

type runsShowOptions struct {
	IO *IOStreams
	ledgerOptions
	ID     string
	Output string
}

func newCmdRunsShow(ios *IOStreams, runF func(context.Context, *runsShowOptions) error) *cobra.Command {
	opts := &runsShowOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show what one run found, blocking findings first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runsShowRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output: human or json")
	return cmd
}

func runsShowRun(ctx context.Context, opts *runsShowOptions) error {
	if err := checkOutput(opts.Output, "human", "json"); err != nil {
		return err
	}
	s, err := opts.open(ctx, opts.IO)
	if err != nil {
		return err
	}
	defer s.Close()
	r, seen, err := s.Run(ctx, opts.ID)
	if err != nil {
		return err
	}
	sort.SliceStable(seen, func(i, j int) bool { return seen[i].Blocks() && !seen[j].Blocks() })
	if opts.Output == "json" {
		if seen == nil {
			seen = []ledger.RunSighting{}
		}
		return writeJSON(opts.IO.Out, map[string]any{"stack": r.Name(), "run": r, "findings": seen})
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "run %s: %s of %s, %s\n", r.ID, r.Kind, r.Name(), result(r))
	fmt.Fprintf(w, "  started  %s, took %s\n", r.Started.Local().Format(time.DateTime), r.Finished.Sub(r.Started).Round(time.Millisecond))
	fmt.Fprintf(w, "  warden   %s\n  packs    %s\n  groups   %s\n", r.Version, strings.Join(r.Packs, ", "), strings.Join(r.Groups, ", "))
	if r.Source != "" {
		fmt.Fprintf(w, "  source   %s\n", r.Source)
	}
	fmt.Fprintf(w, "  %d resources, %d violations, %d blocking\n", r.Resources, r.Violations, r.Blocking)
	for _, sg := range seen {
		mark := " "
		if sg.Blocks() {
			mark = "!"
		}
		fmt.Fprintf(w, "%s %s  %-9s %s/%s  %s\n", mark, sg.Finding, sg.Level, sg.Pack, sg.Policy, findings.ResourceName(sg.URN))
	}
	return nil
}

type complianceOptions struct {
	IO *IOStreams
	ledgerOptions
	Output    string
	Framework string
}

func newCmdCompliance(ios *IOStreams, runF func(context.Context, *complianceOptions) error) *cobra.Command {
	opts := &complianceOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "compliance",
		Short: "Compliance scores and open findings per stack and pack, from the findings ledger",
		Long: "The policy compliance score is the share of policy x stack pairs (every policy that ran in the\n" +
			"stack's last complete update or audit) with no open finding; the resource compliance score the\n" +
			"share of resources with none. Open means open or in progress and not excepted.\n\n" +
			"--framework reports per control of a framework (warden packs list --view available lists them):\n" +
			"a control passes when the policies that check it ran on a stack (under their built-in pack or the\n" +
			"framework's view) without an open finding, and fails on any open finding; the controls no policy\n" +
			"checks yet, and those no policy can check from IaC, are listed with why.",
		Example: "  warden compliance\n  warden compliance --framework cis-aws-3.0 -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return complianceRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output: human or json")
	cmd.Flags().StringVar(&opts.Framework, "framework", "", "report per control of this framework (e.g. cis-aws-3.0)")
	return cmd
}

func complianceRun(ctx context.Context, opts *complianceOptions) error {
	if err := checkOutput(opts.Output, "human", "json"); err != nil {
		return err
	}
	if opts.Framework != "" && !slices.Contains(builtin.Frameworks(), opts.Framework) {
		return &FlagError{Err: fmt.Errorf("--framework %q: want one of %s", opts.Framework, strings.Join(builtin.Frameworks(), ", "))}
	}
	s, err := opts.open(ctx, opts.IO)
	if err != nil {
		return err
	}
	defer s.Close()
	if opts.Framework != "" {
		return frameworkComplianceRun(ctx, opts, s)
	}
	c, err := s.Compliance(ctx)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, c)
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "policy compliance    %5.1f%%  (%d of %d policy x stack pairs without an open finding)\n",
		100*c.PolicyScore, c.Pairs-c.FailingPairs, c.Pairs)
	fmt.Fprintf(w, "resource compliance  %5.1f%%  (%d of %d resources without an open finding)\n",
		100*c.ResourceScore, c.Resources-c.Failing, c.Resources)
	if len(c.Table) == 0 {
		_, err := fmt.Fprintln(w, "\nno open findings")
		return err
	}
	fmt.Fprintln(w, "\nopen findings by stack and pack:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tPACK\tCRITICAL\tHIGH\tMEDIUM\tLOW")
	for _, cell := range c.Table {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", cell.Stack, cell.Pack, cell.BySeverity["critical"], cell.BySeverity["high"], cell.BySeverity["medium"], cell.BySeverity["low"])
	}
	return tw.Flush()
}

// frameworkComplianceRun reports per control of opts.Framework.
func frameworkComplianceRun(ctx context.Context, opts *complianceOptions, s *ledger.Store) error {
	standing, err := s.Standing(ctx)
	if err != nil {
		return err
	}
	r, err := frameworks.Evaluate(opts.Framework, standing)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, r)
	}
	w, sum := opts.IO.Out, r.Summary
	fmt.Fprintf(w, "%s %s (%s), %d stacks in the ledger\n", r.Title, r.Version, r.Name, sum.Stacks)
	fmt.Fprintf(w, "control compliance  %5.1f%%  (%d of %d controls that ran pass on every stack)\n",
		100*sum.Score, sum.Passing, sum.Passing+sum.Failing)
	fmt.Fprintf(w, "%d controls: %d passing, %d failing, %d not run, %d checked by no policy yet, %d not checkable from IaC\n",
		sum.Controls, sum.Passing, sum.Failing, sum.NotRun, sum.NoPolicy, sum.NotCheckable)
	return printControls(w, r.Controls, true)
}

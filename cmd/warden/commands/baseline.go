package commands

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/internal/stackexport"
	"github.com/warden-policy/warden/packs/home"
)

func newCmdBaseline(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "baseline <command>",
		Short: "Accept a stack's existing violations so that only new ones block",
		Long: "A baseline is a reviewable file in the home (baselines/PROJECT/STACK.yaml) listing the violations a\n" +
			"stack already has. The plugin and warden analyze report a baselined violation as advisory\n" +
			"(\"baselined on DATE\"), so a policy can be made mandatory on a stack with old violations and block\n" +
			"only new ones. A resource changed so that it violates in a new way is not covered. Baselines only\n" +
			"shrink: prune drops what no longer violates; adding to one takes create --add, which shows the diff.",
	}
	cmd.AddCommand(newCmdBaselineCreate(ios), newCmdBaselinePrune(ios), newCmdBaselineShow(ios))
	return cmd
}

type baselineOptions struct {
	IO *IOStreams
	ledgerOptions
	Stack string
	File  string
	Add   bool
	Now   func() time.Time
}

func (o *baselineOptions) flags(cmd *cobra.Command, source bool) {
	o.ledgerOptions.flags(cmd)
	cmd.Flags().StringVar(&o.Stack, "stack", "", "the stack as org/project/stack (required unless --file names it)")
	if source {
		cmd.Flags().StringVar(&o.File, "file", "", "a stack export (pulumi stack export) to analyze instead of reading the findings ledger")
	}
}

func newCmdBaselineCreate(ios *IOStreams) *cobra.Command {
	opts := &baselineOptions{IO: ios, Now: wardenNow}
	cmd := &cobra.Command{
		Use:   "create --stack ORG/PROJECT/STACK",
		Short: "Write a stack's current violations into its baseline",
		Long: "Create reads the stack's open violations from the findings ledger (or analyzes --file, a stack\n" +
			"export, with the home's preventative groups) and writes them to baselines/PROJECT/STACK.yaml. An\n" +
			"existing baseline is never grown silently: --add adds the violations it lacks and prints them.",
		Example: "  warden baseline create --stack acme/shop/prod\n  warden baseline create --stack acme/shop/prod --file prod.json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return baselineCreate(cmd.Context(), opts) },
	}
	opts.flags(cmd, true)
	cmd.Flags().BoolVar(&opts.Add, "add", false, "add the violations an existing baseline lacks (printed as a diff)")
	return cmd
}

func newCmdBaselinePrune(ios *IOStreams) *cobra.Command {
	opts := &baselineOptions{IO: ios, Now: wardenNow}
	cmd := &cobra.Command{
		Use:   "prune --stack ORG/PROJECT/STACK",
		Short: "Drop the baselined violations that no longer violate",
		Long: "Prune keeps only the entries that still match an open violation in the findings ledger (or in the\n" +
			"analysis of --file): same policy, resource and message. A fixed resource, or one that now violates\n" +
			"in a new way, leaves the baseline. An empty baseline's file is removed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return baselinePrune(cmd.Context(), opts) },
	}
	opts.flags(cmd, true)
	return cmd
}

func newCmdBaselineShow(ios *IOStreams) *cobra.Command {
	opts := &baselineOptions{IO: ios, Now: wardenNow}
	cmd := &cobra.Command{
		Use:   "show --stack ORG/PROJECT/STACK",
		Short: "List a stack's baselined violations",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return baselineShow(opts) },
	}
	opts.flags(cmd, false)
	return cmd
}

// baselineHome loads the home a baseline is written into: a real one, not
// the embedded default, which has no folder to hold it.
func baselineHome(opts *baselineOptions) (*home.Home, error) {
	dir := home.Find(opts.Home, os.Getenv, "")
	if dir == "" {
		return nil, &FlagError{Err: fmt.Errorf("a baseline is written into a policy home: give --home (or set $WARDEN_HOME)")}
	}
	return home.Open(dir)
}

// current is the stack's violations now, as baseline entries: from the
// ledger (open and in-progress violations not waived, since the day first
// seen) or from analyzing an export (since today). It names the stack.
func current(ctx context.Context, opts *baselineOptions, h *home.Home) (home.Stack, []*home.BaselineEntry, error) {
	var ident home.Stack
	if opts.Stack != "" {
		var err error
		if ident, err = parseStackRef(opts.Stack); err != nil {
			return ident, nil, err
		}
		ident.Organization = h.Org(ident.Organization)
	}
	if opts.File != "" {
		return fromExport(ctx, opts, h, ident)
	}
	if opts.Stack == "" {
		return ident, nil, &FlagError{Err: fmt.Errorf("give --stack ORG/PROJECT/STACK (or --file EXPORT)")}
	}
	s, err := opts.open(ctx, opts.IO)
	if err != nil {
		return ident, nil, err
	}
	defer s.Close()
	name := ident.Organization + "/" + ident.Project + "/" + ident.Name
	runs, err := s.Runs(ctx, name, 1)
	if err != nil {
		return ident, nil, err
	}
	if len(runs) == 0 {
		return ident, nil, &InputError{Err: fmt.Errorf("the findings ledger has no run of stack %s: run pulumi preview or up with Warden, or warden analyze, first (warden runs list shows the stacks it has), or give --file EXPORT", name)}
	}
	fs, err := s.Findings(ctx, ledger.Filter{Stack: name, Status: []ledger.Status{ledger.StatusOpen, ledger.StatusInProgress}})
	if err != nil {
		return ident, nil, err
	}
	var out []*home.BaselineEntry
	for _, f := range fs {
		if f.Kind != string(findings.Violation) || f.Exception != "" {
			continue
		}
		// The ledger keeps one finding per policy and resource, its
		// messages joined by lines (a security group with two open
		// rules); a baseline entry is one violation, one message.
		for msg := range strings.SplitSeq(f.Message, "\n") {
			out = append(out, &home.BaselineEntry{Pack: f.Pack, Policy: f.Policy, URN: f.URN, Message: msg, Since: day(f.FirstSeen)})
		}
	}
	return ident, out, nil
}

func fromExport(ctx context.Context, opts *baselineOptions, h *home.Home, ident home.Stack) (home.Stack, []*home.BaselineEntry, error) {
	st, err := stackexport.ReadFileWith(opts.File, readOptions())
	if err != nil {
		return ident, nil, &InputError{Err: err}
	}
	warnEncrypted(opts.IO, opts.File, st)
	if opts.Stack == "" {
		ident = analyze.Identify(st, h.Org(st.Organization))
	} else if st.Project != "" && (st.Project != ident.Project || st.Name != ident.Name) {
		return ident, nil, &InputError{Err: fmt.Errorf("%s is stack %s/%s, not %s/%s", opts.File, st.Project, st.Name, ident.Project, ident.Name)}
	}
	an, err := analyze.New(h, home.Preventative, analyze.Options{Now: opts.Now})
	if err != nil {
		return ident, nil, err
	}
	rep, err := an.Report(ctx, st, ident)
	if err != nil {
		return ident, nil, err
	}
	today := day(opts.Now())
	var out []*home.BaselineEntry
	for _, f := range rep.Findings {
		if f.Kind != findings.Violation || f.Exception != nil {
			continue
		}
		out = append(out, &home.BaselineEntry{Pack: f.Pack, Policy: f.Policy, URN: f.URN, Message: f.Message, Since: today})
	}
	return ident, out, nil
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func baselineCreate(ctx context.Context, opts *baselineOptions) error {
	h, err := baselineHome(opts)
	if err != nil {
		return err
	}
	ident, entries, err := current(ctx, opts, h)
	if err != nil {
		return err
	}
	name := ident.Organization + "/" + ident.Project + "/" + ident.Name
	rel := home.BaselinePath("", ident.Project, ident.Name)
	if b := h.Baseline(ident.Organization, ident.Project, ident.Name); b != nil {
		if !opts.Add {
			return &InputError{Err: fmt.Errorf("%s already has a baseline (%s): a baseline only shrinks (warden baseline prune); --add adds the violations it lacks", name, rel)}
		}
		added := b.Add(entries)
		printEntries(opts.IO, "+", added)
		if len(added) == 0 {
			fmt.Fprintf(opts.IO.Out, "%s: nothing to add\n", rel)
			return nil
		}
		if err := home.WriteBaseline(b); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.Out, "%s: added %d violations (%d in all); review the diff before committing it\n", rel, len(added), len(b.Entries))
		return nil
	}
	if len(entries) == 0 {
		fmt.Fprintf(opts.IO.Out, "%s has no open violations: nothing to baseline\n", name)
		return nil
	}
	b := home.NewBaseline(home.BaselinePath(h.Dir, ident.Project, ident.Name), name, day(opts.Now()), entries)
	if err := home.WriteBaseline(b); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "%s: baselined %d violations of %s; from now on only new violations block\n", rel, len(b.Entries), name)
	return nil
}

// printEntries prints baseline entries as a diff's lines: sign "+" for
// added, "-" for removed.
func printEntries(ios *IOStreams, sign string, es []*home.BaselineEntry) {
	for _, e := range es {
		fmt.Fprintf(ios.Out, "%s %s/%s %s: %s\n", sign, e.Pack, e.Policy, findings.ResourceName(e.URN), e.Message)
	}
}

func baselinePrune(ctx context.Context, opts *baselineOptions) error {
	h, err := baselineHome(opts)
	if err != nil {
		return err
	}
	ident, entries, err := current(ctx, opts, h)
	if err != nil {
		return err
	}
	rel := home.BaselinePath("", ident.Project, ident.Name)
	b := h.Baseline(ident.Organization, ident.Project, ident.Name)
	if b == nil {
		return &InputError{Err: fmt.Errorf("%s/%s/%s has no baseline (%s)", ident.Organization, ident.Project, ident.Name, rel)}
	}
	still := home.NewBaseline("", "", time.Time{}, entries)
	removed := b.Remove(func(e *home.BaselineEntry) bool { return still.Covers(e.Pack, e.Policy, e.URN, e.Message) == nil })
	printEntries(opts.IO, "-", removed)
	if len(removed) == 0 {
		fmt.Fprintf(opts.IO.Out, "%s: every entry still violates; nothing pruned\n", rel)
		return nil
	}
	if err := home.WriteBaseline(b); err != nil {
		return err
	}
	if len(b.Entries) == 0 {
		fmt.Fprintf(opts.IO.Out, "%s: pruned %d; the baseline is empty and was removed\n", rel, len(removed))
		return nil
	}
	fmt.Fprintf(opts.IO.Out, "%s: pruned %d, %d remain\n", rel, len(removed), len(b.Entries))
	return nil
}

func baselineShow(opts *baselineOptions) error {
	h, err := baselineHome(opts)
	if err != nil {
		return err
	}
	ident, err := parseStackRef(opts.Stack)
	if err != nil {
		return err
	}
	b := h.Baseline(ident.Organization, ident.Project, ident.Name)
	if b == nil {
		return &InputError{Err: fmt.Errorf("%s has no baseline", opts.Stack)}
	}
	fmt.Fprintf(opts.IO.Out, "%s: %d baselined violations of %s, created %s\n", b.File, len(b.Entries), b.Stack, b.Created.Format(time.DateOnly))
	for _, e := range b.Entries {
		fmt.Fprintf(opts.IO.Out, "  %s  %s/%s %s\n    %s\n", e.Since.Format(time.DateOnly), e.Pack, e.Policy, findings.ResourceName(e.URN), strings.TrimSpace(e.Message))
	}
	return nil
}

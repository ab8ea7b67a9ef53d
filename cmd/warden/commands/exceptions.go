package commands

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/packs/home"
)

func newCmdExceptions(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exceptions <command>",
		Short: "Write exceptions from findings, and list what each waives today",
		Long: "Exceptions waive policies for some resources (the exceptions: mapping of warden.yaml). new writes\n" +
			"one from findings of the ledger, with a reason, an approver and an expiry, keeping the file's\n" +
			"comments; list shows each with how many findings it waives today and which expire soon.",
	}
	cmd.AddCommand(newCmdExceptionsNew(ios), newCmdExceptionsList(ios))
	return cmd
}

type exceptionsNewOptions struct {
	IO *IOStreams
	ledgerOptions
	Findings   []string
	ID         string
	Reason     string
	Expires    string
	ApprovedBy string
}

func newCmdExceptionsNew(ios *IOStreams) *cobra.Command {
	opts := &exceptionsNewOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "new --finding ID [--finding ID...] --reason TEXT",
		Short: "Write an exception into warden.yaml for findings of the ledger",
		Long: "New looks up each finding in the findings ledger and writes one exception that waives exactly\n" +
			"those policies on those resources. --expires takes a number of days (30d), weeks (2w) or a date.\n" +
			"Nothing is written when a finding is unknown, the expiry is past, or the reason is missing.",
		Example: "  warden exceptions new --finding 7k2m4q9x3bde --reason \"legacy bucket, migrating in Q1 (SEC-12)\" --expires 30d --approved-by security-team",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return exceptionsNew(cmd.Context(), opts) },
	}
	opts.ledgerOptions.flags(cmd)
	cmd.Flags().StringArrayVar(&opts.Findings, "finding", nil, "a finding ID (warden findings list shows them; repeatable)")
	cmd.Flags().StringVar(&opts.ID, "id", "", "the exception's id (default: from the first finding)")
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why the waiver is safe (required)")
	cmd.Flags().StringVar(&opts.Expires, "expires", "", "when it ends: 30d, 2w or YYYY-MM-DD (the last day it applies)")
	cmd.Flags().StringVar(&opts.ApprovedBy, "approved-by", "", "who approved it")
	return cmd
}

func exceptionsNew(ctx context.Context, opts *exceptionsNewOptions) error {
	if len(opts.Findings) == 0 {
		return &FlagError{Err: fmt.Errorf("give at least one --finding ID")}
	}
	if strings.TrimSpace(opts.Reason) == "" {
		return &FlagError{Err: fmt.Errorf("--reason is required: say why the waiver is safe")}
	}
	expires, err := home.ParseExpiry(opts.Expires, wardenNow())
	if err != nil {
		return err
	}
	dir := home.Find(opts.Home, os.Getenv, "")
	if dir == "" {
		return &FlagError{Err: fmt.Errorf("an exception is written into a policy home: give --home (or set $WARDEN_HOME)")}
	}
	s, err := opts.open(ctx, opts.IO)
	if err != nil {
		return err
	}
	defer s.Close()
	matches, err := s.ExceptionMatches(ctx, opts.Findings)
	if err != nil {
		return err
	}
	x := home.NewException{ID: opts.ID, Reason: strings.TrimSpace(opts.Reason), ApprovedBy: opts.ApprovedBy, Expires: expires}
	if x.ID == "" {
		x.ID = "finding-" + opts.Findings[0]
	}
	x.Match = matches
	err = home.Edit(dir, func(e *home.Editor, h *home.Home) error { return e.AddException(h, x) })
	if err != nil {
		return err
	}
	until := "no expiry"
	if !expires.IsZero() {
		until = "until " + expires.Format(time.DateOnly)
	}
	fmt.Fprintf(opts.IO.Out, "added exception %s to %s (%d findings, %s); the next run records them as excepted\n", x.ID, home.File, len(opts.Findings), until)
	return nil
}

type exceptionsListOptions struct {
	IO *IOStreams
	ledgerOptions
	Output string
}

func newCmdExceptionsList(ios *IOStreams) *cobra.Command {
	opts := &exceptionsListOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the exceptions, what each waives today, and those expiring soon",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return exceptionsList(cmd.Context(), opts) },
	}
	opts.ledgerOptions.flags(cmd)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output format: human, json")
	return cmd
}

// SoonDays is how close an expiry is flagged as soon.
const SoonDays = 14

type exceptionRow struct {
	ID         string `json:"id"`
	Reason     string `json:"reason"`
	ApprovedBy string `json:"approvedBy,omitempty"`
	Expires    string `json:"expires,omitempty"`
	State      string `json:"state"` // active, expiring, expired
	Matches    int    `json:"matchesToday"`
}

func exceptionsList(ctx context.Context, opts *exceptionsListOptions) error {
	if err := checkOutput(opts.Output, "human", "json"); err != nil {
		return err
	}
	h, err := home.Open(home.Find(opts.Home, os.Getenv, ""))
	if err != nil {
		return err
	}
	var tracked []*ledger.Finding
	if opts.url(h) != "" {
		s, err := opts.open(ctx, opts.IO)
		if err != nil {
			return err
		}
		defer s.Close()
		if tracked, err = s.Findings(ctx, ledger.Filter{Status: []ledger.Status{ledger.StatusOpen, ledger.StatusInProgress, ledger.StatusByDesign, ledger.StatusIgnored}}); err != nil {
			return err
		}
	}
	today := day(wardenNow())
	rows := []exceptionRow{}
	for _, e := range h.Exceptions {
		r := exceptionRow{ID: e.ID, Reason: e.Reason, ApprovedBy: e.ApprovedBy, State: "active"}
		if !e.Expires.IsZero() {
			r.Expires = e.Expires.Format(time.DateOnly)
			switch {
			case e.Expired(today):
				r.State = "expired"
			case e.Expires.Sub(today) < SoonDays*24*time.Hour:
				r.State = "expiring"
			}
		}
		if r.State != "expired" {
			for _, f := range tracked {
				if e.Matches(home.Target{Pack: f.Pack, Policy: f.Policy, Exposed: f.Policy, URN: f.URN, Type: f.Type}) {
					r.Matches++
				}
			}
		}
		rows = append(rows, r)
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(opts.IO.Out, "no exceptions")
		return nil
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tEXPIRES\tWAIVES TODAY\tAPPROVED BY\tREASON")
	for _, r := range rows {
		state := r.State
		if state == "expiring" {
			state = fmt.Sprintf("expires within %d days", SoonDays)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, state, r.Expires, r.Matches, r.ApprovedBy, r.Reason)
	}
	return tw.Flush()
}

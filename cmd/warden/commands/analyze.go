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
	"github.com/warden-policy/warden/internal/report"
	"github.com/warden-policy/warden/internal/stackexport"
	"github.com/warden-policy/warden/internal/version"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

type analyzeOptions struct {
	IO     *IOStreams
	File   string
	Home   string
	Packs  []string
	Stack  string
	Tags   []string
	Output string
	Store  string
	FailOn string
	Now    func() time.Time
}

// failOnUsage documents --fail-on, which analyze and audit share.
const failOnUsage = "also fail (exit 1) on violations that do not block: advisory (any), or a severity: low, medium, high, critical (and above)"

// checkFailOn validates --fail-on.
func checkFailOn(v string) error {
	if v == "" || v == "advisory" || spec.Severity(v).Rank() > 0 {
		return nil
	}
	return &FlagError{Err: fmt.Errorf("--fail-on %q: want advisory, low, medium, high or critical", v)}
}

// failing reports whether reports fail the command: a blocking finding,
// or with --fail-on a violation the person would see (not waived, not
// baselined, not in shadow) at or above the threshold.
func failing(reports []*analyze.Report, failOn string) bool {
	for _, r := range reports {
		if r.Summary.Blocking > 0 {
			return true
		}
		if failOn == "" {
			continue
		}
		for i := range r.Findings {
			f := &r.Findings[i]
			if f.Kind != findings.Violation || f.Hidden() || f.Exception != nil || f.Baselined != "" {
				continue
			}
			if failOn == "advisory" || f.Severity.Rank() >= spec.Severity(failOn).Rank() {
				return true
			}
		}
	}
	return false
}

func newCmdAnalyze(ios *IOStreams, runF func(context.Context, *analyzeOptions) error) *cobra.Command {
	opts := &analyzeOptions{IO: ios, Now: wardenNow}
	cmd := &cobra.Command{
		Use:   "analyze --file STATE.json",
		Short: "Run the preventative groups over a `pulumi stack export` file",
		Long: "Analyze runs the preventative groups that apply to the stack in an export, as\n" +
			"`pulumi policy analyze` does: resource policies on each resource's inputs, stack policies on the\n" +
			"outputs. The stack is named by the resources' URNs (and the home's organization) unless --stack\n" +
			"says otherwise. Without --home, the built-in packs run. Exits 1 on mandatory violations that no\n" +
			"exception covers.",
		Example: "  pulumi stack export --file state.json\n  warden analyze --file state.json --home ./policy\n" +
			"  warden analyze --file state.json --stack acme/payments/prod -o sarif > warden.sarif",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.File == "" {
				return &FlagError{Err: fmt.Errorf("--file is required")}
			}
			if err := checkOutput(opts.Output, report.Formats...); err != nil {
				return err
			}
			if err := checkFailOn(opts.FailOn); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return analyzeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", "", "stack export file (`pulumi stack export`)")
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the built-in packs)")
	cmd.Flags().StringArrayVar(&opts.Packs, "pack", nil, "run exactly this pack directory instead of a home (repeatable)")
	cmd.Flags().StringVar(&opts.Stack, "stack", "", "the stack as org/project/stack (default: from the URNs)")
	cmd.Flags().StringArrayVar(&opts.Tags, "tag", nil, "a stack tag key=value, for the groups' stack rules (repeatable)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output format: human, json, sarif, junit")
	cmd.Flags().StringVar(&opts.FailOn, "fail-on", "", failOnUsage)
	cmd.Flags().StringVar(&opts.Store, "store", "", "findings store to record the run in (default $"+ledger.EnvStore+", else the home's; \"off\": none)")
	return cmd
}

func analyzeRun(ctx context.Context, opts *analyzeOptions) error {
	h, err := loadHome(opts.Home, opts.Packs)
	if err != nil {
		return err
	}
	for _, w := range h.Ungoverned() {
		warnUngoverned(opts.IO, w)
	}
	tags, err := parseTags(opts.Tags)
	if err != nil {
		return err
	}
	st, err := stackexport.ReadFileWith(opts.File, readOptions())
	if err != nil {
		return &InputError{Err: err}
	}
	warnEncrypted(opts.IO, opts.File, st)
	ident := analyze.Identify(st, h.Org(st.Organization))
	if opts.Stack != "" {
		if ident, err = parseStackRef(opts.Stack); err != nil {
			return err
		}
	}
	ident.Tags = tags
	an, err := analyze.New(h, home.Preventative, analyze.Options{Now: opts.Now})
	if err != nil {
		return err
	}
	started := time.Now()
	rep, err := an.Report(ctx, st, ident)
	if err != nil {
		return err
	}
	rep.Source = opts.File
	recordReport(ctx, opts.IO, h, opts.Store, ledger.Analyze, started, rep)
	if err := report.Write(opts.IO.Out, report.Format(opts.Output), tool(), []*analyze.Report{rep}, false); err != nil {
		return err
	}
	if failing([]*analyze.Report{rep}, opts.FailOn) {
		return errFindings
	}
	return nil
}

func tool() report.Tool {
	return report.Tool{Name: "warden", Version: version.String(), URL: "https://github.com/warden-policy/warden"}
}

func warnEncrypted(ios *IOStreams, file string, st *stackexport.Stack) {
	switch {
	case st.WrongPassphrase:
		fmt.Fprintf(ios.ErrOut, "warning: %s: PULUMI_CONFIG_PASSPHRASE does not decrypt this stack's secrets; %d secret values are analyzed as unknown values\n", file, st.Encrypted)
	case st.Encrypted > 0:
		fmt.Fprintf(ios.ErrOut, "warning: %s: %d secret values are encrypted; they are analyzed as unknown values (set PULUMI_CONFIG_PASSPHRASE for a passphrase-encrypted stack, or export with --show-secrets)\n", file, st.Encrypted)
	}
}

// readOptions are how states are read: with the passphrase of
// passphrase-encrypted stacks, from Pulumi's own variables
// (PULUMI_CONFIG_PASSPHRASE, else the file PULUMI_CONFIG_PASSPHRASE_FILE
// names), so policies see their secrets' values (never shown).
func readOptions() stackexport.Options {
	phrase := os.Getenv("PULUMI_CONFIG_PASSPHRASE")
	if f := os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE"); phrase == "" && f != "" {
		if data, err := os.ReadFile(f); err == nil {
			phrase = string(data)
		}
	}
	return stackexport.Options{Passphrase: phrase}
}

// parseStackRef reads org/project/stack.
func parseStackRef(s string) (home.Stack, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return home.Stack{}, &FlagError{Err: fmt.Errorf("--stack %q: want org/project/stack", s)}
	}
	return home.Stack{Organization: parts[0], Project: parts[1], Name: parts[2]}, nil
}

func parseTags(tags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return nil, &FlagError{Err: fmt.Errorf("--tag %q: want key=value", t)}
		}
		out[k] = v
	}
	return out, nil
}

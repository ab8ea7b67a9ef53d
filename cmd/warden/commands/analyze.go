package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/stackexport"
	"github.com/warden-policy/warden/packs/engine"
)

type analyzeOptions struct {
	IO        *IOStreams
	File      string
	Packs     []string
	NoBuiltin bool
	Output    string
}

func newCmdAnalyze(ios *IOStreams, runF func(context.Context, *analyzeOptions) error) *cobra.Command {
	opts := &analyzeOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "analyze --file STATE.json",
		Short: "Run policies over a `pulumi stack export` file",
		Long: "Analyze runs the policies over an exported stack as `pulumi policy analyze` does: resource\n" +
			"policies on each resource's inputs, stack policies on the outputs. With no --pack, the built-in\n" +
			"packs run at their own levels. Exits 1 when a mandatory violation is found.",
		Example: "  pulumi stack export --file state.json\n  warden analyze --file state.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.File == "" {
				return &FlagError{Err: fmt.Errorf("--file is required")}
			}
			if err := checkOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return analyzeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", "", "stack export file (`pulumi stack export`)")
	cmd.Flags().StringArrayVar(&opts.Packs, "pack", nil, "pack directory to run (repeatable)")
	cmd.Flags().BoolVar(&opts.NoBuiltin, "no-builtin", false, "do not run the built-in packs")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output format: human, json")
	return cmd
}

func analyzeRun(ctx context.Context, opts *analyzeOptions) error {
	f, err := os.Open(opts.File)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := stackexport.Read(f)
	if err != nil {
		return &InputError{Err: fmt.Errorf("%s: %w", opts.File, err)}
	}
	if st.Encrypted > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %d secret values are encrypted in %s; they are analyzed as unknown values (export with --show-secrets to evaluate them)\n", st.Encrypted, opts.File)
	}
	packs, err := loadPacks(opts.Packs, opts.NoBuiltin)
	if err != nil {
		return err
	}
	stack := engine.Stack{Name: st.Name, Project: st.Project}
	var runs []*engine.Run
	policies := 0
	for _, p := range packs {
		run, err := p.NewRun(stack, nil)
		if err != nil {
			return &InputError{Err: err}
		}
		runs = append(runs, run)
		policies += len(p.Policies)
	}
	findings := analyze.State(ctx, runs, st)
	sum := analyze.Summarize(len(st.Resources), policies, findings)
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Stack    string            `json:"stack"`
			Project  string            `json:"project"`
			Findings []analyze.Finding `json:"findings"`
			Summary  analyze.Summary   `json:"summary"`
		}{st.Name, st.Project, nonNil(findings), sum}); err != nil {
			return err
		}
	} else {
		writeHuman(opts.IO, st, packs, findings, sum)
	}
	if sum.Blocking > 0 {
		return errFindings
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeHuman(ios *IOStreams, st *stackexport.Stack, packs []*engine.Pack, fs []analyze.Finding, sum analyze.Summary) {
	names := make([]string, len(packs))
	for i, p := range packs {
		names[i] = p.String()
	}
	w := ios.Out
	fmt.Fprintf(w, "Analyzed stack %s/%s: %d resources, %d policies from %s\n", st.Project, st.Name, sum.Resources, sum.Policies, strings.Join(names, ", "))
	for _, f := range fs {
		fmt.Fprintln(w)
		level := strings.ToUpper(string(f.Level))
		if f.Kind == analyze.CantRun {
			level = "CAN'T RUN"
		}
		if f.Kind == analyze.Error {
			level += " ERROR"
		}
		fmt.Fprintf(w, "  %-10s %-8s %s/%s\n", level, f.Severity, f.Pack, f.Policy)
		if f.URN != "" {
			fmt.Fprintf(w, "    %s\n", f.URN)
		}
		fmt.Fprintf(w, "    %s\n", f.Description)
		if f.Message != "" {
			fmt.Fprintf(w, "    %s\n", f.Message)
		}
		if f.RemediationSteps != "" && f.Kind == analyze.Violation {
			fmt.Fprintf(w, "    fix: %s\n", f.RemediationSteps)
		}
	}
	fmt.Fprintf(w, "\n%d violations (%d blocking), %d can't run, %d errors\n", sum.Violations, sum.Blocking, sum.CantRun, sum.Errors)
}

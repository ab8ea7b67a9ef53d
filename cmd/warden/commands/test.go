package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/packtest"
)

type testOptions struct {
	IO       *IOStreams
	Dirs     []string
	Coverage bool
	Verbose  bool
}

func newCmdTest(ios *IOStreams, runF func(context.Context, *testOptions) error) *cobra.Command {
	opts := &testOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "test [PACK_DIR...]",
		Short: "Run a pack's test cases (tests/*.yaml)",
		Example: "  warden test ./packs/acme-baseline\n" +
			"  warden test --coverage ./packs/*",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dirs = args
			if len(opts.Dirs) == 0 {
				opts.Dirs = []string{"."}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return testRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Coverage, "coverage", false, "list policies without a violating and a passing case")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "print every case, not only failures")
	return cmd
}

func testRun(ctx context.Context, opts *testOptions) error {
	w := opts.IO.Out
	passed, failed := 0, 0
	uncovered := 0
	for _, dir := range opts.Dirs {
		p, err := engine.Load(dir)
		if err != nil {
			return err
		}
		suites, err := packtest.LoadSuites(dir)
		if err != nil {
			return err
		}
		results, err := packtest.Run(ctx, p, suites)
		if err != nil {
			return &InputError{Err: err}
		}
		if len(results) == 0 {
			fmt.Fprintf(opts.IO.ErrOut, "warning: pack %s has no test cases in %s/tests\n", p, dir)
		}
		for _, r := range results {
			if r.Passed() {
				passed++
				if opts.Verbose {
					fmt.Fprintf(w, "PASS %s: %s\n", p.Name, r.Case.Name)
				}
				continue
			}
			failed++
			fmt.Fprintf(w, "FAIL %s: %s (%s)\n", p.Name, r.Case.Name, r.Case.Pos)
			for _, f := range r.Failures {
				fmt.Fprintf(w, "    %s: %s\n      expected: %s\n      got:      %s\n", f.Pos, f.Policy, f.Expected, f.Got)
			}
		}
		if opts.Coverage {
			for _, pol := range p.Policies {
				c := packtest.CoverageOf(results, pol.Name)
				if !c.Violation || !c.Pass {
					uncovered++
					fmt.Fprintf(w, "UNCOVERED %s/%s: violating case %v, passing case %v\n", p.Name, pol.Name, yesNo(c.Violation), yesNo(c.Pass))
				}
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	if failed > 0 || uncovered > 0 {
		return errFindings
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

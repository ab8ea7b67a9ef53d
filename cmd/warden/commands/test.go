package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/report"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/packtest"
)

type testOptions struct {
	IO          *IOStreams
	Dirs        []string
	Coverage    bool
	MinCoverage float64
	Verbose     bool
	Output      string
}

func newCmdTest(ios *IOStreams, runF func(context.Context, *testOptions) error) *cobra.Command {
	opts := &testOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "test [PACK_DIR...]",
		Short: "Run packs' test cases (tests/*.yaml)",
		Long: "Test runs each pack's test cases: a resource (or a stack of resources) with inputs, outputs,\n" +
			"options, !unknown and !secret markers, and the result each policy must give. Failures show what\n" +
			"was expected and what the policy returned, at the case's file:line. --coverage lists the policies\n" +
			"without both a violating and a passing case; --min-coverage fails below a percentage.",
		Example: "  warden test ./packs/acme-baseline\n  warden test --coverage --min-coverage 100 ./packs/*\n  warden test -o junit ./packs/* > pack-tests.xml",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dirs = args
			if len(opts.Dirs) == 0 {
				opts.Dirs = []string{"."}
			}
			if err := checkOutput(opts.Output, report.Human, report.JSON, report.JUnit); err != nil {
				return err
			}
			if opts.MinCoverage < 0 || opts.MinCoverage > 100 {
				return &FlagError{Err: fmt.Errorf("--min-coverage %v: want a percentage from 0 to 100", opts.MinCoverage)}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return testRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Coverage, "coverage", false, "list policies without a violating and a passing case")
	cmd.Flags().Float64Var(&opts.MinCoverage, "min-coverage", 0, "fail when fewer than this percentage of policies are covered (implies --coverage)")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "print every case, not only failures")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output format: human, json, junit")
	return cmd
}

type caseView struct {
	Pack     string             `json:"pack"`
	Name     string             `json:"name"`
	Pos      string             `json:"position"`
	Passed   bool               `json:"passed"`
	Failures []packtest.Failure `json:"failures,omitempty"`
}

type uncovered struct {
	Pack      string `json:"pack"`
	Policy    string `json:"policy"`
	Violation bool   `json:"violatingCase"`
	Pass      bool   `json:"passingCase"`
}

func testRun(ctx context.Context, opts *testOptions) error {
	var cases []caseView
	var missing []uncovered
	policies := 0
	var suites []string
	junit := map[string][]report.JUnitCase{}
	for _, dir := range opts.Dirs {
		p, err := engine.Load(dir)
		if err != nil {
			return err
		}
		loaded, err := packtest.LoadSuites(dir)
		if err != nil {
			return err
		}
		results, err := packtest.Run(ctx, p, loaded)
		if err != nil {
			return &InputError{Err: err}
		}
		if len(results) == 0 {
			fmt.Fprintf(opts.IO.ErrOut, "warning: pack %s has no test cases in %s/tests\n", p, dir)
		}
		suites = append(suites, p.String())
		for _, r := range results {
			cv := caseView{Pack: p.Name, Name: r.Case.Name, Pos: r.Case.Pos.String(), Passed: r.Passed(), Failures: r.Failures}
			cases = append(cases, cv)
			jc := report.JUnitCase{Name: r.Case.Name, Classname: p.Name}
			if !r.Passed() {
				var lines []string
				for _, f := range r.Failures {
					lines = append(lines, f.String())
				}
				jc.Failure = &report.JUnitFailure{Message: fmt.Sprintf("%d expectations failed", len(r.Failures)), Type: "expectation", Text: strings.Join(lines, "\n")}
			}
			junit[p.String()] = append(junit[p.String()], jc)
		}
		for _, pol := range p.Policies {
			policies++
			if c := packtest.CoverageOf(results, pol.Name); !c.Violation || !c.Pass {
				missing = append(missing, uncovered{Pack: p.Name, Policy: pol.Name, Violation: c.Violation, Pass: c.Pass})
			}
		}
	}
	passed, failed := 0, 0
	for _, c := range cases {
		if c.Passed {
			passed++
		} else {
			failed++
		}
	}
	coverage := 100.0
	if policies > 0 {
		coverage = 100 * float64(policies-len(missing)) / float64(policies)
	}
	checkCoverage := opts.Coverage || opts.MinCoverage > 0
	switch report.Format(opts.Output) {
	case report.JSON:
		out := struct {
			Cases    []caseView  `json:"cases"`
			Passed   int         `json:"passed"`
			Failed   int         `json:"failed"`
			Coverage float64     `json:"coverage"`
			Missing  []uncovered `json:"uncovered"`
		}{nonNil(cases), passed, failed, coverage, nonNil(missing)}
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	case report.JUnit:
		if err := report.WriteJUnit(opts.IO.Out, "warden test", suites, junit); err != nil {
			return err
		}
	default:
		w := opts.IO.Out
		for _, c := range cases {
			if c.Passed {
				if opts.Verbose {
					fmt.Fprintf(w, "PASS %s: %s\n", c.Pack, c.Name)
				}
				continue
			}
			fmt.Fprintf(w, "FAIL %s: %s (%s)\n", c.Pack, c.Name, c.Pos)
			for _, f := range c.Failures {
				fmt.Fprintf(w, "    %s: %s\n      expected: %s\n      got:      %s\n", f.Pos, f.Policy, f.Expected, f.Got)
			}
		}
		if checkCoverage {
			for _, m := range missing {
				fmt.Fprintf(w, "UNCOVERED %s/%s: violating case %s, passing case %s\n", m.Pack, m.Policy, yesNo(m.Violation), yesNo(m.Pass))
			}
			fmt.Fprintf(w, "coverage: %.1f%% of %d policies have a violating and a passing case\n", coverage, policies)
		}
		fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	}
	if failed > 0 || opts.MinCoverage > 0 && coverage < opts.MinCoverage {
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

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

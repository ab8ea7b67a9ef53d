package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/packs/spec"
)

type validateOptions struct {
	IO   *IOStreams
	Dirs []string
}

func newCmdValidate(ios *IOStreams, runF func(context.Context, *validateOptions) error) *cobra.Command {
	opts := &validateOptions{IO: ios}
	return &cobra.Command{
		Use:   "validate [DIR...]",
		Short: "Check packs and policy homes, printing every positioned error at once",
		Long: "Validate loads each directory, a pack (pack.yaml and tests/) or a policy home (warden.yaml and\n" +
			"its packs/), and prints every problem as file:line:col: message with the source line and a caret.",
		Example: "  warden validate ./policy\n  warden validate ./policy/packs/acme-baseline",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dirs = args
			if len(opts.Dirs) == 0 {
				opts.Dirs = []string{"."}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return validateRun(cmd.Context(), opts)
		},
	}
}

func validateRun(_ context.Context, opts *validateOptions) error {
	var all spec.ErrorList
	for _, dir := range opts.Dirs {
		out := func(s string) { fmt.Fprintln(opts.IO.Out, s) }
		if err := validateDir(dir, &all, out, func(s string) { warnUngoverned(opts.IO, s) }); err != nil {
			return err
		}
	}
	all.Sort()
	return all.Err()
}

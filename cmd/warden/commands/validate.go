package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/packtest"
	"github.com/warden-policy/warden/packs/spec"
)

type validateOptions struct {
	IO   *IOStreams
	Dirs []string
}

func newCmdValidate(ios *IOStreams, runF func(context.Context, *validateOptions) error) *cobra.Command {
	opts := &validateOptions{IO: ios}
	return &cobra.Command{
		Use:     "validate [PACK_DIR...]",
		Short:   "Check packs and their tests, printing every positioned error at once",
		Example: "  warden validate ./packs/acme-baseline",
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
		p, err := engine.Load(dir)
		if list, ok := err.(spec.ErrorList); ok {
			all.Append(list)
		} else if err != nil {
			return err
		}
		if _, err := packtest.LoadSuites(dir); err != nil {
			list, ok := err.(spec.ErrorList)
			if !ok {
				return err
			}
			all.Append(list)
		}
		if p != nil {
			fmt.Fprintf(opts.IO.Out, "%s: %d policies, ok\n", p, len(p.Policies))
		}
	}
	all.Sort()
	return all.Err()
}

package commands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/version"
)

func newCmdVersion(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Warden's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(ios.Out, "warden %s\n", version.String())
			return err
		},
	}
}

// Package commands implements the warden CLI. Each command follows the same
// shape: an options struct, a constructor taking a run function (so tests
// can check parsing alone), and a run function writing only to IOStreams.
package commands

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/analyze"
)

// Main runs the CLI and returns the process exit code.
func Main(args []string, ios *IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := NewRootCmd(ios)
	root.SetArgs(args)
	// An unknown command is a usage error. Under a command group cobra
	// prints help and exits 0, so that case is looked up first, as Execute
	// looks it up; at the top cobra returns a plain error, recognised
	// afterwards (when cobra's own help and completion commands exist).
	if c, rest, err := root.Find(args); err == nil && c.HasSubCommands() && !c.Runnable() && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		return exitCode(&FlagError{Err: fmt.Errorf("unknown command %q for %q", rest[0], c.CommandPath())}, ios)
	}
	err := root.ExecuteContext(ctx)
	if err != nil {
		if _, _, ferr := root.Find(args); ferr != nil {
			err = &FlagError{Err: err}
		}
	}
	return exitCode(err, ios)
}

// wardenNow is the day Warden's dated rules see: $WARDEN_NOW when set
// (checked before any command runs), else now.
func wardenNow() time.Time {
	if clock, err := analyze.Clock(os.Getenv); err == nil {
		return clock()
	}
	return time.Now()
}

// NewRootCmd builds the command tree.
func NewRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:           "warden",
		Short:         "Policy as code for Pulumi, on every backend",
		Long:          "Warden runs policy packs (YAML + CEL) over Pulumi resources: as the analyzer plugin during\npulumi preview and up, and from this CLI over packs, state files and backends.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &FlagError{Err: err} })
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if _, err := analyze.Clock(os.Getenv); err != nil {
			return &FlagError{Err: err}
		}
		return nil
	}
	root.AddCommand(
		newCmdInit(ios, nil),
		newCmdInstall(ios),
		newCmdTest(ios, nil),
		newCmdAnalyze(ios, nil),
		newCmdAudit(ios, nil),
		newCmdGroups(ios),
		newCmdPacks(ios),
		newCmdValidate(ios, nil),
		newCmdFindings(ios),
		newCmdRuns(ios),
		newCmdCompliance(ios, nil),
		newCmdConsole(ios, nil),
		newCmdBaseline(ios),
		newCmdExceptions(ios),
		newCmdVersion(ios),
	)
	usageArgs(root)
	return root
}

// usageArgs makes every command's argument check a usage error (exit 2):
// cobra's own, such as NoArgs's "unknown command", are plain errors.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return &FlagError{Err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

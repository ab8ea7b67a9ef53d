// Command pulumi-analyzer-warden is Warden's analyzer plugin in its
// executable form: pulumi preview --policy-pack /abs/path/to/pulumi-analyzer-warden.
// The policy home is the binary's directory (or WARDEN_HOME); a binary
// outside any home runs the built-in packs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/warden-policy/warden/analyzer"
	"github.com/warden-policy/warden/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(analyzer.Run(ctx, analyzer.Process{
		Args: os.Args, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Version: version.String(),
	}))
}

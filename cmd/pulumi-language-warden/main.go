// Command pulumi-language-warden is Warden's Pulumi language plugin: it runs
// policy packs whose PulumiPolicy.yaml says runtime: warden. Install it with
//
//	pulumi plugin install language warden VERSION --file $(which pulumi-language-warden)
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/warden-policy/warden/analyzer"
	"github.com/warden-policy/warden/analyzer/langhost"
	"github.com/warden-policy/warden/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(langhost.Main(ctx, analyzer.Process{
		Args: os.Args, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Version: version.String(),
	}))
}

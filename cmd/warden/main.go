// Command warden tests policy packs, analyzes Pulumi state and explains
// which policies apply. See README.md.
//
// The same binary is Warden's Pulumi language plugin: installed with
// `pulumi plugin install language warden VERSION --file $(which warden)`,
// the CLI runs it as pulumi-language-warden for policy packs whose
// PulumiPolicy.yaml says runtime: warden, and it runs itself again as the
// analyzer. One file to install, and no copy of it named
// pulumi-language-warden on PATH for the CLI to warn about.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/warden-policy/warden/analyzer"
	"github.com/warden-policy/warden/analyzer/langhost"
	"github.com/warden-policy/warden/cmd/warden/commands"
	"github.com/warden-policy/warden/internal/version"
	"github.com/warden-policy/warden/packs/engine"
)

func main() {
	if filepath.Base(os.Args[0]) == langhost.PluginName || os.Getenv(langhost.EnvMode) != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := langhost.Main(ctx, analyzer.Process{
			Args: os.Args, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Version: version.String(),
		})
		stop()
		os.Exit(code)
	}
	engine.SetCacheDir(analyzer.CacheDir(os.Getenv))
	os.Exit(commands.Main(os.Args[1:], commands.System()))
}

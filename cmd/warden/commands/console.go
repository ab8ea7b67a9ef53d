package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/console"
	"github.com/warden-policy/warden/internal/schedule"
	"github.com/warden-policy/warden/packs/home"
)

// EnvConsoleToken is the console's access token when --token is not given.
const EnvConsoleToken = "WARDEN_CONSOLE_TOKEN"

type consoleOptions struct {
	IO *IOStreams
	ledgerOptions
	Listen   string
	Token    string
	ReadOnly bool
	Actor    string
	Backend  string
	Audits   bool
	// ready, when set (by tests), gets the address the console serves on.
	ready func(addr string)
}

func newCmdConsole(ios *IOStreams, runF func(context.Context, *consoleOptions) error) *cobra.Command {
	opts := &consoleOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Serve the Policies and Policy Findings pages for a home and its findings ledger",
		Long: "Console serves a local web app over the policy home (warden.yaml and its packs) and its findings\n" +
			"ledger: Policy Packs, Policy Groups and Policy Findings, with the same edits and triage as the CLI.\n" +
			"It listens on 127.0.0.1 unless given an access token (--token or $" + EnvConsoleToken + ").\n" +
			"Without a home (--home or $WARDEN_HOME) it shows the built-in packs, read-only.",
		Example: "  warden console --home ./policy\n  warden console --home ./policy --listen 0.0.0.0:7080 --token \"$(openssl rand -hex 16)\"",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Token == "" {
				opts.Token = os.Getenv(EnvConsoleToken)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return consoleRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&opts.Listen, "listen", "127.0.0.1:7080", "address to serve on (beyond loopback only with --token)")
	cmd.Flags().StringVar(&opts.Token, "token", "", "access token every request must carry (default $"+EnvConsoleToken+")")
	cmd.Flags().BoolVar(&opts.ReadOnly, "read-only", false, "serve the pages without any form")
	cmd.Flags().StringVar(&opts.Backend, "backend", "", "a backend, as pulumi login takes it (file://, s3://, gs://, azblob://), whose stacks the group forms offer")
	cmd.Flags().BoolVar(&opts.Audits, "audits", true, "run the home's audit groups on their schedules, as audit --watch does (--audits=false when another process does)")
	cmd.Flags().StringVar(&opts.Actor, "actor", "", "who triage edits are recorded as (default $WARDEN_ACTOR, else your user name)")
	return cmd
}

func consoleRun(ctx context.Context, opts *consoleOptions) error {
	dir := home.Find(opts.Home, os.Getenv, "")
	h, err := home.Open(dir)
	if err != nil {
		return err
	}
	actor := actorName(opts.Actor)
	store := opts.url(h)
	var audits *schedule.Scheduler
	if opts.Audits && store != "" {
		audits = scheduledAudits(&auditOptions{IO: opts.IO, Home: dir, Store: store, Now: wardenNow}, opts.IO.ErrOut)
	}
	copts := console.Options{
		Home: dir, Store: store, Token: opts.Token, ReadOnly: opts.ReadOnly, Actor: actor + " (console)", Getenv: os.Getenv, Backend: opts.Backend,
	}
	if audits != nil {
		copts.Schedules = audits.Status
	}
	srv, err := console.New(opts.Listen, copts)
	if errors.Is(err, console.ErrNeedToken) {
		return &FlagError{Err: err}
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	lis, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return &InputError{Err: fmt.Errorf("listening on %s: %w", opts.Listen, err)}
	}
	addr := lis.Addr().(*net.TCPAddr)
	srv.AllowPort(addr.Port)
	fmt.Fprintf(opts.IO.Out, "Warden console: http://%s/\n", addr)
	if opts.Token != "" {
		// The token is not printed: logs keep what a terminal shows.
		fmt.Fprintf(opts.IO.Out, "open it once as http://%s/?token=YOUR-TOKEN (or send Authorization: Bearer YOUR-TOKEN)\n", addr)
	}
	if opts.ready != nil {
		opts.ready(addr.String())
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	if audits != nil {
		// The audits stop with the server, and the command returns only
		// once a run in progress has ended (its run recorded or spooled).
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); audits.Loop(ctx) }()
		defer func() { cancel(); <-done }()
	}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shut)
	}()
	if err := hs.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

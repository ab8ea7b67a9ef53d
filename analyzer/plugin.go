package analyzer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
)

// PolicyProjectFile is the Pulumi policy pack manifest.
const PolicyProjectFile = "PulumiPolicy.yaml"

// Process is what Run needs of the process it runs in; tests pass fakes.
type Process struct {
	Args   []string // os.Args, program name first
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Version is Warden's version, reported to the engine.
	Version string
}

// Run is the whole plugin process: parse the arguments the engine passes
// ([--home DIR] [--logtostderr] [-v=N] [--tracing URL] <engine-address>),
// choose and load the policy home, serve until ctx ends. It returns the exit
// code.
func Run(ctx context.Context, p Process) int {
	log := newLogger(p.Stderr, p.Getenv)
	args, err := parseArgs(p.Args[1:])
	if err != nil {
		fmt.Fprintf(p.Stderr, "%s: %v\n", filepath.Base(p.Args[0]), err)
		return 2
	}
	if args.engine == "" {
		fmt.Fprintf(p.Stderr, "%s is Warden's Pulumi analyzer plugin; the Pulumi CLI starts it:\n"+
			"  pulumi preview --policy-pack %s\n"+
			"or, with a policy home: pulumi preview --policy-pack ./policy (see warden init)\n", filepath.Base(p.Args[0]), p.Args[0])
		return 1
	}
	engine.SetCacheDir(CacheDir(p.Getenv))
	// Loading compiles every policy: a burst of short-lived allocations
	// that the collector need not chase while the engine waits for the
	// port. Collection returns to normal once serving.
	gc := debug.SetGCPercent(800)
	h, loadErr := chooseHome(args.home, p.Args[0], p.Getenv)
	if loadErr != nil {
		log.Error("policy home", "error", loadErr)
	} else {
		where := h.Dir
		if where == "" {
			where = "embedded default (built-in packs)"
		}
		log.Debug("policy home loaded", "home", where, "groups", len(h.Groups))
		// Valid but governing nothing: every preview and update passes
		// unchecked. Warn level, so it shows in pulumi preview's output.
		for _, w := range h.Ungoverned() {
			log.Warn(w)
		}
	}
	opts := Options{Version: p.Version, Logger: log.Named("analyzer"), Getenv: p.Getenv}
	if clock, err := analyze.Clock(p.Getenv); err != nil && loadErr == nil {
		// Fail closed, as a broken home does: every analysis reports it.
		loadErr = err
		log.Error("clock", "error", err)
	} else {
		opts.Now = clock
	}
	if loadErr == nil {
		opts.Findings = ledger.Locate(h, p.Getenv)
	}
	srv := NewServer(h, loadErr, opts)
	debug.SetGCPercent(gc)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Error("listening", "error", err)
		return 1
	}
	err = Serve(ctx, lis, srv, p.Stdout, log)
	srv.Finish()
	if err != nil {
		log.Error("serving", "error", err)
		return 1
	}
	return 0
}

type pluginArgs struct {
	home   string
	engine string
}

// parseArgs accepts the engine's flags in either spelling and takes the last
// positional argument as the engine address.
func parseArgs(args []string) (pluginArgs, error) {
	var out pluginArgs
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--home":
			if i+1 >= len(args) {
				return out, errors.New("--home needs a directory")
			}
			i++
			out.home = args[i]
		case strings.HasPrefix(a, "--home="):
			out.home = strings.TrimPrefix(a, "--home=")
		case a == "--tracing" || a == "-tracing":
			i++ // the value: Warden does not trace
		case strings.HasPrefix(a, "-"):
			// --logtostderr, -v=N, --logflow, --tracing=URL: glog flags for
			// Pulumi's own plugins; Warden logs through WARDEN_LOG_LEVEL.
		default:
			positional = append(positional, a)
		}
	}
	if len(positional) > 0 {
		out.engine = positional[len(positional)-1]
	}
	return out, nil
}

// chooseHome finds the policy home: --home (the directory form passes the
// pack directory), else WARDEN_HOME, else the binary's directory as the
// engine ran it (a link to the binary inside a home works), else the
// embedded default when that directory is not a home at all.
func chooseHome(flagHome, argv0 string, getenv func(string) string) (*home.Home, error) {
	dir := home.Find(flagHome, getenv, filepath.Dir(argv0))
	explicit := flagHome != "" || getenv(home.EnvHome) != ""
	if !explicit && !home.Exists(dir) {
		if _, err := os.Stat(filepath.Join(dir, PolicyProjectFile)); err != nil {
			return home.Default()
		}
	}
	return home.Load(dir)
}

func newLogger(w io.Writer, getenv func(string) string) hclog.Logger {
	level := hclog.Warn
	if l := getenv(EnvLogLevel); l != "" {
		level = hclog.LevelFromString(l)
		if level == hclog.NoLevel {
			level = hclog.Warn
		}
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       "warden",
		Output:     w,
		Level:      level,
		JSONFormat: getenv(EnvLogFormat) == "json",
	})
}

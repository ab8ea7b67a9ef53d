package commands

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/backend"
	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/internal/report"
	"github.com/warden-policy/warden/internal/stackexport"
	"github.com/warden-policy/warden/packs/home"
)

type auditOptions struct {
	IO      *IOStreams
	Home    string
	Packs   []string
	Sources []string
	Output  string
	Store   string
	Now     func() time.Time
}

func newCmdAudit(ios *IOStreams, runF func(context.Context, *auditOptions) error) *cobra.Command {
	opts := &auditOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "audit [SOURCE...]",
		Short: "Run the audit groups over existing state: stack exports and backend folders",
		Long: "Audit runs the home's audit groups over their sources, or over the sources given: stack export\n" +
			"files and self-managed backend folders (file://DIR, the folder of `pulumi login file://DIR`; every\n" +
			"stack in it). Each stack is analyzed with the audit groups that select it. Progress goes to stderr;\n" +
			"the findings and a summary by pack, policy, stack and severity to stdout. Exits 1 on mandatory\n" +
			"violations.",
		Example: "  warden audit --home ./policy\n  warden audit file://$HOME/pulumi-state -o sarif > audit.sarif",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Sources = args
			if err := checkOutput(opts.Output, report.Formats...); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return auditRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the built-in packs)")
	cmd.Flags().StringArrayVar(&opts.Packs, "pack", nil, "run exactly this pack directory instead of a home (repeatable)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output format: human, json, sarif, junit")
	cmd.Flags().StringVar(&opts.Store, "store", "", "findings store to record the runs in (default $"+ledger.EnvStore+", else the home's; \"off\": none)")
	return cmd
}

// stackFiles expands sources into stack files: a file is itself, a
// file:// folder every stack in it.
func stackFiles(sources []string) ([]string, error) {
	var out []string
	for _, src := range sources {
		p := strings.TrimPrefix(src, "file://")
		if strings.Contains(p, "://") {
			return nil, &InputError{Err: fmt.Errorf("source %q: only stack export files and backend URLs (file://, s3://, gs://, azblob://) can be audited", src)}
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("source %s: %w", src, err)}
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		files, err := stackexport.Discover(p)
		if err != nil {
			return nil, &InputError{Err: err}
		}
		out = append(out, files...)
	}
	return out, nil
}

// auditTarget is one stack to audit and how to read it. A stack found in
// a backend that cannot be read is reported and skipped; a file named on
// the command line that cannot be read is bad input.
type auditTarget struct {
	name        string
	read        func(context.Context) (*stackexport.Stack, error)
	fromBackend bool
}

// auditTargets expands sources: files, file:// folders, and the cloud
// backends pulumi login takes (s3://, gs://, azblob://), whose stacks are
// listed through package backend. A backend that cannot be opened or
// listed is a failure of its own, reported with the others.
func auditTargets(ctx context.Context, sources []string, failed func(name string, err error)) ([]auditTarget, func(), error) {
	var out []auditTarget
	var opened []*backend.Backend
	closeAll := func() {
		for _, b := range opened {
			b.Close()
		}
	}
	for _, src := range sources {
		if !backend.IsURL(src) || strings.HasPrefix(src, "file://") {
			files, err := stackFiles([]string{src})
			if err != nil {
				closeAll()
				return nil, nil, err
			}
			dir := strings.HasPrefix(src, "file://")
			for _, f := range files {
				out = append(out, auditTarget{name: f, read: func(context.Context) (*stackexport.Stack, error) { return stackexport.ReadFile(f) }, fromBackend: dir})
			}
			continue
		}
		b, err := backend.Open(ctx, src)
		if err != nil {
			failed(src, err)
			continue
		}
		opened = append(opened, b)
		refs, err := b.Stacks(ctx)
		if err != nil {
			failed(b.URL, err)
			continue
		}
		for _, ref := range refs {
			out = append(out, auditTarget{name: b.URL + " " + ref.String(), read: func(ctx context.Context) (*stackexport.Stack, error) { return b.Read(ctx, ref) }, fromBackend: true})
		}
	}
	return out, closeAll, nil
}

func auditRun(ctx context.Context, opts *auditOptions) error {
	h, err := loadHome(opts.Home, opts.Packs)
	if err != nil {
		return err
	}
	sources := opts.Sources
	if len(sources) == 0 {
		for _, g := range h.Groups {
			if g.Mode == home.Audit {
				for _, s := range g.Sources {
					if s.URL != "" {
						sources = append(sources, s.URL)
					} else {
						sources = append(sources, "file://"+s.Path)
					}
				}
			}
		}
		if len(sources) == 0 {
			return &FlagError{Err: fmt.Errorf("nothing to audit: the home's audit groups list no sources; give SOURCE arguments")}
		}
	}
	mode := home.Audit
	if !slices.ContainsFunc(h.Groups, func(g *home.Group) bool { return g.Mode == home.Audit }) {
		mode = home.Preventative
		fmt.Fprintln(opts.IO.ErrOut, "note: the home has no audit groups; auditing with the preventative groups that would run on deploy")
	}
	an, err := analyze.New(h, mode, analyze.Options{Now: opts.Now})
	if err != nil {
		return err
	}
	failures := 0
	failed := func(name string, err error) {
		failures++
		fmt.Fprintf(opts.IO.ErrOut, "FAILED %s: %v\n", name, err)
	}
	targets, closeAll, err := auditTargets(ctx, sources, failed)
	if err != nil {
		return err
	}
	defer closeAll()
	var reports []*analyze.Report
	for i, target := range targets {
		f := target.name
		fmt.Fprintf(opts.IO.ErrOut, "[%d/%d] %s\n", i+1, len(targets), f)
		st, err := target.read(ctx)
		if err != nil && target.fromBackend {
			failed(f, err)
			continue
		}
		if err != nil {
			return &InputError{Err: err}
		}
		if len(st.Resources) == 0 {
			continue // a stack that was never deployed
		}
		warnEncrypted(opts.IO, f, st)
		ident := analyze.Identify(st, h.Org(st.Organization))
		started := time.Now()
		rep, err := an.Report(ctx, st, ident)
		if err != nil {
			return err
		}
		rep.Source = f
		recordReport(ctx, opts.IO, h, opts.Store, ledger.Audit, started, rep)
		reports = append(reports, rep)
	}
	if failures > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "audited %d stacks; %d could not be read (FAILED above)\n", len(reports), failures)
	} else {
		fmt.Fprintf(opts.IO.ErrOut, "audited %d stacks\n", len(reports))
	}
	if err := report.Write(opts.IO.Out, report.Format(opts.Output), tool(), reports, true); err != nil {
		return err
	}
	if failures > 0 {
		return errIncomplete
	}
	if report.Total(reports).Blocking > 0 {
		return errFindings
	}
	return nil
}

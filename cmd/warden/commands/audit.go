package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/backend"
	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/internal/report"
	"github.com/warden-policy/warden/internal/schedule"
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
	Watch   bool
	FailOn  string
	Now     func() time.Time
	// sleep waits d or until ctx ends (tests replace it to run --watch
	// on a fake clock).
	sleep func(ctx context.Context, d time.Duration) error
}

func newCmdAudit(ios *IOStreams, runF func(context.Context, *auditOptions) error) *cobra.Command {
	opts := &auditOptions{IO: ios, Now: wardenNow}
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
			if err := checkFailOn(opts.FailOn); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if opts.Watch {
				return auditWatch(cmd.Context(), opts)
			}
			return auditRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the built-in packs)")
	cmd.Flags().StringArrayVar(&opts.Packs, "pack", nil, "run exactly this pack directory instead of a home (repeatable)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output format: human, json, sarif, junit")
	cmd.Flags().StringVar(&opts.FailOn, "fail-on", "", failOnUsage)
	cmd.Flags().BoolVar(&opts.Watch, "watch", false, "keep running: audit each audit group with a schedule on its schedule, recording every run in the findings ledger")
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
	ro := readOptions()
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
				out = append(out, auditTarget{name: f, read: func(context.Context) (*stackexport.Stack, error) { return stackexport.ReadFileWith(f, ro) }, fromBackend: dir})
			}
			continue
		}
		b, err := backend.Open(ctx, src)
		if err != nil {
			failed(src, err)
			continue
		}
		b.ReadOptions = ro
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
	var progress *progressBar
	failed := func(name string, err error) {
		failures++
		progress.clear()
		fmt.Fprintf(opts.IO.ErrOut, "FAILED %s: %v\n", name, err)
	}
	targets, closeAll, err := auditTargets(ctx, sources, failed)
	if err != nil {
		return err
	}
	defer closeAll()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reads, taken := readAhead(ctx, targets, AuditParallelism)
	progress = newProgress(opts.IO, len(targets))
	defer progress.done()
	var reports []*analyze.Report
	for i, target := range targets {
		f := target.name
		progress.step(i, f)
		r, ok := <-reads[i]
		if !ok {
			return ctx.Err()
		}
		taken()
		st, err := r.st, r.err
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
	progress.done()
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
	if failing(reports, opts.FailOn) {
		return errFindings
	}
	return nil
}

// AuditParallelism bounds how many stacks an audit reads at once: reads
// (a bucket's round trips, decompression, decoding) overlap while the
// policies run on the stack before; at most this many decoded stacks wait
// in memory.
const AuditParallelism = 8

type readResult struct {
	st  *stackexport.Stack
	err error
}

// readAhead reads targets with at most n stacks read or waiting to be
// taken: each result arrives on its own channel (closed without a value
// when ctx ends first), so the caller takes them in order, and calls
// taken after each to free its slot.
func readAhead(ctx context.Context, targets []auditTarget, n int) (results []chan readResult, taken func()) {
	results = make([]chan readResult, len(targets))
	for i := range results {
		results[i] = make(chan readResult, 1)
	}
	slots := make(chan struct{}, n)
	go func() {
		for i, t := range targets {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				for _, c := range results[i:] {
					close(c)
				}
				return
			}
			go func() {
				st, err := t.read(ctx)
				results[i] <- readResult{st, err}
			}()
		}
	}()
	return results, func() { <-slots }
}

// progressBar shows an audit's progress on stderr: one line rewritten in
// place on a terminal, a line per stack otherwise (CI logs).
type progressBar struct {
	io    *IOStreams
	total int
	shown bool
}

func newProgress(io *IOStreams, total int) *progressBar { return &progressBar{io: io, total: total} }

func (p *progressBar) step(i int, name string) {
	if !p.io.ErrTTY {
		fmt.Fprintf(p.io.ErrOut, "[%d/%d] %s\n", i+1, p.total, name)
		return
	}
	const width = 30
	filled := width * i / max(p.total, 1)
	if len(name) > 50 {
		name = "…" + name[len(name)-49:]
	}
	fmt.Fprintf(p.io.ErrOut, "\r\033[K[%s%s] %d/%d %s", strings.Repeat("█", filled), strings.Repeat("·", width-filled), i+1, p.total, name)
	p.shown = true
}

// clear removes the bar before another line is printed.
func (p *progressBar) clear() {
	if p != nil && p.shown {
		fmt.Fprint(p.io.ErrOut, "\r\033[K")
		p.shown = false
	}
}

func (p *progressBar) done() { p.clear() }

// auditWatch is audit --watch: it audits each audit group that has a
// schedule, at start and then on its schedule, until interrupted; every
// run is recorded in the findings ledger (so findings open and close with
// nobody typing a command). Package schedule keeps the runs apart and
// retries the failed ones; warden.yaml is read again as it runs.
func auditWatch(ctx context.Context, opts *auditOptions) error {
	h, err := loadHome(opts.Home, opts.Packs)
	if err != nil {
		return err
	}
	if len(opts.Sources) > 0 {
		return &FlagError{Err: fmt.Errorf("audit --watch runs the home's scheduled audit groups: give no SOURCE")}
	}
	if len(scheduledGroups(h)) == 0 {
		return &FlagError{Err: fmt.Errorf("audit --watch: no audit group of the home has a schedule (add schedule: \"@every 6h\" to one)")}
	}
	return scheduledAudits(opts, opts.IO.ErrOut).Loop(ctx)
}

// scheduledGroups are the home's audit groups with a schedule.
func scheduledGroups(h *home.Home) map[string]*home.Group {
	out := map[string]*home.Group{}
	for _, g := range h.Groups {
		if g.Mode == home.Audit && g.Schedule > 0 {
			out[g.Name] = g
		}
	}
	return out
}

// scheduledAudits runs the home's scheduled audit groups, each run an
// audit of the group's sources recorded in the ledger; audit --watch and
// the console both run one. Progress and summaries go to log.
func scheduledAudits(opts *auditOptions, log io.Writer) *schedule.Scheduler {
	var groups map[string]*home.Group
	s := &schedule.Scheduler{
		Log: log, Now: opts.Now, Sleep: opts.sleep,
		Jobs: func() ([]schedule.Job, error) {
			h, err := loadHome(opts.Home, opts.Packs)
			if err != nil {
				return nil, err
			}
			groups = scheduledGroups(h)
			var jobs []schedule.Job
			for _, g := range groups {
				jobs = append(jobs, schedule.Job{Name: g.Name, Every: g.Schedule})
			}
			return jobs, nil
		},
	}
	s.Run = func(ctx context.Context, j schedule.Job) error {
		g := groups[j.Name] // Jobs and Run take turns on the loop
		var sources []string
		for _, src := range g.Sources {
			if src.URL != "" {
				sources = append(sources, src.URL)
			} else {
				sources = append(sources, "file://"+src.Path)
			}
		}
		run := *opts
		run.Sources, run.Output = sources, "human"
		run.IO = &IOStreams{In: opts.IO.In, Out: log, ErrOut: log, ErrTTY: false}
		if err := auditRun(ctx, &run); err != nil && !errors.Is(err, errFindings) {
			return err
		}
		return nil
	}
	return s
}

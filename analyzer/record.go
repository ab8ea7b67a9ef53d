package analyzer

import (
	"context"
	"sync"
	"time"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/internal/ledger"
)

// RecordTimeout bounds the plugin's recording of its run at the end: the
// engine kills the plugin a second after asking it to stop. The run is
// spooled before the store is tried, so a store slower than this loses
// nothing; the next Warden command records it.
const RecordTimeout = 3 * time.Second

// recorder collects what one plugin process saw, for the findings ledger.
// The engine starts a plugin per preview, per update and per `pulumi
// policy analyze`, so a process is one run. It ends with Cancel (the
// engine's shutdown) or with the process; AnalyzeStack, which the engine
// skips when an update was stopped by a mandatory violation, marks it
// complete. Recording never changes what an RPC answers.
type recorder struct {
	store   string // URL; "" records nothing
	getenv  func(string) string
	version string
	log     func(msg string, args ...any)
	debug   func(msg string, args ...any)

	mu        sync.Mutex
	started   time.Time
	kind      ledger.Kind
	sess      *analyze.Session
	found     []findings.Finding
	analyzed  map[string]bool
	resources int
	complete  bool
	done      bool
}

// configured notes the kind of run ConfigureStack says it is; without
// one, the run is a `pulumi policy analyze`.
func (r *recorder) configured(dryRun bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kind = ledger.Update
	if dryRun {
		r.kind = ledger.Preview
	}
}

func (r *recorder) begin(sess *analyze.Session) {
	if r.started.IsZero() {
		r.started = time.Now()
	}
	if r.kind == "" {
		r.kind = ledger.PolicyAnalyze
	}
	r.sess = sess
}

// resource notes one Analyze's findings.
func (r *recorder) resource(sess *analyze.Session, urn string, fs []findings.Finding) {
	r.note(sess, fs, func() {
		if r.analyzed == nil {
			r.analyzed = map[string]bool{}
		}
		r.analyzed[urn] = true
	})
}

// stack notes AnalyzeStack: the run saw every resource.
func (r *recorder) stack(sess *analyze.Session, fs []findings.Finding, resources int) {
	r.note(sess, fs, func() {
		r.resources = max(resources, len(r.analyzed))
		r.complete = true
	})
}

// note adds an RPC's findings and what else it tells (more, under the
// lock), unless the run was recorded already.
func (r *recorder) note(sess *analyze.Session, fs []findings.Finding, more func()) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	r.begin(sess)
	r.found = append(r.found, fs...)
	more()
}

// finish records the run, once; later calls do nothing. A run that
// analyzed nothing (the engine only asked what the analyzer is) is not a
// run. The run is built under the lock and saved outside it, so a late
// Analyze is not held up by the store.
func (r *recorder) finish(at string) {
	if r == nil {
		return
	}
	run := r.take(at)
	if run == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), RecordTimeout)
	defer cancel()
	begin := time.Now()
	if w := ledger.Save(ctx, r.store, r.getenv, run); w != "" {
		r.log(w)
	}
	// What recording adds to the end of the run (make bench-cli reads it).
	r.debug("recorded the run", "findings", len(run.Findings), "took", time.Since(begin).Round(time.Millisecond))
}

// take ends the recording and returns the run, nil if there is none or it
// was taken already.
func (r *recorder) take(at string) *ledger.Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done || r.sess == nil {
		r.done = true
		return nil
	}
	r.done = true
	r.debug("recording the run in the findings ledger", "at", at, "kind", r.kind, "complete", r.complete)
	st := r.sess.Stack
	run := &ledger.Run{
		ID: ledger.NewRunID(r.started), Organization: r.sess.Organization(), Project: st.Project, Stack: st.Name, Kind: r.kind,
		Started: r.started, Finished: time.Now(), Version: r.version, Complete: r.complete,
		Resources: max(r.resources, len(r.analyzed)), Findings: r.found,
	}
	seen := map[string]bool{}
	for _, p := range r.sess.Packs() {
		run.Packs = append(run.Packs, p.Pack.String())
		for _, g := range p.Groups {
			if !seen[g.Group] {
				seen[g.Group] = true
				run.Groups = append(run.Groups, g.Group)
			}
		}
	}
	for _, pol := range r.sess.Enabled() {
		run.Ran = append(run.Ran, pol.Pack.Name+"/"+pol.Name)
	}
	for urn := range r.analyzed {
		run.Analyzed = append(run.Analyzed, urn)
	}
	for i := range r.found {
		if r.found[i].Blocking() {
			run.Blocked = true
		}
	}
	return run
}

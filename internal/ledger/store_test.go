package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/internal/pgtest"
	"github.com/warden-policy/warden/packs/spec"
)

var pg *pgtest.Server

func TestMain(m *testing.M) {
	var err error
	pg, err = pgtest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting PostgreSQL for the store tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// stores runs a test on a fresh SQLite store and a fresh PostgreSQL one:
// both pass the same suite.
func stores(t *testing.T, test func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		test(t, "sqlite:"+filepath.Join(t.TempDir(), "findings.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		test(t, pg.Database(t))
	})
}

func openStore(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func violation(policy, urn string, level spec.Level) findings.Finding {
	return findings.Finding{
		Stack: "prod", Project: "site", URN: urn, Type: "aws:s3/bucket:Bucket", Pack: "aws", Version: "1.0.0", Policy: policy,
		Kind: findings.Violation, Level: level, Severity: spec.High, Description: "d", Message: policy + " on " + urn,
	}
}

const (
	urnA = "urn:pulumi:prod::site::aws:s3/bucket:Bucket::a"
	urnB = "urn:pulumi:prod::site::aws:s3/bucket:Bucket::b"
)

func run(kind Kind, at time.Time, complete bool, fs ...findings.Finding) *Run {
	return &Run{
		ID: NewRunID(at), Organization: "acme", Project: "site", Stack: "prod", Kind: kind,
		Started: at, Finished: at.Add(time.Second), Version: "test", Packs: []string{"aws@1.0.0"}, Groups: []string{"default"},
		Complete: complete, Ran: []string{"aws/p1", "aws/p2"}, Analyzed: []string{urnA, urnB}, Resources: 2, Findings: fs,
	}
}

func statuses(t *testing.T, s *Store) map[string]Status {
	t.Helper()
	fs, err := s.Findings(t.Context(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Status{}
	for _, f := range fs {
		out[f.Policy+" "+f.URN] = f.Status
	}
	return out
}

// TestLifecycle: an update opens findings; a preview changes no status; an
// update without a violation fixes it; a recurrence reopens it; the IDs
// stay the same throughout, whatever the pack version.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		ctx := t.Context()
		first := run(Update, t0, true, violation("p1", urnA, spec.Mandatory), violation("p2", urnB, spec.Advisory))
		first.Blocked = true
		if err := s.Record(ctx, first); err != nil {
			t.Fatal(err)
		}
		want := map[string]Status{"p1 " + urnA: StatusOpen, "p2 " + urnB: StatusOpen}
		if got := statuses(t, s); !equal(got, want) {
			t.Fatalf("after the first update: %v", got)
		}
		id := findings.ID("acme", "site", "prod", "aws", "p1", urnA)
		if err := s.Record(ctx, run(Preview, t0.Add(time.Hour), true)); err != nil {
			t.Fatal(err)
		}
		if got := statuses(t, s); !equal(got, want) {
			t.Fatalf("a preview changed statuses: %v", got)
		}
		fixed := run(Update, t0.Add(2*time.Hour), true, violation("p2", urnB, spec.Advisory))
		if err := s.Record(ctx, fixed); err != nil {
			t.Fatal(err)
		}
		want["p1 "+urnA] = StatusFixed
		if got := statuses(t, s); !equal(got, want) {
			t.Fatalf("after the fix: %v", got)
		}
		again := violation("p1", urnA, spec.Mandatory)
		again.Version = "2.0.0"
		if err := s.Record(ctx, run(Update, t0.Add(3*time.Hour), true, again, violation("p2", urnB, spec.Advisory))); err != nil {
			t.Fatal(err)
		}
		want["p1 "+urnA] = StatusOpen
		if got := statuses(t, s); !equal(got, want) {
			t.Fatalf("after the recurrence: %v", got)
		}
		f, history, seen, err := s.Finding(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if f.Priority != "P2" || f.FirstSeen != t0.Add(time.Second) {
			t.Errorf("finding: %+v", f)
		}
		var moves []string
		for _, c := range history {
			moves = append(moves, c.From+">"+c.To)
		}
		if !slices.Equal(moves, []string{">open", "open>fixed", "fixed>open"}) {
			t.Errorf("history: %v", moves)
		}
		if len(seen) != 2 {
			t.Errorf("runs that saw it: %+v", seen)
		}
		runs, err := s.Runs(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 4 || runs[3].ID != first.ID || !runs[3].Blocked || runs[3].Blocking != 1 || runs[2].Kind != Preview {
			t.Errorf("runs: %+v", runs)
		}
		if err := s.Record(ctx, first); err != nil { // spooled twice
			t.Fatal(err)
		}
		if runs, _ := s.Runs(ctx, "", 0); len(runs) != 4 {
			t.Errorf("a run recorded twice: %d runs", len(runs))
		}
	})
}

func equal(a, b map[string]Status) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestIncompleteRun: an update the engine stopped early (no AnalyzeStack)
// fixes only findings of resources it analyzed.
func TestIncompleteRun(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		if err := s.Record(t.Context(), run(Update, t0, true, violation("p1", urnA, spec.Mandatory), violation("p1", urnB, spec.Mandatory))); err != nil {
			t.Fatal(err)
		}
		stopped := run(Update, t0.Add(time.Hour), false)
		stopped.Analyzed = []string{urnA}
		if err := s.Record(t.Context(), stopped); err != nil {
			t.Fatal(err)
		}
		got := statuses(t, s)
		if got["p1 "+urnA] != StatusFixed || got["p1 "+urnB] != StatusOpen {
			t.Errorf("after an incomplete run: %v", got)
		}
	})
}

// TestTriage: edits apply to several findings at once, need a reason for
// by-design and ignored, refuse unknown values and IDs (changing nothing),
// and are never overwritten by a later run.
func TestTriage(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		ctx := t.Context()
		if err := s.Record(ctx, run(Update, t0, true, violation("p1", urnA, spec.Mandatory), violation("p2", urnB, spec.Advisory))); err != nil {
			t.Fatal(err)
		}
		a, b := findings.ID("acme", "site", "prod", "aws", "p1", urnA), findings.ID("acme", "site", "prod", "aws", "p2", urnB)
		str := func(s string) *string { return &s }
		st := func(s Status) *Status { return &s }
		var ie *InputError
		for _, bad := range []struct {
			ids []string
			t   Triage
		}{
			{[]string{a}, Triage{Status: st("closed")}},
			{[]string{a}, Triage{Status: st(StatusIgnored)}},
			{[]string{a}, Triage{Priority: str("P9")}},
			{[]string{a, "nosuchid"}, Triage{Assignee: str("ana")}},
			{[]string{a}, Triage{}},
		} {
			if err := s.Update(ctx, bad.ids, bad.t, "me", t0); !errors.As(err, &ie) {
				t.Errorf("%+v: %v, want an InputError", bad, err)
			}
		}
		if f, _, _, _ := s.Finding(ctx, a); f.Assignee != "" {
			t.Fatal("a refused edit changed a finding")
		}
		now := t0.Add(time.Hour)
		if err := s.Update(ctx, []string{a, b}, Triage{Status: st(StatusInProgress), Assignee: str("ana"), Priority: str("P0")}, "lead", now); err != nil {
			t.Fatal(err)
		}
		if err := s.Update(ctx, []string{b}, Triage{Status: st(StatusIgnored), Reason: str("sandbox account")}, "lead", now); err != nil {
			t.Fatal(err)
		}
		if err := s.Record(ctx, run(Update, t0.Add(2*time.Hour), true, violation("p1", urnA, spec.Mandatory), violation("p2", urnB, spec.Advisory))); err != nil {
			t.Fatal(err)
		}
		fa, history, _, err := s.Finding(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		fb, _, _, _ := s.Finding(ctx, b)
		if fa.Status != StatusInProgress || fa.Assignee != "ana" || fa.Priority != "P0" || fb.Status != StatusIgnored || fb.Reason != "sandbox account" {
			t.Errorf("after a run: %+v %+v", fa, fb)
		}
		if len(history) != 4 || history[1].Actor != "lead" {
			t.Errorf("history: %+v", history)
		}
	})
}

// TestCompliance: the policy score counts policy × stack pairs of the last
// complete run, the resource score resources; excepted findings and
// triaged-away ones do not count.
func TestCompliance(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		excepted := violation("p2", urnB, spec.Mandatory)
		excepted.Exception = &findings.ExceptionRef{ID: "ok", Reason: "r"}
		r := run(Update, t0, true, violation("p1", urnA, spec.Mandatory), excepted)
		r.Resources = 4
		if err := s.Record(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		c, err := s.Compliance(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if c.Pairs != 2 || c.FailingPairs != 1 || c.PolicyScore != 0.5 || c.Resources != 4 || c.Failing != 1 || c.ResourceScore != 0.75 {
			t.Errorf("compliance: %+v", c)
		}
		if len(c.Table) != 1 || c.Table[0].Stack != "acme/site/prod" || c.Table[0].BySeverity["high"] != 1 {
			t.Errorf("table: %+v", c.Table)
		}
	})
}

// TestStanding: each stack's last complete update or audit, what it ran
// and its open findings per pack/policy; previews, older runs, excepted
// and triaged-away findings do not count.
func TestStanding(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		excepted := violation("p2", urnB, spec.Mandatory)
		excepted.Exception = &findings.ExceptionRef{ID: "ok", Reason: "r"}
		older := run(Update, t0, true, violation("p1", urnA, spec.Mandatory))
		older.Ran = []string{"aws/p1", "aws/p2", "aws/p3"}
		latest := run(Update, t0.Add(time.Hour), true, violation("p1", urnA, spec.Mandatory), violation("p1", urnB, spec.Mandatory), excepted)
		preview := run(Preview, t0.Add(2*time.Hour), true, violation("p2", urnA, spec.Mandatory))
		preview.Ran = []string{"aws/p9"}
		other := run(Audit, t0, true)
		other.Stack = "dev"
		for _, r := range []*Run{older, latest, preview, other} {
			if err := s.Record(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Standing(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := []StackStanding{
			{Stack: "acme/site/dev", Ran: []string{"aws/p1", "aws/p2"}, Open: map[string]int{}},
			{Stack: "acme/site/prod", Ran: []string{"aws/p1", "aws/p2"}, Open: map[string]int{"aws/p1": 2}},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("standing:\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestGrouped: counts by policy, resource and stack, by status.
func TestGrouped(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		if err := s.Record(t.Context(), run(Update, t0, true, violation("p1", urnA, spec.Mandatory), violation("p1", urnB, spec.Mandatory), violation("p2", urnB, spec.Advisory))); err != nil {
			t.Fatal(err)
		}
		gs, err := s.Grouped(t.Context(), Filter{}, ByPolicy)
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != 2 || gs[0].Key != "aws/p1" || gs[0].Total != 2 || gs[0].ByStatus[StatusOpen] != 2 {
			t.Errorf("by policy: %+v", gs)
		}
		gs, _ = s.Grouped(t.Context(), Filter{Policy: "p2"}, ByResource)
		if len(gs) != 1 || gs[0].Key != urnB {
			t.Errorf("by resource, p2: %+v", gs)
		}
		if _, err := s.Grouped(t.Context(), Filter{}, "color"); err == nil {
			t.Error("grouping by color")
		}
	})
}

// TestConcurrent: 8 runs on 8 stacks and triage edits at the same time,
// each through its own connection as separate processes would: every
// finding and every edit is there afterwards.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, url string) {
		openStore(t, url) // migrate once before the race; opening races are TestConcurrentOpen's
		const stacks = 8
		seed := openStore(t, url)
		for i := range stacks {
			r := run(Update, t0, true, violation("p1", urnA, spec.Mandatory))
			r.Stack = fmt.Sprintf("s%d", i)
			if err := seed.Record(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4*stacks)
		for i := range stacks {
			wg.Go(func() {
				s, err := Open(context.Background(), url)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				for j := range 3 {
					r := run(Update, t0.Add(time.Duration(j+1)*time.Hour), true, violation("p1", urnA, spec.Mandatory), violation("p2", fmt.Sprintf("%s%d", urnB, j), spec.Advisory))
					r.Stack = fmt.Sprintf("s%d", i)
					if err := s.Record(context.Background(), r); err != nil {
						errs <- err
					}
				}
			})
			wg.Go(func() {
				s, err := Open(context.Background(), url)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				who := fmt.Sprintf("person%d", i)
				id := findings.ID("acme", "site", fmt.Sprintf("s%d", i), "aws", "p1", urnA)
				if err := s.Update(context.Background(), []string{id}, Triage{Assignee: &who}, who, t0.Add(30*time.Minute)); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		s := openStore(t, url)
		fs, err := s.Findings(t.Context(), Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != stacks*4 {
			t.Errorf("%d findings, want %d", len(fs), stacks*4)
		}
		for _, f := range fs {
			if f.Policy == "p1" && (f.Assignee != "person"+strings.TrimPrefix(f.Stack, "s") || f.Status != StatusOpen) {
				t.Errorf("lost an edit: %+v", f)
			}
		}
		runs, _ := s.Runs(t.Context(), "", 0)
		if len(runs) != stacks*4 {
			t.Errorf("%d runs, want %d", len(runs), stacks*4)
		}
	})
}

// TestConcurrentOpen: processes opening a new store at once migrate it
// once.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, url string) {
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				s, err := Open(context.Background(), url)
				if err != nil {
					t.Error(err)
					return
				}
				s.Close()
			})
		}
		wg.Wait()
		s := openStore(t, url)
		var n int
		if err := s.db.QueryRow(`SELECT COUNT(*) FROM warden_schema`).Scan(&n); err != nil || n != SchemaVersion {
			t.Errorf("%d schema versions recorded (%v), want %d", n, err, SchemaVersion)
		}
	})
}

// TestNewerSchema: a store written by a newer Warden is refused, and left
// as it was.
func TestNewerSchema(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		if _, err := s.db.Exec(`INSERT INTO warden_schema (version) VALUES (99)`); err != nil {
			t.Fatal(err)
		}
		_, err := Open(t.Context(), url)
		if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), fmt.Sprintf("schema is version 99, this warden knows up to %d: upgrade warden", SchemaVersion)) {
			t.Errorf("got %v", err)
		}
	})
}

// TestMigrateFromVersion1: a store written by the first schema (no
// baselined column) is brought up to date on open, its findings kept.
func TestMigrateFromVersion1(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		for _, stmt := range []string{
			`ALTER TABLE findings DROP COLUMN baselined`, `ALTER TABLE sightings DROP COLUMN baselined`,
			`DELETE FROM warden_schema WHERE version > 1`,
			`INSERT INTO findings (id, organization, project, stack, pack, policy, urn, type, severity, level, kind, message, exception, status, reason, priority, assignee, first_seen, last_seen, last_run, updated)
			 VALUES ('aaaaaaaaaaaa', 'acme', 'shop', 'prod', 'p', 'pol', 'urn:x', 't', 'high', 'mandatory', 'violation', 'm', '', 'open', '', 'P2', '', 1, 1, 'r', 1)`,
		} {
			if _, err := s.db.Exec(stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		s.Close()
		s2, err := Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		f, _, _, err := s2.Finding(t.Context(), "aaaaaaaaaaaa")
		if err != nil || f.Baselined != "" || !f.Blocks() {
			t.Fatalf("the version-1 finding after the migration: %+v %v", f, err)
		}
	})
}

// TestBadStores: a damaged file, an unreachable server and an unknown
// scheme are StoreErrors that say what is wrong, without the password.
func TestBadStores(t *testing.T) {
	t.Parallel()
	damaged := filepath.Join(t.TempDir(), "findings.db")
	if err := os.WriteFile(damaged, []byte(strings.Repeat("not a database ", 500)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ url, want string }{
		{"sqlite:" + damaged, "is not a findings ledger"},
		{"postgres://ana:hunter2secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", "postgres://ana:xxxxx@127.0.0.1:1/db"},
		{"mysql://ana:hunter2secret@host/db", "unknown store"},
	} {
		_, err := Open(t.Context(), c.url)
		var se *StoreError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("%s: %v", c.url, err)
		}
	}
}

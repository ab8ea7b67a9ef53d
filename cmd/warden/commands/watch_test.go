package commands

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-policy/warden/internal/ledger"
)

// TestAuditWatch: audit --watch runs each scheduled audit group at start
// and on its schedule, records every run in the ledger, and retries a
// failing group after 1, 2, 4 ... minutes; on a fake clock.
func TestAuditWatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	backend, err := filepath.Abs(backendDir)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "warden.yaml"), `organization: acme
groups:
  - name: default
    mode: preventative
    default: true
    packs: [aws-foundations]
  - name: nightly
    mode: audit
    schedule: "@every 1h"
    sources: ["file://`+backend+`"]
    packs: [aws-foundations]
  - name: broken
    mode: audit
    schedule: "@every 6h"
    sources: ["file:///no/such/backend"]
    packs: [aws-foundations]
`)
	store := "sqlite:" + filepath.Join(dir, "findings.db")
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ios, _, errOut := TestStreams()
	opts := &auditOptions{IO: ios, Home: dir, Store: store, Watch: true, Now: func() time.Time { return now },
		sleep: func(ctx context.Context, d time.Duration) error {
			now = now.Add(d)
			if now.After(t0.Add(2*time.Hour + 30*time.Minute)) {
				cancel()
				return ctx.Err()
			}
			return nil
		}}
	if err := auditWatch(ctx, opts); err != nil {
		t.Fatalf("audit --watch: %v\n%s", err, errOut)
	}
	if n := strings.Count(errOut.String(), "auditing group nightly"); n != 3 {
		t.Errorf("nightly ran %d times, want 3 (at 0h, 1h, 2h):\n%s", n, errOut)
	}
	for _, want := range []string{"retrying in 1m0s", "retrying in 2m0s", "retrying in 4m0s"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("no %q:\n%s", want, errOut)
		}
	}
	s, err := ledger.Open(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(context.Background(), "", 0)
	if err != nil || len(runs) != 6 {
		t.Errorf("%d runs recorded (%v), want 6 (2 stacks x 3)", len(runs), err)
	}
}

// TestConsoleScheduledAudits: warden console runs the home's scheduled
// audit groups as audit --watch does: the run is recorded in the ledger and
// the Policy Groups page shows the schedule with its last and next run.
func TestConsoleScheduledAudits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	backend, err := filepath.Abs(backendDir)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "warden.yaml"), `organization: acme
groups:
  - name: default
    mode: preventative
    default: true
    packs: [aws-foundations]
  - name: nightly
    mode: audit
    schedule: "@every 6h"
    sources: ["file://`+backend+`"]
    packs: [aws-foundations]
`)
	store := "sqlite:" + filepath.Join(dir, "findings.db")
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	ios, _, errOut := TestStreams()
	opts := &consoleOptions{IO: ios, ledgerOptions: ledgerOptions{Home: dir, Store: store}, Listen: "127.0.0.1:0", Audits: true, ready: func(a string) { addr <- a }}
	done := make(chan error, 1)
	go func() { done <- consoleRun(ctx, opts) }()
	var page string
	select {
	case a := <-addr:
		// The first run starts at once; wait for the page to show it done.
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			resp, err := http.Get("http://" + a + "/groups")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if page = string(body); strings.Contains(page, "every 6h · last ") {
				break
			}
		}
	case err := <-done:
		t.Fatalf("console: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, "every 6h · last ") || !strings.Contains(page, " · next ") || strings.Contains(page, "last run failed") {
		t.Fatalf("the groups page does not show the run:\n%s\n%s", page, errOut)
	}
	s, err := ledger.Open(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if runs, err := s.Runs(context.Background(), "", 0); err != nil || len(runs) != 2 {
		t.Errorf("%d runs recorded (%v), want 2 (one per stack)\n%s", len(runs), err, errOut)
	}
}

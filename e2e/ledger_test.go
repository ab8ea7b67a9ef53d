//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// warden runs the warden CLI in the test's world and returns its stdout.
func (e *env) warden(want int, args ...string) string {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(tools.bin, "warden"), args...)
	cmd.Env = e.vars
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	if code != want {
		e.t.Fatalf("warden %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), secret) {
		e.t.Errorf("warden %s printed the secret", strings.Join(args, " "))
	}
	return out.String()
}

type ledgerFinding struct {
	ID, Policy, URN, Status, Assignee, Reason string
}

// findings reads the ledger as warden findings list -o json shows it,
// keyed by policy and resource name.
func (e *env) findings() map[string]ledgerFinding {
	e.t.Helper()
	var list struct{ Findings []ledgerFinding }
	if err := json.Unmarshal([]byte(e.warden(0, "findings", "list", "--home", e.home, "-o", "json")), &list); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]ledgerFinding{}
	for _, f := range list.Findings {
		name := "(stack)"
		if f.URN != "" {
			name = f.URN[strings.LastIndex(f.URN, "::")+2:]
		}
		out[f.Policy+" "+name] = f
	}
	return out
}

type ledgerRun struct {
	Stack string
	Run   struct {
		ID       string
		Kind     string
		Complete bool
		Blocked  bool
	}
}

func (e *env) runs() []ledgerRun {
	e.t.Helper()
	var list struct{ Runs []ledgerRun }
	if err := json.Unmarshal([]byte(e.warden(0, "runs", "list", "--home", e.home, "-o", "json")), &list); err != nil {
		e.t.Fatal(err)
	}
	return list.Runs
}

// program rewrites the test program: each pair replaces a line's text.
func (e *env) program(pairs ...string) {
	e.t.Helper()
	file := filepath.Join(e.project, "Pulumi.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		e.t.Fatal(err)
	}
	s := string(data)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			e.t.Fatalf("the program has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// TestFindingsLedger: through the real CLI, the plugin records every run
// in the home's ledger. A preview is a run that changes no finding; an
// update stopped by a mandatory violation is recorded as blocked and opens
// its findings; fixing the program and updating again fixes them, a
// deleted resource's too; triage survives later runs.
func TestFindingsLedger(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testFindingsLedger(t, newEnv(t, "prod"))
	})
	// The same, with the home switched to PostgreSQL in warden.yaml.
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, "prod")
		f, err := os.OpenFile(filepath.Join(e.home, "warden.yaml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "findings:\n  store: %q\n", pg.Database(t))
		f.Close()
		testFindingsLedger(t, e)
		if _, err := os.Stat(filepath.Join(e.home, ".warden", "findings.db")); err == nil {
			t.Error("the home's SQLite file was written although the home names PostgreSQL")
		}
	})
}

func testFindingsLedger(t *testing.T, e *env) {
	pack := forms[0].pack(e)

	if out, code := e.pulumi("preview", "--policy-pack", pack); code == 0 {
		t.Fatalf("preview passed:\n%s", out)
	}
	if runs := e.runs(); len(runs) != 1 || runs[0].Run.Kind != "preview" || runs[0].Stack != "acme/shop/prod" {
		t.Fatalf("after a preview, runs: %+v", runs)
	}
	if f := e.findings(); len(f) != 0 {
		t.Fatalf("a preview opened findings: %v", f)
	}

	if out, code := e.pulumi("up", "--yes", "--skip-preview", "--policy-pack", pack); code == 0 {
		t.Fatalf("up passed despite mandatory violations:\n%s", out)
	}
	runs := e.runs()
	if len(runs) != 2 || runs[0].Run.Kind != "update" || !runs[0].Run.Blocked || runs[0].Run.Complete {
		t.Fatalf("after a blocked update, runs: %+v", runs)
	}
	blocked := e.findings()
	_, acl := blocked["s3-bucket-no-public-acl site"]
	_, pw := blocked["db-password-length db"]
	if !acl && !pw {
		t.Fatalf("the blocked update recorded neither mandatory violation: %v", blocked)
	}
	for k, f := range blocked {
		if f.Status != "open" || len(f.ID) != 12 {
			t.Errorf("%s: %+v", k, f)
		}
	}
	show := e.warden(0, "runs", "show", runs[0].Run.ID, "--home", e.home)
	if !strings.Contains(show, "blocked") || !strings.Contains(show, "! ") {
		t.Errorf("runs show of the blocked update:\n%s", show)
	}

	// Fixed: no public ACL, a long password. Advisory violations remain.
	e.program("acl: public-read", "acl: private", "fn::secret: hunter2-SuperSecret", "fn::secret: hunter2-SuperSecret-and-much-longer-now")
	e.mustPulumi("up", "--yes", "--skip-preview", "--policy-pack", pack)
	fixed := e.findings()
	for _, k := range []string{"s3-bucket-no-public-acl site", "db-password-length db"} {
		if f, ok := fixed[k]; ok && f.Status != "fixed" {
			t.Errorf("%s after the fix: %+v", k, f)
		}
	}
	tagged, ok := fixed["buckets-are-tagged (stack)"]
	if !ok {
		// The stack policy names the bucket it found untagged.
		tagged, ok = fixed["buckets-are-tagged logs"]
	}
	if !ok || tagged.Status != "open" {
		t.Fatalf("the advisory stack violation is not open: %v", fixed)
	}
	pab, ok := fixed["s3-bucket-has-public-access-block logs"]
	if !ok || pab.Status != "open" {
		t.Fatalf("the advisory violation on logs is not open: %v", fixed)
	}

	// Triage, then a preview of the broken program: statuses stay.
	e.warden(0, "findings", "update", pab.ID, "--assignee", "ana", "--priority", "P1", "--home", e.home, "--actor", "lead")
	e.program("acl: private", "acl: public-read")
	e.pulumi("preview", "--policy-pack", pack)
	e.program("acl: public-read", "acl: private")
	after := e.findings()
	for k, f := range fixed {
		if after[k].Status != f.Status {
			t.Errorf("a preview changed %s from %s to %s", k, f.Status, after[k].Status)
		}
	}

	// The logs bucket deleted: its findings are fixed; triage kept.
	e.program(`  logs:
    type: aws:s3/bucket:Bucket
    properties:
      bucket: acme-logs
      acl: private
`, "")
	e.mustPulumi("up", "--yes", "--skip-preview", "--policy-pack", pack)
	final := e.findings()
	if f := final["s3-bucket-has-public-access-block logs"]; f.Status != "fixed" || f.Assignee != "ana" {
		t.Errorf("the deleted bucket's finding: %+v", f)
	}
	if runs := e.runs(); len(runs) != 5 {
		t.Errorf("%d runs recorded, want 5 (2 previews, 3 updates)", len(runs))
	}
	history := e.warden(0, "findings", "show", pab.ID, "--home", e.home)
	for _, want := range []string{"lead", "assignee: - -> ana", "status: open -> fixed"} {
		if !strings.Contains(history, want) {
			t.Errorf("findings show lacks %q:\n%s", want, history)
		}
	}
	compliance := e.warden(0, "compliance", "--home", e.home)
	if !strings.Contains(compliance, "policy compliance") {
		t.Errorf("compliance:\n%s", compliance)
	}
}

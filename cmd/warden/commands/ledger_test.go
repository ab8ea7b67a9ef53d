package commands

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLedgerCommands: warden analyze records its run; findings list, show
// and update, runs and compliance read and triage it, the same on SQLite
// and PostgreSQL; bad input is a usage error that changes nothing.
func TestLedgerCommands(t *testing.T) {
	t.Parallel()
	for name, store := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "findings.db") },
		"postgres": func(t *testing.T) string { return pg.Database(t) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := store(t)
			run := func(want int, args ...string) string {
				t.Helper()
				ios, out, errOut := TestStreams()
				if code := Main(append(args, "--store", url), ios); code != want {
					t.Fatalf("warden %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
				}
				return out.String() + errOut.String()
			}
			run(ExitFindings, "analyze", "--file", "../../../testdata/stacks/example.json", "--home", "testdata/home", "-o", "json")

			var list struct {
				Findings []struct {
					ID, Status, Policy, Priority, Assignee, Reason string
				}
			}
			if err := json.Unmarshal([]byte(run(ExitOK, "findings", "list", "-o", "json")), &list); err != nil {
				t.Fatal(err)
			}
			if len(list.Findings) < 3 {
				t.Fatalf("%d findings recorded", len(list.Findings))
			}
			a, b := list.Findings[0].ID, list.Findings[1].ID
			for _, f := range list.Findings {
				if f.Status != "open" || len(f.ID) != 12 {
					t.Errorf("finding %+v", f)
				}
			}

			// Bad input: a usage error, and nothing changes.
			for _, bad := range [][]string{
				{"findings", "update", a, "--status", "closed"},
				{"findings", "update", a, "--status", "ignored"},
				{"findings", "update", a, "nosuchfinding", "--assignee", "ana"},
				{"findings", "update", a, "--priority", "urgent"},
				{"findings", "show", "nosuchfinding"},
				{"findings", "list", "--by", "color"},
				{"findings", "list", "--status", "closed"},
				{"findings", "list", "--group", "nosuchgroup", "--home", "testdata/home"},
			} {
				out := run(ExitInput, bad...)
				if !strings.Contains(out, "error: ") {
					t.Errorf("%v: %s", bad, out)
				}
			}
			run(ExitOK, "findings", "update", a, "--assignee", "ana", "--priority", "P0", "--actor", "lead")
			run(ExitOK, "findings", "update", b, "--status", "ignored", "--reason", "sandbox account", "--actor", "lead")
			show := run(ExitOK, "findings", "show", b)
			for _, want := range []string{"status     ignored (sandbox account)", "lead", "status: open -> ignored", "analyze"} {
				if !strings.Contains(show, want) {
					t.Errorf("findings show lacks %q:\n%s", want, show)
				}
			}
			if out := run(ExitOK, "findings", "list", "--assignee", "ana"); !strings.Contains(out, a) || strings.Contains(out, b) {
				t.Errorf("--assignee ana:\n%s", out)
			}
			if out := run(ExitOK, "findings", "list", "--by", "policy", "-o", "csv"); !strings.HasPrefix(out, "policy,severity,total,open,") {
				t.Errorf("--by policy -o csv:\n%s", out)
			}
			// A group: the findings of its packs on the stacks it selects.
			for group, packs := range map[string][]string{"production": {"aws-foundations", "clean"}, "nightly": {"aws-foundations", "kubernetes-baseline"}} {
				var byGroup struct{ Findings []struct{ ID, Pack string } }
				if err := json.Unmarshal([]byte(run(ExitOK, "findings", "list", "--group", group, "--home", "testdata/home", "-o", "json")), &byGroup); err != nil {
					t.Fatal(err)
				}
				if len(byGroup.Findings) == 0 {
					t.Errorf("--group %s: no findings", group)
				}
				for _, f := range byGroup.Findings {
					if !slices.Contains(packs, f.Pack) {
						t.Errorf("--group %s lists a finding of pack %s", group, f.Pack)
					}
				}
			}
			runs := run(ExitOK, "runs", "list")
			if !strings.Contains(runs, "analyze") || !strings.Contains(runs, "blocked") {
				t.Errorf("runs list:\n%s", runs)
			}
			var c struct {
				PolicyScore, ResourceScore float64
				PolicyStackPairs           int
			}
			if err := json.Unmarshal([]byte(run(ExitOK, "compliance", "-o", "json")), &c); err != nil {
				t.Fatal(err)
			}
			if c.PolicyStackPairs == 0 || c.PolicyScore <= 0 || c.PolicyScore >= 1 || c.ResourceScore <= 0 || c.ResourceScore >= 1 {
				t.Errorf("compliance: %+v", c)
			}
			// Per control of a framework: the analyzed stack's open findings
			// fail the controls their policies check; clean policies pass theirs.
			var fw struct {
				Controls []struct {
					ID, Status string
					Policies   []string
					Open       int `json:"openFindings"`
				}
				Summary struct{ Passing, Failing, NotCheckable, Stacks int }
			}
			if err := json.Unmarshal([]byte(run(ExitOK, "compliance", "--framework", "pci-dss-4.0", "-o", "json")), &fw); err != nil {
				t.Fatal(err)
			}
			if s := fw.Summary; s.Stacks != 1 || s.Failing == 0 || s.Passing == 0 || s.NotCheckable == 0 {
				t.Errorf("compliance --framework summary: %+v", s)
			}
			for _, c := range fw.Controls {
				if (c.Status == "failing") != (c.Open > 0) || c.Status == "passing" && len(c.Policies) == 0 {
					t.Errorf("control %+v", c)
				}
			}
			if out := run(ExitOK, "compliance", "--framework", "cis-aws-3.0"); !strings.Contains(out, "control compliance") || !strings.Contains(out, "Controls no policy can check from IaC") {
				t.Errorf("compliance --framework:\n%s", out)
			}
			if out := run(ExitInput, "compliance", "--framework", "cis-nothing"); !strings.Contains(out, "want one of") {
				t.Errorf("unknown framework:\n%s", out)
			}
		})
	}
}

// TestLedgerBadStores: a damaged SQLite file and an unreachable server are
// exit 3 with a message naming the store (no password); a run whose store
// is down is kept and recorded by the next command that reaches it.
func TestLedgerBadStores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged.db")
	if err := os.WriteFile(damaged, []byte(strings.Repeat("garbage ", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{"sqlite:" + damaged, "postgres://ana:s3cretpw@127.0.0.1:1/x?connect_timeout=5"} {
		ios, out, errOut := TestStreams()
		code := Main([]string{"findings", "list", "--store", url}, ios)
		all := out.String() + errOut.String()
		if code != ExitInternal || !strings.Contains(all, "error: findings store") || strings.Contains(all, "s3cretpw") {
			t.Errorf("%s: exit %d\n%s", url, code, all)
		}
	}

	// The store is down: analyze still decides by the policies alone, warns
	// once, and keeps the run; the next command that reaches it records it.
	url, create := pg.Reserve(t)
	ios, out, errOut := TestStreams()
	code := Main([]string{"analyze", "--file", "../../../testdata/stacks/example.json", "--home", "testdata/home", "--store", url}, ios)
	if code != ExitFindings || strings.Count(errOut.String(), "warning: findings ledger") != 1 || !strings.Contains(errOut.String(), "is kept in") {
		t.Fatalf("analyze with the store down: exit %d\n%s%s", code, out, errOut)
	}
	create()
	ios, out, errOut = TestStreams()
	if code := Main([]string{"runs", "list", "--store", url}, ios); code != ExitOK || !strings.Contains(out.String(), "analyze") ||
		!strings.Contains(errOut.String(), "recorded 1 run(s) that were waiting") {
		t.Fatalf("runs list once the store is up: exit %d\n%s%s", code, out, errOut)
	}
}

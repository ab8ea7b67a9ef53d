package commands

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-policy/warden/internal/ledger"
)

// TestExceptionsFromFindings: exceptions new writes an exception for
// findings of the ledger into warden.yaml, comments kept; analyze then
// reports them excepted; list shows what it waives and that it expires
// soon; bad input (an unknown finding, a past or unreadable expiry, no
// reason) changes nothing.
func TestExceptionsFromFindings(t *testing.T) {
	t.Parallel()
	dir := copyHome(t)
	store := "sqlite:" + filepath.Join(t.TempDir(), "findings.db")
	analyzeArgs := []string{"analyze", "--file", example, "--home", dir, "--store", store, "--stack", "acme/shop/prod", "--tag", "tier=critical"}
	if code, out, errOut := runCLI(analyzeArgs...); code != ExitFindings {
		t.Fatalf("analyze: %d\n%s%s", code, out, errOut)
	}
	s, err := ledger.Open(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, policy := range []string{"s3-bucket-no-public-acl", "rds-deletion-protection"} {
		fs, err := s.Findings(context.Background(), ledger.Filter{Policy: policy})
		if err != nil || len(fs) == 0 {
			t.Fatalf("no %s finding: %v", policy, err)
		}
		ids = append(ids, fs[0].ID)
	}
	s.Close()
	file := filepath.Join(dir, "warden.yaml")
	orig, _ := os.ReadFile(file)

	base := []string{"exceptions", "new", "--home", dir, "--store", store}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--finding", "nosuchfindng", "--reason", "r"}, `no finding "nosuchfindng"`},
		{[]string{"--finding", ids[0], "--reason", "r", "--expires", "2020-01-01"}, "is in the past"},
		{[]string{"--finding", ids[0], "--reason", "r", "--expires", "next month"}, "want a number of days"},
		{[]string{"--finding", ids[0]}, "--reason is required"},
		{[]string{"--finding", ids[0], "--reason", "r", "--id", "break-glass"}, `exception "break-glass" already exists`},
	} {
		code, out, errOut := runCLI(append(base, tc.args...)...)
		if code != ExitInput || !strings.Contains(errOut, tc.want) {
			t.Errorf("exceptions new %v: exit %d, want 2 and %q\n%s%s", tc.args, code, tc.want, out, errOut)
		}
		if now, _ := os.ReadFile(file); string(now) != string(orig) {
			t.Fatalf("exceptions new %v changed warden.yaml", tc.args)
		}
	}

	code, out, errOut := runCLI(append(base, "--finding", ids[0], "--finding", ids[1], "--reason", "Legacy site, moving behind CloudFront (SEC-12).",
		"--expires", "10d", "--approved-by", "security-team", "--id", "legacy-site")...)
	if code != ExitOK || !strings.Contains(out, "added exception legacy-site") {
		t.Fatalf("exceptions new: exit %d\n%s%s", code, out, errOut)
	}
	now, _ := os.ReadFile(file)
	if !strings.HasPrefix(string(now), string(orig)) || !strings.Contains(string(now), "  legacy-site:\n") || !strings.Contains(string(now), "# The CLI tests' policy home.") {
		t.Errorf("warden.yaml is not the old text plus the exception:\n%s", now)
	}
	code, out, errOut = runCLI(analyzeArgs...)
	if !strings.Contains(out, "excepted by legacy-site") || strings.Count(out, "excepted by legacy-site") != 2 {
		t.Errorf("analyze after the exception: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI("exceptions", "list", "--home", dir, "--store", store)
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "legacy-site ") {
			line = l
		}
	}
	if code != ExitOK || !strings.Contains(line, "expires within 14 days") || !strings.Contains(line, " 2 ") || !strings.Contains(out, "break-glass") {
		t.Errorf("exceptions list: exit %d\n%s%s", code, out, errOut)
	}
}

package commands

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRolloutLevels: a staged level runs advisory until its date (each
// violation says when it blocks) and mandatory from it; a shadow policy
// never blocks and is labelled so; mandatoryFrom raises a severity and up;
// --fail-on fails on what does not block; $WARDEN_NOW sets the day and a
// bad one is refused. Not parallel: it sets $WARDEN_NOW.
func TestRolloutLevels(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "warden.yaml"), `organization: acme
groups:
  - name: default
    mode: preventative
    default: true
    packs:
      - pack: aws-foundations
        enforcementLevel: mandatory from 2027-01-15
        config:
          ebs-volume-encrypted: shadow
  - name: critical-now
    mode: preventative
    stacks: [acme/shop/critical]
    mandatoryFrom: critical
    packs:
      - pack: aws-foundations
        enforcementLevel: advisory
`)
	analyze := func(stack string, extra ...string) (int, string, string) {
		return runCLI(append([]string{"analyze", "--file", example, "--home", dir, "--store", "off", "--stack", stack}, extra...)...)
	}

	t.Setenv("WARDEN_NOW", "2027-01-14")
	code, out, errOut := analyze("acme/shop/prod")
	if code != ExitOK || !strings.Contains(out, "becomes mandatory on 2027-01-15") || !strings.Contains(out, "0 blocking") {
		t.Fatalf("the day before: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "SHADOW") || !strings.Contains(out, "aws-foundations/ebs-volume-encrypted") {
		t.Errorf("the shadow policy is not labelled:\n%s", out)
	}
	for flag, want := range map[string]int{"advisory": ExitFindings, "critical": ExitFindings, "bogus": ExitInput} {
		if code, out, errOut := analyze("acme/shop/prod", "--fail-on", flag); code != want {
			t.Errorf("--fail-on %s: exit %d, want %d\n%s%s", flag, code, want, out, errOut)
		}
	}

	t.Setenv("WARDEN_NOW", "2027-01-15")
	code, out, errOut = analyze("acme/shop/prod")
	if code != ExitFindings || strings.Contains(out, "becomes mandatory") {
		t.Fatalf("on the day: exit %d\n%s%s", code, out, errOut)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "ebs-volume-encrypted") && !strings.Contains(l, "SHADOW") {
			t.Errorf("the shadow policy is reported otherwise: %q", l)
		}
	}

	// mandatoryFrom: critical blocks at once on the stacks its group
	// selects, below it stays advisory (and staged).
	t.Setenv("WARDEN_NOW", "2027-01-01")
	code, out, errOut = analyze("acme/shop/critical")
	if code != ExitFindings || !strings.Contains(out, "MANDATORY  critical") || !strings.Contains(out, "ADVISORY   high") {
		t.Errorf("mandatoryFrom critical: exit %d\n%s%s", code, out, errOut)
	}
	if _, out, _ := runCLI("groups", "resolve", "--home", dir, "--stack", "acme/shop/critical"); !strings.Contains(out, "critical-now (mandatoryFrom: critical)") {
		t.Errorf("groups resolve does not say where the level came from:\n%s", out)
	}
	if _, out, _ := runCLI("groups", "resolve", "--home", dir, "--stack", "acme/shop/prod"); !strings.Contains(out, "mandatory from 2027-01-15") || !strings.Contains(out, "shadow") {
		t.Errorf("groups resolve does not show the rollout levels:\n%s", out)
	}

	t.Setenv("WARDEN_NOW", "soon")
	if code, _, errOut := analyze("acme/shop/prod"); code != ExitInput || !strings.Contains(errOut, `$WARDEN_NOW "soon"`) {
		t.Errorf("a bad WARDEN_NOW: exit %d\n%s", code, errOut)
	}
}

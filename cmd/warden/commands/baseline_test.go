package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs the CLI and returns its exit code, stdout and stderr.
func runCLI(args ...string) (int, string, string) {
	ios, out, errOut := TestStreams()
	code := Main(args, ios)
	return code, out.String(), errOut.String()
}

// TestBaseline: a stack with mandatory violations is baselined from an
// export; analyze then passes, reporting them as baselined; a baseline is
// never grown without --add, which prints what it adds; prune drops what
// no longer violates; bad input changes no file.
func TestBaseline(t *testing.T) {
	t.Parallel()
	dir := copyHome(t)
	store := "sqlite:" + filepath.Join(t.TempDir(), "findings.db")
	analyzeArgs := []string{"analyze", "--file", example, "--home", dir, "--store", store, "--stack", "acme/shop/prod", "--tag", "tier=critical"}
	code, before, stderr := runCLI(analyzeArgs...)
	if code != ExitFindings {
		t.Fatalf("analyze before the baseline: exit %d\n%s%s", code, before, stderr)
	}

	// Bad input first: nothing is written.
	file := filepath.Join(dir, "baselines", "shop", "prod.yaml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stack", "acme/shop/nosuch"}, "the findings ledger has no run of stack acme/shop/nosuch"},
		{[]string{"--stack", "shop/prod"}, "want org/project/stack"},
		{[]string{"--stack", "acme/shop/prod", "--file", "no-such.json"}, "no-such.json"},
		{[]string{"--stack", "acme/web/prod", "--file", example}, "is stack shop/prod, not web/prod"},
	} {
		code, out, errOut := runCLI(append([]string{"baseline", "create", "--home", dir, "--store", store}, tc.args...)...)
		if code != ExitInput || !strings.Contains(errOut, tc.want) {
			t.Errorf("baseline create %v: exit %d, want 2 and %q\n%s%s", tc.args, code, tc.want, out, errOut)
		}
		if _, err := os.Stat(file); err == nil {
			t.Fatalf("baseline create %v wrote %s", tc.args, file)
		}
	}

	// From the ledger (the analyze above recorded the run).
	code, out, stderr := runCLI("baseline", "create", "--home", dir, "--store", store, "--stack", "acme/shop/prod")
	if code != ExitOK || !strings.Contains(out, "baselined ") {
		t.Fatalf("baseline create: exit %d\n%s%s", code, out, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(data), "stack: acme/shop/prod") || !strings.Contains(string(data), "policy: ") {
		t.Fatalf("%s: %v\n%s", file, err, data)
	}
	code, after, stderr := runCLI(analyzeArgs...)
	if code != ExitOK || !strings.Contains(after, "BASELINED") || !strings.Contains(after, "baselined on ") || !strings.Contains(after, "0 blocking") {
		t.Fatalf("analyze with the baseline: exit %d\n%s%s", code, after, stderr)
	}
	// The ledger marks them: the run recorded them baselined.
	if code, out, _ := runCLI("findings", "list", "--home", dir, "--store", store); code != ExitOK || !strings.Contains(out, "open (baselined)") {
		t.Errorf("findings list after a baselined run: exit %d\n%s", code, out)
	}

	// Again: refused, the file unchanged; --add has nothing to add.
	if code, _, errOut := runCLI("baseline", "create", "--home", dir, "--store", store, "--stack", "acme/shop/prod"); code != ExitInput || !strings.Contains(errOut, "a baseline only shrinks") {
		t.Errorf("a second create: exit %d\n%s", code, errOut)
	}
	if again, _ := os.ReadFile(file); string(again) != string(data) {
		t.Error("a refused create changed the baseline")
	}
	if code, out, _ := runCLI("baseline", "create", "--home", dir, "--store", store, "--stack", "acme/shop/prod", "--add"); code != ExitOK || !strings.Contains(out, "nothing to add") {
		t.Errorf("create --add with nothing new: exit %d\n%s", code, out)
	}

	// One entry edited by hand to a message the stack does not give: prune
	// drops it (and --add would add the real one back, shown as +).
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "message: ") {
			lines[i] = l[:strings.Index(l, "message: ")] + "message: not what it says today"
			break
		}
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLI("baseline", "prune", "--home", dir, "--stack", "acme/shop/prod", "--file", example)
	if code != ExitOK || !strings.Contains(out, "- ") || !strings.Contains(out, "not what it says today") || !strings.Contains(out, "pruned 1,") {
		t.Fatalf("prune: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = runCLI("baseline", "create", "--home", dir, "--stack", "acme/shop/prod", "--file", example, "--add")
	if code != ExitOK || !strings.HasPrefix(out, "+ ") || !strings.Contains(out, "added 1 violations") {
		t.Fatalf("create --add: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCLI("baseline", "show", "--home", dir, "--stack", "acme/shop/prod")
	if code != ExitOK || !strings.Contains(out, "baselined violations of acme/shop/prod") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
}

// TestBaselineBroken: a baseline that does not parse stops the home from
// loading, positioned, so nothing runs unguarded.
func TestBaselineBroken(t *testing.T) {
	t.Parallel()
	dir := copyHome(t)
	writeFile(t, filepath.Join(dir, "baselines", "shop", "prod.yaml"), "stack: acme/shop/prod\ncreated: yesterday\nviolations:\n  - pack: aws-foundations\n    polcy: x\n")
	code, out, errOut := runCLI("analyze", "--file", example, "--home", dir, "--store", "off")
	for _, want := range []string{"prod.yaml:2:10", "want YYYY-MM-DD", "prod.yaml:5:5", `did you mean "policy"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s%s", code, want, out, errOut)
		}
	}
	if code != ExitInput {
		t.Errorf("exit %d, want %d", code, ExitInput)
	}
}

// TestBaselineResolve: groups resolve names a stack's baseline.
func TestBaselineResolve(t *testing.T) {
	t.Parallel()
	dir := copyHome(t)
	if code, out, errOut := runCLI("baseline", "create", "--home", dir, "--stack", "acme/shop/prod", "--file", example); code != ExitOK {
		t.Fatalf("create: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI("groups", "resolve", "--home", dir, "--stack", "acme/shop/prod")
	if code != ExitOK || !strings.Contains(out, "violations accepted on ") || !strings.Contains(out, filepath.Join("baselines", "shop", "prod.yaml")) {
		t.Errorf("resolve: exit %d\n%s%s", code, out, errOut)
	}
	if _, out, _ := runCLI("groups", "resolve", "--home", dir, "--stack", "acme/shop/dev"); strings.Contains(out, "Baseline") {
		t.Errorf("a stack without a baseline shows one:\n%s", out)
	}
}

// TestBaselineManyMessages: the ledger keeps one finding per policy and
// resource, its messages joined; the baseline made from it has an entry per
// message, and covers each violation.
func TestBaselineManyMessages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "warden.yaml"), "organization: acme\ngroups:\n  - name: default\n    mode: preventative\n    default: true\n    packs:\n      - pack: rules\n        enforcementLevel: mandatory\n")
	writeFile(t, filepath.Join(dir, "packs", "rules", "pack.yaml"), `name: rules
version: 1.0.0
policies:
  - name: no-open-rule
    description: Rules are closed.
    resourceTypes: [test:index:Firewall]
    forEach: resource.props.rules
    violation: item.open
    message: "rule {{ item.name }} is open"
`)
	urn := "urn:pulumi:prod::shop::test:index:Firewall::fw"
	props := `{"rules": [{"name": "a", "open": true}, {"name": "b", "open": true}, {"name": "c", "open": false}]}`
	export := filepath.Join(dir, "export.json")
	writeFile(t, export, `{"version": 3, "deployment": {"resources": [{"urn": "`+urn+`", "type": "test:index:Firewall", "custom": true, "inputs": `+props+`, "outputs": `+props+`}]}}`)
	store := "sqlite:" + filepath.Join(dir, "findings.db")
	args := []string{"analyze", "--file", export, "--home", dir, "--store", store, "--stack", "acme/shop/prod"}
	if code, out, errOut := runCLI(args...); code != ExitFindings || strings.Count(out, "is open") != 2 {
		t.Fatalf("analyze: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI("baseline", "create", "--home", dir, "--store", store, "--stack", "acme/shop/prod"); code != ExitOK || !strings.Contains(out, "baselined 2 violations") {
		t.Fatalf("baseline create: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(args...); code != ExitOK || strings.Count(out, "baselined on") != 2 {
		t.Errorf("analyze with the baseline: exit %d\n%s%s", code, out, errOut)
	}
}

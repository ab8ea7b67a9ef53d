//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/warden-policy/warden/internal/browsertest"
)

const walkthroughProgram = `name: web
runtime: yaml
description: One security group, open to the world on ssh.
resources:
  web:
    type: aws:ec2/securityGroup:SecurityGroup
    properties:
      name: web
      description: web servers
      tags: {owner: web}
      ingress:
        - protocol: tcp
          fromPort: 22
          toPort: 22
          cidrBlocks: ["0.0.0.0/0"]
          description: ssh
`

// TestConsoleWalkthrough is the README's Get Started, as a new user does
// it: warden init, then in the console (a real warden console process, a
// real headless Chromium) look at the Available packs and add one, create a
// preventative group for the production stacks at mandatory; pulumi up is
// blocked; the finding is on the Findings page; assign it; fix the program,
// update, and see it fixed.
func TestConsoleWalkthrough(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := &env{t: t, home: filepath.Join(dir, "policy"), project: filepath.Join(dir, "web")}
	backend := filepath.Join(dir, "backend")
	for _, d := range []string{e.project, backend} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(e.project, "Pulumi.yaml"), []byte(walkthroughProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	e.vars = append(baseEnv(tools.pulumiHome), "PULUMI_BACKEND_URL=file://"+backend)
	e.warden(0, "init", e.home)
	e.mustPulumi("stack", "init", "production")

	// warden console, as the user starts it.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	cmd := exec.CommandContext(ctx, filepath.Join(tools.bin, "warden"), "console", "--home", e.home, "--listen", "127.0.0.1:0")
	cmd.Env = e.vars
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "Warden console: http://127.0.0.1:") {
		t.Fatalf("warden console printed %q (%v)", line, err)
	}
	base := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "Warden console: ")), "/")

	bctx := browsertest.Start(t)
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, time.Minute)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}

	run("add a pack from Available",
		chromedp.Navigate(base+"/packs?view=available"),
		chromedp.WaitVisible(`button[data-add="kubernetes-baseline"]`),
		chromedp.Click(`button[data-add="kubernetes-baseline"]`),
		chromedp.WaitVisible(`.flash`),
	)
	run("create a preventative group for the production stacks",
		chromedp.Navigate(base+"/groups"),
		chromedp.Click(`a[href="/groups/new?mode=preventative"]`),
		chromedp.WaitVisible(`input[name="name"]`),
		chromedp.SendKeys(`input[name="name"]`, "production"),
		chromedp.SendKeys(`textarea[name="stacks"]`, "*/production"),
		chromedp.SetValue(`select[name="pack:aws-foundations"]`, "mandatory"),
		chromedp.Click(`form.form button[type="submit"]`),
		chromedp.WaitVisible(`.flash`),
	)
	if y, _ := os.ReadFile(filepath.Join(e.home, "warden.yaml")); !strings.Contains(string(y), "- name: production") ||
		!strings.Contains(string(y), "# Waivers: a reason is required") {
		t.Fatalf("warden.yaml after the console's edits:\n%s", y)
	}

	if out, code := e.pulumi("up", "--yes", "--skip-preview", "--policy-pack", e.home); code == 0 {
		t.Fatalf("up passed with ssh open to the world at mandatory:\n%s", out)
	}
	run("the blocked update's finding",
		chromedp.Navigate(base+"/findings/issues?policy=ec2-sg-no-public-ssh"),
		chromedp.WaitVisible(`#issues-table`),
		chromedp.Click(`#issues-table tbody tr td a`),
		chromedp.WaitVisible(`.facts`),
	)
	if s := text(`h1`); !strings.Contains(s, "ec2-sg-no-public-ssh") || !strings.Contains(s, "open") {
		t.Fatalf("the finding's page: %q", s)
	}
	run("assign it",
		chromedp.Click(`input[name="set-assignee"]`),
		chromedp.SetValue(`input[name="assignee"]`, "ana"),
		chromedp.Click(`form.form button[type="submit"]`),
		chromedp.WaitVisible(`.flash`),
	)
	if s := text(`.facts`); !strings.Contains(s, "ana") {
		t.Fatalf("after assigning: %q", s)
	}

	fixed := strings.Replace(walkthroughProgram, `["0.0.0.0/0"]`, `["10.0.0.0/8"]`, 1)
	if err := os.WriteFile(filepath.Join(e.project, "Pulumi.yaml"), []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustPulumi("up", "--yes", "--skip-preview", "--policy-pack", e.home)
	run("reload the finding", chromedp.Reload(), chromedp.WaitVisible(`.facts`))
	if s := text(`h1`); !strings.Contains(s, "fixed") {
		t.Errorf("after the fix, the finding's page says %q", s)
	}
	if s := text(`.facts`); !strings.Contains(s, "ana") {
		t.Errorf("the assignment was lost: %q", s)
	}
	stop()
}

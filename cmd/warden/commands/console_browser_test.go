package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/warden-policy/warden/internal/browsertest"
	"github.com/warden-policy/warden/internal/console"
)

// artifacts is where the browser tests leave their screenshots:
// $WARDEN_TEST_ARTIFACTS, else test-artifacts/console in the repository.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WARDEN_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "test-artifacts")
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyHome(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "home")
	err := filepath.WalkDir("testdata/home", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/home", path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestConsoleInBrowser drives the console in headless Chromium as a person
// would: adds a pack from Available, creates a preventative group through
// the form (warden.yaml changes, its comments intact), triages a finding
// (warden findings show has it), and screenshots every page.
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	dir := copyHome(t)
	store := "sqlite:" + filepath.Join(t.TempDir(), "findings.db")
	ios, out, errOut := TestStreams()
	if code := Main([]string{"analyze", "--file", "../../../testdata/stacks/example.json", "--home", dir, "--store", store}, ios); code != ExitFindings {
		t.Fatalf("analyze: %d\n%s%s", code, out, errOut)
	}
	srv, err := console.New("127.0.0.1:0", console.Options{Home: dir, Store: store, Actor: "ana (console)", Getenv: os.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	srv.AllowPort(ts.Listener.Addr().(*net.TCPAddr).Port)

	bctx := browsertest.Start(t)
	ctx, cancelTimeout := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelTimeout()

	shots := artifacts(t)
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.Void{}, os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		}
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// into stores what an action returns, as a step.
	into := func(a chromedp.Action[string], dst *string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			v, err := a(ctx, tg)
			*dst = v
			return chromedp.Void{}, err
		}
	}
	attr := func(sel, name string) chromedp.Action[string] {
		return func(ctx context.Context, tg *chromedp.Target) (string, error) {
			r, err := chromedp.AttributeValue(sel, name)(ctx, tg)
			return r.Value, err
		}
	}
	base := ts.URL
	original, _ := os.ReadFile(filepath.Join(dir, "warden.yaml"))

	// Available packs: add one to the organization.
	var flash string
	run("add a pack from Available",
		chromedp.Navigate(base+"/packs?view=available"),
		chromedp.WaitVisible(`button[data-add="gcp-foundations"]`),
		shot("packs-available"),
		chromedp.Click(`button[data-add="gcp-foundations"]`),
		chromedp.WaitVisible(`.flash`),
		into(chromedp.Text(`.flash`), &flash),
		shot("pack"),
	)
	if !strings.Contains(flash, "added gcp-foundations") {
		t.Errorf("after Add to organization: %q", flash)
	}
	run("organization view", chromedp.Navigate(base+"/packs"), chromedp.WaitVisible(`#packs-table`), shot("packs-organization"))

	// A preventative group for the production stacks, at mandatory.
	run("create a preventative group",
		chromedp.Navigate(base+"/groups"),
		chromedp.WaitVisible(`#groups-table`),
		shot("groups"),
		chromedp.Click(`a[href="/groups/new?mode=preventative"]`),
		chromedp.WaitVisible(`input[name="name"]`),
		chromedp.SendKeys(`input[name="name"]`, "prod-guard"),
		chromedp.SendKeys(`textarea[name="stacks"]`, "*/production"),
		chromedp.SetValue(`select[name="pack:aws-foundations"]`, "mandatory"),
		shot("group-form"),
		chromedp.Click(`form.form button[type="submit"]`),
		chromedp.WaitVisible(`.flash`),
	)
	now, _ := os.ReadFile(filepath.Join(dir, "warden.yaml"))
	if !strings.Contains(string(now), "- name: prod-guard") || !strings.Contains(string(now), "{pack: aws-foundations, enforcementLevel: mandatory}") {
		t.Errorf("warden.yaml after the form:\n%s", now)
	}
	for _, line := range strings.Split(string(original), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") && !strings.Contains(string(now), line) {
			t.Errorf("the comment %q was lost", line)
		}
	}

	// Triage the first finding: in progress, assigned to ana.
	var id string
	run("triage a finding",
		chromedp.Navigate(base+"/findings"),
		chromedp.WaitVisible(`.scores`),
		shot("findings-overview"),
		chromedp.Navigate(base+"/findings/compliance"),
		chromedp.WaitVisible(`h1`),
		shot("findings-compliance"),
		chromedp.Navigate(base+"/findings/issues"),
		chromedp.WaitVisible(`#issues-table`),
		into(attr(`#issues-table tbody tr input[name="id"]`, "value"), &id),
		chromedp.Click(`#issues-table tbody tr input[name="id"]`),
		chromedp.SetValue(`#triage select[name="status"]`, "in-progress"),
		chromedp.Click(`#triage input[name="set-assignee"]`),
		chromedp.SendKeys(`#triage input[name="assignee"]`, "ana"),
		shot("findings-issues"),
		chromedp.Click(`#triage fieldset button[type="submit"]`),
		chromedp.WaitVisible(`.flash`),
	)
	ios, out, errOut = TestStreams()
	if code := Main([]string{"findings", "show", id, "--store", store, "-o", "json"}, ios); code != ExitOK {
		t.Fatalf("findings show: %d\n%s%s", code, out, errOut)
	}
	var shown struct {
		Finding struct{ Status, Assignee string }
		History []struct{ Actor, Field string }
	}
	if err := json.Unmarshal(out.Bytes(), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Finding.Status != "in-progress" || shown.Finding.Assignee != "ana" {
		t.Errorf("warden findings show after the triage: %+v", shown)
	}
	run("the finding and its stack",
		chromedp.Navigate(base+"/findings/"+id),
		chromedp.WaitVisible(`.facts`),
		shot("finding"),
		chromedp.Navigate(base+"/stacks/acme/shop/prod"),
		chromedp.WaitVisible(`h1`),
		shot("stack"),
		chromedp.Navigate(base+"/resolve?stack=acme/shop/prod"),
		chromedp.WaitVisible(`h1`),
		shot("resolve"),
	)
	for _, name := range []string{"packs-available", "packs-organization", "pack", "groups", "group-form", "findings-overview", "findings-compliance", "findings-issues", "finding", "stack", "resolve"} {
		if st, err := os.Stat(filepath.Join(shots, name+".png")); err != nil || st.Size() < 1000 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
	fmt.Fprintf(os.Stderr, "console screenshots in %s\n", shots)
}

// Package browsertest starts headless Chromium for the console's browser
// tests, driven through chromedp. The browser is Debian's chromium, which
// scripts/test-setup.sh installs for make test; without it Start fails the
// test: the pages are never silently left untested.
package browsertest

import (
	"context"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Start starts a headless Chromium for the test (stopped when it ends) and
// returns its context. Steps should run on a context derived from it with
// a timeout: a timeout on this one would stop the whole browser.
func Start(t *testing.T) context.Context {
	t.Helper()
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Fatal("no Chromium on PATH: install the Debian package chromium (make test does, through scripts/test-setup.sh)")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1366, 900),
		chromedp.Flag("disable-dev-shm-usage", true))...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // the first run starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

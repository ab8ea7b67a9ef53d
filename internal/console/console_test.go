package console

import (
	"context"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/internal/stackexport"
	"github.com/warden-policy/warden/packs/home"
)

// fixture is a console over a copy of the CLI tests' home and a ledger
// holding one analysis of the example stack.
type fixture struct {
	t      *testing.T
	dir    string // the home
	store  string
	srv    *httptest.Server
	client *http.Client
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: filepath.Join(t.TempDir(), "home")}
	copyTree(t, "../../cmd/warden/commands/testdata/home", f.dir)
	f.store = "sqlite:" + filepath.Join(t.TempDir(), "findings.db")
	record(t, f.dir, f.store)
	if opts.Home == "" && !opts.ReadOnly {
		opts.Home = f.dir
	}
	if opts.Store == "" {
		opts.Store = f.store
	}
	opts.Actor = "tester"
	state := t.TempDir()
	opts.Getenv = func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}
	s, err := New("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(s)
	t.Cleanup(func() { f.srv.Close(); s.Close() })
	s.AllowPort(f.srv.Listener.Addr().(*net.TCPAddr).Port)
	jar, _ := cookiejar.New(nil)
	f.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return f
}

// record analyzes the example stack into the store, as warden analyze does.
func record(t *testing.T, dir, store string) {
	t.Helper()
	h, err := home.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := stackexport.ReadFile("../../testdata/stacks/example.json")
	if err != nil {
		t.Fatal(err)
	}
	an, err := analyze.New(h, home.Preventative, analyze.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ident := analyze.Identify(st, h.Org(""))
	rep, err := an.Report(context.Background(), st, ident)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ledger.Open(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	if err := s.Record(context.Background(), &ledger.Run{
		ID: ledger.NewRunID(now), Organization: ident.Organization, Project: ident.Project, Stack: ident.Name, Kind: ledger.Analyze,
		Started: now, Finished: now, Version: "test", Packs: rep.Packs, Groups: rep.Groups, Complete: true, Ran: rep.Ran,
		Resources: rep.Summary.Resources, Findings: rep.Findings,
	}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) get(path string) (int, string) {
	f.t.Helper()
	resp, err := f.client.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var hiddenRE = regexp.MustCompile(`name="(csrf|version)" value="([^"]*)"`)

// post submits a form the way the page at from would: with the CSRF token
// and warden.yaml version that page carries.
func (f *fixture) post(from, path string, form url.Values) (int, string) {
	f.t.Helper()
	_, page := f.get(from)
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		if form.Get(m[1]) == "" {
			form.Set(m[1], m[2])
		}
	}
	resp, err := f.client.PostForm(f.srv.URL+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (f *fixture) wardenYAML() string {
	data, err := os.ReadFile(filepath.Join(f.dir, home.File))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(data)
}

func (f *fixture) findingID() string {
	s, err := ledger.Open(context.Background(), f.store)
	if err != nil {
		f.t.Fatal(err)
	}
	defer s.Close()
	list, err := s.Findings(context.Background(), ledger.Filter{})
	if err != nil || len(list) == 0 {
		f.t.Fatalf("no findings: %v", err)
	}
	return list[0].ID
}

// TestPages: every page renders, with what it is about.
func TestPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	id := f.findingID()
	for path, want := range map[string]string{
		"/packs":                                "aws-foundations",
		"/packs?view=available":                 "Add to organization",
		"/packs/aws-foundations":                "Entities Applied",
		"/packs/gcp-foundations?view=available": "Policies",
		"/groups":                               "Create preventative policy group",
		"/groups/new?mode=preventative":         "Create preventative policy group",
		"/groups/new?mode=audit":                "Sources",
		"/groups/production/edit":               "tier=critical",
		"/resolve?stack=acme/shop/prod":         "production",
		"/findings":                             "policy compliance",
		"/findings/compliance":                  "Failing resources",
		"/findings/issues":                      id,
		"/findings/" + id:                       "History",
		"/stacks/acme/shop/prod":                "Open findings",
	} {
		code, body := f.get(path)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want 200 with %q\n%.2000s", path, code, want, body)
		}
	}
	for path, want := range map[string]int{
		"/packs/no-such-pack":       http.StatusNotFound,
		"/groups/nosuch/edit":       http.StatusNotFound,
		"/findings/nosuchfinding":   http.StatusNotFound,
		"/resolve?stack=bad":        http.StatusBadRequest,
		"/findings/issues?status=x": http.StatusBadRequest,
	} {
		if code, _ := f.get(path); code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
	}
}

// TestSecurity: the headers, the Host check, CSRF, read-only and tokens.
func TestSecurity(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	resp, err := f.client.Get(f.srv.URL + "/packs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP: %q", csp)
	}
	// DNS rebinding: a page of evil.example whose name now points here.
	req, _ := http.NewRequest("GET", f.srv.URL+"/packs", nil)
	req.Host = "evil.example:80"
	if resp, err := f.client.Do(req); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a foreign Host: %v %v", resp.StatusCode, err)
	}
	// No CSRF token, a wrong one, a cross-site request: refused, nothing written.
	before := f.wardenYAML()
	for _, form := range []url.Values{{}, {"csrf": {"0123456789abcdef0123456789abcdef"}}} {
		resp, err := f.client.PostForm(f.srv.URL+"/groups/production/remove", form)
		if err != nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST without the CSRF token: %v %v", resp.StatusCode, err)
		}
	}
	if f.wardenYAML() != before {
		t.Fatal("a refused request changed warden.yaml")
	}

	ro := newFixture(t, Options{ReadOnly: true, Home: "x"})
	ro2 := newFixture(t, Options{ReadOnly: true})
	for _, fx := range []*fixture{ro, ro2} {
		_, body := fx.get("/groups")
		if strings.Contains(body, "<form method=\"post\"") || strings.Contains(body, "Create preventative") {
			t.Error("a read-only console shows forms")
		}
		if code, _ := fx.post("/groups", "/groups/production/remove", url.Values{}); code != http.StatusForbidden {
			t.Errorf("read-only POST: %d", code)
		}
	}

	if _, err := New("0.0.0.0:0", Options{}); err != ErrNeedToken {
		t.Errorf("a public address without a token: %v", err)
	}
	tok := newFixture(t, Options{Token: "s3cret-token"})
	if code, _ := tok.get("/packs"); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	resp, err = tok.client.Get(tok.srv.URL + "/packs?token=s3cret-token")
	if err != nil || resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "token") {
		t.Fatalf("?token=: %v %v %q", resp.StatusCode, err, resp.Header.Get("Location"))
	}
	resp.Body.Close()
	if code, body := tok.get("/packs"); code != http.StatusOK || strings.Contains(body, "s3cret-token") {
		t.Errorf("with the token cookie: %d", code)
	}
	req, _ = http.NewRequest("GET", tok.srv.URL+"/groups", nil)
	req.Header.Set("Authorization", "Bearer s3cret-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("Bearer: %v %v", resp.StatusCode, err)
	}
}

// TestGroupForms: create, edit and remove groups through the forms, with
// the CLI's editor (comments kept) and its refusals.
func TestGroupForms(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	code, body := f.post("/groups/new?mode=preventative", "/groups/new", url.Values{
		"name": {"staging"}, "mode": {"preventative"}, "stacks": {"*/staging\nweb/qa"},
		"pack:aws-foundations": {"mandatory"}, "pack:kubernetes-baseline": {"include"},
	})
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", code, body)
	}
	y := f.wardenYAML()
	for _, want := range []string{"# The CLI tests' policy home.", "- name: staging", `stacks: ['*/staging', web/qa]`, "{pack: aws-foundations, enforcementLevel: mandatory}"} {
		if !strings.Contains(y, want) {
			t.Errorf("warden.yaml lacks %q:\n%s", want, y)
		}
	}
	code, body = f.post("/groups/staging/edit", "/groups/staging/edit", url.Values{
		"name": {"staging"}, "stacks": {"*/staging"}, "rule": {"tier=test"}, "pack:aws-foundations": {"advisory"},
	})
	if code != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", code, body)
	}
	y = f.wardenYAML()
	if !strings.Contains(y, "stackRule: tier=test") || strings.Contains(y, "web/qa") || strings.Contains(y, "kubernetes-baseline}") {
		t.Errorf("after the edit:\n%s", y)
	}
	before := f.wardenYAML()
	for _, c := range []struct {
		path string
		form url.Values
		want int
	}{
		{"/groups/default/remove", url.Values{}, http.StatusBadRequest},                                                     // default group
		{"/groups/new", url.Values{"name": {"staging"}, "mode": {"preventative"}}, http.StatusBadRequest},                   // duplicate
		{"/groups/new", url.Values{"name": {"x"}, "mode": {"preventative"}, "pack:clean": {"loud"}}, http.StatusBadRequest}, // bad level
		{"/groups/new", url.Values{"name": {"x"}, "mode": {"sometimes"}}, http.StatusBadRequest},
		{"/groups/staging/remove", url.Values{"version": {"0000000000000000"}}, http.StatusConflict}, // stale form
	} {
		if code, body := f.post("/groups", c.path, c.form); code != c.want {
			t.Errorf("POST %s %v: %d, want %d\n%.1000s", c.path, c.form, code, c.want, body)
		}
	}
	if f.wardenYAML() != before {
		t.Error("a refused edit changed warden.yaml")
	}
	code, body = f.post("/groups/new?mode=audit", "/groups/new", url.Values{
		"name": {"weekly"}, "mode": {"audit"}, "stacks": {"file://../state"}, "pack:kubernetes-baseline": {"include"},
	})
	if code != http.StatusSeeOther {
		t.Fatalf("create an audit group: %d\n%s", code, body)
	}
	if y := f.wardenYAML(); !strings.Contains(y, "- name: weekly\n    mode: audit\n    sources: ['file://../state']") {
		t.Errorf("the audit group:\n%s", y)
	}
	if code, body := f.post("/groups", "/groups/staging/remove", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("remove: %d\n%s", code, body)
	}
	if strings.Contains(f.wardenYAML(), "staging") {
		t.Error("the group is still there")
	}
}

// TestAddPackAndTriage: "Add to organization" and triage, through the
// same code as the CLI.
func TestAddPackAndTriage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	if code, body := f.post("/packs?view=available", "/packs/add", url.Values{"pack": {"gcp-foundations"}}); code != http.StatusSeeOther {
		t.Fatalf("add: %d\n%s", code, body)
	}
	if !strings.Contains(f.wardenYAML(), "gcp-foundations") {
		t.Error("the pack was not added")
	}
	if code, _ := f.post("/packs?view=available", "/packs/add", url.Values{"pack": {"no-such-pack"}}); code != http.StatusBadRequest {
		t.Errorf("an unknown pack: %d", code)
	}
	id := f.findingID()
	if code, _ := f.post("/findings/issues", "/findings/update", url.Values{"id": {id}, "status": {"ignored"}}); code != http.StatusBadRequest {
		t.Errorf("ignored without a reason: %d", code)
	}
	code, body := f.post("/findings/issues", "/findings/update", url.Values{"id": {id}, "status": {"ignored"}, "reason": {"sandbox"}, "set-assignee": {"1"}, "assignee": {"ana"}})
	if code != http.StatusSeeOther {
		t.Fatalf("triage: %d\n%s", code, body)
	}
	_, page := f.get("/findings/" + id)
	for _, want := range []string{"ignored", "sandbox", "ana", "tester"} {
		if !strings.Contains(page, want) {
			t.Errorf("the finding page lacks %q", want)
		}
	}
}

// TestPublish: a pack version published from a directory through the form,
// tested first; an untested one is refused.
func TestPublish(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	src := filepath.Join(t.TempDir(), "acme-rules")
	write := func(rel, data string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, rel), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pack.yaml", `name: acme-rules
version: 0.1.0
description: Acme's rules.
policies:
  - name: bucket-named
    description: Buckets have a name.
    enforcementLevel: advisory
    resourceTypes: [aws:s3/bucket:Bucket]
    violation: '!has(resource.props.bucket)'
`)
	if code, _ := f.post("/packs", "/packs/publish", url.Values{"dir": {src}}); code != http.StatusBadRequest {
		t.Errorf("an untested pack: %d", code)
	}
	write("tests/t.yaml", `apiVersion: warden/v1
kind: PackTest
cases:
  - name: named
    resource: {type: aws:s3/bucket:Bucket, props: {bucket: x}}
    expect: {bucket-named: pass}
  - name: unnamed
    resource: {type: aws:s3/bucket:Bucket, props: {}}
    expect: {bucket-named: violation}
`)
	code, body := f.post("/packs", "/packs/publish", url.Values{"dir": {src}})
	if code != http.StatusSeeOther {
		t.Fatalf("publish: %d\n%s", code, body)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "packs", "acme-rules", "0.1.0", "pack.yaml")); err != nil {
		t.Error(err)
	}
	if _, page := f.get("/packs"); !strings.Contains(page, "acme-rules") {
		t.Error("the published pack is not in the organization's packs")
	}
}

// TestBackendStacks: the group form offers the backend's stacks (both
// layouts) with the ledger's.
func TestBackendStacks(t *testing.T) {
	t.Parallel()
	backend := t.TempDir()
	for _, rel := range []string{".pulumi/stacks/web/staging.json", ".pulumi/stacks/web/prod.json.gz", ".pulumi/stacks/legacy.json"} {
		p := filepath.Join(backend, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := newFixture(t, Options{Backend: "file://" + backend})
	_, body := f.get("/groups/new?mode=preventative")
	for _, want := range []string{`value="acme/web/staging"`, `value="acme/web/prod"`, `value="acme/*/legacy"`, `value="acme/shop/prod"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form does not offer %s", want)
		}
	}
}

// TestStackBaseline: a stack's page shows its baseline.
func TestStackBaseline(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	if _, body := f.get("/stacks/acme/shop/prod"); strings.Contains(body, `id="baseline"`) {
		t.Fatal("a stack without a baseline shows one")
	}
	b := home.NewBaseline(home.BaselinePath(f.dir, "shop", "prod"), "acme/shop/prod", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), []*home.BaselineEntry{
		{Pack: "aws-foundations", Policy: "ebs-volume-encrypted", URN: "urn:pulumi:prod::shop::aws:ebs/volume:Volume::data", Message: "volume data is not encrypted", Since: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
	})
	if err := home.WriteBaseline(b); err != nil {
		t.Fatal(err)
	}
	code, body := f.get("/stacks/acme/shop/prod")
	if code != http.StatusOK || !strings.Contains(body, "1 violations accepted on 2026-11-30") || !strings.Contains(body, "volume data is not encrypted") {
		t.Errorf("stack page: %d\n%.3000s", code, body)
	}
}

// TestExceptFinding: a finding's page writes an exception for it into
// warden.yaml, as warden exceptions new does; bad input and a stale form
// change nothing.
func TestExceptFinding(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	s, err := ledger.Open(context.Background(), f.store)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.Findings(context.Background(), ledger.Filter{Policy: "ebs-volume-encrypted"})
	s.Close()
	if err != nil || len(list) == 0 {
		t.Fatalf("no finding: %v", err)
	}
	id := list[0].ID
	page := "/findings/" + id
	if _, body := f.get(page); !strings.Contains(body, `id="except-form"`) {
		t.Fatalf("the finding page has no exception form:\n%.3000s", body)
	}
	before := f.wardenYAML()
	for _, tc := range []struct {
		form url.Values
		want int
	}{
		{url.Values{"reason": {""}}, http.StatusBadRequest},
		{url.Values{"reason": {"r"}, "expires": {"2020-01-01"}}, http.StatusBadRequest},
		{url.Values{"reason": {"r"}, "version": {"stale"}}, http.StatusConflict},
	} {
		if code, body := f.post(page, page+"/exception", tc.form); code != tc.want {
			t.Errorf("%v: %d, want %d\n%.2000s", tc.form, code, tc.want, body)
		}
		if f.wardenYAML() != before {
			t.Fatalf("%v changed warden.yaml", tc.form)
		}
	}
	form := url.Values{"reason": {"Scratch volume, no data at rest (SEC-9)."}, "approvedBy": {"security-team"}, "expires": {"30d"}}
	if code, body := f.post(page, page+"/exception", form); code != http.StatusSeeOther {
		t.Fatalf("creating the exception: %d\n%.2000s", code, body)
	}
	after := f.wardenYAML()
	if !strings.HasPrefix(after, before) || !strings.Contains(after, "finding-"+id+":") || !strings.Contains(after, "aws-foundations/ebs-volume-encrypted") {
		t.Errorf("warden.yaml after the exception:\n%s", after)
	}
}

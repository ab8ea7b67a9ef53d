// Package console is `warden console`: the Policies and Policy Findings
// pages as a local web app over a policy home and its findings ledger,
// served by the warden binary with net/http and html/template, assets
// embedded, no JavaScript build.
//
// The home's warden.yaml and the ledger are the only state: every page
// reads them afresh, and every change goes through the code the CLI uses
// (home.Edit with its typed group edits, ledger.Store.Update), so the
// console cannot do what the CLI would refuse.
//
// Security: it listens on loopback unless given an access token; the Host
// header must name the server (no DNS rebinding); every state-changing
// request carries a CSRF token bound to a cookie; responses forbid
// framing, inline scripts and foreign content. A read-only console has no
// forms and refuses every change.
package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/internal/schedule"
	"github.com/warden-policy/warden/packs/home"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Options configure a console.
type Options struct {
	// Home is the policy home's directory; "" is the embedded default
	// (read-only: it has no warden.yaml to edit).
	Home string
	// Store is the findings ledger's URL; "" shows no findings.
	Store string
	// Token, when set, is required of every request (a cookie set from
	// ?token= on the first visit, or an Authorization: Bearer header).
	Token    string
	ReadOnly bool
	Now      func() time.Time
	// Backend is a backend URL, as pulumi login takes it, whose stacks the
	// group forms offer to choose from, with those the ledger has seen.
	Backend string
	// Actor names who makes triage edits, for the findings' history.
	Actor  string
	Getenv func(string) string
	// Schedules, when set, is the state of the scheduled audits this
	// process runs, shown on the Policy Groups page.
	Schedules func() []schedule.Status
}

// Server is the console's HTTP handler.
type Server struct {
	opts  Options
	pages map[string]*template.Template
	mux   *http.ServeMux
	// hosts are the Host headers the server answers; nil accepts any
	// (a server on a public address, behind its token).
	hosts map[string]bool

	mu sync.Mutex
	st *ledger.Store // opened on first use, kept
}

// ErrNeedToken refuses to serve beyond loopback without a token.
var ErrNeedToken = errors.New("the console listens on a non-loopback address only with an access token (--token or WARDEN_CONSOLE_TOKEN)")

// New builds the console. addr is where it will listen: beyond loopback
// it needs a token.
func New(addr string, opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if opts.Home == "" {
		opts.ReadOnly = true
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	if loopback(host) {
		s.hosts = map[string]bool{}
		for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
			s.hosts[h+":"+port] = true
			if port == "80" {
				s.hosts[h] = true
			}
		}
	} else if opts.Token == "" {
		return nil, ErrNeedToken
	}
	if err := s.parse(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// AllowPort adds the port the server really listens on (when addr asked
// for port 0) to the Host headers it answers.
func (s *Server) AllowPort(port int) {
	if s.hosts == nil {
		return
	}
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		s.hosts[fmt.Sprintf("%s:%d", h, port)] = true
	}
}

func (s *Server) parse() error {
	funcs := template.FuncMap{
		"pct":      func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
		"join":     strings.Join,
		"resource": findings.ResourceName,
		"date":     func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
		"heat": func(n int) string {
			switch {
			case n == 0:
				return "heat0"
			case n < 3:
				return "heat1"
			case n < 10:
				return "heat2"
			}
			return "heat3"
		},
		"query": func(kv ...string) template.URL {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					v.Set(kv[i], kv[i+1])
				}
			}
			return template.URL(v.Encode())
		},
		"count":       func(m map[ledger.Status]int, s string) int { return m[ledger.Status(s)] },
		"splitPolicy": func(k string) []string { a, b, _ := strings.Cut(k, "/"); return []string{a, b} },
		"contains": func(list []string, s string) bool {
			for _, v := range list {
				if v == s {
					return true
				}
			}
			return false
		},
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return err
	}
	pages, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	s.pages = map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(assets, p)
		if err != nil {
			return err
		}
		s.pages[name] = t
	}
	return nil
}

// ServeHTTP applies the console's security rules, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if s.hosts != nil && !s.hosts[r.Host] {
		http.Error(w, "unexpected Host header: the console answers only to its own address", http.StatusMisdirectedRequest)
		return
	}
	if s.opts.Token != "" && !s.authorized(w, r) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if s.opts.ReadOnly {
			http.Error(w, "this console is read-only", http.StatusForbidden)
			return
		}
		if !s.csrfOK(r) {
			http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

const (
	tokenCookie = "warden_console_token"
	csrfCookie  = "warden_console_csrf"
)

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// authorized checks the access token: a Bearer header, the cookie, or
// ?token= on a GET, which sets the cookie and redirects to the same page
// without it (so the token leaves the address bar and the history).
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") && equal(strings.TrimPrefix(a, "Bearer "), s.opts.Token) {
		return true
	}
	if c, err := r.Cookie(tokenCookie); err == nil && equal(c.Value, s.opts.Token) {
		return true
	}
	if t := r.URL.Query().Get("token"); t != "" && r.Method == http.MethodGet && equal(t, s.opts.Token) {
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.opts.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q := r.URL.Query()
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	http.Error(w, "this console needs its access token: open the address warden console printed", http.StatusUnauthorized)
	return false
}

// csrfToken is the request's CSRF token, set as a cookie on first use:
// a form carries it back, and a POST whose field does not match its
// cookie is refused (a page of another site can send the cookie, but
// cannot read it to fill the field; SameSite=Strict keeps it from being
// sent at all).
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	var b [16]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
	return tok
}

func (s *Server) csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	return equal(r.PostFormValue("csrf"), c.Value)
}

// page is what every template gets.
type page struct {
	Title    string
	Nav      string
	CSRF     string
	ReadOnly bool
	Home     string
	Flash    string
	Error    string
	Data     any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.CSRF = s.csrfToken(w, r)
	p.ReadOnly = s.opts.ReadOnly
	p.Home = s.opts.Home
	if p.Flash == "" {
		p.Flash = r.URL.Query().Get("done")
	}
	t := s.pages[name]
	if t == nil {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", p); err != nil {
		http.Error(w, "rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, b.String())
}

// fail renders an error page: bad input is 400, everything else 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	s.render(w, r, status, "error", page{Title: "Error", Error: err.Error()})
}

// done redirects after a change, saying what was done.
func done(w http.ResponseWriter, r *http.Request, to, what string) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"done="+url.QueryEscape(what), http.StatusSeeOther)
}

func (s *Server) home() (*home.Home, error) {
	return home.Open(s.opts.Home)
}

// store is the ledger, opened on first use (recording what its spool
// holds) and kept; nil when there is none. A store that cannot be opened
// is tried again on the next request.
func (s *Server) store(ctx context.Context) (*ledger.Store, error) {
	if s.opts.Store == "" {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		st, _, err := ledger.Connect(ctx, s.opts.Store, s.opts.Getenv)
		if err != nil {
			return nil, err
		}
		s.st = st
	}
	return s.st, nil
}

// Close closes the ledger.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != nil {
		return s.st.Close()
	}
	return nil
}

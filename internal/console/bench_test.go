package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/packs/spec"
)

// BenchmarkFindingsPages renders each Policy Findings page with 100,000
// findings in the ledger (100 stacks of 1,000), SQLite.
func BenchmarkFindingsPages(b *testing.B) {
	dir := b.TempDir()
	store := "sqlite:" + filepath.Join(dir, "findings.db")
	st, err := ledger.Open(context.Background(), store)
	if err != nil {
		b.Fatal(err)
	}
	sevs := []spec.Severity{spec.Critical, spec.High, spec.Medium, spec.Low}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		r := &ledger.Run{ID: ledger.NewRunID(at), Organization: "acme", Project: "site", Stack: fmt.Sprintf("s%d", i), Kind: ledger.Update,
			Started: at, Finished: at, Version: "bench", Complete: true, Resources: 500}
		for j := range 1000 {
			pol := fmt.Sprintf("p%d", j%50)
			r.Ran = append(r.Ran, "aws/"+pol)
			r.Findings = append(r.Findings, findings.Finding{
				Stack: r.Stack, Project: "site", URN: fmt.Sprintf("urn:pulumi:%s::site::aws:s3/bucket:Bucket::b%d", r.Stack, j/2),
				Pack: "aws", Version: "1.0.0", Policy: pol, Kind: findings.Violation, Level: spec.Advisory, Severity: sevs[j%4], Message: "m",
			})
		}
		if err := st.Record(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	s, err := New("127.0.0.1:80", Options{Home: "", Store: store, Getenv: func(string) string { return "" }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, path := range []string{"/findings", "/findings/compliance", "/findings/issues", "/stacks/acme/site/s7"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				w := httptest.NewRecorder()
				req := httptest.NewRequest("GET", path, nil)
				req.Host = "127.0.0.1"
				s.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", path, w.Code, w.Body.String())
				}
			}
		})
	}
}

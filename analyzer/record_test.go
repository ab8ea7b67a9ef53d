package analyzer

import (
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/packs/home"
)

// TestRecordsRuns: the plugin records its run at Cancel, once: an update
// stopped before AnalyzeStack is incomplete and blocked; a run without
// ConfigureStack that reaches AnalyzeStack is a complete policy analyze;
// a process that analyzed nothing records nothing.
func TestRecordsRuns(t *testing.T) {
	t.Parallel()
	h, err := home.Load("testdata/home")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	url := "sqlite:" + filepath.Join(dir, "findings.db")
	getenv := func(k string) string {
		if k == "XDG_STATE_HOME" {
			return dir
		}
		return ""
	}
	bucket := &pulumirpc.AnalyzeRequest{
		Urn: "urn:pulumi:prod::web::aws:s3/bucket:Bucket::site", Type: "aws:s3/bucket:Bucket", Name: "site",
		Properties: props(t, resource.NewPropertyMapFromMap(map[string]any{"acl": "public-read"})),
	}
	serve := func(configure bool, stack bool) {
		srv := NewServer(h, nil, Options{Version: "0.1.0", Logger: testLogger(t), Findings: url, Getenv: getenv})
		c := newTestClient(t, srv)
		if configure {
			if _, err := c.ConfigureStack(t.Context(), &pulumirpc.AnalyzerStackConfigureRequest{Organization: "acme", Project: "web", Stack: "prod"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.Analyze(t.Context(), bucket); err != nil {
			t.Fatal(err)
		}
		if stack {
			if _, err := c.AnalyzeStack(t.Context(), &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{
				{Urn: bucket.Urn, Type: bucket.Type, Name: bucket.Name, Properties: bucket.Properties},
			}}); err != nil {
				t.Fatal(err)
			}
		}
		c.Cancel(t.Context(), &emptypb.Empty{})
		srv.Finish() // the process ends: already recorded, nothing more
	}
	serve(true, false)
	serve(false, true)
	NewServer(h, nil, Options{Findings: url, Getenv: getenv}).Finish()

	s, err := ledger.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(t.Context(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs recorded, want 2: %+v", len(runs), runs)
	}
	byKind := map[ledger.Kind]*ledger.Run{}
	for _, r := range runs {
		byKind[r.Kind] = r
	}
	if r := byKind[ledger.Update]; r == nil || r.Complete || !r.Blocked || r.Name() != "acme/web/prod" || len(r.Packs) == 0 {
		t.Errorf("the update: %+v", r)
	}
	if r := byKind[ledger.PolicyAnalyze]; r == nil || !r.Complete || r.Stack != "prod" {
		t.Errorf("the policy analyze: %+v", r)
	}
	fs, err := s.Findings(t.Context(), ledger.Filter{Policy: "s3-bucket-no-public-acl"})
	if err != nil || len(fs) != 1 || fs[0].Status != ledger.StatusOpen {
		t.Errorf("findings: %+v, %v", fs, err)
	}
}

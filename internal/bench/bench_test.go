package bench

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestDriver starts the real analyzer binary through the driver and checks
// what it reports (counts, not times: durations are measured by the
// benchmark, never asserted).
func TestDriver(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+"/", "../../cmd/pulumi-analyzer-warden")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the analyzer: %v\n%s", err, out)
	}
	p, err := Start(t.Context(), filepath.Join(dir, "pulumi-analyzer-warden"), nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	corpus := Corpus("bench", "load", 48)
	msgs, err := AnalyzeRequests(corpus)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := Encode(msgs)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Analyze(t.Context(), reqs, 4)
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 48 || res.P50 <= 0 || res.P99 < res.P50 {
		t.Errorf("analyze result %+v", res)
	}
	// The corpus is built to violate: every fifth resource is public.
	for _, policy := range []string{"s3-bucket-no-public-acl", "k8s-no-privileged-containers", "ec2-sg-no-public-ssh"} {
		if res.Diagnostics[policy] == 0 {
			t.Errorf("no diagnostics for %s: %v", policy, res.Diagnostics)
		}
	}
	stackMsg, err := StackRequest(corpus)
	if err != nil {
		t.Fatal(err)
	}
	stackReq, err := EncodeStack(stackMsg)
	if err != nil {
		t.Fatal(err)
	}
	_, diags, err := p.AnalyzeStack(t.Context(), stackReq)
	if err != nil {
		t.Fatal(err)
	}
	if diags["s3-bucket-has-public-access-block"] != 8 {
		t.Errorf("stack diagnostics: %v", diags)
	}
	if p.PeakRSS() <= 0 {
		t.Error("no peak RSS read")
	}
}

package bench

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
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
	corpus := Corpus("bench", "load", 72)
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
	if res.Calls != 72 || res.P50 <= 0 || res.P99 < res.P50 {
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
	// Four groups: the fourth's block is for its BucketV2, so four of
	// the eight buckets have none; the fourth's VPC has no flow log and
	// its BucketV2's versioning is suspended.
	for policy, want := range map[string]int{"s3-bucket-has-public-access-block": 4, "vpc-flow-logs-enabled": 1, "s3-bucket-versioning": 5} {
		if diags[policy] != want {
			t.Errorf("%d diagnostics of %s, want %d: %v", diags[policy], policy, want, diags)
		}
	}
	if p.PeakRSS() <= 0 {
		t.Error("no peak RSS read")
	}
}

// TestCorpusRelations checks the corpus is what its doc comment says: the
// types of a group in order, and every property dependency the URN of a
// resource of the same group.
func TestCorpusRelations(t *testing.T) {
	corpus := Corpus("bench", "load", 5*groupSize)
	index := map[string]int{}
	for i, r := range corpus {
		index[r.URN] = i
		if r.Type != groupTypes[i%groupSize] {
			t.Errorf("resource %d is a %s, want %s", i, r.Type, groupTypes[i%groupSize])
		}
	}
	relations := 0
	for i, r := range corpus {
		for prop, urns := range r.PropertyDependencies {
			for _, u := range urns {
				j, ok := index[u]
				if !ok || j/groupSize != i/groupSize {
					t.Errorf("%s.%s depends on %s, not in its group", r.URN, prop, u)
				}
				relations++
			}
		}
	}
	// Per group: block, versioning, attachment; a flow log in four of five.
	if relations != 5*3+4 {
		t.Errorf("%d relations", relations)
	}
}

// TestProgram: the real-CLI benchmark's program has the resources its doc
// comment says, each public access block pointing at its group's bucket.
func TestProgram(t *testing.T) {
	var prog struct {
		Resources map[string]struct {
			Type       string         `yaml:"type"`
			Properties map[string]any `yaml:"properties"`
		} `yaml:"resources"`
	}
	if err := yaml.Unmarshal(Program(50), &prog); err != nil {
		t.Fatal(err)
	}
	if len(prog.Resources) != 50 {
		t.Fatalf("%d resources", len(prog.Resources))
	}
	for name, r := range prog.Resources {
		if r.Type != "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock" {
			continue
		}
		bucket := "bucket" + strings.TrimPrefix(name, "block")
		if _, ok := prog.Resources[bucket]; !ok || r.Properties["bucket"] != "${"+bucket+".id}" {
			t.Errorf("%s points at %v", name, r.Properties["bucket"])
		}
	}
}

// TestRecorded reads the analyzer's debug line as pulumi echoes it.
func TestRecorded(t *testing.T) {
	out := []byte("    2026-12-02T15:22:03.660Z [DEBUG] warden.analyzer: recorded the run: findings=153 took=42ms\n")
	if d, ok := Recorded(out); !ok || d.Milliseconds() != 42 {
		t.Errorf("Recorded = %v, %v", d, ok)
	}
	if _, ok := Recorded([]byte("Resources:\n    101 unchanged\n")); ok {
		t.Error("Recorded found a duration in output without one")
	}
}

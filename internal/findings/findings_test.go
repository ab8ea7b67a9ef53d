package findings

import (
	"testing"
	"time"

	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

// TestID: the identity depends on exactly organization, project, stack,
// pack, policy and URN; fields are separated, so shifting text from one to
// the next is another finding.
func TestID(t *testing.T) {
	t.Parallel()
	base := ID("acme", "shop", "prod", "aws", "p", "urn:x")
	if len(base) != 12 || base != ID("acme", "shop", "prod", "aws", "p", "urn:x") {
		t.Fatalf("ID %q is not stable", base)
	}
	for _, other := range []string{
		ID("acme2", "shop", "prod", "aws", "p", "urn:x"),
		ID("acme", "shop", "prod", "aws", "p", "urn:y"),
		ID("acmes", "hop", "prod", "aws", "p", "urn:x"),
		ID("acme", "shop", "prod", "aws", "p", ""),
	} {
		if other == base {
			t.Errorf("two findings share ID %s", base)
		}
	}
}

func TestResourceName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "(stack)",
		"urn:pulumi:prod::shop::aws:s3/bucket:Bucket::site":                       "aws:s3/bucket:Bucket::site",
		"urn:pulumi:prod::shop::my:component:Web$aws:s3/bucket:Bucket::site-logs": "aws:s3/bucket:Bucket::site-logs",
		"not a urn": "not a urn",
	} {
		if got := ResourceName(in); got != want {
			t.Errorf("ResourceName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBaseline: a baseline covers exactly the violation it lists: the same
// policy, resource and message. The same resource violating in a new way
// (another message), another resource, a can't-run or an excepted finding
// are not marked, and only a marked violation stops blocking.
func TestBaseline(t *testing.T) {
	since := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	b := home.NewBaseline("b.yaml", "acme/shop/prod", since, []*home.BaselineEntry{
		{Pack: "aws", Policy: "sg-ssh", URN: "urn:a", Message: "port 22 open", Since: since},
	})
	base := Finding{Pack: "aws", Policy: "sg-ssh", URN: "urn:a", Kind: Violation, Level: spec.Mandatory, Message: "port 22 open"}
	for _, tc := range []struct {
		name   string
		edit   func(*Finding)
		marked bool
	}{
		{"the listed violation", func(*Finding) {}, true},
		{"a new way", func(f *Finding) { f.Message = "port 3389 open" }, false},
		{"another resource", func(f *Finding) { f.URN = "urn:b" }, false},
		{"another policy", func(f *Finding) { f.Policy = "sg-rdp" }, false},
		{"can't run", func(f *Finding) { f.Kind = CantRun }, false},
		{"excepted", func(f *Finding) { f.Exception = &ExceptionRef{ID: "x"} }, false},
	} {
		f := base
		tc.edit(&f)
		f.Baseline(b)
		if (f.Baselined != "") != tc.marked {
			t.Errorf("%s: baselined %q", tc.name, f.Baselined)
		}
		if tc.marked && (f.Blocking() || f.ReportedLevel() != spec.Advisory || f.Baselined != "2026-11-30") {
			t.Errorf("%s: blocking %v, reported %s", tc.name, f.Blocking(), f.ReportedLevel())
		}
	}
	f := base
	f.Baseline(nil)
	if f.Baselined != "" || !f.Blocking() {
		t.Error("no baseline marked a finding")
	}
}

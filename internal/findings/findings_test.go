package findings

import "testing"

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

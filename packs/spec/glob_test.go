package spec

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestMatchGlob(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pat, s string
		want   bool
	}{
		{"aws:s3/bucket:Bucket", "aws:s3/bucket:Bucket", true},
		{"aws:s3/bucket:Bucket", "aws:s3/bucket:BucketV2", false},
		{"aws:s3/*:*", "aws:s3/bucketV2:BucketV2", true},
		{"aws:s3/*:BucketAcl*", "aws:s3/bucketAclV2:BucketAclV2", true},
		{"aws:s3/*:BucketAcl*", "aws:s3/bucket:Bucket", false},
		{"azure-native:storage*:StorageAccount", "azure-native:storage/v20230101:StorageAccount", true},
		{"*", "", true},
		{"a*", "a", true},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a*a", "a", false}, // the parts may not overlap
		{"a*b*c", "abxbc", true},
		{"urn:pulumi:prod::site::*", "urn:pulumi:prod::site::aws:s3/bucket:Bucket::www", true},
		{"urn:pulumi:*::site::*::www", "urn:pulumi:prod::site::aws:s3/bucket:Bucket::www", true},
		{"urn:pulumi:*::site::*::www", "urn:pulumi:prod::site::aws:s3/bucket:Bucket::www2", false},
		{"name[1]", "name[1]", true}, // no classes: [ is itself
		{"name?", "name1", false},    // no ?: it is itself
		{"name?", "name?", true},
	} {
		if got := MatchGlob(c.pat, c.s); got != c.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", c.pat, c.s, got, c.want)
		}
	}
}

// TestMatchGlobAgainstRegexp: on random patterns and names over a small
// alphabet (so that parts repeat and overlap), MatchGlob agrees with the
// regular expression the dialect describes: each * is .*, the rest literal.
func TestMatchGlobAgainstRegexp(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, n int) string {
		var b strings.Builder
		for range rng.IntN(n + 1) {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 20000 {
		pat, s := word("ab:*", 7), word("ab:", 9)
		parts := strings.Split(pat, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile("^(?s:" + strings.Join(parts, ".*") + ")$")
		if got, want := MatchGlob(pat, s), re.MatchString(s); got != want {
			t.Fatalf("MatchGlob(%q, %q) = %v, the dialect says %v", pat, s, got, want)
		}
	}
}

func BenchmarkMatchGlob(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		MatchGlob("urn:pulumi:*::site::aws:s3/*:*::www*", "urn:pulumi:prod::site::aws:s3/bucket:Bucket::www-logs")
	}
}

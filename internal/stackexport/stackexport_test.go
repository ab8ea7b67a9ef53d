package stackexport

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const minimal = `{"version": 3, "deployment": {"resources": [
  {"urn": "urn:pulumi:prod::shop::aws:s3/bucket:Bucket::b", "custom": true, "type": "aws:s3/bucket:Bucket",
   "inputs": {"acl": "private"}, "outputs": {"acl": "private"}}]}}
`

func deepExport(depth int) string {
	return `{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:prod::shop::t:m:T::deep", "type": "t:m:T", "inputs": {"a": ` +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}}]}}`
}

// Lenient parsing (issue 12, item 9): each of these was analyzed before.
func TestReadRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"trailing garbage", minimal + "garbage\n", "line 4, column 1: unexpected data after the export's JSON value (two exports in one file?)"},
		{"two exports", minimal + minimal, "line 4, column 1: unexpected data after the export's JSON value (two exports in one file?)"},
		{"negative version", `{"version": -1, "deployment": {"resources": []}}`, "line 1, column 13: stack export version -1 is not one Pulumi writes (1 to 3)"},
		{"future version", "{\n  \"deployment\": {},\n  \"version\": 4\n}", "line 3, column 14: stack export version 4 is newer than this build reads (3): written by a newer Pulumi; upgrade warden"},
		{"checkpoint version", `{"version": -7, "checkpoint": {"stack": "o/p/s"}}`, "line 1, column 13: checkpoint version -7 is not one Pulumi writes (1 to 3)"},
		{"syntax", "{\"version\": 3,\n \"deployment\": {,}}", "line 2, column 17: invalid character ',' looking for beginning of object key string (is the file truncated?)"},
		{"too deep", deepExport(MaxDepth + 1), "resource urn:pulumi:prod::shop::t:m:T::deep: inputs.a[0][0][0][0][0][0][0][0][0][0]…(233 more)…[0][0][0][0][0][0][0][0][0][0][0][0]: values nest more than 256 levels deep"},
		{"too deep in a secret", `{"version": 3, "deployment": {"resources": [{"urn": "u", "type": "t:m:T", "outputs": {"s": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "` +
			strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `"}}}]}}`, "resource u: outputs.s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Read(strings.NewReader(tc.in))
			if err == nil {
				t.Fatal("accepted")
			}
			if got := err.Error(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("error\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestReadAccepts(t *testing.T) {
	t.Parallel()
	for _, in := range []string{minimal, minimal + "\n\t \n", deepExport(MaxDepth - 1),
		`{"version": 1, "checkpoint": {"stack": "acme/shop/prod"}}`} {
		if _, err := Read(strings.NewReader(in)); err != nil {
			t.Errorf("Read(%.60q...): %v", in, err)
		}
	}
	st, err := ReadFile(filepath.Join("..", "..", "testdata", "stacks", "example.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "prod" || len(st.Resources) == 0 {
		t.Errorf("example: stack %q with %d resources", st.Name, len(st.Resources))
	}
}

// A 10,000-deep value is refused quickly: the walk is linear in the depth.
func TestReadDeepIsLinear(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := Read(strings.NewReader(deepExport(9990)))
	if err == nil || !strings.Contains(err.Error(), "values nest more than") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestReadFilePositions(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(f, []byte(minimal+"}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(f)
	var pe *Error
	if !errors.As(err, &pe) || err.Error() != f+":4:1: unexpected data after the export's JSON value (two exports in one file?)" {
		t.Errorf("got %v", err)
	}
	if _, err := Read(strings.NewReader(`{"version": 3}`)); !errors.Is(err, ErrNotExport) {
		t.Errorf("no deployment: got %v, want ErrNotExport", err)
	}
}

package commands

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The commands refuse hostile or lenient input with exit 2 and a position,
// instead of crashing or analyzing it (issue 12, items 4 and 9).
func TestStrictInputs(t *testing.T) {
	t.Setenv("WARDEN_HOME", "")
	dir := t.TempDir()
	example, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "stacks", "example.json"))
	if err != nil {
		t.Fatal(err)
	}
	trailing := filepath.Join(dir, "trailing.json")
	if err := os.WriteFile(trailing, append(example, "\n{}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(example), "\n")
	// A pack whose test file holds an alias that contains itself.
	pack := newPack(t, "acme-rules")
	bomb := filepath.Join(pack, "tests", "bomb.yaml")
	if err := os.WriteFile(bomb, []byte("apiVersion: warden/v1\nkind: PackTest\ncases:\n  - name: c\n    resource:\n      type: t:m:T\n      props: &r {self: *r}\n    expect: {p: pass}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	home := newHome(t)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"analyze: data after the export", []string{"analyze", "--file", trailing}, trailing + ":" + strconv.Itoa(lines+2) + ":1: unexpected data after the export's JSON value"},
		{"test: recursive alias", []string{"test", pack}, bomb + ":7:24: alias *r refers to the value that contains it"},
		{"validate: recursive alias", []string{"validate", pack}, bomb + ":7:24: alias *r"},
		{"publish: recursive alias", []string{"packs", "publish", pack, "--home", home}, bomb + ":7:24: alias *r"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, errOut := TestStreams()
			if code := Main(tc.args, ios); code != ExitInput || !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut, ExitInput, tc.stderr)
			}
		})
	}
}

package home

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-policy/warden/packs/spec"
)

// warden.yaml goes through spec.ParseYAML: a second document used to be
// silently ignored (issue 12, item 9), so a group written after --- never ran.
func TestParseRefusesWhatTheDecoderRefuses(t *testing.T) {
	t.Parallel()
	const head = "groups:\n  - name: default\n    default: true\n    packs: [aws-foundations]\n"
	tests := []struct{ name, in, want string }{
		{"second document", head + "---\ngroups:\n  - name: staging\n    packs: [aws-foundations]\n",
			"w.yaml:5:1: a second YAML document"},
		{"recursive alias", head + "exceptions: &r {x: *r}\n", "w.yaml:5:20: alias *r refers to the value that contains it"},
		{"merge key", head + "  - <<: {name: b}\n", "w.yaml:5:5: merge keys (<<) are not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("testdata/home", "w.yaml", []byte(tc.in))
			var list spec.ErrorList
			if !errors.As(err, &list) || len(list) != 1 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want one error containing %q", err, tc.want)
			}
		})
	}
}

// A pack folder the loader cannot read is reported as such, at its path,
// not as an "unknown pack" (issue 12, item 10). A symbolic link loop stands
// in for an unreadable folder: CI runs as root, which reads every folder,
// and a folder without permission fails on the same read, down the same
// path (checked once by hand as an unprivileged user).
func TestUnreadablePackFolder(t *testing.T) {
	t.Parallel()
	const src = "groups:\n  - name: default\n    default: true\n    packs: [acme]\n"
	t.Run("link loop", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		packs := filepath.Join(dir, PacksDir)
		if err := os.Mkdir(packs, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("acme", filepath.Join(packs, "acme")); err != nil {
			t.Fatal(err)
		}
		_, err := Parse(dir, "w.yaml", []byte(src))
		if err == nil || strings.Contains(err.Error(), "unknown pack") || !strings.Contains(err.Error(), filepath.Join(packs, "acme")+": acme: cannot read the pack folder") {
			t.Fatalf("got %v", err)
		}
	})
}

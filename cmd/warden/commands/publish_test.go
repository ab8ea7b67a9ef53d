package commands

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// newPack makes a fresh tested pack with warden packs new.
func newPack(t *testing.T, name string) string {
	t.Helper()
	parent := t.TempDir()
	ios, _, errOut := TestStreams()
	if code := Main([]string{"packs", "new", name, "--dir", parent}, ios); code != ExitOK {
		t.Fatalf("packs new: %s", errOut)
	}
	return filepath.Join(parent, name)
}

func publish(t *testing.T, home, pack string) (int, string, string) {
	t.Helper()
	ios, out, errOut := TestStreams()
	code := Main([]string{"packs", "publish", pack, "--home", home}, ios)
	return code, out.String(), errOut.String()
}

// Publishing copies a pack into a shared home: a symbolic link or special
// file in tests/ (or as pack.yaml) must not bring its target along
// (issue 12, item 10).
func TestPublishRefusesLinksAndSpecialFiles(t *testing.T) {
	t.Setenv("WARDEN_HOME", "")
	secret := filepath.Join(t.TempDir(), "id_rsa")
	if err := os.WriteFile(secret, []byte("PRIVATE KEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		make func(pack string) (string, error) // returns the offending path
		want string
	}{
		{"link in tests", func(pack string) (string, error) {
			p := filepath.Join(pack, "tests", "leak.yaml")
			return p, os.Symlink(secret, p)
		}, "is a symbolic link"},
		{"tests is a link", func(pack string) (string, error) {
			p := filepath.Join(pack, "tests")
			other := filepath.Join(t.TempDir(), "tests")
			if err := os.Rename(p, other); err != nil {
				return "", err
			}
			return p, os.Symlink(other, p)
		}, "is a symbolic link"},
		{"pack.yaml is a link", func(pack string) (string, error) {
			p := filepath.Join(pack, "pack.yaml")
			other := filepath.Join(t.TempDir(), "pack.yaml")
			if err := os.Rename(p, other); err != nil {
				return "", err
			}
			return p, os.Symlink(other, p)
		}, "is a symbolic link"},
		{"fifo in tests", func(pack string) (string, error) {
			p := filepath.Join(pack, "tests", "pipe")
			return p, syscall.Mkfifo(p, 0o644)
		}, "is a special file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := newHome(t)
			pack := newPack(t, "acme-rules")
			bad, err := tc.make(pack)
			if err != nil {
				t.Fatal(err)
			}
			code, _, e := publish(t, home, pack)
			if code != ExitInput || !strings.Contains(e, bad+" "+tc.want) {
				t.Errorf("exit %d, stderr %q: want exit %d naming %s", code, e, ExitInput, bad)
			}
			if _, err := os.Stat(filepath.Join(home, "packs", "acme-rules")); !os.IsNotExist(err) {
				t.Errorf("something was published: %v", err)
			}
		})
	}
}

// A published version is readable by every user of the home: folders 0755,
// files 0644 (MkdirTemp made the version folder 0700).
func TestPublishModes(t *testing.T) {
	t.Setenv("WARDEN_HOME", "")
	home := newHome(t)
	pack := newPack(t, "acme-rules")
	if code, _, e := publish(t, home, pack); code != ExitOK {
		t.Fatalf("publish: %s", e)
	}
	version := filepath.Join(home, "packs", "acme-rules", "0.1.0")
	err := filepath.WalkDir(version, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o644)
		if d.IsDir() {
			want = 0o755
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The pack folder named on the command line may itself be a link (only
// links inside it are refused); before, the walk stopped at the link and
// published an empty version.
func TestPublishThroughLinkedFolder(t *testing.T) {
	t.Setenv("WARDEN_HOME", "")
	home := newHome(t)
	pack := newPack(t, "acme-rules")
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(pack, link); err != nil {
		t.Fatal(err)
	}
	if code, _, e := publish(t, home, link); code != ExitOK {
		t.Fatalf("publish: %s", e)
	}
	if _, err := os.Stat(filepath.Join(home, "packs", "acme-rules", "0.1.0", "pack.yaml")); err != nil {
		t.Errorf("pack.yaml was not published: %v", err)
	}
}

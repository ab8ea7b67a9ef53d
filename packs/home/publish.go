package home

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/packtest"
	"github.com/warden-policy/warden/packs/spec"
)

// Published is what Publish did.
type Published struct {
	Pack  *engine.Pack
	Dest  string // the version's folder in the home
	Cases int    // test cases run
	// Unchanged is set when the same content was published already.
	Unchanged bool
}

// PublishError is a pack Publish refuses: untested, failing its tests, a
// built-in name, a version already published with other content, a file
// that is not a regular file. Nothing was written.
type PublishError struct{ Err error }

func (e *PublishError) Error() string { return e.Err.Error() }
func (e *PublishError) Unwrap() error { return e.Err }

// Publish validates the pack in src, runs its tests (they must exist and
// pass) and copies pack.yaml and tests/ to the home's packs/NAME/VERSION,
// under the home's lock. A published version is immutable: the same
// content again is a no-op, other content is refused. The CLI (warden packs
// publish) and the console both publish through it.
func Publish(ctx context.Context, hdir, src string) (*Published, error) {
	if err := Check(hdir); err != nil {
		return nil, err
	}
	// Read the files first: a symlink or special file is refused before the
	// loaders below follow it.
	files, err := packFiles(src)
	if err != nil {
		return nil, err
	}
	p, err := engine.Load(src)
	if err != nil {
		return nil, err
	}
	suites, err := packtest.LoadSuites(src)
	if err != nil {
		return nil, err
	}
	results, err := packtest.Run(ctx, p, suites)
	if err != nil {
		return nil, &PublishError{Err: err}
	}
	if len(results) == 0 {
		return nil, &PublishError{Err: fmt.Errorf("pack %s has no test cases: a published pack is a tested pack", p)}
	}
	for _, r := range results {
		if !r.Passed() {
			return nil, &PublishError{Err: fmt.Errorf("pack %s does not pass its tests (warden test %s): not published", p, src)}
		}
	}
	if !PathSafe(p.Name) || !PathSafe(p.Version) {
		return nil, &PublishError{Err: fmt.Errorf("pack %q version %q cannot name a folder of the home", p.Name, p.Version)}
	}
	if builtin.Has(p.Name) {
		return nil, &PublishError{Err: fmt.Errorf("%q is the name of a built-in pack: pick another", p.Name)}
	}
	dest := filepath.Join(hdir, PacksDir, p.Name, p.Version)
	// The copy happens under the home's lock, so that a packs remove or
	// another publish cannot interleave with it. Only the lock: a
	// warden.yaml that names this pack before it is published does not
	// load yet, and must not stop the publish that fixes it.
	unlock, err := Lock(hdir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(dest); err == nil {
		existing, err := packFiles(dest)
		if err != nil {
			return nil, err
		}
		if !sameFiles(files, existing) {
			return nil, &PublishError{Err: fmt.Errorf("%s@%s is already published with different content: a published version is immutable, bump the version", p.Name, p.Version)}
		}
		return &Published{Pack: p, Dest: dest, Cases: len(results), Unchanged: true}, nil
	}
	tmp, err := os.MkdirTemp(filepath.Join(hdir, PacksDir), ".publish-*")
	if err != nil {
		if err := os.MkdirAll(filepath.Join(hdir, PacksDir), 0o755); err != nil {
			return nil, err
		}
		if tmp, err = os.MkdirTemp(filepath.Join(hdir, PacksDir), ".publish-*"); err != nil {
			return nil, err
		}
	}
	defer os.RemoveAll(tmp)
	// MkdirTemp makes a 0700 folder, which would become the version folder:
	// every user of a shared home must be able to read a published pack, so
	// folders are 0755 and files 0644 whatever the umask.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	for rel, data := range files {
		target := filepath.Join(tmp, rel)
		if sub := filepath.Dir(target); sub != tmp {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				return nil, err
			}
			if err := os.Chmod(sub, 0o755); err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return nil, err
		}
		if err := os.Chmod(target, 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dest); err != nil {
		return nil, err
	}
	return &Published{Pack: p, Dest: dest, Cases: len(results)}, nil
}

// PathSafe reports whether s can be one folder name under packs/: a
// pack name or version, never "..", "." or a path.
func PathSafe(s string) bool {
	return strings.Trim(s, ".") != "" && !strings.ContainsAny(s, `/\`) && s == filepath.Base(s)
}

// packFiles reads pack.yaml and tests/ of a pack directory. What it reads
// is copied into the home, so it must be the pack's own regular files: a
// symlink (which could bring any file of the publisher's machine into a
// shared home) or a special file is refused, naming the path.
func packFiles(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	// The folder named on the command line may itself be a link: follow
	// that one, and no other.
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		published := rel == spec.PackFile || rel == "tests" || strings.HasPrefix(rel, "tests"+string(filepath.Separator))
		if rel != "." && published && !d.IsDir() && !d.Type().IsRegular() {
			what := "a special file"
			if d.Type()&fs.ModeSymlink != 0 {
				what = "a symbolic link"
			}
			return &PublishError{Err: fmt.Errorf("%s is %s: a published pack holds only regular files and folders (copy the file in instead)", path, what)}
		}
		if d.IsDir() {
			if rel != "." && rel != "tests" {
				return filepath.SkipDir
			}
			return nil
		}
		if published {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[rel] = data
		}
		return nil
	})
	return out, err
}

func sameFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

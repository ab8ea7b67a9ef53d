package commands

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/packtest"
	"github.com/warden-policy/warden/packs/spec"
)

type packsAddOptions struct {
	IO                       *IOStreams
	Name, Home, Group, Level string
	Range                    string
}

// newCmdPacksAdd adds a built-in pack to a group of the organization's
// home: the default group unless --group says otherwise.
func newCmdPacksAdd(ios *IOStreams, runF func(context.Context, *packsAddOptions) error) *cobra.Command {
	opts := &packsAddOptions{IO: ios}
	cmd := &cobra.Command{
		Use:     "add NAME",
		Short:   "Add a built-in pack to the organization (a group entry; the default group unless --group)",
		Example: "  warden packs add kubernetes-baseline\n  warden packs add aws-foundations --group production --level mandatory",
		Args:    exactArgs(1, "packs add needs a pack name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return packsAddRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the current directory)")
	cmd.Flags().StringVar(&opts.Group, "group", "", "the group to add it to (default: the default group)")
	cmd.Flags().StringVar(&opts.Level, "level", "", "enforcement level for every policy of the pack")
	cmd.Flags().StringVar(&opts.Range, "version", "", "semver range (default: the newest)")
	return cmd
}

func packsAddRun(opts *packsAddOptions) error {
	name := opts.Name
	if !slices.Contains(builtin.Names(), name) {
		return &InputError{Err: fmt.Errorf("no built-in pack %q (warden packs list --view available shows them); publish your own with warden packs publish", name)}
	}
	dir, err := homeDir(opts.Home)
	if err != nil {
		return err
	}
	ref := name
	if opts.Range != "" {
		ref += "@" + opts.Range
	}
	entry, err := packRef(ref, opts.Level)
	if err != nil {
		return err
	}
	return editHome(opts.IO, dir, "added "+name, func(e *home.Editor, h *home.Home) error {
		target := opts.Group
		if target == "" {
			if target, err = h.DefaultPreventative(); err != nil {
				return err
			}
		}
		return e.ChangeGroup(h, target, home.GroupChange{AddPacks: []home.PackRef{entry}})
	})
}

// newCmdPacksPublish copies a tested pack into the home's packs/NAME/VERSION.
type packsPublishOptions struct {
	IO        *IOStreams
	Dir, Home string
}

func newCmdPacksPublish(ios *IOStreams, runF func(context.Context, *packsPublishOptions) error) *cobra.Command {
	opts := &packsPublishOptions{IO: ios}
	cmd := &cobra.Command{
		Use:     "publish PACK_DIR",
		Short:   "Validate a pack, run its tests and copy it into the home's packs/NAME/VERSION (immutable)",
		Example: "  warden packs publish ./acme-rules --home ./policy",
		Args:    exactArgs(1, "packs publish needs a pack directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return packsPublishRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the current directory)")
	return cmd
}

func packsPublishRun(ctx context.Context, opts *packsPublishOptions) error {
	ios, src := opts.IO, opts.Dir
	hdir, err := homeDir(opts.Home)
	if err != nil {
		return err
	}
	// Read the files first: a symlink or special file is refused before the
	// loaders below follow it.
	files, err := packFiles(src)
	if err != nil {
		return err
	}
	p, err := engine.Load(src)
	if err != nil {
		return err
	}
	suites, err := packtest.LoadSuites(src)
	if err != nil {
		return err
	}
	results, err := packtest.Run(ctx, p, suites)
	if err != nil {
		return &InputError{Err: err}
	}
	if len(results) == 0 {
		return &InputError{Err: fmt.Errorf("pack %s has no test cases: a published pack is a tested pack", p)}
	}
	for _, r := range results {
		if !r.Passed() {
			return &InputError{Err: fmt.Errorf("pack %s does not pass its tests (warden test %s): not published", p, src)}
		}
	}
	if !pathSafe(p.Name) || !pathSafe(p.Version) {
		return &InputError{Err: fmt.Errorf("pack %q version %q cannot name a folder of the home", p.Name, p.Version)}
	}
	if slices.Contains(builtin.Names(), p.Name) {
		return &InputError{Err: fmt.Errorf("%q is the name of a built-in pack: pick another", p.Name)}
	}
	dest := filepath.Join(hdir, home.PacksDir, p.Name, p.Version)
	// The copy happens under the home's lock, so that a packs remove or
	// another publish cannot interleave with it. Only the lock: a
	// warden.yaml that names this pack before it is published does not
	// load yet, and must not stop the publish that fixes it.
	unlock, err := home.Lock(hdir)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(dest); err == nil {
		existing, err := packFiles(dest)
		if err != nil {
			return err
		}
		if !sameFiles(files, existing) {
			return &InputError{Err: fmt.Errorf("%s@%s is already published with different content: a published version is immutable, bump the version", p.Name, p.Version)}
		}
		fmt.Fprintf(ios.Out, "%s@%s is already published, unchanged\n", p.Name, p.Version)
		return nil
	}
	tmp, err := os.MkdirTemp(filepath.Join(hdir, home.PacksDir), ".publish-*")
	if err != nil {
		if err := os.MkdirAll(filepath.Join(hdir, home.PacksDir), 0o755); err != nil {
			return err
		}
		if tmp, err = os.MkdirTemp(filepath.Join(hdir, home.PacksDir), ".publish-*"); err != nil {
			return err
		}
	}
	defer os.RemoveAll(tmp)
	// MkdirTemp makes a 0700 folder, which would become the version folder:
	// every user of a shared home must be able to read a published pack, so
	// folders are 0755 and files 0644 whatever the umask.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for rel, data := range files {
		target := filepath.Join(tmp, rel)
		if sub := filepath.Dir(target); sub != tmp {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(sub, 0o755); err != nil {
				return err
			}
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return err
		}
		if err := os.Chmod(target, 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		return err
	}
	fmt.Fprintf(ios.Out, "published %s@%s to %s (%d policies, %d test cases)\n", p.Name, p.Version, dest, len(p.Policies), len(results))
	return nil
}

// pathSafe reports whether s can be one folder name under packs/: a
// pack name or version, never "..", "." or a path.
func pathSafe(s string) bool {
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
			return &InputError{Err: fmt.Errorf("%s is %s: a published pack holds only regular files and folders (copy the file in instead)", path, what)}
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

type packsRemoveOptions struct {
	IO        *IOStreams
	Ref, Home string
}

// newCmdPacksRemove deletes a published version, unless a group uses it.
func newCmdPacksRemove(ios *IOStreams, runF func(context.Context, *packsRemoveOptions) error) *cobra.Command {
	opts := &packsRemoveOptions{IO: ios}
	cmd := &cobra.Command{
		Use:     "remove NAME@VERSION",
		Short:   "Remove a published pack version (refused while a group uses it)",
		Example: "  warden packs remove acme-rules@1.0.0",
		Args:    exactArgs(1, "packs remove needs NAME@VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return packsRemoveRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the current directory)")
	return cmd
}

func packsRemoveRun(opts *packsRemoveOptions) error {
	name, version, ok := strings.Cut(opts.Ref, "@")
	if !ok || !spec.ValidName(name) || !pathSafe(name) || !pathSafe(version) {
		return &FlagError{Err: fmt.Errorf("packs remove %q: want NAME@VERSION", opts.Ref)}
	}
	if _, err := semver.StrictNewVersion(version); err != nil {
		return &FlagError{Err: fmt.Errorf("packs remove %q: %q is not a version (want NAME@MAJOR.MINOR.PATCH)", opts.Ref, version)}
	}
	dir, err := homeDir(opts.Home)
	if err != nil {
		return err
	}
	target := filepath.Join(dir, home.PacksDir, name, version)
	// Under the home's lock, so that no edit adds the version to a
	// group between the check below and the removal.
	err = home.Edit(dir, func(_ *home.Editor, h *home.Home) error {
		if _, err := os.Stat(filepath.Join(target, spec.PackFile)); err != nil {
			return &InputError{Err: fmt.Errorf("%s@%s is not published in %s", name, version, dir)}
		}
		for _, g := range h.Groups {
			for _, e := range g.Packs {
				if e.Pack.Name == name && e.Pack.Version == version {
					return &InputError{Err: fmt.Errorf("group %q uses %s@%s: remove it from the group first (warden groups edit %s --remove-pack %s)", g.Name, name, version, g.Name, name)}
				}
			}
		}
		if err := os.RemoveAll(target); err != nil {
			return fmt.Errorf("removing %s@%s: %w", name, version, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "removed %s@%s\n", name, version)
	return nil
}

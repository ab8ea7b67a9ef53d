package commands

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/home"
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
	if !builtin.Has(name) {
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
	hdir, err := homeDir(opts.Home)
	if err != nil {
		return err
	}
	pub, err := home.Publish(ctx, hdir, opts.Dir)
	if err != nil {
		return err
	}
	if pub.Unchanged {
		fmt.Fprintf(opts.IO.Out, "%s@%s is already published, unchanged\n", pub.Pack.Name, pub.Pack.Version)
		return nil
	}
	fmt.Fprintf(opts.IO.Out, "published %s@%s to %s (%d policies, %d test cases)\n", pub.Pack.Name, pub.Pack.Version, pub.Dest, len(pub.Pack.Policies), pub.Cases)
	return nil
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
	if !ok || !spec.ValidName(name) || !home.PathSafe(name) || !home.PathSafe(version) {
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

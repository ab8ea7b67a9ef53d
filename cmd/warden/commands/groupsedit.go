package commands

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

// homeDir is the home an edit applies to: --home, else WARDEN_HOME, else
// the current directory.
// editHome applies edit to the home through home.Edit, under the home's
// lock, and reports what it did; on any error the file is left as it was.
func editHome(ios *IOStreams, dir string, what string, edit func(*home.Editor, *home.Home) error) error {
	err := home.Edit(dir, edit)
	var invalid *home.InvalidEditError
	var list spec.ErrorList
	if errors.As(err, &invalid) && errors.As(invalid.Errs, &list) {
		// The file on disk is unchanged: say what the edit would break,
		// without pointing at lines that are not there.
		msgs := make([]string, len(list))
		for i, le := range list {
			msgs[i] = "  " + le.Error()
		}
		return &InputError{Err: fmt.Errorf("the edit would make %s invalid, so it was not written:\n%s", invalid.File, strings.Join(msgs, "\n"))}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(ios.Out, "%s: %s\n", filepath.Join(dir, home.File), what)
	return nil
}

func checkLevel(l string) error {
	if !spec.Level(l).Valid() {
		return &FlagError{Err: fmt.Errorf("level %q: want advisory, mandatory, remediate or disabled", l)}
	}
	return nil
}

// packRef reads --pack NAME[@RANGE] with its level, as a usage error when
// it is malformed.
func packRef(ref, level string) (home.PackRef, error) {
	p, err := home.ParsePackRef(ref)
	if err != nil {
		return p, &FlagError{Err: fmt.Errorf("--pack %w", err)}
	}
	if level != "" {
		if err := checkLevel(level); err != nil {
			return p, err
		}
		p.Level = spec.Level(level)
	}
	return p, nil
}

type groupsNewOptions struct {
	Home, Name, Mode, Rule string
	Stacks, Sources, Packs []string
	Levels                 []string
}

func newCmdGroupsNew(ios *IOStreams, runF func(context.Context, *groupsNewOptions) error) *cobra.Command {
	opts := &groupsNewOptions{}
	cmd := &cobra.Command{
		Use:   "new NAME --mode preventative|audit",
		Short: "Add a policy group to the home",
		Example: "  warden groups new production --stack '*/prod' --pack aws-foundations --level mandatory\n" +
			"  warden groups new nightly --mode audit --source file://../state --pack kubernetes-baseline",
		Args: exactArgs(1, "groups new needs a group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return groupsNewRun(ios, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the current directory)")
	cmd.Flags().StringVar(&opts.Mode, "mode", "preventative", "preventative (runs in the plugin) or audit (runs in warden audit)")
	cmd.Flags().StringArrayVar(&opts.Stacks, "stack", nil, "stack it selects: stack, project/stack, org/project/stack, * globs (repeatable)")
	cmd.Flags().StringVar(&opts.Rule, "stack-rule", "", `stack-tag rule, e.g. "env=prod OR tier=critical"`)
	cmd.Flags().StringArrayVar(&opts.Sources, "source", nil, "audit source: a stack export or a file:// backend folder (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Packs, "pack", nil, "pack to run, NAME or NAME@RANGE (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Levels, "level", nil, "enforcement level of the pack given before it, or of every pack when given once")
	return cmd
}

func groupsNewRun(ios *IOStreams, opts *groupsNewOptions) error {
	if opts.Mode != string(home.Preventative) && opts.Mode != string(home.Audit) {
		return &FlagError{Err: fmt.Errorf("--mode %q: want preventative or audit", opts.Mode)}
	}
	if len(opts.Sources) > 0 && opts.Mode != string(home.Audit) {
		return &FlagError{Err: fmt.Errorf("--source is for audit groups: add --mode audit")}
	}
	if (len(opts.Stacks) > 0 || opts.Rule != "") && opts.Mode == string(home.Audit) {
		return &FlagError{Err: fmt.Errorf("--stack and --stack-rule are for preventative groups: an audit group runs over its --source")}
	}
	if len(opts.Levels) > 1 && len(opts.Levels) != len(opts.Packs) {
		return &FlagError{Err: fmt.Errorf("give one --level for every --pack, or one for all of them")}
	}
	dir, err := homeDir(opts.Home)
	if err != nil {
		return err
	}
	g := home.NewGroup{Name: opts.Name, Mode: home.Mode(opts.Mode), Stacks: opts.Stacks, Rule: opts.Rule, Sources: opts.Sources}
	for i, p := range opts.Packs {
		level := ""
		switch {
		case len(opts.Levels) == 1:
			level = opts.Levels[0]
		case len(opts.Levels) > 1:
			level = opts.Levels[i]
		}
		ref, err := packRef(p, level)
		if err != nil {
			return err
		}
		g.Packs = append(g.Packs, ref)
	}
	return editHome(ios, dir, "added group "+opts.Name, func(e *home.Editor, h *home.Home) error {
		return e.AddGroup(h, g)
	})
}

type groupsEditOptions struct {
	Home, Name, Rename, Rule, Mode   string
	AddStacks, RemoveStacks          []string
	AddSources, RemoveSources        []string
	AddPacks, RemovePacks, SetLevels []string
	ruleSet                          bool
}

func newCmdGroupsEdit(ios *IOStreams, runF func(context.Context, *groupsEditOptions) error) *cobra.Command {
	opts := &groupsEditOptions{}
	cmd := &cobra.Command{
		Use:     "edit NAME",
		Short:   "Change a group's stacks or sources, stack rule, packs, levels, name or mode",
		Example: "  warden groups edit production --add-stack payments/live --set-level aws-foundations=mandatory",
		Args:    exactArgs(1, "groups edit needs a group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.ruleSet = cmd.Flags().Changed("stack-rule")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return groupsEditRun(ios, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the current directory)")
	f.StringArrayVar(&opts.AddStacks, "add-stack", nil, "stack to select (repeatable)")
	f.StringArrayVar(&opts.RemoveStacks, "remove-stack", nil, "stack to stop selecting (repeatable)")
	f.StringArrayVar(&opts.AddPacks, "add-pack", nil, "pack to add, NAME or NAME@RANGE (repeatable)")
	f.StringArrayVar(&opts.RemovePacks, "remove-pack", nil, "pack to remove (repeatable)")
	f.StringArrayVar(&opts.SetLevels, "set-level", nil, "PACK=LEVEL: the enforcement level of a pack of the group (repeatable)")
	f.StringVar(&opts.Rule, "stack-rule", "", "replace the stack-tag rule (empty removes it)")
	f.StringArrayVar(&opts.AddSources, "add-source", nil, "audit source to add: a stack export file or file:// backend folder (repeatable)")
	f.StringArrayVar(&opts.RemoveSources, "remove-source", nil, "audit source to remove (repeatable)")
	f.StringVar(&opts.Rename, "rename", "", "new name for the group")
	f.StringVar(&opts.Mode, "mode", "", "switch the group to preventative or audit (not for default groups)")
	return cmd
}

func groupsEditRun(ios *IOStreams, opts *groupsEditOptions) error {
	dir, err := homeDir(opts.Home)
	if err != nil {
		return err
	}
	c := home.GroupChange{
		Rename: opts.Rename, Mode: home.Mode(opts.Mode),
		AddStacks: opts.AddStacks, RemoveStacks: opts.RemoveStacks,
		AddSources: opts.AddSources, RemoveSources: opts.RemoveSources,
		RemovePacks: opts.RemovePacks,
	}
	if opts.Mode != "" && c.Mode != home.Preventative && c.Mode != home.Audit {
		return &FlagError{Err: fmt.Errorf("--mode %q: want %s or %s", opts.Mode, home.Preventative, home.Audit)}
	}
	if opts.ruleSet {
		c.Rule = &opts.Rule
	}
	for _, p := range opts.AddPacks {
		ref, err := packRef(p, "")
		if err != nil {
			return err
		}
		c.AddPacks = append(c.AddPacks, ref)
	}
	for _, sl := range opts.SetLevels {
		name, level, ok := strings.Cut(sl, "=")
		if !ok {
			return &FlagError{Err: fmt.Errorf("--set-level %q: want PACK=LEVEL", sl)}
		}
		if err := checkLevel(level); err != nil {
			return err
		}
		c.Levels = append(c.Levels, home.PackRef{Name: name, Level: spec.Level(level)})
	}
	return editHome(ios, dir, "edited group "+opts.Name, func(e *home.Editor, h *home.Home) error {
		return e.ChangeGroup(h, opts.Name, c)
	})
}

type groupsRemoveOptions struct {
	Home, Name string
}

func newCmdGroupsRemove(ios *IOStreams, runF func(context.Context, *groupsRemoveOptions) error) *cobra.Command {
	opts := &groupsRemoveOptions{}
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Short:   "Remove a group (default groups cannot be removed)",
		Example: "  warden groups remove staging",
		Args:    exactArgs(1, "groups remove needs a group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return groupsRemoveRun(ios, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the current directory)")
	return cmd
}

func groupsRemoveRun(ios *IOStreams, opts *groupsRemoveOptions) error {
	dir, err := homeDir(opts.Home)
	if err != nil {
		return err
	}
	return editHome(ios, dir, "removed group "+opts.Name, func(e *home.Editor, h *home.Home) error {
		return e.RemoveGroup(h, opts.Name)
	})
}

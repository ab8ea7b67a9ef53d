package commands

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

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

// packEntryNode is {pack: NAME, version: RANGE, enforcementLevel: LEVEL}.
func packEntryNode(ref, level string) (*yaml.Node, error) {
	name, rng, _ := strings.Cut(ref, "@")
	if name == "" {
		return nil, &FlagError{Err: fmt.Errorf("--pack %q: want NAME or NAME@RANGE", ref)}
	}
	n := home.Mapping("pack", name)
	if rng != "" {
		home.MapSet(n, "version", home.Scalar(rng))
	}
	if level != "" {
		if err := checkLevel(level); err != nil {
			return nil, err
		}
		home.MapSet(n, "enforcementLevel", home.Scalar(level))
	}
	n.Style = yaml.FlowStyle
	return n, nil
}

type groupsNewOptions struct {
	Home, Name, Mode, Rule string
	Stacks, Sources, Packs []string
	Levels                 []string
}

func newCmdGroupsNew(ios *IOStreams) *cobra.Command {
	opts := &groupsNewOptions{}
	cmd := &cobra.Command{
		Use:   "new NAME --mode preventative|audit",
		Short: "Add a policy group to the home",
		Example: "  warden groups new production --stack '*/prod' --pack aws-foundations --level mandatory\n" +
			"  warden groups new nightly --mode audit --source file://../state --pack kubernetes-baseline",
		Args: exactArgs(1, "groups new needs a group name"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Name = args[0]
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
	return editHome(ios, dir, "added group "+opts.Name, func(e *home.Editor, h *home.Home) error {
		if slices.ContainsFunc(h.Groups, func(g *home.Group) bool { return g.Name == opts.Name }) {
			return &InputError{Err: fmt.Errorf("group %q already exists", opts.Name)}
		}
		g := home.Mapping("name", opts.Name, "mode", opts.Mode)
		if len(opts.Stacks) > 0 {
			s := home.Seq(opts.Stacks...)
			s.Style = yaml.FlowStyle
			home.MapSet(g, "stacks", s)
		}
		if opts.Rule != "" {
			home.MapSet(g, "stackRule", home.Scalar(opts.Rule))
		}
		if len(opts.Sources) > 0 {
			s := home.Seq(opts.Sources...)
			s.Style = yaml.FlowStyle
			home.MapSet(g, "sources", s)
		}
		packs := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i, p := range opts.Packs {
			level := ""
			switch {
			case len(opts.Levels) == 1:
				level = opts.Levels[0]
			case len(opts.Levels) > 1:
				level = opts.Levels[i]
			}
			n, err := packEntryNode(p, level)
			if err != nil {
				return err
			}
			packs.Content = append(packs.Content, n)
		}
		home.MapSet(g, "packs", packs)
		return e.AddGroup(g)
	})
}

type groupsEditOptions struct {
	Home, Name, Rename, Rule, Mode   string
	AddStacks, RemoveStacks          []string
	AddSources, RemoveSources        []string
	AddPacks, RemovePacks, SetLevels []string
	ruleSet                          bool
}

func newCmdGroupsEdit(ios *IOStreams) *cobra.Command {
	opts := &groupsEditOptions{}
	cmd := &cobra.Command{
		Use:     "edit NAME",
		Short:   "Change a group's stacks or sources, stack rule, packs, levels, name or mode",
		Example: "  warden groups edit production --add-stack payments/live --set-level aws-foundations=mandatory",
		Args:    exactArgs(1, "groups edit needs a group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.ruleSet = cmd.Flags().Changed("stack-rule")
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
	return editHome(ios, dir, "edited group "+opts.Name, func(e *home.Editor, h *home.Home) error {
		i := slices.IndexFunc(h.Groups, func(g *home.Group) bool { return g.Name == opts.Name })
		if i < 0 {
			return &InputError{Err: fmt.Errorf("no group %q (warden groups list shows them)", opts.Name)}
		}
		g := h.Groups[i]
		if opts.Rename != "" {
			if g.Default {
				return &InputError{Err: fmt.Errorf("group %q is a default group: default groups cannot be renamed", g.Name)}
			}
			if slices.ContainsFunc(h.Groups, func(o *home.Group) bool { return o.Name == opts.Rename }) {
				return &InputError{Err: fmt.Errorf("group %q already exists", opts.Rename)}
			}
		}
		mode := g.Mode
		if opts.Mode != "" {
			m := home.Mode(opts.Mode)
			if m != home.Preventative && m != home.Audit {
				return &FlagError{Err: fmt.Errorf("--mode %q: want %s or %s", opts.Mode, home.Preventative, home.Audit)}
			}
			if g.Default && m != g.Mode {
				return &InputError{Err: fmt.Errorf("group %q is a default group: default groups cannot be switched to another mode", g.Name)}
			}
			mode = m
		}
		if mode == home.Audit && (len(opts.AddStacks) > 0 || opts.ruleSet) {
			return &FlagError{Err: fmt.Errorf("group %q is an audit group: it selects sources, not stacks", g.Name)}
		}
		if mode != home.Audit && len(opts.AddSources) > 0 {
			return &FlagError{Err: fmt.Errorf("group %q is a preventative group: --add-source is for audit groups", g.Name)}
		}
		return e.EditGroup(opts.Name, func(n *yaml.Node) error {
			if opts.Rename != "" {
				home.MapSet(n, "name", home.Scalar(opts.Rename))
			}
			if mode != g.Mode {
				home.MapSet(n, "mode", home.Scalar(string(mode)))
			}
			if err := editList(n, "stacks", opts.AddStacks, opts.RemoveStacks, "group %q does not select stack %q", opts.Name); err != nil {
				return err
			}
			if err := editList(n, "sources", opts.AddSources, opts.RemoveSources, "group %q has no source %q", opts.Name); err != nil {
				return err
			}
			if opts.ruleSet {
				if opts.Rule == "" {
					home.MapDelete(n, "stackRule")
				} else {
					home.MapSet(n, "stackRule", home.Scalar(opts.Rule))
				}
			}
			packs := home.MapGet(n, "packs")
			if packs == nil {
				packs = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
				home.MapSet(n, "packs", packs)
			}
			entryName := func(c *yaml.Node) string {
				if c.Kind == yaml.ScalarNode {
					return c.Value
				}
				if p := home.MapGet(c, "pack"); p != nil {
					return p.Value
				}
				return ""
			}
			for _, p := range opts.RemovePacks {
				before := len(packs.Content)
				packs.Content = slices.DeleteFunc(packs.Content, func(c *yaml.Node) bool { return entryName(c) == p })
				if len(packs.Content) == before {
					return &InputError{Err: fmt.Errorf("group %q has no pack %q", opts.Name, p)}
				}
			}
			for _, p := range opts.AddPacks {
				entry, err := packEntryNode(p, "")
				if err != nil {
					return err
				}
				packs.Content = append(packs.Content, entry)
			}
			for _, sl := range opts.SetLevels {
				name, level, ok := strings.Cut(sl, "=")
				if !ok {
					return &FlagError{Err: fmt.Errorf("--set-level %q: want PACK=LEVEL", sl)}
				}
				if err := checkLevel(level); err != nil {
					return err
				}
				j := slices.IndexFunc(packs.Content, func(c *yaml.Node) bool { return entryName(c) == name })
				if j < 0 {
					return &InputError{Err: fmt.Errorf("group %q has no pack %q", opts.Name, name)}
				}
				if packs.Content[j].Kind == yaml.ScalarNode {
					packs.Content[j] = home.Mapping("pack", name)
					packs.Content[j].Style = yaml.FlowStyle
				}
				home.MapSet(packs.Content[j], "enforcementLevel", home.Scalar(level))
			}
			return nil
		})
	})
}

func newCmdGroupsRemove(ios *IOStreams) *cobra.Command {
	var dirFlag string
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Short:   "Remove a group (default groups cannot be removed)",
		Example: "  warden groups remove staging",
		Args:    exactArgs(1, "groups remove needs a group name"),
		RunE: func(_ *cobra.Command, args []string) error {
			dir, err := homeDir(dirFlag)
			if err != nil {
				return err
			}
			return editHome(ios, dir, "removed group "+args[0], func(e *home.Editor, h *home.Home) error {
				i := slices.IndexFunc(h.Groups, func(g *home.Group) bool { return g.Name == args[0] })
				if i < 0 {
					return &InputError{Err: fmt.Errorf("no group %q (warden groups list shows them)", args[0])}
				}
				if h.Groups[i].Default {
					return &InputError{Err: fmt.Errorf("group %q is a default group: default groups cannot be removed", args[0])}
				}
				return e.RemoveGroup(args[0])
			})
		},
	}
	cmd.Flags().StringVar(&dirFlag, "home", "", "policy home (default: $WARDEN_HOME, else the current directory)")
	return cmd
}

// editList adds and removes the scalar items of the flow list under key,
// creating it when an item is added and deleting it when it empties.
func editList(n *yaml.Node, key string, add, remove []string, missing, group string) error {
	if len(add)+len(remove) == 0 {
		return nil
	}
	list := home.MapGet(n, key)
	if list == nil {
		list = home.Seq()
		list.Style = yaml.FlowStyle
		home.MapSet(n, key, list)
	}
	for _, s := range remove {
		before := len(list.Content)
		list.Content = slices.DeleteFunc(list.Content, func(c *yaml.Node) bool { return c.Value == s })
		if len(list.Content) == before {
			return &InputError{Err: fmt.Errorf(missing, group, s)}
		}
	}
	for _, s := range add {
		list.Content = append(list.Content, home.Scalar(s))
	}
	if len(list.Content) == 0 {
		home.MapDelete(n, key)
	}
	return nil
}

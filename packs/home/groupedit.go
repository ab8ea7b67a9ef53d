package home

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/warden-policy/warden/packs/spec"
)

// Typed edits of a home's groups: what the CLI's groups and packs commands
// do, and what the ledger and the console will do, in the terms of the
// model rather than of yaml.Nodes. Each checks the request against the
// home as loaded (Pulumi Cloud's rules: default groups cannot be removed,
// renamed or switched to another mode; sources belong to audit groups,
// stacks to preventative ones) and then rewrites the one group it changes.

// BadEditError is an edit that does not make sense for this home (a group
// that does not exist, one that already does, a default group removed):
// the file is unchanged.
type BadEditError struct{ Err error }

func (e *BadEditError) Error() string { return e.Err.Error() }
func (e *BadEditError) Unwrap() error { return e.Err }

func badEdit(format string, args ...any) error {
	return &BadEditError{Err: fmt.Errorf(format, args...)}
}

// PackRef is a pack entry as an edit names it: NAME, NAME@RANGE, and the
// enforcement level for every policy of the pack ("" for the pack's own).
type PackRef struct {
	Name, Range string
	Level       spec.Level
}

// ParsePackRef reads NAME or NAME@RANGE.
func ParsePackRef(s string) (PackRef, error) {
	name, rng, _ := strings.Cut(s, "@")
	if name == "" {
		return PackRef{}, badEdit("%q: want NAME or NAME@RANGE", s)
	}
	return PackRef{Name: name, Range: rng}, nil
}

func (p PackRef) node() (*yaml.Node, error) {
	if p.Level != "" && !p.Level.Valid() {
		return nil, badEdit("level %q: want advisory, mandatory, remediate or disabled", p.Level)
	}
	n := mapping("pack", p.Name)
	if p.Range != "" {
		mapSet(n, "version", scalar(p.Range))
	}
	if p.Level != "" {
		mapSet(n, "enforcementLevel", scalar(string(p.Level)))
	}
	n.Style = yaml.FlowStyle
	return n, nil
}

// NewGroup is a group to add.
type NewGroup struct {
	Name    string
	Mode    Mode
	Stacks  []string // preventative groups
	Rule    string   // stackRule, preventative groups
	Sources []string // audit groups
	Packs   []PackRef
}

// AddGroup adds g after the home's last group.
func (e *Editor) AddGroup(h *Home, g NewGroup) error {
	if h.group(g.Name) != nil {
		return badEdit("group %q already exists", g.Name)
	}
	n := mapping("name", g.Name, "mode", string(g.Mode))
	if len(g.Stacks) > 0 {
		mapSet(n, "stacks", flowSeq(g.Stacks))
	}
	if g.Rule != "" {
		mapSet(n, "stackRule", scalar(g.Rule))
	}
	if len(g.Sources) > 0 {
		mapSet(n, "sources", flowSeq(g.Sources))
	}
	packs := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, p := range g.Packs {
		pn, err := p.node()
		if err != nil {
			return err
		}
		packs.Content = append(packs.Content, pn)
	}
	mapSet(n, "packs", packs)
	return e.addGroupNode(n)
}

// GroupChange is an edit of one group; what is left zero stays as it is.
type GroupChange struct {
	Rename string
	Mode   Mode
	// Rule, when not nil, replaces the stack rule; "" removes it.
	Rule                      *string
	AddStacks, RemoveStacks   []string
	AddSources, RemoveSources []string
	AddPacks                  []PackRef
	RemovePacks               []string
	// Levels sets the enforcement level of packs the group runs, in order.
	Levels []PackRef
}

// ChangeGroup applies c to the group name.
func (e *Editor) ChangeGroup(h *Home, name string, c GroupChange) error {
	g := h.group(name)
	if g == nil {
		return badEdit("no group %q (warden groups list shows them)", name)
	}
	if c.Rename != "" {
		if g.Default {
			return badEdit("group %q is a default group: default groups cannot be renamed", name)
		}
		if h.group(c.Rename) != nil {
			return badEdit("group %q already exists", c.Rename)
		}
	}
	mode := g.Mode
	if c.Mode != "" {
		if c.Mode != Preventative && c.Mode != Audit {
			return badEdit("mode %q: want %s or %s", c.Mode, Preventative, Audit)
		}
		if g.Default && c.Mode != g.Mode {
			return badEdit("group %q is a default group: default groups cannot be switched to another mode", name)
		}
		mode = c.Mode
	}
	if mode == Audit && (len(c.AddStacks) > 0 || c.Rule != nil) {
		return badEdit("group %q is an audit group: it selects sources, not stacks", name)
	}
	if mode != Audit && len(c.AddSources) > 0 {
		return badEdit("group %q is a preventative group: sources are for audit groups", name)
	}
	for _, l := range c.Levels {
		if !l.Level.Valid() {
			return badEdit("level %q: want advisory, mandatory, remediate or disabled", l.Level)
		}
	}
	return e.editGroupNode(name, func(n *yaml.Node) error {
		if c.Rename != "" {
			mapSet(n, "name", scalar(c.Rename))
		}
		if mode != g.Mode {
			mapSet(n, "mode", scalar(string(mode)))
		}
		if err := editList(n, "stacks", c.AddStacks, c.RemoveStacks, "group %q does not select stack %q", name); err != nil {
			return err
		}
		if err := editList(n, "sources", c.AddSources, c.RemoveSources, "group %q has no source %q", name); err != nil {
			return err
		}
		if c.Rule != nil {
			if *c.Rule == "" {
				mapDelete(n, "stackRule")
			} else {
				mapSet(n, "stackRule", scalar(*c.Rule))
			}
		}
		packs := mapGet(n, "packs")
		if packs == nil {
			packs = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			mapSet(n, "packs", packs)
		}
		for _, p := range c.RemovePacks {
			before := len(packs.Content)
			packs.Content = slices.DeleteFunc(packs.Content, func(c *yaml.Node) bool { return entryName(c) == p })
			if len(packs.Content) == before {
				return badEdit("group %q has no pack %q", name, p)
			}
		}
		for _, p := range c.AddPacks {
			if slices.ContainsFunc(packs.Content, func(c *yaml.Node) bool { return entryName(c) == p.Name }) {
				return badEdit("group %q already runs %s", name, p.Name)
			}
			pn, err := p.node()
			if err != nil {
				return err
			}
			packs.Content = append(packs.Content, pn)
		}
		for _, l := range c.Levels {
			j := slices.IndexFunc(packs.Content, func(c *yaml.Node) bool { return entryName(c) == l.Name })
			if j < 0 {
				return badEdit("group %q has no pack %q", name, l.Name)
			}
			if packs.Content[j].Kind == yaml.ScalarNode {
				packs.Content[j] = mapping("pack", l.Name)
				packs.Content[j].Style = yaml.FlowStyle
			}
			mapSet(packs.Content[j], "enforcementLevel", scalar(string(l.Level)))
		}
		return nil
	})
}

// RemoveGroup removes the group name; default groups stay.
func (e *Editor) RemoveGroup(h *Home, name string) error {
	g := h.group(name)
	if g == nil {
		return badEdit("no group %q (warden groups list shows them)", name)
	}
	if g.Default {
		return badEdit("group %q is a default group: default groups cannot be removed", name)
	}
	return e.removeGroupNode(name)
}

// DefaultPreventative is the name of the home's default preventative group,
// where a pack added without a group goes.
func (h *Home) DefaultPreventative() (string, error) {
	for _, g := range h.Groups {
		if g.Default && g.Mode == Preventative {
			return g.Name, nil
		}
	}
	return "", badEdit("the home has no default preventative group: name one")
}

func (h *Home) group(name string) *Group {
	i := slices.IndexFunc(h.Groups, func(g *Group) bool { return g.Name == name })
	if i < 0 {
		return nil
	}
	return h.Groups[i]
}

// entryName is the pack a group's pack entry names, written as a bare
// name or as {pack: NAME, ...}.
func entryName(c *yaml.Node) string {
	if c.Kind == yaml.ScalarNode {
		return c.Value
	}
	if p := mapGet(c, "pack"); p != nil {
		return p.Value
	}
	return ""
}

// editList adds and removes the scalar items of the flow list under key,
// creating it when an item is added and deleting it when it empties.
func editList(n *yaml.Node, key string, add, remove []string, missing, group string) error {
	if len(add)+len(remove) == 0 {
		return nil
	}
	list := mapGet(n, key)
	if list == nil {
		list = flowSeq(nil)
		mapSet(n, key, list)
	}
	for _, s := range remove {
		before := len(list.Content)
		list.Content = slices.DeleteFunc(list.Content, func(c *yaml.Node) bool { return c.Value == s })
		if len(list.Content) == before {
			return badEdit(missing, group, s)
		}
	}
	for _, s := range add {
		list.Content = append(list.Content, scalar(s))
	}
	if len(list.Content) == 0 {
		mapDelete(n, key)
	}
	return nil
}

func flowSeq(items []string) *yaml.Node {
	s := seq(items...)
	s.Style = yaml.FlowStyle
	return s
}

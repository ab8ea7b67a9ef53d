package home

import (
	"fmt"
	"strings"
)

// Ungoverned explains why the home governs no stack during preview and
// update, as warnings for a person; it returns nil when some preventative
// group selects stacks (default, stacks or stackRule) and runs a pack.
//
// Such a home is valid, so loading it is no error, yet with it every
// deployment passes unchecked: the analyzer plugin, warden validate and
// warden analyze all print these warnings, and an edit that would turn a
// governed home into one like this is refused.
func (h *Home) Ungoverned() []string {
	where := h.File
	if where == "" {
		where = "the policy home"
	}
	const consequence = "no policy runs during pulumi preview or up of any stack"
	var preventative, selecting []*Group
	for _, g := range h.Groups {
		if g.Mode != Preventative {
			continue
		}
		preventative = append(preventative, g)
		if g.Default || len(g.Stacks) > 0 || g.Rule != nil {
			selecting = append(selecting, g)
		}
	}
	switch {
	case len(preventative) == 0:
		return []string{fmt.Sprintf("%s has no preventative group: %s (add one with default: true)", where, consequence)}
	case len(selecting) == 0:
		return []string{fmt.Sprintf("%s: no preventative group selects a stack (none has default: true, stacks or a stackRule): %s",
			where, consequence)}
	}
	var names []string
	for _, g := range selecting {
		if len(g.Packs) > 0 {
			return nil
		}
		names = append(names, g.Name)
	}
	return []string{fmt.Sprintf("%s: the preventative groups that select stacks (%s) run no packs: %s",
		where, strings.Join(names, ", "), consequence)}
}

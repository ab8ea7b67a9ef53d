package home

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/warden-policy/warden/packs/spec"
)

// Editor changes a home's warden.yaml the way a person would: only the
// group it touches is rewritten; every other byte (comments, key order,
// formatting, other groups) stays as it was. Every change is validated by
// loading the result before anything is written, and the file is replaced
// atomically, so a failed edit leaves it untouched.
//
// Each text is parsed once: the file as read, then each edit's result,
// whose document serves the check that the edit changed only its group,
// the next edit and the final validation alike.
type Editor struct {
	Dir  string
	File string
	src  []byte
	doc  *yaml.Node // src's document, nil until parsed (see node)
	orig []byte     // the text as read, to compare the edit with
	// origHome is the home as read, once loaded (by Home before any edit).
	origHome *Home
	at       spec.Pos // the group last edited, where a refusal points
	parses   int      // texts parsed, for the test that each is parsed once
}

// OpenEditor reads dir/warden.yaml for editing. Edit opens one under the
// home's lock and writes the result; an Editor opened directly can only
// preview an edit.
func OpenEditor(dir string) (*Editor, error) {
	file := filepath.Join(dir, File)
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	return &Editor{Dir: dir, File: file, src: src, orig: src, at: spec.Pos{File: file}}, nil
}

// Source is the current text, edits included.
func (e *Editor) Source() []byte { return e.src }

// node is the current text's document, parsed on first use.
func (e *Editor) node() (*yaml.Node, error) {
	if e.doc == nil {
		doc, err := e.parse()
		if err != nil {
			return nil, err
		}
		e.doc = doc
	}
	return e.doc, nil
}

// parse parses the current text.
func (e *Editor) parse() (*yaml.Node, error) {
	e.parses++
	var doc yaml.Node
	if err := spec.ParseYAML(e.File, e.src, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// setSource replaces the current text; doc is its document if known.
func (e *Editor) setSource(src []byte, doc *yaml.Node) { e.src, e.doc = src, doc }

// Home loads the current text.
func (e *Editor) Home() (*Home, error) {
	doc, err := e.node()
	if err != nil {
		return nil, err
	}
	h, err := parseDoc(e.Dir, e.File, e.src, doc)
	if err == nil && bytes.Equal(e.src, e.orig) {
		e.origHome = h
	}
	return h, err
}

// save validates the current text and writes it atomically; Edit calls it
// under the home's lock. An edit that turns a home governing some stack
// into one governing none (its last preventative group removed, or
// switched to audit, or emptied) is refused: that would let every
// deployment through unchecked without anyone asking for it. A home that
// governed nothing before may be edited freely, so it can be repaired.
func (e *Editor) save() error {
	h, err := e.Home()
	if err != nil {
		return &InvalidEditError{File: e.File, Errs: err}
	}
	if w := h.Ungoverned(); len(w) > 0 {
		old := e.origHome
		if old == nil {
			old, _ = Parse(e.Dir, e.File, e.orig)
		}
		if old != nil && old.Ungoverned() == nil {
			return &RefusedError{Pos: e.at, Msg: "refused, nothing was written: after this edit " + w[0]}
		}
	}
	return writeFileAtomic(e.File, e.src)
}

// InvalidEditError is an edit whose result does not load; nothing was
// written. Errs (usually a spec.ErrorList) points into the edited text,
// not into the file on disk, which is unchanged.
type InvalidEditError struct {
	File string
	Errs error
}

func (e *InvalidEditError) Error() string {
	return fmt.Sprintf("the edit would make %s invalid, so it was not written: %v", e.File, e.Errs)
}

func (e *InvalidEditError) Unwrap() error { return e.Errs }

// ErrNoGroup is returned for a group the home does not have.
var ErrNoGroup = errors.New("no such group")

// RefusedError is an edit the editor will not make because it cannot make
// it safely: the file is written in a shape it does not splice (flow-style
// groups), or the result would change more than the edit asked for, or it
// would leave the home governing nothing. Nothing is written; Pos says
// where in warden.yaml the problem is, so a person can edit it by hand.
type RefusedError struct {
	Pos spec.Pos
	Msg string
}

func (e *RefusedError) Error() string { return e.Pos.String() + ": " + e.Msg }

type located struct {
	root   *yaml.Node // the document's mapping
	groups *yaml.Node // the groups sequence, nil if absent
	key    *yaml.Node // the groups key
}

func (e *Editor) locate() (*located, error) {
	doc, err := e.node()
	if err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s is not a mapping", e.File)
	}
	l := &located{root: doc.Content[0]}
	for i := 0; i+1 < len(l.root.Content); i += 2 {
		if l.root.Content[i].Value == "groups" {
			l.key, l.groups = l.root.Content[i], l.root.Content[i+1]
		}
	}
	if err := e.spliceable(l); err != nil {
		return nil, err
	}
	return l, nil
}

// spliceable refuses a groups list the line splicer cannot edit: it
// rewrites whole lines, one group per "- " item, so groups must be a block
// list (or the empty "groups: []", which addGroupNode turns into one). In a
// flow list every group can share a line with "groups:" and with each
// other; splicing there once removed them all.
func (e *Editor) spliceable(l *located) error {
	g := l.groups
	switch {
	case g == nil:
		return nil
	case g.Kind == yaml.SequenceNode && g.Style&yaml.FlowStyle != 0 && len(g.Content) > 0:
		return &RefusedError{Pos: e.pos(g), Msg: "groups is written in flow style ([{name: ...}, ...]): " +
			"warden edits only a block list, one \"- name: ...\" item per group; rewrite it that way or edit it by hand"}
	case g.Kind != yaml.SequenceNode:
		return &RefusedError{Pos: e.pos(g), Msg: "groups is not written as a list (an alias or a tag?): " +
			"warden edits only a block list, one \"- name: ...\" item per group; edit it by hand"}
	}
	for _, item := range g.Content {
		if item.Kind != yaml.MappingNode {
			return &RefusedError{Pos: e.pos(item), Msg: "this group is not written as a mapping (an alias?): edit it by hand"}
		}
	}
	return nil
}

func (e *Editor) pos(n *yaml.Node) spec.Pos {
	return spec.Pos{File: e.File, Line: n.Line, Col: n.Column}
}

// lines splits the source keeping line ends.
func (e *Editor) lines() []string {
	return strings.SplitAfter(string(e.src), "\n")
}

// itemRange is the 0-based line range [from, to) of group i: from its
// "- " line to the line before the next group, less trailing blank and
// comment lines (those belong to what follows).
func (e *Editor) itemRange(l *located, i int) (int, int) {
	lines := e.lines()
	from := l.groups.Content[i].Line - 1
	to := len(lines)
	if i+1 < len(l.groups.Content) {
		to = l.groups.Content[i+1].Line - 1
	} else {
		// The next top-level key after groups, if any.
		for k := 0; k+1 < len(l.root.Content); k += 2 {
			if n := l.root.Content[k]; n.Line-1 > from && n.Line-1 < to {
				to = n.Line - 1
			}
		}
	}
	for to > from+1 {
		t := strings.TrimSpace(lines[to-1])
		if t != "" && !strings.HasPrefix(t, "#") {
			break
		}
		to--
	}
	return from, to
}

// ownComments extends the end of group i's range over the comment lines
// right after it that are indented inside it (a commented-out pack entry):
// they belong to the group, not to what follows. Edits leave them in
// place; removing the group removes them, and a group added after it goes
// below them.
func (e *Editor) ownComments(l *located, i, to int) int {
	lines := e.lines()
	dashCol := l.groups.Content[i].Column - 3
	for to < len(lines) {
		t := strings.TrimLeft(lines[to], " ")
		if !strings.HasPrefix(t, "#") || len(lines[to])-len(t) <= dashCol {
			break
		}
		to++
	}
	return to
}

// stripOuterComments drops the comments yaml.v3 attaches above and below
// an item: those lines stay in the source, outside the range an edit
// rewrites, and must not be written twice.
func stripOuterComments(n *yaml.Node) {
	n.HeadComment = ""
	if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
		n.Content[0].HeadComment = ""
	}
	for cur := n; cur != nil; {
		cur.FootComment = ""
		if len(cur.Content) == 0 {
			break
		}
		if cur.Kind == yaml.MappingNode && len(cur.Content) >= 2 {
			// yaml.v3 keeps a pair's trailing comment on its key.
			cur.Content[len(cur.Content)-2].FootComment = ""
		}
		cur = cur.Content[len(cur.Content)-1]
	}
}

// encodeItem renders a group mapping as a sequence item at the given
// column of its dash.
func encodeItem(n *yaml.Node, dashCol int) (string, error) {
	stripOuterComments(n)
	seq := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{n}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(seq); err != nil {
		return "", err
	}
	enc.Close()
	pad := strings.Repeat(" ", dashCol)
	var out strings.Builder
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		if strings.TrimSpace(line) != "" {
			out.WriteString(pad)
		}
		out.WriteString(line)
	}
	return out.String(), nil
}

func (e *Editor) splice(from, to int, text string) {
	lines := e.lines()
	var b strings.Builder
	for _, l := range lines[:from] {
		b.WriteString(l)
	}
	if from > 0 && !strings.HasSuffix(lines[from-1], "\n") {
		b.WriteString("\n")
	}
	b.WriteString(text)
	for _, l := range lines[to:] {
		b.WriteString(l)
	}
	e.setSource([]byte(b.String()), nil)
}

func findGroup(l *located, name string) int {
	if l.groups == nil || l.groups.Kind != yaml.SequenceNode {
		return -1
	}
	for i, g := range l.groups.Content {
		for k := 0; k+1 < len(g.Content); k += 2 {
			if g.Content[k].Value == "name" && g.Content[k+1].Value == name {
				return i
			}
		}
	}
	return -1
}

// group locates the named group: the file's layout and the group's index.
func (e *Editor) group(name string) (*located, int, error) {
	l, err := e.locate()
	if err != nil {
		return nil, -1, err
	}
	i := findGroup(l, name)
	if i < 0 {
		return nil, -1, fmt.Errorf("%w %q in %s", ErrNoGroup, name, e.File)
	}
	return l, i, nil
}

// editGroupNode applies fn to the named group's mapping node and rewrites
// that group alone.
func (e *Editor) editGroupNode(name string, fn func(*yaml.Node) error) error {
	l, i, err := e.group(name)
	if err != nil {
		return err
	}
	before, err := e.snapshot()
	if err != nil {
		return err
	}
	node := l.groups.Content[i]
	e.at = e.pos(node)
	// Strip before fn: a key fn appends must not hide the trailing
	// comments of what was last, which live outside the rewritten range.
	stripOuterComments(node)
	if err := fn(node); err != nil {
		return err
	}
	from, to := e.itemRange(l, i)
	text, err := encodeItem(node, max(node.Column-3, 0))
	if err != nil {
		return err
	}
	e.splice(from, to, text)
	newName := name
	if n := mapGet(node, "name"); n != nil {
		newName = n.Value
	}
	return e.verify(before, e.pos(l.groups.Content[i]), name, func(old, cur []any) bool {
		return len(cur) == len(old) && groupName(cur[i]) == newName &&
			sameGroups(slices.Delete(slices.Clone(old), i, i+1), slices.Delete(slices.Clone(cur), i, i+1))
	})
}

// addGroupNode appends a group (a mapping node) after the last one.
func (e *Editor) addGroupNode(node *yaml.Node) error {
	at := spec.Pos{File: e.File}
	l, err := e.locate()
	if err != nil {
		return err
	}
	if l.key != nil {
		at = e.pos(l.key)
	}
	before, err := e.snapshot()
	if err != nil {
		return err
	}
	if err := e.appendGroup(l, node); err != nil {
		e.restore(before)
		return err
	}
	name := ""
	if n := mapGet(node, "name"); n != nil {
		name = n.Value
	}
	return e.verify(before, at, name, func(old, cur []any) bool {
		return len(cur) == len(old)+1 && groupName(cur[len(old)]) == name && sameGroups(old, cur[:len(old)])
	})
}

func (e *Editor) appendGroup(l *located, node *yaml.Node) error {
	switch {
	case l.groups == nil:
		text, err := encodeItem(node, 2)
		if err != nil {
			return err
		}
		src := string(e.src)
		if src != "" && !strings.HasSuffix(src, "\n") {
			src += "\n"
		}
		e.setSource([]byte(src+"groups:\n"+text), nil)
		return nil
	case l.groups.Kind == yaml.SequenceNode && len(l.groups.Content) > 0 && l.groups.Style&yaml.FlowStyle == 0:
		last := len(l.groups.Content) - 1
		_, to := e.itemRange(l, last)
		to = e.ownComments(l, last, to)
		text, err := encodeItem(node, max(l.groups.Content[last].Column-3, 0))
		if err != nil {
			return err
		}
		// A blank line after the last group separates it from what follows:
		// keep that separation on both sides of the new one.
		if lines := e.lines(); to < len(lines) && strings.TrimSpace(lines[to]) == "" {
			text = "\n" + text
		}
		e.splice(to, to, text)
		return nil
	case l.groups.Kind == yaml.SequenceNode && len(l.groups.Content) == 0:
		// groups: [] on one line: becomes a block list.
		line := l.key.Line - 1
		text, err := encodeItem(node, l.key.Column+1)
		if err != nil {
			return err
		}
		e.splice(line, line+1, strings.Repeat(" ", l.key.Column-1)+"groups:\n"+text)
		return nil
	}
	return &RefusedError{Pos: e.pos(l.groups), Msg: "groups cannot be appended to here: edit it by hand"}
}

// removeGroupNode deletes a group and nothing else.
func (e *Editor) removeGroupNode(name string) error {
	l, i, err := e.group(name)
	if err != nil {
		return err
	}
	e.at = e.pos(l.groups.Content[i])
	from, to := e.itemRange(l, i)
	to = e.ownComments(l, i, to)
	lines := e.lines()
	// So do the comment lines right above it, with the blank line that
	// separated it from the one before.
	for from > 0 && strings.HasPrefix(strings.TrimSpace(lines[from-1]), "#") && from-1 >= l.key.Line {
		from--
	}
	if from > 0 && strings.TrimSpace(lines[from-1]) == "" && from-1 >= l.key.Line {
		from--
	}
	before, err := e.snapshot()
	if err != nil {
		return err
	}
	e.splice(from, to, "")
	return e.verify(before, e.pos(l.groups.Content[i]), name, func(old, cur []any) bool {
		return sameGroups(slices.Delete(slices.Clone(old), i, i+1), cur)
	})
}

// snapshot is a text and what it decodes to, taken before an edit changes
// the document (an edit mutates the group's nodes), for verify to compare
// the result with.
type snapshot struct {
	src    []byte
	rest   map[string]any
	groups []any
}

func (e *Editor) snapshot() (*snapshot, error) {
	doc, err := e.node()
	if err != nil {
		return nil, err
	}
	rest, groups, err := splitGroups(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.File, err)
	}
	return &snapshot{src: e.src, rest: rest, groups: groups}, nil
}

// restore goes back to a snapshot's text; its document is parsed again if
// needed, since the edit may have changed the old one.
func (e *Editor) restore(s *snapshot) { e.setSource(s.src, nil) }

// verify parses the edited text (once: its document is the current one
// from then on) and checks that the edit changed what it was meant to and
// nothing else: everything outside groups is as before, and ok approves
// the old and new groups lists. The splicer works on lines, so a file laid
// out in a way it does not expect could otherwise lose or change other
// groups silently. When the check fails, the text goes back to before and
// the edit is refused.
func (e *Editor) verify(before *snapshot, at spec.Pos, group string, ok func(old, cur []any) bool) error {
	doc, err := e.parse()
	var rest map[string]any
	var cur []any
	if err == nil {
		rest, cur, err = splitGroups(doc)
	}
	if err != nil {
		e.restore(before)
		return &RefusedError{Pos: at, Msg: fmt.Sprintf("editing group %q would leave text that does not parse (%v): nothing was written; edit it by hand",
			group, strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	if !reflect.DeepEqual(before.rest, rest) || !ok(before.groups, cur) {
		e.restore(before)
		return &RefusedError{Pos: at, Msg: fmt.Sprintf("editing group %q would change more of %s than that group: nothing was written; edit it by hand",
			group, File)}
	}
	e.doc = doc
	return nil
}

// splitGroups decodes a warden.yaml document into its groups list and
// everything else.
func splitGroups(doc *yaml.Node) (map[string]any, []any, error) {
	var m map[string]any
	if doc.Kind != 0 {
		if err := doc.Decode(&m); err != nil {
			return nil, nil, err
		}
	}
	groups, _ := m["groups"].([]any)
	delete(m, "groups")
	return m, groups, nil
}

// sameGroups compares decoded groups lists; nil and empty are the same.
func sameGroups(a, b []any) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// groupName is the name of a decoded group, "" if it has none.
func groupName(g any) string {
	m, _ := g.(map[string]any)
	s, _ := m["name"].(string)
	return s
}

// Node helpers for edits.

// mapGet returns the value of key in a mapping node, or nil.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mapSet sets key to value in a mapping node, appending the key if new.
func mapSet(m *yaml.Node, key string, value *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = value
			return
		}
	}
	m.Content = append(m.Content, scalar(key), value)
}

// mapDelete removes key from a mapping node.
func mapDelete(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// scalar is a plain string node.
func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// seq is a block sequence of string nodes.
func seq(items ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, s := range items {
		n.Content = append(n.Content, scalar(s))
	}
	return n
}

// mapping is a block mapping of the given key/value pairs.
func mapping(pairs ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(pairs); i += 2 {
		v := pairs[i+1]
		var vn *yaml.Node
		switch v := v.(type) {
		case *yaml.Node:
			vn = v
		case string:
			vn = scalar(v)
		case bool:
			vn = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(v)}
		}
		n.Content = append(n.Content, scalar(pairs[i].(string)), vn)
	}
	return n
}

package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxYAMLDepth is how deeply the collections of a YAML file Warden reads may
// nest, counting through aliases. No pack, home or test file needs more than
// a few dozen levels; the bound keeps every recursive walk of the node tree
// (and the engine's values built from it) far from the Go stack limit.
const MaxYAMLDepth = 256

// maxAliasExpansion bounds how many nodes a document may expand to through
// aliases: ten times its own size, plus some slack for small files that
// reuse an anchor a few times. A billion-laughs file of a few hundred bytes
// expands to billions of nodes and is refused before anyone walks it.
func maxAliasExpansion(nodes int) int { return 10*nodes + 10_000 }

// ParseYAML is the one YAML decoder of Warden's files (pack.yaml, warden.yaml,
// the tests/*.yaml of a pack). It applies one rule to all of them, so a file
// that one loader refuses is not walked by another:
//
//   - exactly one document: a second one (after ---) is refused, not ignored;
//   - no alias that contains itself, and at most maxAliasExpansion nodes once
//     aliases are expanded;
//   - collections nest at most MaxYAMLDepth deep;
//   - mapping keys are scalars, unique, and not merge keys (<<), which
//     Warden's loaders never supported and would read as a literal key.
//
// Every refusal is a spec.ErrorList of one positioned error. When out is a
// *yaml.Node it receives the document node (as yaml.Unmarshal would fill
// it; Kind 0 for an empty file), otherwise the document is decoded into out.
func ParseYAML(file string, data []byte, out any) error {
	doc, err := parseYAMLDocument(file, data)
	if err != nil {
		return err
	}
	if n, ok := out.(*yaml.Node); ok {
		*n = *doc
		return nil
	}
	if doc.Kind == 0 {
		return nil
	}
	if err := doc.Decode(out); err != nil {
		// yaml.v3 type errors read "yaml: unmarshal errors:\n  line N: msg".
		pos, msg := Pos{File: file, Line: 1, Col: 1}, yamlMessage(err)
		if m := yamlTypeErrorRE.FindStringSubmatch(msg); m != nil {
			pos.Line, _ = strconv.Atoi(m[1])
			pos.Col, msg = 0, m[2]
		}
		return ErrorList{{Pos: pos, Code: CodeSchema, Msg: msg}}
	}
	return nil
}

var yamlTypeErrorRE = regexp.MustCompile(`(?m)^\s*line (\d+): (.*)$`)

func parseYAMLDocument(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &yaml.Node{}, nil // an empty file, or only comments
		}
		return nil, ErrorList{yamlSyntaxError(file, data, err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, ErrorList{yamlSyntaxError(file, data, err)}
	default:
		return nil, ErrorList{{Pos: secondDocumentPos(file, data, &next), Code: CodeSyntax,
			Msg: "a second YAML document: this file holds exactly one (remove the --- and what follows, or merge them)"}}
	}
	c := yamlChecker{file: file, memo: map[*yaml.Node]*nodeCost{}}
	nodes := c.count(&doc)
	cost, err := c.check(&doc)
	if err != nil {
		return nil, ErrorList{err}
	}
	if limit := maxAliasExpansion(nodes); cost.size > limit {
		return nil, ErrorList{{Pos: c.firstAlias, Code: CodeSyntax,
			Msg: fmt.Sprintf("aliases expand this document to more than %d nodes (it has %d): write the values out", limit, nodes)}}
	}
	return &doc, nil
}

// nodeCost is what a node weighs once its aliases are expanded: how many
// nodes, and how many collections deep.
type nodeCost struct {
	size  int // saturates at maxInt, so exponential aliasing cannot overflow
	depth int
	done  bool // false while the node is being walked: an alias to it is a cycle
}

const maxInt = int(^uint(0) >> 1)

// yamlChecker walks a node graph once. Each node's cost is remembered, so an
// anchor used a million times is walked once: the check is linear in the
// size of the file even when the expansion it measures is exponential.
type yamlChecker struct {
	file       string
	memo       map[*yaml.Node]*nodeCost
	firstAlias Pos
	walked     map[*yaml.Node]bool
}

// count is the number of distinct nodes in the file, aliases not expanded.
func (c *yamlChecker) count(n *yaml.Node) int {
	if c.walked == nil {
		c.walked = map[*yaml.Node]bool{}
	}
	total := 0
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == nil || c.walked[n] {
			continue
		}
		c.walked[n] = true
		total++
		stack = append(stack, n.Content...)
	}
	return total
}

func (c *yamlChecker) pos(n *yaml.Node) Pos { return Pos{File: c.file, Line: n.Line, Col: n.Column} }

func (c *yamlChecker) errorf(n *yaml.Node, format string, args ...any) *Error {
	return &Error{Pos: c.pos(n), Code: CodeSyntax, Msg: fmt.Sprintf(format, args...)}
}

// check returns the expanded cost of n, or the first rule n breaks. Its
// recursion is bounded by MaxYAMLDepth: a deeper node is refused before its
// children are visited.
func (c *yamlChecker) check(n *yaml.Node) (nodeCost, *Error) {
	return c.checkAt(n, 0)
}

func (c *yamlChecker) checkAt(n *yaml.Node, depth int) (nodeCost, *Error) {
	if m, ok := c.memo[n]; ok && m.done { // reached again: yaml.v3 shares no nodes but through aliases
		return *m, nil
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nodeCost{}, c.errorf(n, "unknown alias %q", n.Value)
		}
		if !c.firstAlias.IsValid() {
			c.firstAlias = c.pos(n)
		}
		if m, ok := c.memo[n.Alias]; ok {
			switch {
			case !m.done:
				return nodeCost{}, c.errorf(n, "alias *%s refers to the value that contains it: the value would be infinite", n.Value)
			case depth+m.depth > MaxYAMLDepth:
				return nodeCost{}, c.errorf(n, "values nest more than %d levels deep (through alias *%s)", MaxYAMLDepth, n.Value)
			}
			return *m, nil
		}
		cost, err := c.checkAt(n.Alias, depth)
		if err != nil {
			return nodeCost{}, err
		}
		return cost, nil
	}
	own := 0
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		own = 1
		if depth+1 > MaxYAMLDepth {
			return nodeCost{}, c.errorf(n, "values nest more than %d levels deep", MaxYAMLDepth)
		}
	}
	m := &nodeCost{}
	c.memo[n] = m
	if n.Kind == yaml.MappingNode {
		if err := c.keys(n); err != nil {
			return nodeCost{}, err
		}
	}
	size, deepest := 1, 0
	for _, child := range n.Content {
		cc, err := c.checkAt(child, depth+own)
		if err != nil {
			return nodeCost{}, err
		}
		size = addSat(size, cc.size)
		deepest = max(deepest, cc.depth)
	}
	*m = nodeCost{size: size, depth: deepest + own, done: true}
	return *m, nil
}

// keys refuses merge keys, non-scalar keys and duplicate keys of a mapping.
func (c *yamlChecker) keys(n *yaml.Node) *Error {
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		key := k
		if key.Kind == yaml.AliasNode && key.Alias != nil {
			key = key.Alias
		}
		switch {
		case key.Kind == yaml.ScalarNode && key.Tag == "!!merge":
			return c.errorf(k, "merge keys (<<) are not supported: write the keys out")
		case key.Kind != yaml.ScalarNode:
			return c.errorf(k, "a mapping key must be a string, not a list or mapping")
		}
		if prev, ok := seen[key.Value]; ok {
			return c.errorf(k, "duplicate key %q (first at line %d)", key.Value, prev.Line)
		}
		seen[key.Value] = k
	}
	return nil
}

func addSat(a, b int) int {
	if a > maxInt-b {
		return maxInt
	}
	return a + b
}

var yamlLinePrefixRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlSyntaxError positions a yaml.v3 error. yaml.v3 gives a line for most
// syntax errors and nothing for encoding errors; for those the offending byte
// is found here, so every error has at least a line.
func yamlSyntaxError(file string, data []byte, err error) *Error {
	pos := Pos{File: file}
	msg := err.Error()
	if m := yamlLinePrefixRE.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if pos.Line == 0 {
		pos.Line, pos.Col = badBytePos(data)
	}
	return &Error{Pos: pos, Code: CodeSyntax, Msg: "invalid YAML: " + msg}
}

func yamlMessage(err error) string {
	msg := err.Error()
	if m := yamlLinePrefixRE.FindStringSubmatch(msg); m != nil {
		return m[2]
	}
	return msg
}

// badBytePos is the line and column of the first byte YAML cannot read
// (invalid UTF-8, or a control character other than tab and line breaks),
// or 1:1 when there is none.
func badBytePos(data []byte) (line, col int) {
	line, col = 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if (r == utf8.RuneError && size <= 1) || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return line, col
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return 1, 1
}

// secondDocumentPos points at the --- that starts a second document, or at
// its first node when the marker cannot be found (a "..." end marker).
func secondDocumentPos(file string, data []byte, next *yaml.Node) Pos {
	line := next.Line
	if len(next.Content) > 0 {
		line = next.Content[0].Line
	}
	// The marker is the last "---" line at or before the document's content.
	lines := bytes.Split(data, []byte("\n"))
	for i := min(line, len(lines)) - 1; i >= 1; i-- {
		if l := bytes.TrimRight(lines[i], "\r"); bytes.HasPrefix(l, []byte("---")) &&
			(len(l) == 3 || l[3] == ' ' || l[3] == '\t') {
			return Pos{File: file, Line: i + 1, Col: 1}
		}
	}
	return Pos{File: file, Line: max(line, 1), Col: max(next.Column, 1)}
}

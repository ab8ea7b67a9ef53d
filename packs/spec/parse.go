package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ValidName reports whether s can name a pack or a policy: the engine's
// rule (NameRE), and not "." or "..", which the rule allows but which, as
// a pack's folder under packs/, would name another folder.
func ValidName(s string) bool { return NameRE.MatchString(s) && strings.Trim(s, ".") != "" }

var (
	// NameRE is the Pulumi engine's rule for pack names; Warden applies it to
	// policy names too, since they become --policy-pack-config keys.
	NameRE = regexp.MustCompile(`^[a-zA-Z0-9\-_.]{1,100}$`)
	// semverRE is the official semver 2.0.0 grammar (semver.org).
	semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
	// typeTokenRE accepts Pulumi type tokens pkg:module:Type, with * globs in
	// any segment (aws:s3/*:*, kubernetes:apps/v1:*).
	typeTokenRE = regexp.MustCompile(`^[a-zA-Z0-9_*\-]+:[a-zA-Z0-9_*\-./]*:[a-zA-Z0-9_*\-.]+$`)
)

// IsSemver reports whether v is a semver 2.0.0 version (no leading v).
func IsSemver(v string) bool { return semverRE.MatchString(v) }

// IsTypeToken reports whether t is a well-formed type token or token glob.
func IsTypeToken(t string) bool { return typeTokenRE.MatchString(t) }

// LoadPack reads dir/pack.yaml.
func LoadPack(dir string) (*Pack, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, ErrorList{{Pos: Pos{File: dir}, Code: CodeSchema, Msg: "not a pack directory (a pack is a directory with " + PackFile + ")"}}
	}
	return loadPack(filepath.Join(dir, PackFile), os.ReadFile)
}

// LoadPackFS reads dir/pack.yaml from fsys (the built-in packs are embedded).
func LoadPackFS(fsys fs.FS, dir string) (*Pack, error) {
	return loadPack(path.Join(dir, PackFile), func(name string) ([]byte, error) { return fs.ReadFile(fsys, name) })
}

func loadPack(file string, read func(string) ([]byte, error)) (*Pack, error) {
	data, err := read(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrorList{{Pos: Pos{File: file}, Code: CodeSchema, Msg: "no " + PackFile + " in pack directory"}}
		}
		return nil, fmt.Errorf("reading pack: %w", err)
	}
	return ParsePack(file, data)
}

// ParsePack parses and checks a pack manifest. The pack is returned even when
// there are errors (as far as it could be read), with every error in an
// ErrorList.
func ParsePack(file string, data []byte) (*Pack, error) {
	d := newDecoder(file, data)
	p := &Pack{File: file, Source: data}
	root := d.document()
	if root == nil {
		return p, d.errs.sorted()
	}
	p.Pos = d.pos(root)
	d.fields(root, "pack", func(key string, k, v *yaml.Node) {
		switch key {
		case "apiVersion":
			p.APIVersion = d.str(v)
		case "name":
			p.Name = d.str(v)
			d.pack = p.Name
		case "version":
			p.Version = d.str(v)
		case "description":
			p.Description = d.str(v)
		case "enforcementLevel":
			p.EnforcementLevel = d.level(v)
		case "tags":
			p.Tags = d.strList(v)
		case "policies":
			if d.kind(v, yaml.SequenceNode, "a list of policies") {
				for _, n := range v.Content {
					if pol := d.policy(n); pol != nil {
						p.Policies = append(p.Policies, pol)
					}
				}
			}
		default:
			d.unknownField(k, "pack", packFields)
		}
	})
	d.policyName = ""
	if p.APIVersion != "" && p.APIVersion != APIVersion {
		d.errorf(root, CodeInvalid, "apiVersion %q is not supported: this build reads %q", p.APIVersion, APIVersion)
	}
	d.require(root, "name", p.Name != "")
	d.require(root, "version", p.Version != "")
	if p.Name != "" && !ValidName(p.Name) {
		d.errorf(d.valueOf(root, "name"), CodeInvalid, "pack name %q must match %s and not be all dots", p.Name, NameRE)
	}
	if p.Version != "" && !IsSemver(p.Version) {
		d.errorf(d.valueOf(root, "version"), CodeInvalid, "version %q is not a semantic version (MAJOR.MINOR.PATCH)", p.Version)
	}
	if p.EnforcementLevel == "" {
		p.EnforcementLevel = Advisory
	}
	seen := map[string]*Policy{}
	for _, pol := range p.Policies {
		if prev, ok := seen[pol.Name]; ok && pol.Name != "" {
			d.errs.Add(pol.Pos, CodeInvalid, p.Name, pol.Name, "duplicate policy name %q (first defined at %d:%d)", pol.Name, prev.Pos.Line, prev.Pos.Col)
			continue
		}
		seen[pol.Name] = pol
	}
	return p, d.errs.sorted()
}

var (
	packFields   = []string{"apiVersion", "name", "version", "description", "enforcementLevel", "tags", "policies"}
	policyFields = []string{"name", "description", "kind", "severity", "enforcementLevel", "framework", "tags",
		"remediationSteps", "url", "resourceTypes", "config", "variables", "when", "forEach", "violation", "message", "remediate"}
)

func (d *decoder) policy(n *yaml.Node) *Policy {
	d.policyName = ""
	if !d.kind(n, yaml.MappingNode, "a policy (a mapping with name, description, violation, ...)") {
		return nil
	}
	pol := &Policy{Pos: d.pos(n), Kind: ResourceKind}
	if name := d.valueOf(n, "name"); name != nil {
		pol.Name = d.str(name)
	}
	d.policyName = pol.Name
	d.fields(n, "policy", func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
		case "description":
			pol.Description = d.str(v)
		case "kind":
			switch s := d.str(v); Kind(s) {
			case ResourceKind, StackKind:
				pol.Kind = Kind(s)
			default:
				d.errorf(v, CodeInvalid, "kind %q must be %q or %q", s, ResourceKind, StackKind)
			}
		case "severity":
			s := Severity(d.str(v))
			if !s.Valid() {
				d.errorf(v, CodeInvalid, "severity %q must be one of %s", s, joinQuoted(Severities))
			}
			pol.Severity = s
		case "enforcementLevel":
			pol.EnforcementLevel = d.level(v)
		case "framework":
			pol.Framework = d.framework(v)
		case "tags":
			pol.Tags = d.strList(v)
		case "remediationSteps":
			pol.RemediationSteps = d.str(v)
		case "url":
			pol.URL = d.str(v)
		case "resourceTypes":
			if d.kind(v, yaml.SequenceNode, "a list of type tokens") {
				for _, t := range v.Content {
					tok := d.str(t)
					if tok != "" && !IsTypeToken(tok) {
						d.errorf(t, CodeInvalid, "resource type %q is not a type token pkg:module:Type (globs with * allowed)", tok)
					}
					pol.ResourceTypes = append(pol.ResourceTypes, tok)
					pol.ResourceTypePos = append(pol.ResourceTypePos, d.pos(t))
				}
			}
		case "config":
			pol.Config = d.schema(v)
		case "variables":
			pol.Variables = d.variables(v)
		case "when":
			pol.When = d.guard(v)
		case "forEach":
			pol.ForEach = d.expr(v)
		case "violation":
			pol.Violation = d.expr(v)
		case "message":
			pol.Message = d.template(v)
		case "remediate":
			pol.Remediate = d.remediation(v)
		default:
			d.unknownField(k, "policy", policyFields)
		}
	})
	d.require(n, "name", pol.Name != "")
	d.require(n, "description", pol.Description != "")
	d.require(n, "violation", pol.Violation != nil)
	switch {
	case pol.Name == "":
	case pol.Name == "all":
		d.errorf(d.valueOf(n, "name"), CodeInvalid, `a policy may not be named "all": the name is reserved for config that applies to every policy`)
	case !ValidName(pol.Name):
		d.errorf(d.valueOf(n, "name"), CodeInvalid, "policy name %q must match %s and not be all dots", pol.Name, NameRE)
	}
	if pol.Kind == StackKind {
		if len(pol.ResourceTypes) > 0 {
			d.errorf(d.valueOf(n, "resourceTypes"), CodeInvalid, "resourceTypes applies to resource policies; a stack policy filters resources in its expressions")
		}
		if pol.Remediate != nil {
			d.errorf(d.valueOf(n, "remediate"), CodeInvalid, "remediate applies to resource policies: a stack policy sees outputs, which cannot be rewritten")
		}
	}
	return pol
}

func (d *decoder) framework(n *yaml.Node) *Framework {
	if !d.kind(n, yaml.MappingNode, "a mapping with name, version, reference, specification") {
		return nil
	}
	f := &Framework{}
	d.fields(n, "framework", func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			f.Name = d.str(v)
		case "version":
			f.Version = d.str(v)
		case "reference":
			f.Reference = d.str(v)
		case "specification":
			f.Specification = d.str(v)
		default:
			d.unknownField(k, "framework", []string{"name", "version", "reference", "specification"})
		}
	})
	return f
}

func (d *decoder) schema(n *yaml.Node) *Schema {
	if !d.kind(n, yaml.MappingNode, "a JSON Schema object") {
		return nil
	}
	var v map[string]any
	if err := n.Decode(&v); err != nil {
		d.errorf(n, CodeSchema, "config schema: %v", err)
		return nil
	}
	v = normalize(v).(map[string]any)
	if t, ok := v["type"]; ok && t != "object" {
		d.errorf(d.valueOf(n, "type"), CodeInvalid, "config schema must be of type object, not %v", t)
	}
	if props := d.valueOf(n, "properties"); props != nil && props.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(props.Content); i += 2 {
			if props.Content[i].Value == "enforcementLevel" {
				d.errorf(props.Content[i], CodeInvalid, "config schema may not declare enforcementLevel: the engine adds it to every policy")
			}
		}
	}
	return &Schema{Pos: d.pos(n), Value: v}
}

func (d *decoder) variables(n *yaml.Node) []*Variable {
	if !d.kind(n, yaml.MappingNode, "a mapping of variable names to expressions") {
		return nil
	}
	var out []*Variable
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if !identRE.MatchString(name) {
			d.errorf(k, CodeInvalid, "variable name %q must be an identifier ([a-zA-Z_][a-zA-Z0-9_]*)", name)
			continue
		}
		if seen[name] {
			d.errorf(k, CodeInvalid, "duplicate variable %q", name)
			continue
		}
		seen[name] = true
		if e := d.expr(v); e != nil {
			out = append(out, &Variable{Pos: d.pos(k), Name: name, Expr: e})
		}
	}
	return out
}

var identRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (d *decoder) guard(n *yaml.Node) *Guard {
	if n.Kind == yaml.ScalarNode {
		if e := d.expr(n); e != nil {
			return &Guard{Expr: e}
		}
		return nil
	}
	if !d.kind(n, yaml.MappingNode, "an expression, or a mapping with expression and reason") {
		return nil
	}
	g := &Guard{}
	d.fields(n, "when", func(key string, k, v *yaml.Node) {
		switch key {
		case "expression":
			g.Expr = d.expr(v)
		case "reason":
			g.Reason = d.str(v)
		default:
			d.unknownField(k, "when", []string{"expression", "reason"})
		}
	})
	d.require(n, "expression", g.Expr != nil)
	if g.Expr == nil {
		return nil
	}
	return g
}

func (d *decoder) remediation(n *yaml.Node) *Remediation {
	if !d.kind(n, yaml.MappingNode, "a mapping with set and remove") {
		return nil
	}
	r := &Remediation{Pos: d.pos(n)}
	d.fields(n, "remediate", func(key string, k, v *yaml.Node) {
		switch key {
		case "set":
			if !d.kind(v, yaml.MappingNode, "a mapping of property paths to expressions") {
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				path := d.path(v.Content[i])
				e := d.expr(v.Content[i+1])
				if path != nil && e != nil {
					r.Set = append(r.Set, &Assignment{Path: path, Expr: e})
				}
			}
		case "remove":
			if !d.kind(v, yaml.SequenceNode, "a list of property paths") {
				return
			}
			for _, p := range v.Content {
				if path := d.path(p); path != nil {
					r.Remove = append(r.Remove, path)
				}
			}
		default:
			d.unknownField(k, "remediate", []string{"set", "remove"})
		}
	})
	if len(r.Set) == 0 && len(r.Remove) == 0 {
		d.errorf(n, CodeSchema, "remediate needs set or remove")
	}
	return r
}

func (d *decoder) path(n *yaml.Node) *PathRef {
	s := d.str(n)
	if s == "" {
		return nil
	}
	p, err := ParsePath(s)
	if err != nil {
		d.errorf(n, CodeInvalid, "%v", err)
		return nil
	}
	return &PathRef{Pos: d.pos(n), Text: s, Path: p}
}

// template splits a message into literal text and {{ expression }} parts.
func (d *decoder) template(n *yaml.Node) *Template {
	if !d.kind(n, yaml.ScalarNode, "a string") {
		return nil
	}
	base := d.scalarText(n)
	t := &Template{Pos: d.pos(n), Text: n.Value}
	rest, off := n.Value, 0
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			if rest != "" {
				t.Parts = append(t.Parts, TemplatePart{Literal: rest})
			}
			return t
		}
		end := strings.Index(rest[open:], "}}")
		if end < 0 {
			d.errorAt(base.at(off+open), CodeSchema, "unclosed {{ in message")
			return t
		}
		if open > 0 {
			t.Parts = append(t.Parts, TemplatePart{Literal: rest[:open]})
		}
		src := rest[open+2 : open+end]
		start := off + open + 2
		if strings.TrimSpace(src) == "" {
			d.errorAt(base.at(start), CodeSchema, "empty {{ }} in message")
		} else {
			t.Parts = append(t.Parts, TemplatePart{Expr: base.sub(start, src)})
		}
		rest = rest[open+end+2:]
		off += open + end + 2
	}
}

// expr reads a CEL expression. For block scalars the expression is the raw
// source lines (CEL treats newlines as spaces, so folding does not change its
// meaning), which keeps every CEL line mapped to its file line.
func (d *decoder) expr(n *yaml.Node) *Expr {
	if !d.kind(n, yaml.ScalarNode, "a CEL expression (a string)") {
		return nil
	}
	if n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
		d.errorf(n, CodeSchema, "empty expression")
		return nil
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		if e := d.blockExpr(n); e != nil {
			return e
		}
	}
	return d.scalarText(n).sub(0, n.Value)
}

// blockExpr rebuilds a block scalar's text from the file so each line keeps
// its position.
func (d *decoder) blockExpr(n *yaml.Node) *Expr {
	indent := -1
	var lines []string
	var pos []Pos
	for i := n.Line; i < len(d.lines); i++ { // n.Line is the header line; content follows
		line := strings.TrimRight(string(d.lines[i]), "\r")
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" {
			lines = append(lines, "")
			pos = append(pos, Pos{File: d.file, Line: i + 1, Col: 1})
			continue
		}
		ind := len(line) - len(trimmed)
		if indent < 0 {
			indent = ind
		}
		if ind < indent {
			break
		}
		lines = append(lines, line[indent:])
		pos = append(pos, Pos{File: d.file, Line: i + 1, Col: indent + 1})
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines, pos = lines[:len(lines)-1], pos[:len(pos)-1]
	}
	if len(lines) == 0 {
		return nil
	}
	src := strings.Join(lines, "\n")
	// Defend against a mismatch (odd indentation indicators): the decoded
	// value is the truth; fall back to it with the header position.
	if strings.Join(strings.Fields(src), " ") != strings.Join(strings.Fields(n.Value), " ") {
		return nil
	}
	return &Expr{Source: src, Lines: pos}
}

// scalarRef locates a scalar's text in the file for offsets into its value.
type scalarRef struct {
	lines []Pos // start of each line of the value
	value string
}

func (d *decoder) scalarText(n *yaml.Node) scalarRef {
	start := d.pos(n)
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		start.Col++
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		if e := d.blockExpr(n); e != nil && n.Style&yaml.LiteralStyle != 0 {
			return scalarRef{lines: e.Lines, value: n.Value}
		}
		start = Pos{File: d.file, Line: n.Line + 1, Col: n.Column + 2}
	}
	return scalarRef{lines: []Pos{start}, value: n.Value}
}

// at maps a byte offset in the value to a file position.
func (s scalarRef) at(off int) Pos {
	line, col := 0, off
	if len(s.lines) > 1 {
		for i := 0; i < off && i < len(s.value); i++ {
			if s.value[i] == '\n' && line+1 < len(s.lines) {
				line++
				col = off - i - 1
			}
		}
	}
	p := s.lines[line]
	p.Col += col
	return p
}

// sub is the expression text at value offset off.
func (s scalarRef) sub(off int, text string) *Expr {
	first := s.at(off)
	lines := []Pos{first}
	for i := range len(text) {
		if text[i] == '\n' {
			lines = append(lines, s.at(off+i+1))
		}
	}
	return &Expr{Source: text, Lines: lines}
}

type decoder struct {
	file       string
	data       []byte
	lines      [][]byte
	errs       ErrorList
	pack       string
	policyName string
}

func newDecoder(file string, data []byte) *decoder {
	return &decoder{file: file, data: data, lines: bytes.Split(data, []byte("\n"))}
}

// document parses the YAML and returns the root mapping, or nil after
// recording why there is none.
func (d *decoder) document() *yaml.Node {
	var doc yaml.Node
	if err := ParseYAML(d.file, d.data, &doc); err != nil {
		var list ErrorList
		if !errors.As(err, &list) {
			list = ErrorList{{Pos: Pos{File: d.file}, Code: CodeSyntax, Msg: err.Error()}}
		}
		d.errs.Append(list)
		return nil
	}
	if len(doc.Content) == 0 {
		d.errs.Add(Pos{File: d.file, Line: 1, Col: 1}, CodeSchema, "", "", "empty file")
		return nil
	}
	root := doc.Content[0]
	if !d.kind(root, yaml.MappingNode, "a mapping") {
		return nil
	}
	return root
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

func (d *decoder) errorf(n *yaml.Node, code, format string, args ...any) {
	d.errorAt(d.pos(n), code, format, args...)
}

func (d *decoder) errorAt(p Pos, code, format string, args ...any) {
	d.errs.Add(p, code, d.pack, d.policyName, format, args...)
}

var kindNames = map[yaml.Kind]string{
	yaml.DocumentNode: "a document", yaml.SequenceNode: "a list", yaml.MappingNode: "a mapping",
	yaml.ScalarNode: "a scalar", yaml.AliasNode: "an alias",
}

// kind checks that n is of kind k, reporting "want <want>, got <kind>".
func (d *decoder) kind(n *yaml.Node, k yaml.Kind, want string) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		*n = *n.Alias
	}
	if n.Kind == k {
		return true
	}
	got := kindNames[n.Kind]
	if n.Kind == yaml.ScalarNode {
		got = fmt.Sprintf("%s %q", shortTag(n.Tag), n.Value)
	}
	d.errorf(n, CodeSchema, "want %s, got %s", want, got)
	return false
}

func shortTag(tag string) string {
	switch tag {
	case "!!str":
		return "string"
	case "!!int", "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	}
	return "scalar"
}

// fields walks a mapping, reporting duplicate keys.
func (d *decoder) fields(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			d.errorf(k, CodeSchema, "duplicate key %q in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		fn(k.Value, k, v)
	}
}

func (d *decoder) valueOf(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// require reports a required field that is missing, or present but empty
// (`version:` is null): an empty value must not pass the checks that only
// look at values that are there.
func (d *decoder) require(n *yaml.Node, key string, ok bool) {
	if ok {
		return
	}
	if v := d.valueOf(n, key); v != nil {
		if v.Kind == yaml.ScalarNode && v.Value == "" || v.Tag == "!!null" {
			d.errorf(v, CodeSchema, "field %q is empty", key)
		}
		return
	}
	d.errorf(n, CodeSchema, "missing required field %q", key)
}

func (d *decoder) unknownField(k *yaml.Node, what string, known []string) {
	msg := fmt.Sprintf("unknown field %q in %s", k.Value, what)
	if s := closest(k.Value, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.errorf(k, CodeSchema, "%s", msg)
}

func (d *decoder) str(n *yaml.Node) string {
	if !d.kind(n, yaml.ScalarNode, "a string") {
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func (d *decoder) strList(n *yaml.Node) []string {
	if !d.kind(n, yaml.SequenceNode, "a list of strings") {
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, d.str(c))
	}
	return out
}

func (d *decoder) level(n *yaml.Node) Level {
	l := Level(d.str(n))
	if !l.Valid() {
		d.errorf(n, CodeInvalid, "enforcement level %q must be one of %s", l, joinQuoted(Levels))
		return ""
	}
	return l
}

func (l ErrorList) sorted() error {
	l.Sort()
	return l.Err()
}

func joinQuoted[T ~string](vals []T) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = strconv.Quote(string(v))
	}
	return strings.Join(q, ", ")
}

// closest suggests the known word nearest to s, when it is near enough to be
// a typo (edit distance at most a third of its length, and at least 1).
func closest(s string, known []string) string {
	best, bestD := "", len(s)/3+1
	for _, k := range known {
		if dist := editDistance(strings.ToLower(s), strings.ToLower(k)); dist < bestD || dist == 0 {
			best, bestD = k, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// normalize turns YAML-decoded values into JSON-like ones: map[string]any
// keys, float64 numbers, so JSON Schema validation sees what JSON would.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = normalize(e)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case uint64:
		return float64(v)
	}
	return v
}

// Normalize is normalize for other packages that decode YAML config.
func Normalize(v any) any { return normalize(v) }

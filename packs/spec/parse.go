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
		return p, d.Errs.sorted()
	}
	p.Pos = d.Pos(root)
	d.Fields(root, "pack", func(key string, k, v *yaml.Node) {
		switch key {
		case "apiVersion":
			p.APIVersion = d.Str(v)
		case "name":
			p.Name = d.Str(v)
			d.Pack = p.Name
		case "version":
			p.Version = d.Str(v)
		case "description":
			p.Description = d.Str(v)
		case "enforcementLevel":
			p.EnforcementLevel = d.level(v)
		case "tags":
			p.Tags = d.StrList(v)
		case "policies":
			if d.Kind(v, yaml.SequenceNode, "a list of policies") {
				for _, n := range v.Content {
					if pol := d.policy(n); pol != nil {
						p.Policies = append(p.Policies, pol)
					}
				}
			}
		default:
			d.Unknown(k, "pack", packFields)
		}
	})
	d.Policy = ""
	if p.APIVersion != "" && p.APIVersion != APIVersion {
		d.Errorf(root, CodeInvalid, "apiVersion %q is not supported: this build reads %q", p.APIVersion, APIVersion)
	}
	d.require(root, "name", p.Name != "")
	d.require(root, "version", p.Version != "")
	if p.Name != "" && !ValidName(p.Name) {
		d.Errorf(d.ValueOf(root, "name"), CodeInvalid, "pack name %q must match %s and not be all dots", p.Name, NameRE)
	}
	if p.Version != "" && !IsSemver(p.Version) {
		d.Errorf(d.ValueOf(root, "version"), CodeInvalid, "version %q is not a semantic version (MAJOR.MINOR.PATCH)", p.Version)
	}
	if p.EnforcementLevel == "" {
		p.EnforcementLevel = Advisory
	}
	seen := map[string]*Policy{}
	for _, pol := range p.Policies {
		if prev, ok := seen[pol.Name]; ok && pol.Name != "" {
			d.Errs.Add(pol.Pos, CodeInvalid, p.Name, pol.Name, "duplicate policy name %q (first defined at %d:%d)", pol.Name, prev.Pos.Line, prev.Pos.Col)
			continue
		}
		seen[pol.Name] = pol
	}
	return p, d.Errs.sorted()
}

var (
	packFields   = []string{"apiVersion", "name", "version", "description", "enforcementLevel", "tags", "policies"}
	policyFields = []string{"name", "description", "kind", "severity", "enforcementLevel", "framework", "tags",
		"remediationSteps", "url", "controls", "resourceTypes", "config", "variables", "when", "forEach", "violation", "message", "remediate"}
)

func (d *decoder) policy(n *yaml.Node) *Policy {
	d.Policy = ""
	if !d.Kind(n, yaml.MappingNode, "a policy (a mapping with name, description, violation, ...)") {
		return nil
	}
	pol := &Policy{Pos: d.Pos(n), Kind: ResourceKind}
	if name := d.ValueOf(n, "name"); name != nil {
		pol.Name = d.Str(name)
	}
	d.Policy = pol.Name
	d.Fields(n, "policy", func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
		case "description":
			pol.Description = d.Str(v)
		case "kind":
			switch s := d.Str(v); Kind(s) {
			case ResourceKind, StackKind:
				pol.Kind = Kind(s)
			default:
				d.Errorf(v, CodeInvalid, "kind %q must be %q or %q", s, ResourceKind, StackKind)
			}
		case "severity":
			s := Severity(d.Str(v))
			if !s.Valid() {
				d.Errorf(v, CodeInvalid, "severity %q must be one of %s", s, joinQuoted(Severities))
			}
			pol.Severity = s
		case "enforcementLevel":
			pol.EnforcementLevel = d.level(v)
		case "framework":
			pol.Framework = d.framework(v)
		case "tags":
			pol.Tags = d.StrList(v)
		case "remediationSteps":
			pol.RemediationSteps = d.Str(v)
		case "url":
			pol.URL = d.Str(v)
		case "controls":
			if d.Kind(v, yaml.SequenceNode, "a list of framework controls (framework/control)") {
				pol.Controls = []string{} // said, even when none: not nil
				for _, c := range v.Content {
					ref := d.Str(c)
					if fw, id, ok := strings.Cut(ref, "/"); ref != "" && (!ok || !ValidName(fw) || id == "") {
						d.Errorf(c, CodeInvalid, "control %q must be FRAMEWORK/CONTROL, e.g. cis-aws-3.0/5.2", ref)
					}
					pol.Controls = append(pol.Controls, ref)
					pol.ControlPos = append(pol.ControlPos, d.Pos(c))
				}
			}
		case "resourceTypes":
			if d.Kind(v, yaml.SequenceNode, "a list of type tokens") {
				for _, t := range v.Content {
					tok := d.Str(t)
					if tok != "" && !IsTypeToken(tok) {
						d.Errorf(t, CodeInvalid, "resource type %q is not a type token pkg:module:Type (globs with * allowed)", tok)
					}
					pol.ResourceTypes = append(pol.ResourceTypes, tok)
					pol.ResourceTypePos = append(pol.ResourceTypePos, d.Pos(t))
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
			d.Unknown(k, "policy", policyFields)
		}
	})
	d.require(n, "name", pol.Name != "")
	d.require(n, "description", pol.Description != "")
	d.require(n, "violation", pol.Violation != nil)
	switch {
	case pol.Name == "":
	case pol.Name == "all":
		d.Errorf(d.ValueOf(n, "name"), CodeInvalid, `a policy may not be named "all": the name is reserved for config that applies to every policy`)
	case !ValidName(pol.Name):
		d.Errorf(d.ValueOf(n, "name"), CodeInvalid, "policy name %q must match %s and not be all dots", pol.Name, NameRE)
	}
	if pol.Kind == StackKind {
		if len(pol.ResourceTypes) > 0 {
			d.Errorf(d.ValueOf(n, "resourceTypes"), CodeInvalid, "resourceTypes applies to resource policies; a stack policy filters resources in its expressions")
		}
		if pol.Remediate != nil {
			d.Errorf(d.ValueOf(n, "remediate"), CodeInvalid, "remediate applies to resource policies: a stack policy sees outputs, which cannot be rewritten")
		}
	}
	return pol
}

func (d *decoder) framework(n *yaml.Node) *Framework {
	if !d.Kind(n, yaml.MappingNode, "a mapping with name, version, reference, specification") {
		return nil
	}
	f := &Framework{}
	d.Fields(n, "framework", func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			f.Name = d.Str(v)
		case "version":
			f.Version = d.Str(v)
		case "reference":
			f.Reference = d.Str(v)
		case "specification":
			f.Specification = d.Str(v)
		default:
			d.Unknown(k, "framework", []string{"name", "version", "reference", "specification"})
		}
	})
	return f
}

func (d *decoder) schema(n *yaml.Node) *Schema {
	if !d.Kind(n, yaml.MappingNode, "a JSON Schema object") {
		return nil
	}
	var v map[string]any
	if err := n.Decode(&v); err != nil {
		d.Errorf(n, CodeSchema, "config schema: %v", err)
		return nil
	}
	v = normalize(v).(map[string]any)
	if t, ok := v["type"]; ok && t != "object" {
		d.Errorf(d.ValueOf(n, "type"), CodeInvalid, "config schema must be of type object, not %v", t)
	}
	if props := d.ValueOf(n, "properties"); props != nil && props.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(props.Content); i += 2 {
			if props.Content[i].Value == "enforcementLevel" {
				d.Errorf(props.Content[i], CodeInvalid, "config schema may not declare enforcementLevel: the engine adds it to every policy")
			}
		}
	}
	return &Schema{Pos: d.Pos(n), Value: v}
}

func (d *decoder) variables(n *yaml.Node) []*Variable {
	if !d.Kind(n, yaml.MappingNode, "a mapping of variable names to expressions") {
		return nil
	}
	var out []*Variable
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if !identRE.MatchString(name) {
			d.Errorf(k, CodeInvalid, "variable name %q must be an identifier ([a-zA-Z_][a-zA-Z0-9_]*)", name)
			continue
		}
		if seen[name] {
			d.Errorf(k, CodeInvalid, "duplicate variable %q", name)
			continue
		}
		seen[name] = true
		if e := d.expr(v); e != nil {
			out = append(out, &Variable{Pos: d.Pos(k), Name: name, Expr: e})
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
	if !d.Kind(n, yaml.MappingNode, "an expression, or a mapping with expression and reason") {
		return nil
	}
	g := &Guard{}
	d.Fields(n, "when", func(key string, k, v *yaml.Node) {
		switch key {
		case "expression":
			g.Expr = d.expr(v)
		case "reason":
			g.Reason = d.Str(v)
		default:
			d.Unknown(k, "when", []string{"expression", "reason"})
		}
	})
	d.require(n, "expression", g.Expr != nil)
	if g.Expr == nil {
		return nil
	}
	return g
}

func (d *decoder) remediation(n *yaml.Node) *Remediation {
	if !d.Kind(n, yaml.MappingNode, "a mapping with set and remove") {
		return nil
	}
	r := &Remediation{Pos: d.Pos(n)}
	d.Fields(n, "remediate", func(key string, k, v *yaml.Node) {
		switch key {
		case "set":
			if !d.Kind(v, yaml.MappingNode, "a mapping of property paths to expressions") {
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
			if !d.Kind(v, yaml.SequenceNode, "a list of property paths") {
				return
			}
			for _, p := range v.Content {
				if path := d.path(p); path != nil {
					r.Remove = append(r.Remove, path)
				}
			}
		default:
			d.Unknown(k, "remediate", []string{"set", "remove"})
		}
	})
	if len(r.Set) == 0 && len(r.Remove) == 0 {
		d.Errorf(n, CodeSchema, "remediate needs set or remove")
	}
	return r
}

func (d *decoder) path(n *yaml.Node) *PathRef {
	s := d.Str(n)
	if s == "" {
		return nil
	}
	p, err := ParsePath(s)
	if err != nil {
		d.Errorf(n, CodeInvalid, "%v", err)
		return nil
	}
	return &PathRef{Pos: d.Pos(n), Text: s, Path: p}
}

// template splits a message into literal text and {{ expression }} parts.
func (d *decoder) template(n *yaml.Node) *Template {
	if !d.Kind(n, yaml.ScalarNode, "a string") {
		return nil
	}
	base := d.scalarText(n)
	t := &Template{Pos: d.Pos(n), Text: n.Value}
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
			d.ErrorAt(base.at(off+open), CodeSchema, "unclosed {{ in message")
			return t
		}
		if open > 0 {
			t.Parts = append(t.Parts, TemplatePart{Literal: rest[:open]})
		}
		src := rest[open+2 : open+end]
		start := off + open + 2
		if strings.TrimSpace(src) == "" {
			d.ErrorAt(base.at(start), CodeSchema, "empty {{ }} in message")
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
	if !d.Kind(n, yaml.ScalarNode, "a CEL expression (a string)") {
		return nil
	}
	if n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
		d.Errorf(n, CodeSchema, "empty expression")
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
			pos = append(pos, Pos{File: d.File, Line: i + 1, Col: 1})
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
		pos = append(pos, Pos{File: d.File, Line: i + 1, Col: indent + 1})
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
	start := d.Pos(n)
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		start.Col++
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		if e := d.blockExpr(n); e != nil && n.Style&yaml.LiteralStyle != 0 {
			return scalarRef{lines: e.Lines, value: n.Value}
		}
		start = Pos{File: d.File, Line: n.Line + 1, Col: n.Column + 2}
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

// decoder reads pack.yaml with the YAML kit (Decoder), which it extends
// with the source lines that CEL expressions are positioned in.
type decoder struct {
	Decoder
	data  []byte
	lines [][]byte
}

func newDecoder(file string, data []byte) *decoder {
	return &decoder{Decoder: Decoder{File: file}, data: data, lines: bytes.Split(data, []byte("\n"))}
}

// document parses the YAML and returns the root mapping, or nil after
// recording why there is none.
func (d *decoder) document() *yaml.Node {
	var doc yaml.Node
	if err := ParseYAML(d.File, d.data, &doc); err != nil {
		var list ErrorList
		if !errors.As(err, &list) {
			list = ErrorList{{Pos: Pos{File: d.File}, Code: CodeSyntax, Msg: err.Error()}}
		}
		d.Errs.Append(list)
		return nil
	}
	if len(doc.Content) == 0 {
		d.Errs.Add(Pos{File: d.File, Line: 1, Col: 1}, CodeSchema, "", "", "empty file")
		return nil
	}
	root := doc.Content[0]
	if !d.Kind(root, yaml.MappingNode, "a mapping") {
		return nil
	}
	return root
}

// require reports a required field that is missing, or present but empty
// (`version:` is null): an empty value must not pass the checks that only
// look at values that are there.
func (d *decoder) require(n *yaml.Node, key string, ok bool) {
	if ok {
		return
	}
	if v := d.ValueOf(n, key); v != nil {
		if v.Kind == yaml.ScalarNode && v.Value == "" || v.Tag == "!!null" {
			d.Errorf(v, CodeSchema, "field %q is empty", key)
		}
		return
	}
	d.Errorf(n, CodeSchema, "missing required field %q", key)
}

func (d *decoder) level(n *yaml.Node) Level {
	l := Level(d.Str(n))
	if !l.Valid() {
		d.Errorf(n, CodeInvalid, "enforcement level %q must be one of %s", l, joinQuoted(Levels))
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

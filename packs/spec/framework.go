package spec

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// ControlFramework is a compliance framework's list of controls (a CIS
// benchmark, PCI DSS): the file a framework view is built from. Policies
// name the controls they check (Policy.Controls, "cis-aws-3.0/5.2"); the
// view selects those policies. Every control is listed, including the ones
// no policy can check from a Pulumi program (IaC false, with the reason),
// so a report per control says what is covered, what is not yet, and what
// never can be.
type ControlFramework struct {
	Pos  Pos
	File string
	// Name is the view's pack name (cis-aws-3.0); Title and Version are the
	// framework's own (CIS Amazon Web Services Foundations Benchmark, 3.0.0).
	Name, Title, Version string
	// PackVersion is the view's version as a pack (semver): bumped when its
	// selection changes.
	PackVersion string
	URL         string
	Description string
	Controls    []*Control
}

// Control is one control of a framework.
type Control struct {
	Pos   Pos
	ID    string
	Title string
	// IaC is false for a control no policy can check from a program's
	// resource inputs or its stack (live account state, processes); Why
	// says why.
	IaC bool
	Why string
}

// Control returns the control with the given id, or nil.
func (f *ControlFramework) Control(id string) *Control {
	for _, c := range f.Controls {
		if c.ID == id {
			return c
		}
	}
	return nil
}

var (
	frameworkFields = []string{"apiVersion", "kind", "name", "title", "version", "packVersion", "url", "description", "controls"}
	controlFields   = []string{"id", "title", "iac", "why"}
)

// ParseFramework parses and checks a framework file (kind: Framework). Like
// ParsePack it returns what it could read with every error, positioned.
func ParseFramework(file string, data []byte) (*ControlFramework, error) {
	d := newDecoder(file, data)
	f := &ControlFramework{File: file}
	root := d.document()
	if root == nil {
		return f, d.Errs.sorted()
	}
	f.Pos = d.Pos(root)
	if n := d.ValueOf(root, "name"); n != nil {
		f.Name = d.Str(n)
		d.Pack = f.Name
	}
	d.Fields(root, "framework", func(key string, k, v *yaml.Node) {
		switch key {
		case "apiVersion":
			if s := d.Str(v); s != "warden/v1" {
				d.Errorf(v, CodeInvalid, "apiVersion %q: want warden/v1", s)
			}
		case "kind":
			if s := d.Str(v); s != "Framework" {
				d.Errorf(v, CodeInvalid, "kind %q: want Framework", s)
			}
		case "name":
			if !ValidName(f.Name) {
				d.Errorf(v, CodeInvalid, "framework name %q must match %s", f.Name, NameRE)
			}
		case "title":
			f.Title = d.Str(v)
		case "version":
			f.Version = d.Str(v)
		case "packVersion":
			if f.PackVersion = d.Str(v); !IsSemver(f.PackVersion) {
				d.Errorf(v, CodeInvalid, "packVersion %q is not a semantic version (MAJOR.MINOR.PATCH)", f.PackVersion)
			}
		case "url":
			f.URL = d.Str(v)
		case "description":
			f.Description = d.Str(v)
		case "controls":
			if !d.Kind(v, yaml.SequenceNode, "a list of controls") {
				return
			}
			seen := map[string]*Control{}
			for _, n := range v.Content {
				c := d.control(n)
				if c == nil || c.ID == "" {
					continue
				}
				if prev := seen[c.ID]; prev != nil {
					d.ErrorAt(c.Pos, CodeInvalid, "duplicate control %q (first defined at %d:%d)", c.ID, prev.Pos.Line, prev.Pos.Col)
					continue
				}
				seen[c.ID] = c
				f.Controls = append(f.Controls, c)
			}
		default:
			d.Unknown(k, "framework", frameworkFields)
		}
	})
	d.require(root, "name", f.Name != "")
	d.require(root, "title", f.Title != "")
	d.require(root, "version", f.Version != "")
	d.require(root, "packVersion", f.PackVersion != "")
	d.require(root, "controls", d.ValueOf(root, "controls") != nil)
	return f, d.Errs.sorted()
}

func (d *decoder) control(n *yaml.Node) *Control {
	if !d.Kind(n, yaml.MappingNode, "a control (a mapping with id and title)") {
		return nil
	}
	c := &Control{Pos: d.Pos(n), IaC: true}
	var iac *yaml.Node
	d.Fields(n, "control", func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
			if c.ID = d.Str(v); strings.ContainsAny(c.ID, " /") {
				d.Errorf(v, CodeInvalid, "control id %q may not contain spaces or /", c.ID)
			}
		case "title":
			c.Title = d.Str(v)
		case "iac":
			iac = v
			if d.Kind(v, yaml.ScalarNode, "true or false") {
				switch v.Value {
				case "true":
				case "false":
					c.IaC = false
				default:
					d.Errorf(v, CodeInvalid, "iac %q: want true or false", v.Value)
				}
			}
		case "why":
			c.Why = d.Str(v)
		default:
			d.Unknown(k, "control", controlFields)
		}
	})
	d.require(n, "id", c.ID != "")
	d.require(n, "title", c.Title != "")
	if !c.IaC && c.Why == "" {
		d.Errorf(iac, CodeSchema, "a control with iac: false says why (why: ...)")
	}
	return c
}

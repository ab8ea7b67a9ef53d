package packtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

// Kind is the only test file kind.
const Kind = "PackTest"

// Outcome is an expected or actual policy result.
type Outcome string

// Outcomes a case can expect.
const (
	Violation     Outcome = "violation"
	Pass          Outcome = "pass"
	NotApplicable Outcome = "not-applicable"
	CantRun       Outcome = "cant-run"
	Error         Outcome = "error"
)

var outcomes = []Outcome{Violation, Pass, NotApplicable, CantRun, Error}

// Suite is one test file.
type Suite struct {
	File   string
	Source []byte
	Stack  engine.Stack
	Config map[string]engine.PolicyConfig
	Cases  []*Case
}

// Case is one named input with its expectations.
type Case struct {
	Pos        spec.Pos
	Name       string
	Resource   *engine.Resource   // a resource case
	Resources  []*engine.Resource // a stack case
	Expect     []*Expectation
	Remediated map[string]any // expected inputs after remediation; nil: not checked
	Stack      engine.Stack
}

// Expectation is what one policy should return.
type Expectation struct {
	Pos     spec.Pos
	Policy  string
	Result  Outcome
	Message string // substring of a violation message
	Count   int    // number of violations; 0: any
	Path    string // for cant-run: the unknown value's path (.tags.owner)
}

// LoadSuites reads every *.yaml and *.yml file in dir/tests. A pack without
// tests has no suites.
func LoadSuites(dir string) ([]*Suite, error) {
	return LoadSuitesFS(os.DirFS(dir), "", dir)
}

// LoadSuitesFS reads the suites of the pack in dir of fsys; display is how
// file names start in messages.
func LoadSuitesFS(fsys fs.FS, dir, display string) ([]*Suite, error) {
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := fs.Glob(fsys, path.Join(dir, "tests", pat))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	slices.Sort(files)
	var suites []*Suite
	var errs spec.ErrorList
	for _, name := range files {
		data, err := fs.ReadFile(fsys, name)
		f := filepath.Join(display, strings.TrimPrefix(name, dir))
		if err != nil {
			return nil, fmt.Errorf("reading test file: %w", err)
		}
		s, err := ParseSuite(f, data)
		if err != nil {
			var list spec.ErrorList
			if errors.As(err, &list) {
				errs.Append(list)
				continue
			}
			return nil, err
		}
		suites = append(suites, s)
	}
	errs.Sort()
	return suites, errs.Err()
}

// ParseSuite parses one test file.
func ParseSuite(file string, data []byte) (*Suite, error) {
	d := &decoder{spec.Decoder{File: file}}
	s := &Suite{File: file, Source: data, Stack: engine.Stack{Name: "test", Project: "test", Organization: "organization"}}
	var doc yaml.Node
	if err := spec.ParseYAML(file, data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, spec.ErrorList{{Pos: spec.Pos{File: file, Line: 1, Col: 1}, Code: spec.CodeSchema, Msg: "a test file is a mapping with apiVersion, kind and cases"}}
	}
	root := doc.Content[0]
	var casesNode *yaml.Node
	d.Mapping(root, "test file", []string{"apiVersion", "kind", "stack", "config", "cases"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "apiVersion":
			if v.Value != spec.APIVersion {
				d.Errorf(v, spec.CodeSchema, "apiVersion %q is not supported: want %q", v.Value, spec.APIVersion)
			}
		case "kind":
			if v.Value != Kind {
				d.Errorf(v, spec.CodeSchema, "kind %q: want %q", v.Value, Kind)
			}
		case "stack":
			s.Stack = d.stack(v, s.Stack)
		case "config":
			s.Config = d.config(v)
		case "cases":
			casesNode = v
		}
	})
	if casesNode == nil || casesNode.Kind != yaml.SequenceNode {
		d.Errorf(root, spec.CodeSchema, "missing cases: a list of test cases")
	} else {
		for _, n := range casesNode.Content {
			if c := d.testCase(n, s.Stack); c != nil {
				s.Cases = append(s.Cases, c)
			}
		}
	}
	d.Errs.Sort()
	if err := d.Errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// decoder reads tests/*.yaml with the YAML kit pack.yaml's decoder uses
// (spec.Decoder): the same positions, suggestions and duplicate checks.
type decoder struct{ spec.Decoder }

func (d *decoder) stack(n *yaml.Node, s engine.Stack) engine.Stack {
	d.Mapping(n, "stack", []string{"name", "project", "organization", "tags", "config", "dryRun"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			s.Name = v.Value
		case "project":
			s.Project = v.Value
		case "organization":
			s.Organization = v.Value
		case "dryRun":
			s.DryRun = v.Value == "true"
		case "tags":
			s.Tags = map[string]string{}
			d.Mapping(v, "tags", nil, func(tk string, _, tv *yaml.Node) { s.Tags[tk] = d.Str(tv) })
		case "config":
			if m, ok := d.value(v).(map[string]any); ok {
				s.Config = m
			}
		}
	})
	return s
}

// config reads policy config in the --policy-pack-config forms: a level
// string, or an object whose enforcementLevel is pulled out.
func (d *decoder) config(n *yaml.Node) map[string]engine.PolicyConfig {
	out := map[string]engine.PolicyConfig{}
	d.Mapping(n, "config", nil, func(name string, k, v *yaml.Node) {
		pc, err := engine.ParsePolicyConfig(d.value(v))
		if err != nil {
			d.Errorf(v, spec.CodeSchema, "config for %s: %v", name, err)
			return
		}
		pc.Pos = d.Pos(k)
		out[name] = pc
	})
	return out
}

func (d *decoder) testCase(n *yaml.Node, stack engine.Stack) *Case {
	c := &Case{Pos: d.Pos(n), Stack: stack}
	d.Mapping(n, "case", []string{"name", "stack", "resource", "resources", "expect", "remediated"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			c.Name = v.Value
		case "stack":
			c.Stack = d.stack(v, c.Stack)
		case "resource":
			c.Resource = d.resource(v)
		case "resources":
			if v.Kind != yaml.SequenceNode {
				d.Errorf(v, spec.CodeSchema, "resources: want a list of resources")
				return
			}
			for _, r := range v.Content {
				if res := d.resource(r); res != nil {
					c.Resources = append(c.Resources, res)
				}
			}
		case "expect":
			d.Mapping(v, "expect", nil, func(policy string, pk, pv *yaml.Node) {
				if e := d.expectation(policy, pk, pv); e != nil {
					c.Expect = append(c.Expect, e)
				}
			})
		case "remediated":
			m, ok := d.value(v).(map[string]any)
			if !ok {
				d.Errorf(v, spec.CodeSchema, "remediated: want a mapping of properties")
			}
			c.Remediated = m
		}
	})
	if c.Name == "" {
		d.Errorf(n, spec.CodeSchema, "case without a name")
	}
	if (c.Resource == nil) == (c.Resources == nil) {
		d.Errorf(n, spec.CodeSchema, "case %q: give either resource (resource policies) or resources (stack policies)", c.Name)
	}
	if len(c.Expect) == 0 {
		d.Errorf(n, spec.CodeSchema, "case %q expects nothing", c.Name)
	}
	fill := func(r *engine.Resource) {
		if r.URN == "" {
			r.URN = fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", c.Stack.Name, c.Stack.Project, r.Type, r.Name)
		}
	}
	if c.Resource != nil {
		fill(c.Resource)
	}
	for _, r := range c.Resources {
		fill(r)
	}
	return c
}

func (d *decoder) expectation(policy string, k, v *yaml.Node) *Expectation {
	e := &Expectation{Pos: d.Pos(k), Policy: policy}
	if v.Kind == yaml.ScalarNode {
		e.Result = Outcome(v.Value)
	} else {
		d.Mapping(v, "expectation", []string{"result", "message", "count", "path"}, func(key string, fk, fv *yaml.Node) {
			switch key {
			case "result":
				e.Result = Outcome(fv.Value)
			case "message":
				e.Message = fv.Value
			case "path":
				e.Path = fv.Value
			case "count":
				n, err := strconv.Atoi(fv.Value)
				if err != nil || n < 1 {
					d.Errorf(fv, spec.CodeSchema, "count: want a positive number")
				}
				e.Count = n
			}
		})
	}
	if !slices.Contains(outcomes, e.Result) {
		d.Errorf(v, spec.CodeSchema, "result %q must be one of violation, pass, not-applicable, cant-run, error", e.Result)
		return nil
	}
	return e
}

func (d *decoder) resource(n *yaml.Node) *engine.Resource {
	r := &engine.Resource{}
	d.Mapping(n, "resource", []string{"type", "name", "urn", "parent", "props", "inputs", "outputs", "options", "provider", "dependencies", "propertyDependencies"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "type":
			r.Type = v.Value
		case "name":
			r.Name = v.Value
		case "urn":
			r.URN = v.Value
		case "parent":
			r.Parent = v.Value
		case "props", "inputs", "outputs":
			m, ok := d.value(v).(map[string]any)
			if !ok && v.Tag != "!!null" {
				d.Errorf(v, spec.CodeSchema, "%s: want a mapping of properties", key)
			}
			r.Props = m
		case "options":
			r.Options = d.options(v)
		case "provider":
			p := &engine.Provider{}
			d.Mapping(v, "provider", []string{"name", "type", "urn", "props"}, func(pk string, _, pv *yaml.Node) {
				switch pk {
				case "name":
					p.Name = pv.Value
				case "type":
					p.Type = pv.Value
				case "urn":
					p.URN = pv.Value
				case "props":
					p.Props, _ = d.value(pv).(map[string]any)
				}
			})
			r.Provider = p
		case "dependencies":
			r.Dependencies = d.strings(v)
		case "propertyDependencies":
			r.PropertyDependencies = map[string][]string{}
			d.Mapping(v, "propertyDependencies", nil, func(prop string, _, pv *yaml.Node) { r.PropertyDependencies[prop] = d.strings(pv) })
		}
	})
	if r.Type == "" {
		d.Errorf(n, spec.CodeSchema, "resource without a type")
	}
	if r.Name == "" {
		r.Name = "r"
	}
	return r
}

func (d *decoder) options(n *yaml.Node) engine.Options {
	var o engine.Options
	d.Mapping(n, "options", []string{"protect", "deleteBeforeReplace", "ignoreChanges", "aliases", "additionalSecretOutputs", "parent", "customTimeouts"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "protect":
			o.Protect = v.Value == "true"
		case "deleteBeforeReplace":
			o.DeleteBeforeReplace = v.Value == "true"
		case "ignoreChanges":
			o.IgnoreChanges = d.strings(v)
		case "aliases":
			o.Aliases = d.strings(v)
		case "additionalSecretOutputs":
			o.AdditionalSecretOutputs = d.strings(v)
		case "parent":
			o.Parent = v.Value
		case "customTimeouts":
			d.Mapping(v, "customTimeouts", []string{"create", "update", "delete"}, func(tk string, _, tv *yaml.Node) {
				switch tk {
				case "create":
					o.CustomTimeouts.Create = tv.Value
				case "update":
					o.CustomTimeouts.Update = tv.Value
				case "delete":
					o.CustomTimeouts.Delete = tv.Value
				}
			})
		}
	})
	return o
}

func (d *decoder) strings(n *yaml.Node) []string {
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, spec.CodeSchema, "want a list of strings")
		return nil
	}
	out := make([]string, len(n.Content))
	for i, c := range n.Content {
		out[i] = c.Value
	}
	return out
}

// value decodes a YAML node into an engine value. Numbers become float64, as
// Pulumi sends them; !unknown and !secret mark unknown and secret values.
func (d *decoder) value(n *yaml.Node) any {
	switch n.Tag {
	case "!unknown":
		return engine.Unknown{}
	case "!secret":
		inner := *n
		inner.Tag = ""
		if n.Kind == yaml.ScalarNode {
			inner.Tag = "!!str"
			if n.Style == 0 { // plain scalars keep their resolved type
				var v any
				_ = yaml.Unmarshal([]byte(n.Value), &v)
				return engine.Secret{Value: spec.Normalize(v)}
			}
		}
		return engine.Secret{Value: d.value(&inner)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		return d.value(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = d.value(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = d.value(c)
		}
		return l
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			d.Errorf(n, spec.CodeSchema, "%v", err)
			return nil
		}
		return spec.Normalize(v)
	}
	return nil
}

package home

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

// Stack identifies the stack a resolution is for.
type Stack struct {
	Organization, Project, Name string
	Tags                        map[string]string
}

// Resolution is what runs for one stack: each pack once, with a level and
// config for every one of its policies, and why.
type Resolution struct {
	Packs []*Resolved
}

// Resolved is one pack of a resolution.
type Resolved struct {
	Pack *engine.Pack
	// Config holds an entry for every policy, with its level always set.
	Config map[string]engine.PolicyConfig
	// Groups lists the groups that put the pack there, in file order, with
	// why each selects the stack.
	Groups []GroupMatch
	// LevelFrom names, per policy, the group whose entry gave the level
	// (the strictest).
	LevelFrom map[string]string
	// Stages holds, per policy, how its level is rolled out when it is
	// (shadow, or mandatory from a date); Config's level is the one the
	// stage leads to. The analyzer applies a stage on the day it runs.
	Stages map[string]Stage
	// Source is where the pack came from.
	Source string
}

// GroupMatch says why a group applies to a stack.
type GroupMatch struct {
	Group string
	Why   string // "default group", "stacks: */prod", "stackRule: tier=critical"
}

// Selects reports whether the group applies to the stack, and why.
func (g *Group) Selects(st Stack) (bool, string) {
	if g.Default {
		return true, "default group"
	}
	for _, sel := range g.Stacks {
		if sel.Matches(st) {
			return true, "stacks: " + sel.Text
		}
	}
	if g.Rule != nil {
		if ok, alt := g.Rule.Match(st.Tags); ok {
			return true, "stackRule: " + alt
		}
	}
	return false, ""
}

// Applies lists the groups of a mode that select the stack, in file order.
func (h *Home) Applies(st Stack, mode Mode) []GroupMatch {
	var out []GroupMatch
	for _, g := range h.Groups {
		if g.Mode != mode {
			continue
		}
		if ok, why := g.Selects(st); ok {
			out = append(out, GroupMatch{Group: g.Name, Why: why})
		}
	}
	return out
}

// Resolve returns the packs that the groups of a mode apply to stack: the
// default groups and every group whose stacks or stackRule select it. A
// pack in several groups runs once, each policy at the strictest level any
// group gives it; config merges key by key, and two groups setting one key
// to different values is an error (no rule can choose between them).
func (h *Home) Resolve(stack Stack, mode Mode) (*Resolution, error) {
	return h.resolve(stack, mode, func(g *Group) (bool, string) { return g.Selects(stack) }, true)
}

// Catalog returns every pack that some group of the mode could apply, each
// policy at the strictest level any group gives it. Only the default groups'
// config is merged: other groups' config depends on the stack. The analyzer
// describes its policies with it before it knows the stack.
func (h *Home) Catalog(mode Mode) (*Resolution, error) {
	return h.resolve(Stack{}, mode, func(g *Group) (bool, string) {
		if g.Default {
			return true, "default group"
		}
		return true, "may select the stack"
	}, false)
}

func (h *Home) resolve(stack Stack, mode Mode, selects func(*Group) (bool, string), strictVersions bool) (*Resolution, error) {
	type acc struct {
		entries []*PackEntry
		groups  []GroupMatch
	}
	var order []string
	byName := map[string]*acc{}
	var errs spec.ErrorList
	for _, g := range h.Groups {
		if g.Mode != mode {
			continue
		}
		ok, why := selects(g)
		if !ok {
			continue
		}
		for _, e := range g.Packs {
			a := byName[e.Name]
			if a == nil {
				a = &acc{}
				byName[e.Name] = a
				order = append(order, e.Name)
			} else if a.entries[0].Pack != e.Pack && strictVersions {
				errs.Add(e.Pos, spec.CodeInvalid, e.Name, "", "group %q selects %s but group %q selects %s for the same stack: pick one version",
					g.Name, e.Pack, a.groups[0].Group, a.entries[0].Pack)
				continue
			}
			a.entries = append(a.entries, e)
			a.groups = append(a.groups, GroupMatch{Group: g.Name, Why: why})
		}
	}
	out := &Resolution{}
	for _, name := range order {
		a := byName[name]
		res, err := merge(stack, a.entries, a.groups, h.groupsByName(), !strictVersions)
		if err != nil {
			if list, ok := err.(spec.ErrorList); ok {
				errs.Append(list)
				continue
			}
			return nil, err
		}
		out.Packs = append(out.Packs, res)
	}
	errs.Sort()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// merge combines the entries of one pack.
func merge(stack Stack, entries []*PackEntry, groups []GroupMatch, byName map[string]*Group, defaultPropsOnly bool) (*Resolved, error) {
	p := entries[0].Pack
	res := &Resolved{Pack: p, Config: map[string]engine.PolicyConfig{}, Source: entries[0].Source, Groups: groups, LevelFrom: map[string]string{}, Stages: map[string]Stage{}}
	var errs spec.ErrorList
	for i, e := range entries {
		run, err := p.NewRun(engine.Stack{Name: stack.Name, Project: stack.Project, Organization: stack.Organization}, e.RunConfig())
		if err != nil {
			return nil, configErrors(err, e)
		}
		g := byName[groups[i].Group]
		for _, pol := range p.Policies {
			cur, seen := res.Config[pol.Name]
			lvl, stage := run.Level(pol), e.stageOf(pol.Name)
			from := groups[i].Group
			if g != nil && g.MandatoryFrom != "" && pol.Severity.Rank() >= g.MandatoryFrom.Rank() && !stage.Shadow &&
				(lvl == spec.Advisory || lvl == spec.Mandatory) {
				lvl, stage = spec.Mandatory, Stage{}
				from += " (mandatoryFrom: " + string(g.MandatoryFrom) + ")"
			}
			if !seen || stronger(lvl, stage, cur.Level, res.Stages[pol.Name]) {
				cur.Level = lvl
				res.LevelFrom[pol.Name] = from
				if stage == (Stage{}) {
					delete(res.Stages, pol.Name)
				} else {
					res.Stages[pol.Name] = stage
				}
			}
			given := e.Config[pol.Name]
			if defaultPropsOnly && !byName[groups[i].Group].Default {
				given.Properties = nil
			}
			if len(given.Properties) > 0 {
				if cur.Properties == nil {
					cur.Properties = map[string]any{}
				}
				for _, k := range slices.Sorted(maps.Keys(given.Properties)) {
					v := given.Properties[k]
					if prev, ok := cur.Properties[k]; ok && !reflect.DeepEqual(prev, v) {
						errs.Add(given.Pos, spec.CodeConfig, p.Name, pol.Name,
							"config %s conflicts with another group's value for the same stack (%v here, %v there): set it in one group",
							k, v, prev)
						continue
					}
					cur.Properties[k] = v
				}
				cur.Pos = given.Pos
			}
			res.Config[pol.Name] = cur
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// stageOf is the stage of the level an entry gives a policy: its config's
// when that sets a level, else the entry's own.
func (e *PackEntry) stageOf(policy string) Stage {
	if e.Config[policy].Level != "" {
		return e.Stages[policy]
	}
	if e.Level != "" {
		return e.Stage
	}
	return Stage{}
}

// stronger reports whether level a (rolled out as sa) is stricter than b:
// by level, then a visible level over a shadow one, then a level in force
// now over a staged one, then the earlier start.
func stronger(a spec.Level, sa Stage, b spec.Level, sb Stage) bool {
	strength := func(l spec.Level, s Stage) int {
		n := 2 * l.Rank()
		if !s.Shadow {
			n++
		}
		return n
	}
	if x, y := strength(a, sa), strength(b, sb); x != y {
		return x > y
	}
	if sa.From.IsZero() != sb.From.IsZero() {
		return sa.From.IsZero()
	}
	return sa.From.Before(sb.From)
}

// configErrors positions engine config errors at the entry when the config
// itself carries no position.
func configErrors(err error, e *PackEntry) error {
	ce, ok := err.(*engine.ConfigError)
	if !ok {
		return err
	}
	var list spec.ErrorList
	for _, p := range ce.Problems {
		pos := p.Pos
		if !pos.IsValid() {
			pos = e.Pos
		}
		list.Add(pos, spec.CodeConfig, ce.Pack, p.Policy, "%s", p.Msg)
	}
	return list
}

// Names lists the packs of a resolution, for messages.
func (r *Resolution) Names() string {
	var s []string
	for _, p := range r.Packs {
		s = append(s, p.Pack.String())
	}
	return fmt.Sprint(strings.Join(s, ", "))
}

func (h *Home) groupsByName() map[string]*Group {
	m := make(map[string]*Group, len(h.Groups))
	for _, g := range h.Groups {
		m[g.Name] = g
	}
	return m
}

// placeholderOrg is the organization self-managed backends report for
// every stack.
const placeholderOrg = "organization"

// Org is the organization to resolve for: the one given, unless it is
// empty or the self-managed backends' placeholder, then the home's.
func (h *Home) Org(given string) string {
	if (given == "" || given == placeholderOrg) && h.Organization != "" {
		return h.Organization
	}
	if given == "" {
		return placeholderOrg
	}
	return given
}

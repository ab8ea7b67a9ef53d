package engine

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/warden-policy/warden/packs/spec"
)

// PolicyConfig is one policy's settings as a caller supplies them (from a
// --policy-pack-config file, or a group in warden.yaml).
type PolicyConfig struct {
	Level      spec.Level     // empty keeps the policy's own level
	Properties map[string]any // merged over the schema's defaults
	// Pos is where the config was written, when known; problems with it
	// are reported there.
	Pos spec.Pos
}

// ParsePolicyConfig reads one policy's entry in the --policy-pack-config
// forms: a level string, or an object whose enforcementLevel (if any) is
// the level and whose other keys are the properties. v is a decoded,
// normalized value; the error says what is wrong with its shape, without
// echoing values (config may hold secrets). The level is not checked here:
// callers report an unknown level where they can position it best.
func ParsePolicyConfig(v any) (PolicyConfig, error) {
	var pc PolicyConfig
	switch v := v.(type) {
	case string:
		pc.Level = spec.Level(v)
	case map[string]any:
		if l, ok := v["enforcementLevel"]; ok {
			s, ok := l.(string)
			if !ok {
				return pc, fmt.Errorf("enforcementLevel must be a string")
			}
			pc.Level = spec.Level(s)
			delete(v, "enforcementLevel")
		}
		pc.Properties = v
	default:
		return pc, fmt.Errorf("want a level or a mapping")
	}
	return pc, nil
}

// Run is a pack bound to a stack and a config: everything one analyzer run
// evaluates against. It is immutable and safe for concurrent use; a new
// config means a new Run (building one is cheap).
type Run struct {
	Pack     *Pack
	Stack    Stack
	settings map[*Policy]*policySettings
	stack    stackView
	limits   limits
}

// limits are the evaluation limits of a run: CostLimit, StackCostLimit,
// StackBudget and MaxDepth, which only tests change.
type limits struct {
	resource, stack, stackTotal uint64
	maxDepth                    int
}

var defaultLimits = limits{resource: CostLimit, stack: StackCostLimit, stackTotal: StackBudget, maxDepth: MaxDepth}

type policySettings struct {
	level  spec.Level
	config map[string]any // with schema defaults
	// scope is the includeFor/excludeFor config (scope.go), nil for none.
	scope *nameScope
}

// stackView is the CEL form of the stack, built once per Run.
type stackView struct {
	real, masked map[string]any
	m, mm        *markers
	// err is set when a config value nests deeper than MaxDepth.
	err error
}

// ConfigError lists the policies whose config does not match their schema,
// in the engine's words: "<pack> <version>  <policy>: <problem>".
type ConfigError struct {
	Pack, Version string
	Problems      []PolicyProblem
}

// PolicyProblem is one config problem of one policy.
type PolicyProblem struct {
	Pos    spec.Pos
	Policy string
	Msg    string
}

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = fmt.Sprintf("validating policy config: %s %s  %s: %s", e.Pack, e.Version, p.Policy, p.Msg)
		if p.Pos.IsValid() {
			lines[i] = p.Pos.String() + ": " + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// AllPolicies is the config key that sets the level of every policy, before
// per-policy entries apply (as in --policy-pack-config).
const AllPolicies = "all"

// NewRun checks cfg against the pack (every key must name a policy, every
// level be valid, every config match its schema) and binds it to stack.
// Policies missing from cfg keep their defaults.
func (p *Pack) NewRun(stack Stack, cfg map[string]PolicyConfig) (*Run, error) {
	r := &Run{Pack: p, Stack: stack, settings: make(map[*Policy]*policySettings, len(p.Policies)), limits: defaultLimits}
	cerr := &ConfigError{Pack: p.Name, Version: p.Version}
	all := cfg[AllPolicies]
	if all.Level != "" && !all.Level.Valid() {
		cerr.Problems = append(cerr.Problems, PolicyProblem{Pos: all.Pos, Policy: AllPolicies,
			Msg: fmt.Sprintf("enforcement level %q is not one of advisory, mandatory, remediate, disabled", all.Level)})
	}
	if len(all.Properties) > 0 {
		cerr.Problems = append(cerr.Problems, PolicyProblem{Pos: all.Pos, Policy: AllPolicies, Msg: "all takes an enforcement level only"})
	}
	for _, name := range sortedKeys(cfg) {
		if name != AllPolicies && p.byName[name] == nil {
			cerr.Problems = append(cerr.Problems, PolicyProblem{Pos: cfg[name].Pos, Policy: name, Msg: "no such policy in the pack"})
		}
	}
	for _, pol := range p.Policies {
		s := &policySettings{level: pol.Level}
		at := cfg[pol.Name].Pos
		if all.Level != "" {
			s.level = all.Level
		}
		props := map[string]any{}
		if c, ok := cfg[pol.Name]; ok {
			if c.Level != "" {
				if !c.Level.Valid() {
					cerr.Problems = append(cerr.Problems, PolicyProblem{Pos: at, Policy: pol.Name,
						Msg: fmt.Sprintf("enforcement level %q is not one of advisory, mandatory, remediate, disabled", c.Level)})
				}
				s.level = c.Level
			}
			if c.Properties != nil {
				props = maps.Clone(c.Properties)
			}
		}
		scope, problems := takeScope(props, pol.Kind == spec.StackKind)
		for _, msg := range problems {
			cerr.Problems = append(cerr.Problems, PolicyProblem{Pos: at, Policy: pol.Name, Msg: msg})
		}
		s.scope = scope
		if pol.config != nil {
			props = withDefaults(pol.config.raw, props)
			for _, msg := range pol.config.validate(props) {
				cerr.Problems = append(cerr.Problems, PolicyProblem{Pos: at, Policy: pol.Name, Msg: msg})
			}
		} else if len(props) > 0 {
			cerr.Problems = append(cerr.Problems, PolicyProblem{Pos: at, Policy: pol.Name,
				Msg: fmt.Sprintf("the policy takes no config, got %s", strings.Join(sortedKeys(props), ", "))})
		}
		s.config = props
		r.settings[pol] = s
	}
	if len(cerr.Problems) > 0 {
		return nil, cerr
	}
	r.stack = newStackView(&stack)
	return r, nil
}

func newStackView(s *Stack) stackView {
	v := stackView{m: &markers{base: unknownIDBase}, mm: &markers{base: unknownIDBase << 1}}
	c := &converter{m: v.m}
	v.real = c.stack(s)
	if c.err != nil {
		v.err = c.err
	}
	if v.m.nsecret > 0 {
		v.masked = (&converter{m: v.mm, mask: true}).stack(s)
	} else {
		v.masked = v.real
	}
	return v
}

// Level returns the level a policy runs at in this run.
func (r *Run) Level(pol *Policy) spec.Level {
	if s := r.settings[pol]; s != nil {
		return s.level
	}
	return pol.Level
}

// Config returns a policy's effective config in this run, defaults included.
func (r *Run) Config(pol *Policy) map[string]any {
	if s := r.settings[pol]; s != nil {
		return s.config
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

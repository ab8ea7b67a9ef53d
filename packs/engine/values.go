package engine

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/warden-policy/warden/packs/spec"
)

// Property values handed to the engine are JSON-like Go values: nil, bool,
// float64 (Pulumi numbers; ints are accepted too), string, []any,
// map[string]any, plus the two markers below. The analyzer converts Pulumi's
// wire values to this form; test cases write them with !unknown and !secret.

// Unknown is a value that is not known yet (an output during preview).
type Unknown struct{}

// Secret wraps a value whose plaintext policies may inspect but which must
// never be shown in a message, log line or error.
type Secret struct{ Value any }

// Resource is what a policy sees of one resource. Resource policies get its
// inputs as Props; stack policies get its outputs.
type Resource struct {
	URN                  string
	Type                 string
	Name                 string
	Props                map[string]any
	Options              Options
	Provider             *Provider
	Parent               string
	Dependencies         []string
	PropertyDependencies map[string][]string
}

// Options are the resource options the engine passes to analyzers.
type Options struct {
	Protect                 bool
	IgnoreChanges           []string
	DeleteBeforeReplace     bool
	Aliases                 []string
	AdditionalSecretOutputs []string
	CustomTimeouts          CustomTimeouts
	Parent                  string
}

// CustomTimeouts are create/update/delete timeouts, as duration strings.
type CustomTimeouts struct{ Create, Update, Delete string }

// Provider is the provider resource a resource is managed by.
type Provider struct {
	Name  string
	Type  string
	URN   string
	Props map[string]any
}

// Stack identifies the stack being analyzed. Config values of secret keys
// arrive as Secret.
type Stack struct {
	Name         string
	Project      string
	Organization string
	Tags         map[string]string
	Config       map[string]any
	DryRun       bool
}

// ValueRef names a value a verdict depended on: a property path of the
// resource with URN (empty URN: the resource being analyzed).
type ValueRef struct {
	URN  string
	Path spec.Path
}

// String renders the reference as Pulumi's SDKs do in their messages:
// ".tags.owner", with the resource URN in front for stack policies.
func (r ValueRef) String() string {
	if r.URN == "" {
		return r.Path.String()
	}
	return r.URN + " " + r.Path.String()
}

// unknownIDBase keeps marker ids far from CEL expression ids.
const unknownIDBase = int64(1) << 40

// marker records what one CEL unknown stands for.
type marker struct {
	ref    ValueRef
	secret bool // a secret masked for rendering, not an unknown value
}

// markers maps CEL unknown ids to what they stand for, and remembers secret
// plaintexts so that error text can be scrubbed. One instance belongs to one
// view of one input; a StackInput's grows as its resources are converted,
// on first access, so list is guarded. secrets and nsecret are complete
// before evaluation starts and read-only after.
type markers struct {
	// mu guards list: a StackInput's resources are converted, and their
	// markers added, while other evaluations look markers up.
	mu      sync.Mutex
	base    int64
	list    []marker
	secrets []string // plaintexts long enough to scrub from text
	nsecret int      // how many secret values the conversion met
}

func (m *markers) add(mk marker) *types.Unknown {
	m.mu.Lock()
	id := m.base + int64(len(m.list))
	m.list = append(m.list, mk)
	m.mu.Unlock()
	path := types.NewAttributeTrail("value")
	return types.NewUnknown(id, path)
}

func (m *markers) lookup(id int64) (marker, bool) {
	if m == nil {
		return marker{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i := id - m.base
	if i < 0 || i >= int64(len(m.list)) {
		return marker{}, false
	}
	return m.list[i], true
}

func (m *markers) noteSecret(v any) {
	switch v := v.(type) {
	case string:
		// Very short strings would shred every message they occur in, and
		// rendering already masks every value derived from a secret.
		if len(v) >= 3 {
			m.secrets = append(m.secrets, v)
		}
	case float64, int, int64, bool:
		if s := fmt.Sprint(v); len(s) >= 3 {
			m.secrets = append(m.secrets, s)
		}
	case []any:
		for _, e := range v {
			m.noteSecret(e)
		}
	case map[string]any:
		for _, e := range v {
			m.noteSecret(e)
		}
	}
}

// MaxDepth is how deeply property values may nest: a value at a path of
// more than MaxDepth keys and indexes is refused. Real resources stay far
// below it (a Kubernetes pod spec nests about 15 deep); a deeper value is
// more likely a hostile or broken input than a resource, and every walk
// over values (conversion, rendering, remediation) recurses per level. A
// refused resource is not evaluated: each policy that applies to it reports
// a DepthError, at the policy's level, so a mandatory policy blocks.
const MaxDepth = 256

// DepthError says where a value nests deeper than MaxDepth: the resource
// (empty URN: the analyzed resource's own inputs) and the path at which
// the limit was passed.
type DepthError struct {
	URN  string
	Path spec.Path
	// Max is the limit that was passed.
	Max int
}

func (e *DepthError) Error() string {
	// The first levels locate the value; hundreds more would only bury
	// the message.
	const shown = 16
	at := e.Path.String()
	if len(e.Path) > shown {
		at = e.Path[:shown].String() + "..."
	}
	if e.URN != "" {
		at = e.URN + " " + at
	}
	return fmt.Sprintf("property value at %s nests more than %d levels deep", at, e.Max)
}

// converter turns engine values into values CEL can evaluate: unknowns
// become CEL unknowns (so CEL's own rules decide whether a verdict depends on
// them), secrets become their plaintext or, when masking, unknowns flagged as
// secret. Subtrees without markers are shared, not copied.
type converter struct {
	m    *markers
	urn  string
	mask bool
	// named: markers name the resource they belong to (stack policies see
	// many resources; a resource policy sees one and names none).
	named bool
	// maxDepth is MaxDepth; tests lower or raise it.
	maxDepth int
	// err is the first value that nested too deep.
	err *DepthError
	// scanned: the input's secrets were noted already (a StackInput
	// scans every resource before converting any).
	scanned bool
	// shared, when set, keeps values resources have in common.
	shared *shared
}

// pathNode is one step of the path to the value being converted, linked to
// its parent: descending a level costs one node, not a copy of the path,
// and the path is spelled out only when a marker or an error needs it.
// (Copying it per level made conversion quadratic in the depth.)
type pathNode struct {
	parent *pathNode
	elem   spec.PathElem
	depth  int
}

func (n *pathNode) child(e spec.PathElem) *pathNode {
	d := 1
	if n != nil {
		d = n.depth + 1
	}
	return &pathNode{parent: n, elem: e, depth: d}
}

func (n *pathNode) path() spec.Path {
	if n == nil {
		return nil
	}
	out := make(spec.Path, n.depth)
	for ; n != nil; n = n.parent {
		out[n.depth-1] = n.elem
	}
	return out
}

func (c *converter) limit() int {
	if c.maxDepth > 0 {
		return c.maxDepth
	}
	return MaxDepth
}

func (c *converter) value(v any, at *pathNode) (any, bool) {
	if at != nil && at.depth > c.limit() {
		if c.err == nil {
			c.err = &DepthError{URN: c.urn, Path: at.path(), Max: c.limit()}
		}
		return nil, true
	}
	switch v := v.(type) {
	case Unknown, *Unknown:
		return c.m.add(marker{ref: ValueRef{URN: c.urn, Path: at.path()}}), true
	case Secret:
		if !c.scanned {
			c.m.nsecret++
			c.m.noteSecret(v.Value)
		}
		if c.mask {
			return c.m.add(marker{ref: ValueRef{URN: c.urn, Path: at.path()}, secret: true}), true
		}
		inner, _ := c.value(v.Value, at)
		return inner, true
	case *Secret:
		return c.value(*v, at)
	case map[string]any:
		var out map[string]any
		for k, e := range v {
			if isScalar(e) {
				continue
			}
			ce, changed := c.value(e, at.child(spec.PathElem{Key: k}))
			if changed {
				if out == nil {
					out = make(map[string]any, len(v))
					for k2, e2 := range v {
						out[k2] = e2
					}
				}
				out[k] = ce
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case []any:
		var out []any
		unknown := false
		for i, e := range v {
			if isScalar(e) {
				continue
			}
			ce, changed := c.value(e, at.child(spec.PathElem{Index: i, IsIndex: true}))
			if changed {
				if out == nil {
					out = append([]any(nil), v...)
				}
				out[i] = ce
				_, isUnknown := ce.(*types.Unknown)
				unknown = unknown || isUnknown
			}
		}
		if out == nil {
			return v, false
		}
		if unknown {
			return newUnknownList(out), true // `in` is unknown, not false
		}
		return out, true
	}
	return v, false
}

// isScalar reports whether v is a plain value the converter passes as is.
func isScalar(v any) bool {
	switch v.(type) {
	case nil, bool, float64, string, int, int64:
		return true
	}
	return false
}

func (c *converter) props(p map[string]any) map[string]any {
	if p == nil {
		return map[string]any{}
	}
	out, _ := c.value(p, nil)
	return out.(map[string]any)
}

// resource builds the CEL view of a resource.
func (c *converter) resource(r *Resource) map[string]any {
	c.urn = ""
	if c.named {
		c.urn = r.URN
	}
	m := map[string]any{
		"urn":      r.URN,
		"type":     r.Type,
		"name":     r.Name,
		"props":    c.props(r.Props),
		"parent":   r.Parent,
		"options":  c.options(r.Options),
		"provider": c.provider(r.Provider),
		// The adapter reads these as CEL lists and maps where they are,
		// without a copy.
		"dependencies":         r.Dependencies,
		"propertyDependencies": r.PropertyDependencies,
	}
	if r.Dependencies == nil {
		m["dependencies"] = []string{}
	}
	if r.PropertyDependencies == nil {
		m["propertyDependencies"] = noPropertyDependencies
	}
	return m
}

// noPropertyDependencies is every resource's without any (CEL never
// writes to a value).
var noPropertyDependencies = map[string][]string{}

// shared holds the CEL values that the resources of one StackInput have
// in common, built once: a provider's (the analyzer shares one Provider
// among the resources it manages) and options that hold no lists (most
// resources have the stack or one component as parent and nothing else).
type shared struct {
	providers map[*Provider]map[string]any
	options   map[optionsKey]map[string]any
}

// optionsKey is Options without its lists.
type optionsKey struct {
	protect, deleteBeforeReplace bool
	timeouts                     CustomTimeouts
	parent                       string
}

func (c *converter) options(o Options) map[string]any {
	if c.shared == nil || len(o.IgnoreChanges)+len(o.Aliases)+len(o.AdditionalSecretOutputs) > 0 {
		return o.cel()
	}
	k := optionsKey{o.Protect, o.DeleteBeforeReplace, o.CustomTimeouts, o.Parent}
	m, ok := c.shared.options[k]
	if !ok {
		m = o.cel()
		c.shared.options[k] = m
	}
	return m
}

func (c *converter) provider(p *Provider) map[string]any {
	if p == nil {
		return map[string]any{"name": "", "type": "", "urn": "", "props": map[string]any{}}
	}
	if c.shared != nil {
		if m, ok := c.shared.providers[p]; ok {
			return m
		}
	}
	saved := c.urn
	c.urn = p.URN
	m := map[string]any{"name": p.Name, "type": p.Type, "urn": p.URN, "props": c.props(p.Props)}
	c.urn = saved
	if c.shared != nil {
		c.shared.providers[p] = m
	}
	return m
}

func (o Options) cel() map[string]any {
	strs := func(s []string) []any {
		out := make([]any, len(s))
		for i, v := range s {
			out[i] = v
		}
		return out
	}
	return map[string]any{
		"protect":                 o.Protect,
		"ignoreChanges":           strs(o.IgnoreChanges),
		"deleteBeforeReplace":     o.DeleteBeforeReplace,
		"aliases":                 strs(o.Aliases),
		"additionalSecretOutputs": strs(o.AdditionalSecretOutputs),
		"customTimeouts": map[string]any{
			"create": o.CustomTimeouts.Create, "update": o.CustomTimeouts.Update, "delete": o.CustomTimeouts.Delete,
		},
		"parent": o.Parent,
	}
}

func (c *converter) stack(s *Stack) map[string]any {
	tags := make(map[string]any, len(s.Tags))
	for k, v := range s.Tags {
		tags[k] = v
	}
	c.urn = ""
	return map[string]any{
		"name":         s.Name,
		"project":      s.Project,
		"organization": s.Organization,
		"tags":         tags,
		"config":       c.props(s.Config),
		"dryRun":       s.DryRun,
	}
}

// fromCEL converts a CEL result back to an engine value (for remediation).
func fromCEL(v ref.Val) (any, error) {
	switch v := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(v), nil
	case types.Int:
		return float64(v), nil
	case types.Uint:
		return float64(v), nil
	case types.Double:
		return float64(v), nil
	case types.String:
		return string(v), nil
	case traits.Mapper:
		out := map[string]any{}
		it := v.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key of type %s: property maps have string keys", k.Type().TypeName())
			}
			e, err := fromCEL(v.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	case traits.Lister:
		var out []any
		it := v.Iterator()
		for it.HasNext() == types.True {
			e, err := fromCEL(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %s cannot be a property value", v.Type().TypeName())
}

// format renders a CEL value for a message: strings as they are, whole
// numbers without a fraction, lists and maps in a JSON-like form.
func format(v ref.Val, unknown func(*types.Unknown) string) string {
	switch v := v.(type) {
	case *types.Unknown:
		return unknown(v)
	case types.String:
		return string(v)
	case types.Double:
		f := float64(v)
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.FormatInt(int64(f), 10)
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	case types.Null:
		return "null"
	case traits.Mapper:
		var parts []string
		it := v.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			parts = append(parts, quoteIfString(k, unknown)+": "+quoteIfString(v.Get(k), unknown))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	case traits.Lister:
		var parts []string
		it := v.Iterator()
		for it.HasNext() == types.True {
			parts = append(parts, quoteIfString(it.Next(), unknown))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Value())
}

func quoteIfString(v ref.Val, unknown func(*types.Unknown) string) string {
	if s, ok := v.(types.String); ok {
		return strconv.Quote(string(s))
	}
	return format(v, unknown)
}

package engine

import (
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/warden-policy/warden/packs/spec"
)

// referencingFunction is resources.referencing(TYPE, PROPERTY, ITEM, KEYS):
// the resources of TYPE (a type token, * globs as byType) whose PROPERTY
// refers to the resource ITEM. A resource with a property dependency for
// PROPERTY refers to what it names (the engine knows that even while ids
// are unknown); one without refers by value, when PROPERTY's value is one
// of ITEM's KEYS: paths "props.NAME", "name" or "urn", and "A|B" for A,
// else B when A is absent (["props.id", "props.bucket"] for a bucket).
// ITEM is passed whole, not its values: a CEL list holding an unknown is
// unknown as a whole, and no call on it would be made.
//
// It is how stack policies join resources without scanning: on Warden's
// resources an index per TYPE and PROPERTY is built once per stack and
// every call is a lookup, so "every bucket has an enabled versioning
// resource" stays linear in the stack. It decides exactly what the scan
// `resources.byType(TYPE).filter(r, has(r.propertyDependencies[PROPERTY]) ?
// ITEM.urn in r.propertyDependencies[PROPERTY] : r.props[PROPERTY] in KEYS)`
// decides. Where a reference by value cannot be decided (a resource that
// refers by value has an unknown PROPERTY, or one of ITEM's keys is
// unknown while some resource refers by value) it is unknown, so the
// policy cannot run for ITEM; the scan could sometimes still decide there
// through the rest of its predicate.
func referencingFunction() cel.EnvOption {
	resources := cel.ListType(cel.MapType(cel.StringType, cel.DynType))
	return cel.Lib(helperLib{opts: []cel.EnvOption{
		cel.Function("referencing",
			cel.MemberOverload("list_referencing_string_string_map_list",
				[]*cel.Type{resources, cel.StringType, cel.StringType, cel.MapType(cel.StringType, cel.DynType), cel.ListType(cel.StringType)}, resources,
				cel.FunctionBinding(referencing))),
		cel.CostModel(referencingCost),
	}})
}

// referencingCost prices a call by what it returns (an index lookup), or,
// on a list that is not Warden's resources, by the scan it does.
var referencingCost = cost.MemberOverload("list_referencing_string_string_map_list", cost.ManualCost(
	upToTargetSize,
	func(args []ref.Val, result ref.Val) *uint64 {
		c := cost.CallCost + listSize(result)
		if len(args) > 0 {
			if _, indexed := args[0].(*resourceList); !indexed {
				c += listSize(args[0])
			}
		}
		return &c
	}))

func referencing(args ...ref.Val) ref.Val {
	if len(args) != 5 {
		return types.NewErr("referencing: want (type, property, item, keys)")
	}
	pat, ok1 := args[1].(types.String)
	prop, ok2 := args[2].(types.String)
	if !ok1 || !ok2 {
		return types.NewErr("referencing: the type and the property are strings")
	}
	item, ok := args[3].(traits.Mapper)
	if !ok {
		return types.NewErr("referencing: the item is a resource")
	}
	urn, _ := field(item, "urn")
	paths, ok := args[4].(traits.Lister)
	if !ok {
		return types.NewErr("referencing: the keys are a list of paths")
	}
	var keys []ref.Val
	it := paths.Iterator()
	for it.HasNext() == types.True {
		p, ok := it.Next().(types.String)
		if !ok {
			return types.NewErr("referencing: the keys are a list of paths")
		}
		k, err := keyOf(item, string(p))
		if err != nil {
			return err
		}
		if k != nil {
			keys = append(keys, k)
		}
	}
	var idx *refIndex
	if l, ok := args[0].(*resourceList); ok {
		idx = l.refIndex(string(pat), string(prop))
	} else {
		elems, err := elementsOfType(args[0], string(pat))
		if err != nil {
			return err
		}
		idx = newRefIndex(elems, string(prop))
	}
	u, _ := urn.(types.String)
	return idx.lookup(string(u), keys)
}

// keyOf reads a key path of an item: "name", "urn", "props.NAME", and
// "A|B" for the first that is present; nil when none is.
func keyOf(item traits.Mapper, path string) (ref.Val, ref.Val) {
	for alt := range strings.SplitSeq(path, "|") {
		switch {
		case alt == "name" || alt == "urn":
			if v, ok := field(item, alt); ok {
				return v, nil
			}
		case strings.HasPrefix(alt, "props."):
			props, ok := field(item, "props")
			if !ok {
				continue
			}
			if pm, ok := props.(traits.Mapper); ok {
				if v, ok := field(pm, strings.TrimPrefix(alt, "props.")); ok {
					return v, nil
				}
			}
		default:
			return nil, types.NewErr("referencing: key %q: want name, urn or props.NAME (A|B for A, else B)", alt)
		}
	}
	return nil, nil
}

// refIndex indexes the resources of one type by what one property refers
// to: by the URNs of its property dependency, else by its value.
type refIndex struct {
	elems   []ref.Val
	byURN   map[string][]int
	byValue map[string][]int
	// pending is the unknown value of a property that refers by value:
	// with one, no lookup by value can be decided.
	pending ref.Val
}

func newRefIndex(elems []ref.Val, prop string) *refIndex {
	idx := &refIndex{elems: elems, byURN: map[string][]int{}, byValue: map[string][]int{}}
	key := types.String(prop)
	for i, e := range elems {
		m, ok := e.(traits.Mapper)
		if !ok {
			continue
		}
		if deps, ok := field(m, "propertyDependencies"); ok {
			if dm, ok := deps.(traits.Mapper); ok {
				if list, found := dm.Find(key); found {
					if l, ok := list.(traits.Lister); ok {
						it := l.Iterator()
						for it.HasNext() == types.True {
							if u, ok := it.Next().(types.String); ok {
								idx.byURN[string(u)] = append(idx.byURN[string(u)], i)
							}
						}
						continue
					}
				}
			}
		}
		props, ok := field(m, "props")
		if !ok {
			continue
		}
		pm, ok := props.(traits.Mapper)
		if !ok {
			continue
		}
		switch v, _ := pm.Find(key); v := v.(type) {
		case types.String:
			idx.byValue[string(v)] = append(idx.byValue[string(v)], i)
		case *types.Unknown:
			if idx.pending == nil {
				idx.pending = v
			}
		}
	}
	return idx
}

func field(m traits.Mapper, name string) (ref.Val, bool) {
	v, found := m.Find(types.String(name))
	return v, found && v != nil
}

func (idx *refIndex) lookup(urn string, keys []ref.Val) ref.Val {
	hits := slices.Clone(idx.byURN[urn])
	if len(idx.byValue) > 0 || idx.pending != nil {
		if idx.pending != nil {
			return idx.pending
		}
		for _, k := range keys {
			switch k := k.(type) {
			case *types.Unknown:
				return k
			case types.String:
				hits = append(hits, idx.byValue[string(k)]...)
			}
		}
	}
	if len(hits) == 0 {
		return emptyList
	}
	slices.Sort(hits)
	hits = slices.Compact(hits)
	out := make([]ref.Val, len(hits))
	for i, h := range hits {
		out[i] = idx.elems[h]
	}
	return types.NewRefValList(types.DefaultTypeAdapter, out)
}

// refIndex returns the index of TYPE by PROPERTY, built on first use and
// kept with the list: a StackInput's list is shared by every pack and
// policy of one AnalyzeStack.
func (l *resourceList) refIndex(pat, prop string) *refIndex {
	l.refsMu.Lock()
	defer l.refsMu.Unlock()
	k := [2]string{pat, prop}
	if idx, ok := l.refs[k]; ok {
		return idx
	}
	elems, _ := elementsOfType(l, pat)
	idx := newRefIndex(elems, prop)
	if l.refs == nil {
		l.refs = map[[2]string]*refIndex{}
	}
	l.refs[k] = idx
	return idx
}

// elementsOfType is byType's selection as a slice.
func elementsOfType(list ref.Val, pat string) ([]ref.Val, ref.Val) {
	var out []ref.Val
	if l, ok := list.(*resourceList); ok {
		for _, t := range l.types {
			if t == pat || spec.IsGlob(pat) && spec.MatchGlob(pat, t) {
				it := l.byType[t].(traits.Lister).Iterator()
				for it.HasNext() == types.True {
					out = append(out, it.Next())
				}
			}
		}
		return out, nil
	}
	lister, ok := list.(traits.Lister)
	if !ok {
		return nil, types.NewErr("want a list of resources")
	}
	it := lister.Iterator()
	for it.HasNext() == types.True {
		e := it.Next()
		if m, ok := e.(traits.Mapper); ok {
			if t, found := m.Find(types.String("type")); found {
				if s, ok := t.(types.String); ok && spec.MatchGlob(pat, string(s)) {
					out = append(out, e)
				}
			}
		}
	}
	return out, nil
}

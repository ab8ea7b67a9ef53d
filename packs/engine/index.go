package engine

import (
	"sort"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/warden-policy/warden/packs/spec"
)

// resourceList is the `resources` value of stack policies: a CEL list that
// also indexes its elements by type token, so that
// resources.byType("aws:s3/bucketV2:BucketV2") costs a map lookup instead
// of a scan. Stack policies that match resources pairwise (a bucket and
// the access block that points at it) stay usable on stacks of 100,000
// resources this way.
type resourceList struct {
	traits.Lister
	byType map[string]ref.Val
	types  []string // sorted keys of byType, for globs

	refsMu sync.Mutex
	refs   map[[2]string]*refIndex // referencing's indexes, by type and property
}

func newResourceList(elems []any, typeOf func(int) string) *resourceList {
	groups := map[string][]any{}
	for i, e := range elems {
		t := typeOf(i)
		groups[t] = append(groups[t], e)
	}
	l := &resourceList{
		Lister: types.NewDynamicList(stackAdapter{}, elems),
		byType: make(map[string]ref.Val, len(groups)),
	}
	for t, g := range groups {
		l.byType[t] = types.NewDynamicList(stackAdapter{}, g)
		l.types = append(l.types, t)
	}
	sort.Strings(l.types)
	return l
}

var emptyList = types.NewDynamicList(types.DefaultTypeAdapter, []any{})

// byTypeFunction is resources.byType(pattern): the resources whose type
// token is pattern, or matches it when it has * globs (as resourceTypes
// do). On a list that is not Warden's resources it filters element by
// element.
func byTypeFunction() cel.EnvOption {
	resources := cel.ListType(cel.MapType(cel.StringType, cel.DynType))
	return cel.Lib(helperLib{opts: []cel.EnvOption{byTypeDecl(resources), cel.CostModel(byTypeCost)}})
}

// byTypeCost prices byType by its work: an exact type on Warden's
// resources is a map lookup; a glob copies what it matches; any other list
// is scanned whole.
var byTypeCost = cost.MemberOverload("list_byType_string", cost.ManualCost(
	upToTargetSize,
	func(args []ref.Val, result ref.Val) *uint64 {
		c := cost.CallCost
		if len(args) == 2 {
			pat, _ := args[1].(types.String)
			_, indexed := args[0].(*resourceList)
			switch {
			case indexed && !strings.Contains(string(pat), "*"):
			case indexed:
				c += listSize(result)
			default:
				c += listSize(args[0])
			}
		}
		return &c
	}))

// upToTargetSize estimates a call on a list of resources as one unit up to
// the list's size: an index lookup at best, a scan at worst.
func upToTargetSize(est cost.Estimator, target *cost.AstNode, _ []cost.AstNode) *cost.CallEstimate {
	if target == nil {
		return nil
	}
	sz := cost.EstimateSize(est, *target)
	return cost.NewCallEstimate(cost.Estimate{Min: cost.CallCost, Max: sz.Max + cost.CallCost}, nil)
}

// listSize is the number of elements of a list value, 0 for anything else.
func listSize(v ref.Val) uint64 {
	if l, ok := v.(traits.Lister); ok {
		if n, ok := l.Size().(types.Int); ok && n > 0 {
			return uint64(n)
		}
	}
	return 0
}

func byTypeDecl(resources *cel.Type) cel.EnvOption {
	return cel.Function("byType",
		cel.MemberOverload("list_byType_string", []*cel.Type{resources, cel.StringType}, resources,
			cel.BinaryBinding(func(list, pattern ref.Val) ref.Val {
				pat := string(pattern.(types.String))
				if l, ok := list.(*resourceList); ok && !spec.IsGlob(pat) {
					if g, ok := l.byType[pat]; ok {
						return g // the index's own list: no copy
					}
					return emptyList
				}
				out, err := elementsOfType(list, pat)
				if err != nil {
					return types.NewErr("byType: %v", err)
				}
				return types.NewRefValList(types.DefaultTypeAdapter, out)
			})))
}

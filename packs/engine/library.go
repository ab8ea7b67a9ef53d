package engine

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"github.com/Masterminds/semver/v3"
)

// library is the set of helper functions real policies need on top of CEL's
// standard extensions. Every helper is strict: an unknown argument makes the
// call unknown (CEL's own rule), so helpers never see unknown values.
//
//	json.parse(dyn) -> dyn            a JSON string parsed; a map or list returned as is
//	                                  (Pulumi accepts IAM documents as either)
//	json.valid(string) -> bool
//	cidr.valid(string) -> bool
//	cidr.contains(string, string) -> bool    first range contains the address or range
//	cidr.overlaps(string, string) -> bool
//	cidr.isOpen(string) -> bool       the range is the whole internet (0.0.0.0/0, ::/0)
//	cidr.isPublic(string) -> bool     the range includes a globally routable address
//	ports.covers(dyn, dyn, dyn) -> bool      from..to covers the port (-1/"*" are "all")
//	ports.covers(dyn, dyn) -> bool           a port spec ("22", "1000-2000", "*", or a list
//	                                         of them, as Azure and GCP write) covers the port
//	semver.valid(string) -> bool
//	semver.compare(string, string) -> int    -1, 0 or 1
//	semver.satisfies(string, string) -> bool version in range (^1.2, >=1.0 <2)
//	sets.of(list) -> map(dyn, bool)   the list's distinct elements (strings, ints,
//	                                  uints, bools) as keys: x in sets.of(l) is a map
//	                                  lookup, where x in l scans the list
//
// Each helper costs what its work is worth (see valueCost): a flat call
// cost would let an expression call one on a large input many times within
// the cost limit. json.encode, which ext.Encoders prices as unbounded (so
// every call failed the limit), is priced the same way.
func library() cel.EnvOption {
	str, dyn := cel.StringType, cel.DynType
	return cel.Lib(helperLib{
		opts: []cel.EnvOption{
			cel.Function("json.parse", cel.Overload("json_parse_dyn", []*cel.Type{dyn}, dyn, cel.UnaryBinding(jsonParse))),
			cel.Function("json.valid", cel.Overload("json_valid_string", []*cel.Type{str}, cel.BoolType,
				cel.UnaryBinding(func(v ref.Val) ref.Val { return types.Bool(json.Valid([]byte(v.(types.String)))) }))),
			cel.Function("cidr.valid", cel.Overload("cidr_valid_string", []*cel.Type{str}, cel.BoolType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					_, err := parsePrefix(string(v.(types.String)))
					return types.Bool(err == nil)
				}))),
			cel.Function("cidr.contains", cel.Overload("cidr_contains_string_string", []*cel.Type{str, str}, cel.BoolType,
				cel.BinaryBinding(prefixPair("cidr.contains", func(a, b netip.Prefix) bool {
					return a.Bits() <= b.Bits() && a.Contains(b.Addr())
				})))),
			cel.Function("cidr.overlaps", cel.Overload("cidr_overlaps_string_string", []*cel.Type{str, str}, cel.BoolType,
				cel.BinaryBinding(prefixPair("cidr.overlaps", func(a, b netip.Prefix) bool { return a.Overlaps(b) })))),
			cel.Function("cidr.isOpen", cel.Overload("cidr_is_open_string", []*cel.Type{str}, cel.BoolType,
				cel.UnaryBinding(prefixTest("cidr.isOpen", func(p netip.Prefix) bool { return p.Bits() == 0 })))),
			cel.Function("cidr.isPublic", cel.Overload("cidr_is_public_string", []*cel.Type{str}, cel.BoolType,
				cel.UnaryBinding(prefixTest("cidr.isPublic", isPublic)))),
			cel.Function("ports.covers",
				cel.Overload("ports_covers_range", []*cel.Type{dyn, dyn, dyn}, cel.BoolType, cel.FunctionBinding(portsCoversRange)),
				cel.Overload("ports_covers_spec", []*cel.Type{dyn, dyn}, cel.BoolType, cel.BinaryBinding(portsCoversSpec))),
			cel.Function("semver.valid", cel.Overload("semver_valid_string", []*cel.Type{str}, cel.BoolType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					_, err := semver.NewVersion(string(v.(types.String)))
					return types.Bool(err == nil)
				}))),
			cel.Function("semver.compare", cel.Overload("semver_compare_string_string", []*cel.Type{str, str}, cel.IntType,
				cel.BinaryBinding(semverCompare))),
			cel.Function("semver.satisfies", cel.Overload("semver_satisfies_string_string", []*cel.Type{str, str}, cel.BoolType,
				cel.BinaryBinding(semverSatisfies))),
			cel.Function("sets.of", cel.Overload("sets_of_list", []*cel.Type{cel.ListType(dyn)}, cel.MapType(dyn, cel.BoolType),
				cel.UnaryBinding(setOf))),
			cel.CostModel(sizedCost("json_parse_dyn"), sizedCost("json_valid_string"),
				sizedCost("cidr_valid_string"), sizedCost("cidr_contains_string_string"), sizedCost("cidr_overlaps_string_string"),
				sizedCost("cidr_is_open_string"), sizedCost("cidr_is_public_string"),
				sizedCost("ports_covers_range"), sizedCost("ports_covers_spec"),
				sizedCost("semver_valid_string"), sizedCost("semver_compare_string_string"), sizedCost("semver_satisfies_string_string"),
				sizedCost("sets_of_list"),
				// Registered after ext.Encoders, so it replaces its model.
				sizedCost("json_encode_dyn")),
		},
	})
}

// sizedCost prices a helper by the size of its arguments and its result
// (valueCost): every helper does work linear in those, so an expression
// pays for each call in proportion to the data it touches. The estimate
// (for cel.EstimateCost) is the same rule over the checker's size bounds.
func sizedCost(overloadID string) cost.OverloadModel {
	return cost.Overload(overloadID, cost.ManualCost(
		func(est cost.Estimator, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
			total := cost.FixedCostEstimate(cost.CallCost)
			for _, a := range args {
				sz := cost.EstimateSize(est, a)
				total = total.Add(cost.Estimate{Min: sz.Min, Max: sz.Max})
			}
			return cost.NewCallEstimate(total, nil)
		},
		func(args []ref.Val, result ref.Val) *uint64 {
			c := cost.CallCost
			for _, a := range args {
				c += valueCost(a, 0)
			}
			c += valueCost(result, 0)
			return &c
		}))
}

// valueCost is the size of a value in cost units: one per scalar, list
// element and map entry, plus one per ten bytes of text (CEL's own string
// scan factor), counted through nested lists and maps. Below MaxDepth
// levels it stops counting: values the engine hands to CEL are no deeper,
// and deeper CEL-built values are priced by the expressions that built
// them.
func valueCost(v ref.Val, depth int) uint64 {
	if depth > MaxDepth {
		return 1
	}
	switch v := v.(type) {
	case types.String:
		return 1 + uint64(len(v))/10
	case types.Bytes:
		return 1 + uint64(len(v))/10
	case traits.Mapper:
		n := uint64(1)
		it := v.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			n += valueCost(k, depth+1)
			if e, found := v.Find(k); found {
				n += valueCost(e, depth+1)
			}
		}
		return n
	case traits.Lister:
		n := uint64(1)
		it := v.Iterator()
		for it.HasNext() == types.True {
			n += valueCost(it.Next(), depth+1)
		}
		return n
	}
	return 1
}

// setOf is sets.of(list): a map from each distinct element to true, so
// that membership is one lookup. Only elements that can be map keys are
// allowed; anything else is an error, never a silent miss.
func setOf(v ref.Val) ref.Val {
	l, ok := v.(traits.Lister)
	if !ok {
		return types.NewErr("sets.of: want a list, got %s", v.Type().TypeName())
	}
	m := make(map[ref.Val]ref.Val, listSize(l))
	it := l.Iterator()
	for it.HasNext() == types.True {
		e := it.Next()
		switch e.(type) {
		case types.String, types.Int, types.Uint, types.Bool:
			m[e] = types.True
		default:
			return types.NewErr("sets.of: elements must be strings, ints, uints or bools, got %s", e.Type().TypeName())
		}
	}
	return types.NewRefValMap(types.DefaultTypeAdapter, m)
}

type helperLib struct{ opts []cel.EnvOption }

func (l helperLib) CompileOptions() []cel.EnvOption   { return l.opts }
func (helperLib) ProgramOptions() []cel.ProgramOption { return nil }

func jsonParse(v ref.Val) ref.Val {
	s, ok := v.(types.String)
	if !ok {
		if v.Type() == types.MapType || v.Type() == types.ListType {
			return v
		}
		return types.NewErr("json.parse: want a JSON string, a map or a list, got %s", v.Type().TypeName())
	}
	var out any
	dec := json.NewDecoder(strings.NewReader(string(s)))
	if err := dec.Decode(&out); err != nil {
		return types.NewErr("json.parse: not valid JSON: %v", jsonErr(err))
	}
	if dec.More() {
		return types.NewErr("json.parse: not valid JSON: data after the top-level value")
	}
	return types.DefaultTypeAdapter.NativeToValue(out)
}

// jsonErr keeps the position of a JSON syntax error but never the text, which
// may be a secret.
func jsonErr(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("syntax error at offset %d", se.Offset)
	}
	if _, ok := err.(*json.UnmarshalTypeError); ok {
		return "unexpected value type"
	}
	return "truncated or malformed input"
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func prefixArg(fn string, v ref.Val) (netip.Prefix, ref.Val) {
	p, err := parsePrefix(string(v.(types.String)))
	if err != nil {
		// The text itself is left out: it may be a secret.
		return p, types.NewErr("%s: argument is not a CIDR range or IP address", fn)
	}
	return p.Masked(), nil
}

func prefixPair(fn string, test func(a, b netip.Prefix) bool) func(a, b ref.Val) ref.Val {
	return func(a, b ref.Val) ref.Val {
		pa, err := prefixArg(fn, a)
		if err != nil {
			return err
		}
		pb, err := prefixArg(fn, b)
		if err != nil {
			return err
		}
		if pa.Addr().Is4() != pb.Addr().Is4() {
			return types.False
		}
		return types.Bool(test(pa, pb))
	}
}

func prefixTest(fn string, test func(netip.Prefix) bool) func(ref.Val) ref.Val {
	return func(v ref.Val) ref.Val {
		p, err := prefixArg(fn, v)
		if err != nil {
			return err
		}
		return types.Bool(test(p))
	}
}

// nonPublic lists the ranges that are not routable on the internet.
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// isPublic reports whether p includes an address outside every non-public
// range: any range wider than a non-public block that holds it, or a public
// block, qualifies.
func isPublic(p netip.Prefix) bool {
	for _, np := range nonPublic {
		if np.Addr().Is4() == p.Addr().Is4() && np.Bits() <= p.Bits() && np.Contains(p.Addr()) {
			return false
		}
	}
	return true
}

// portNumber reads a port from a number or a numeric string. -1 and "*" mean
// every port, as in AWS (-1 with protocol -1) and Azure/GCP ("*").
func portNumber(fn string, v ref.Val) (n int64, all bool, errv ref.Val) {
	switch v := v.(type) {
	case types.Int:
		return int64(v), v < 0, nil
	case types.Uint:
		return int64(v), false, nil
	case types.Double:
		if float64(v) != float64(int64(v)) {
			return 0, false, types.NewErr("%s: port %v is not a whole number", fn, float64(v))
		}
		return int64(v), v < 0, nil
	case types.String:
		s := strings.TrimSpace(string(v))
		if s == "*" || s == "-1" {
			return 0, true, nil
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return 0, false, types.NewErr("%s: %q is not a port number", fn, s)
		}
		return n, false, nil
	}
	return 0, false, types.NewErr("%s: want a port number, got %s", fn, v.Type().TypeName())
}

func portsCoversRange(args ...ref.Val) ref.Val {
	const fn = "ports.covers"
	from, allFrom, err := portNumber(fn, args[0])
	if err != nil {
		return err
	}
	to, allTo, err := portNumber(fn, args[1])
	if err != nil {
		return err
	}
	port, _, err := portNumber(fn, args[2])
	if err != nil {
		return err
	}
	if allFrom || allTo {
		return types.True
	}
	return types.Bool(from <= port && port <= to)
}

func portsCoversSpec(spec, portVal ref.Val) ref.Val {
	const fn = "ports.covers"
	port, _, err := portNumber(fn, portVal)
	if err != nil {
		return err
	}
	if l, ok := spec.(traits.Lister); ok {
		it := l.Iterator()
		for it.HasNext() == types.True {
			r := portsCoversSpec(it.Next(), portVal)
			if r != types.False {
				return r
			}
		}
		return types.False
	}
	if s, ok := spec.(types.String); ok {
		from, to, found := strings.Cut(strings.TrimSpace(string(s)), "-")
		if found && from != "" {
			return portsCoversRange(types.String(from), types.String(to), types.Int(port))
		}
	}
	return portsCoversRange(spec, spec, types.Int(port))
}

func semverCompare(a, b ref.Val) ref.Val {
	va, err := semver.NewVersion(string(a.(types.String)))
	if err != nil {
		return types.NewErr("semver.compare: %q is not a semantic version", string(a.(types.String)))
	}
	vb, err := semver.NewVersion(string(b.(types.String)))
	if err != nil {
		return types.NewErr("semver.compare: %q is not a semantic version", string(b.(types.String)))
	}
	return types.Int(va.Compare(vb))
}

func semverSatisfies(v, r ref.Val) ref.Val {
	ver, err := semver.NewVersion(string(v.(types.String)))
	if err != nil {
		return types.NewErr("semver.satisfies: %q is not a semantic version", string(v.(types.String)))
	}
	c, err := semver.NewConstraint(string(r.(types.String)))
	if err != nil {
		return types.NewErr("semver.satisfies: %q is not a version range", string(r.(types.String)))
	}
	return types.Bool(c.Check(ver))
}

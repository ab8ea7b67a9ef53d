package engine

import (
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// unknownList is a property list holding an unknown (or, in the masked
// view, a secret) value. CEL's own lists answer `x in list` false when no
// element equals x, which reads an unknown element as "not x": "api" in
// [<unknown>] would be a decided false, and a policy requiring "api" in the
// list would report a violation during a preview where the value may well
// be "api". Here `in` is unknown when no known element equals x and some
// element is unknown; true as soon as one equals it.
type unknownList struct{ traits.Lister }

func newUnknownList(elems []any) ref.Val {
	return unknownList{types.NewDynamicList(types.DefaultTypeAdapter, elems)}
}

func (l unknownList) Contains(v ref.Val) ref.Val {
	if types.IsUnknown(v) {
		return v
	}
	var unk *types.Unknown
	for it := l.Iterator(); it.HasNext() == types.True; {
		e := it.Next()
		if u, ok := e.(*types.Unknown); ok {
			unk = types.MergeUnknowns(unk, u)
			continue
		}
		if e.Equal(v) == types.True {
			return types.True
		}
	}
	if unk != nil {
		return unk
	}
	return types.False
}

package analyzer

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/warden-policy/warden/packs/engine"
)

// The properties of an Analyze or Remediate request are decoded from their
// wire form (a google.protobuf.Struct) straight into engine values: the
// per-resource path then allocates only what evaluation keeps, instead of
// a tree of structpb objects that is garbage as soon as it is converted.
// It reads the canonical encoding that protobuf marshallers produce; on
// anything else (a malformed message, a field repeated that protobuf would
// merge, an unexpected wire type or field, invalid UTF-8, deep nesting) it
// hands the whole message to proto.Unmarshal and propsFromProto, so the
// result, errors included, is always that path's (FuzzPropsFromWire checks
// it). Signed structs other than secrets, which are rare, go the SDK's way
// too.

// Field numbers of google/protobuf/struct.proto.
const (
	structFields   = 1 // Struct.fields, map<string, Value>
	mapEntryKey    = 1
	mapEntryValue  = 2
	valueNull      = 1
	valueNumber    = 2
	valueString    = 3
	valueBool      = 4
	valueStruct    = 5
	valueList      = 6
	listValues     = 1
	maxWireNesting = 100 // deeper goes to proto.Unmarshal, which enforces its own limit
)

// errNotCanonical sends a message to the reference decoder.
var errNotCanonical = errors.New("not a canonical encoding")

// propsFromWire decodes a Struct's wire form into resource properties.
func propsFromWire(b []byte) (map[string]any, error) {
	if m, err := structFromWire(b, 0, true); err == nil {
		return m, nil
	}
	s := new(structpb.Struct)
	if err := proto.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("decoding properties: %w", err)
	}
	return propsFromProto(s)
}

// structFromWire decodes a Struct's fields; top skips the internal
// top-level keys (__defaults, __meta), as propsFromProto does.
func structFromWire(b []byte, depth int, top bool) (map[string]any, error) {
	if depth > maxWireNesting {
		return nil, errNotCanonical
	}
	m := map[string]any{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errNotCanonical
		}
		b = b[n:]
		if num != structFields || typ != protowire.BytesType {
			return nil, errNotCanonical
		}
		entry, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, errNotCanonical
		}
		b = b[n:]
		k, v, err := entryFromWire(entry, depth)
		if err != nil {
			return nil, err
		}
		if top && strings.HasPrefix(k, "__") {
			continue
		}
		m[k] = v
	}
	return m, nil
}

func entryFromWire(b []byte, depth int) (string, any, error) {
	var key string
	var val []byte
	var haveKey, haveVal bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", nil, errNotCanonical
		}
		b = b[n:]
		switch {
		case num == mapEntryKey && typ == protowire.BytesType && !haveKey:
			s, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(s) {
				return "", nil, errNotCanonical
			}
			key, b, haveKey = string(s), b[n:], true
		case num == mapEntryValue && typ == protowire.BytesType && !haveVal:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return "", nil, errNotCanonical
			}
			val, b, haveVal = v, b[n:], true
		default:
			return "", nil, errNotCanonical
		}
	}
	v, err := valueFromWire(val, depth+1)
	if err != nil {
		return "", nil, err
	}
	return key, v, nil
}

// valueFromWire decodes a Value, which holds one kind.
func valueFromWire(b []byte, depth int) (any, error) {
	if depth > maxWireNesting {
		return nil, errNotCanonical
	}
	var out any
	for kinds := 0; len(b) > 0; kinds++ {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || kinds > 0 {
			return nil, errNotCanonical
		}
		b = b[n:]
		switch {
		case num == valueNull && typ == protowire.VarintType:
			_, n = protowire.ConsumeVarint(b)
			out = nil
		case num == valueBool && typ == protowire.VarintType:
			var x uint64
			x, n = protowire.ConsumeVarint(b)
			out = x != 0
		case num == valueNumber && typ == protowire.Fixed64Type:
			var x uint64
			x, n = protowire.ConsumeFixed64(b)
			out = math.Float64frombits(x)
		case num == valueString && typ == protowire.BytesType:
			var s []byte
			s, n = protowire.ConsumeBytes(b)
			if n >= 0 {
				if !utf8.Valid(s) {
					return nil, errNotCanonical
				}
				if str := string(s); sig.IsUnknown(str) {
					out = engine.Unknown{}
				} else {
					out = str
				}
			}
		case num == valueStruct && typ == protowire.BytesType:
			var s []byte
			if s, n = protowire.ConsumeBytes(b); n >= 0 {
				v, err := signedFromWire(s, depth+1)
				if err != nil {
					return nil, err
				}
				out = v
			}
		case num == valueList && typ == protowire.BytesType:
			var s []byte
			if s, n = protowire.ConsumeBytes(b); n >= 0 {
				v, err := listFromWire(s, depth+1)
				if err != nil {
					return nil, err
				}
				out = v
			}
		default:
			return nil, errNotCanonical
		}
		if n < 0 {
			return nil, errNotCanonical
		}
		b = b[n:]
	}
	return out, nil
}

func listFromWire(b []byte, depth int) ([]any, error) {
	out := []any{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errNotCanonical
		}
		b = b[n:]
		if num != listValues || typ != protowire.BytesType {
			return nil, errNotCanonical
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, errNotCanonical
		}
		b = b[n:]
		ev, err := valueFromWire(v, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// signedFromWire decodes a nested Struct: a plain object, a secret, or
// another of Pulumi's signed values (decoded by the SDK's rules).
func signedFromWire(b []byte, depth int) (any, error) {
	m, err := structFromWire(b, depth, false)
	if err != nil {
		return nil, err
	}
	signature, signed := m[sig.Key]
	if !signed {
		return m, nil
	}
	if signature == sig.Secret {
		inner, ok := m["value"]
		if !ok {
			return nil, errNotCanonical // the reference reports it
		}
		if _, already := inner.(engine.Secret); already {
			return inner, nil
		}
		return engine.Secret{Value: inner}, nil
	}
	s := new(structpb.Struct)
	if err := proto.Unmarshal(b, s); err != nil {
		return nil, errNotCanonical
	}
	v, err := fromProtoStruct(s)
	if err != nil {
		return nil, errNotCanonical
	}
	return v, nil
}

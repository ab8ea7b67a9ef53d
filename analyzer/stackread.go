package analyzer

import (
	"bytes"
	"fmt"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/warden-policy/warden/packs/engine"
)

// stackReader converts the resources of one AnalyzeStack request. They
// are all held at once for the rest of the call, so what many of them
// repeat is kept once: the provider, which the engine sends whole with
// every resource (one per package and version), and the URNs of parents
// and dependencies, which name other resources.
// From the wire form, properties are decoded by propsFromWire, without the
// tree of protobuf objects a whole decode builds first.
type stackReader struct {
	// providers are by wire form, and by URN for the same provider in
	// another form (protobuf writes map entries in any order).
	providers map[string]*engine.Provider
	byURN     map[string]*engine.Provider
	strs      map[string]string // one copy of each repeated string
	rest      []byte            // scratch: a resource but its properties and provider
	// wanted says which types the stack policies read (nil: all);
	// fromWire leaves the others undecoded (see fromWire). count is how
	// many resources were read, left out or not.
	wanted func(typ string) bool
	count  int
}

func newStackReader(wanted func(typ string) bool) *stackReader {
	return &stackReader{providers: map[string]*engine.Provider{}, byURN: map[string]*engine.Provider{},
		strs: map[string]string{}, wanted: wanted}
}

// signed marks a signed struct (a secret, asset, archive, resource
// reference or output value) in a Struct's wire form.
var signed = []byte(sig.Key)

// Field numbers of AnalyzerResource that fromWire decodes itself.
const (
	resourceProperties = 2
	resourceProvider   = 6
)

// fromWire converts one resource from its wire form. A resource that
// repeats its properties or provider (protobuf would merge them), or that
// is not well formed, is decoded whole, the usual way, so the result and
// the errors are always fromProto's (FuzzStackReader checks it).
//
// A resource of a type no stack policy reads is left out (nil, nil), its
// properties not even decoded, unless they may hold a secret: a secret's
// plaintext is scrubbed from every message, whichever resource holds it.
// Most of a large stack is such resources; decoding them was most of
// AnalyzeStack's time and memory.
func (sr *stackReader) fromWire(b []byte) (*engine.Resource, error) {
	sr.count++
	sr.rest = sr.rest[:0]
	var props, prov []byte
	var seenProps, seenProv bool
	for r := b; len(r) > 0; {
		num, typ, n := protowire.ConsumeTag(r)
		if n < 0 {
			return sr.whole(b)
		}
		m := protowire.ConsumeFieldValue(num, typ, r[n:])
		if m < 0 {
			return sr.whole(b)
		}
		switch {
		case num == resourceProperties && typ == protowire.BytesType:
			if seenProps {
				return sr.whole(b)
			}
			props, _ = protowire.ConsumeBytes(r[n:])
			seenProps = true
		case num == resourceProvider && typ == protowire.BytesType:
			if seenProv {
				return sr.whole(b)
			}
			prov, _ = protowire.ConsumeBytes(r[n:])
			seenProv = true
		default:
			sr.rest = append(sr.rest, r[:n+m]...)
		}
		r = r[n+m:]
	}
	res := new(pulumirpc.AnalyzerResource)
	if err := proto.Unmarshal(sr.rest, res); err != nil {
		return nil, malformed(err)
	}
	if sr.wanted != nil && !sr.wanted(res.GetType()) && !bytes.Contains(props, signed) && !bytes.Contains(prov, signed) {
		return nil, nil
	}
	if !seenProps {
		props = []byte{} // no properties: an empty Struct
	}
	p, err := propsFromWire(props)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", res.GetUrn(), err)
	}
	var provider *engine.Provider
	if seenProv {
		if provider = sr.providers[string(prov)]; provider == nil {
			pr := new(pulumirpc.AnalyzerProviderResource)
			if err := proto.Unmarshal(prov, pr); err != nil {
				return nil, malformed(err)
			}
			if provider, err = providerFromProto(pr); err != nil {
				return nil, err
			}
			if same := sr.byURN[provider.URN]; same != nil && reflect.DeepEqual(same, provider) {
				provider = same
			} else {
				sr.byURN[provider.URN] = provider
			}
			sr.providers[string(prov)] = provider
		}
	}
	return sr.resource(res, p, provider), nil
}

// whole decodes a resource's wire form in one piece.
func (sr *stackReader) whole(b []byte) (*engine.Resource, error) {
	r := new(pulumirpc.AnalyzerResource)
	if err := proto.Unmarshal(b, r); err != nil {
		return nil, malformed(err)
	}
	return sr.convert(r)
}

// fromProto converts one decoded resource (leaving none out).
func (sr *stackReader) fromProto(r *pulumirpc.AnalyzerResource) (*engine.Resource, error) {
	sr.count++
	return sr.convert(r)
}

func (sr *stackReader) convert(r *pulumirpc.AnalyzerResource) (*engine.Resource, error) {
	props, err := propsFromProto(r.GetProperties())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.GetUrn(), err)
	}
	prov, err := providerFromProto(r.GetProvider())
	if err != nil {
		return nil, err
	}
	return sr.resource(r, props, prov), nil
}

// resource assembles the engine's resource from r's other fields.
func (sr *stackReader) resource(r *pulumirpc.AnalyzerResource, props map[string]any, prov *engine.Provider) *engine.Resource {
	var pdeps map[string][]string
	if len(r.GetPropertyDependencies()) > 0 {
		pdeps = make(map[string][]string, len(r.GetPropertyDependencies()))
		for k, d := range r.GetPropertyDependencies() {
			pdeps[k] = sr.interned(d.GetUrns())
		}
	}
	opts := optionsFromProto(r.GetOptions())
	opts.Parent = sr.intern(opts.Parent)
	return &engine.Resource{
		URN: sr.intern(r.GetUrn()), Type: sr.intern(r.GetType()), Name: r.GetName(), Props: props,
		Options: opts, Provider: prov, Parent: sr.intern(r.GetParent()),
		Dependencies: sr.interned(r.GetDependencies()), PropertyDependencies: pdeps,
	}
}

// intern returns the first copy of s this reader met.
func (sr *stackReader) intern(s string) string {
	if s == "" {
		return s
	}
	if v, ok := sr.strs[s]; ok {
		return v
	}
	sr.strs[s] = s
	return s
}

func (sr *stackReader) interned(ss []string) []string {
	for i, s := range ss {
		ss[i] = sr.intern(s)
	}
	return ss
}

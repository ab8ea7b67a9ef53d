package analyzer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/warden-policy/warden/internal/bench"
)

// viaProto is the reference: proto.Unmarshal, then propsFromProto.
func viaProto(b []byte) (map[string]any, error) {
	s := new(structpb.Struct)
	if err := proto.Unmarshal(b, s); err != nil {
		return nil, err
	}
	return propsFromProto(s)
}

func wireSeeds(t testing.TB) [][]byte {
	t.Helper()
	text, err := resource.NewTextAsset("hello")
	if err != nil {
		t.Fatal(err)
	}
	maps := []resource.PropertyMap{{
		"n": resource.NewNumberProperty(22), "s": resource.NewStringProperty("x"), "b": resource.NewBoolProperty(true),
		"null":          resource.NewNullProperty(),
		"list":          resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("a"), resource.MakeComputed(resource.NewStringProperty(""))}),
		"secret":        resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{"k": resource.NewStringProperty("v")})),
		"secretSecret":  resource.MakeSecret(resource.MakeSecret(resource.NewStringProperty("pw"))),
		"knownOutput":   resource.NewOutputProperty(resource.Output{Element: resource.NewStringProperty("v"), Known: true}),
		"unknownOutput": resource.NewOutputProperty(resource.Output{Known: false, Secret: true}),
		"ref":           resource.MakeCustomResourceReference("urn:pulumi:s::p::aws:s3/bucket:Bucket::b", "b-123", ""),
		"asset":         resource.NewAssetProperty(text),
		"empty":         resource.NewObjectProperty(resource.PropertyMap{}),
		"emptyList":     resource.NewArrayProperty(nil),
		"__defaults":    resource.NewArrayProperty(nil),
	}}
	for _, r := range bench.Corpus("s", "p", 12) {
		maps = append(maps, r.Props)
	}
	var out [][]byte
	for _, m := range maps {
		s, err := plugin.MarshalProperties(m, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true})
		if err != nil {
			t.Fatal(err)
		}
		// Deterministic: map entries in key order, so that every run
		// decodes (and truncates, below) the same bytes.
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestPropsFromWire: the wire decoder gives what proto.Unmarshal and
// propsFromProto give, on every shape the engine sends.
func TestPropsFromWire(t *testing.T) {
	t.Parallel()
	for i, b := range wireSeeds(t) {
		want, err := viaProto(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := propsFromWire(b)
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("seed %d (-proto +wire):\n%s", i, d)
		}
	}
	first := wireSeeds(t)[0]
	for name, b := range map[string][]byte{
		// Cutting the last byte always truncates the last map entry, a
		// length-delimited field; a cut at a fixed offset could fall on an
		// entry boundary and leave a valid, shorter message.
		"truncated":    first[:len(first)-1],
		"invalid utf8": mustMarshal(t, &structpb.Struct{Fields: map[string]*structpb.Value{"k": {Kind: &structpb.Value_StringValue{StringValue: "\xff"}}}}),
	} {
		if _, err := propsFromWire(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{}.Marshal(m)
	if err != nil {
		// proto refuses to marshal invalid UTF-8; build it by hand.
		return []byte("\x0a\x08\x0a\x01k\x12\x03\x1a\x01\xff")
	}
	return b
}

// FuzzPropsFromWire: on any input, the wire decoder and the reference
// agree on whether it decodes and on what it decodes to.
func FuzzPropsFromWire(f *testing.F) {
	for _, b := range wireSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, werr := viaProto(b)
		got, gerr := propsFromWire(b)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("proto: %v, wire: %v", werr, gerr)
		}
		if d := cmp.Diff(want, got, cmpopts.EquateNaNs()); werr == nil && d != "" {
			t.Fatalf("(-proto +wire):\n%s", d)
		}
	})
}

// BenchmarkPropsDecode decodes the properties of the driver's corpus
// both ways.
func BenchmarkPropsDecode(b *testing.B) {
	seeds := wireSeeds(b)[1:]
	b.Run("proto", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := viaProto(seeds[i%len(seeds)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := propsFromWire(seeds[i%len(seeds)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestRequestWireSplit: a request's properties are set apart from the rest
// and decode as the whole request decoded the usual way would.
func TestRequestWireSplit(t *testing.T) {
	t.Parallel()
	props := wireSeeds(t)[0]
	head := &pulumirpc.AnalyzeRequest{Urn: "urn:pulumi:dev::web::aws:s3/bucket:Bucket::b", Type: "aws:s3/bucket:Bucket", Name: "b",
		Options: &pulumirpc.AnalyzerResourceOptions{Protect: true, Parent: "urn:pulumi:dev::web::pulumi:pulumi:Stack::web-dev"}}
	headBytes, err := proto.Marshal(head)
	if err != nil {
		t.Fatal(err)
	}
	withProps := func(times int) []byte {
		b := append([]byte(nil), headBytes...)
		for range times {
			b = protowire.AppendBytes(protowire.AppendTag(b, 2, protowire.BytesType), props)
		}
		return b
	}
	for name, b := range map[string][]byte{"no properties": withProps(0), "properties": withProps(1), "properties twice": withProps(2)} {
		want := new(pulumirpc.AnalyzeRequest)
		if err := proto.Unmarshal(b, want); err != nil {
			t.Fatal(err)
		}
		wantProps, err := propsFromProto(want.GetProperties())
		if err != nil {
			t.Fatal(err)
		}
		var w requestWire
		if err := w.split(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := w.properties()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := cmp.Diff(wantProps, got); d != "" {
			t.Errorf("%s: properties (-proto +split):\n%s", name, d)
		}
		want.Properties, w.req.Properties = nil, nil
		if !proto.Equal(want, w.req) {
			t.Errorf("%s: request %v, want %v", name, w.req, want)
		}
	}
	var w requestWire
	if err := w.split([]byte{0x12, 0x05, 0x0a}); err == nil {
		t.Error("a truncated request split without error")
	}
}

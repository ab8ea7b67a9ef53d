package analyzer

import (
	"slices"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func TestStackWire(t *testing.T) {
	t.Parallel()
	req := &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{
		{Urn: "urn:pulumi:dev::web::aws:s3/bucket:Bucket::a", Type: "aws:s3/bucket:Bucket"},
		{Urn: "urn:pulumi:dev::web::aws:s3/bucket:Bucket::b", Type: "aws:s3/bucket:Bucket"},
	}}
	data, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	// A field a newer engine might add is skipped, wherever it comes.
	data = protowire.AppendString(protowire.AppendTag(data, 7, protowire.BytesType), "future")
	var urns []string
	w := wire(data)
	if first, err := w.first(); err != nil || first != req.Resources[0].Urn {
		t.Errorf("first: %q, %v", first, err)
	}
	if err := w.each(func(r *pulumirpc.AnalyzerResource) error { urns = append(urns, r.GetUrn()); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(urns, " ") != req.Resources[0].Urn+" "+req.Resources[1].Urn {
		t.Errorf("resources: %v", urns)
	}
	for name, bad := range map[string][]byte{
		"truncated tag":          {0x80},
		"truncated resource":     data[:len(data)/2],
		"resource not a message": protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "\xff\xff"),
	} {
		err := wire(bad).each(func(*pulumirpc.AnalyzerResource) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "malformed AnalyzeStack request") {
			t.Errorf("%s: got %v, want a malformed-request error", name, err)
		}
	}
}

// wire is a request as the codec leaves it: in pieces, as the HTTP/2
// frames it arrives in (tiny ones here, so that fields straddle them).
func wire(data []byte) *stackWire {
	var s mem.BufferSlice
	for len(data) > 0 {
		n := min(len(data), 7)
		s = append(s, mem.SliceBuffer(slices.Clone(data[:n])))
		data = data[n:]
	}
	return &stackWire{data: s}
}

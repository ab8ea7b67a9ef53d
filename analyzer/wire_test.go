package analyzer

import (
	"context"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/warden-policy/warden/packs/home"
	"google.golang.org/protobuf/testing/protocmp"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/warden-policy/warden/internal/bench"
	"github.com/warden-policy/warden/packs/engine"
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
	if err := w.each(func(b []byte) error {
		r, err := newStackReader(nil).fromWire(b)
		if err != nil {
			return err
		}
		urns = append(urns, r.URN)
		return nil
	}); err != nil {
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
		err := wire(bad).each(func(b []byte) error {
			_, err := newStackReader(nil).fromWire(b)
			return err
		})
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

// plainServer is another AnalyzerServer: served through register, it gets
// every request decoded whole.
type plainServer struct {
	pulumirpc.UnimplementedAnalyzerServer
	analyze, remediate *pulumirpc.AnalyzeRequest
	stack              *pulumirpc.AnalyzeStackRequest
}

func (r *plainServer) Analyze(_ context.Context, req *pulumirpc.AnalyzeRequest) (*pulumirpc.AnalyzeResponse, error) {
	r.analyze = req
	return &pulumirpc.AnalyzeResponse{}, nil
}

func (r *plainServer) Remediate(_ context.Context, req *pulumirpc.AnalyzeRequest) (*pulumirpc.RemediateResponse, error) {
	r.remediate = req
	return &pulumirpc.RemediateResponse{}, nil
}

func (r *plainServer) AnalyzeStack(_ context.Context, req *pulumirpc.AnalyzeStackRequest) (*pulumirpc.AnalyzeResponse, error) {
	r.stack = req
	return &pulumirpc.AnalyzeResponse{}, nil
}

// TestWireOtherServer: the wire handlers hand another implementation the
// requests exactly as sent.
func TestWireOtherServer(t *testing.T) {
	t.Parallel()
	rec := &plainServer{}
	c := newTestClient(t, rec)
	props, err := structpb.NewStruct(map[string]any{"acl": "private", "tags": map[string]any{"env": "dev"}})
	if err != nil {
		t.Fatal(err)
	}
	req := &pulumirpc.AnalyzeRequest{Urn: "urn:pulumi:dev::web::aws:s3/bucket:Bucket::b", Type: "aws:s3/bucket:Bucket", Name: "b", Properties: props}
	if _, err := c.Analyze(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Remediate(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	stack := &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{{Urn: req.Urn, Type: req.Type, Name: req.Name, Properties: props}}}
	if _, err := c.AnalyzeStack(t.Context(), stack); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(rec.analyze, req) || !proto.Equal(rec.remediate, req) || !proto.Equal(rec.stack, stack) {
		t.Errorf("received %v / %v / %v", rec.analyze, rec.remediate, rec.stack)
	}
}

// wireRequestSeeds are Analyze requests of the driver's corpus, marshalled
// as the engine sends them.
func wireRequestSeeds(t testing.TB) [][]byte {
	t.Helper()
	reqs, err := bench.AnalyzeRequests(bench.Corpus("s", "p", 12))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, r := range reqs {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzRequestWire: an Analyze request split on the wire, its properties
// decoded by propsFromWire, gives what proto.Unmarshal and propsFromProto
// give, and fails exactly when that path fails.
func FuzzRequestWire(f *testing.F) {
	for _, b := range wireRequestSeeds(f) {
		f.Add(b)
	}
	f.Add([]byte{0x12, 0x05, 0x0a})
	f.Fuzz(func(t *testing.T, b []byte) {
		full := new(pulumirpc.AnalyzeRequest)
		want, werr := map[string]any(nil), proto.Unmarshal(b, full)
		if werr == nil {
			want, werr = propsFromProto(full.GetProperties())
		}
		var w requestWire
		got, gerr := map[string]any(nil), w.split(b)
		if gerr == nil {
			got, gerr = w.properties()
		}
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("proto: %v, wire: %v", werr, gerr)
		}
		if werr != nil {
			return
		}
		if d := cmp.Diff(want, got, cmpopts.EquateNaNs()); d != "" {
			t.Fatalf("properties (-proto +wire):\n%s", d)
		}
		// Everything but the properties (compared above) is the same; a
		// request that repeats its properties is decoded whole, so they
		// may be in either.
		rest := proto.Clone(w.req).(*pulumirpc.AnalyzeRequest)
		full.Properties, rest.Properties = nil, nil
		if !proto.Equal(full, rest) {
			t.Fatalf("request: proto %v, wire %v", full, rest)
		}
	})
}

// FuzzStackWire: the resources of an AnalyzeStack request read from its
// wire form, in pieces, are those proto.Unmarshal finds; a message it
// accepts, the wire reader accepts.
func FuzzStackWire(f *testing.F) {
	stack, err := bench.StackRequest(bench.Corpus("s", "p", 12))
	if err != nil {
		f.Fatal(err)
	}
	seed, err := proto.MarshalOptions{Deterministic: true}.Marshal(stack)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(protowire.AppendString(protowire.AppendTag(seed, 7, protowire.BytesType), "future"))
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		full := new(pulumirpc.AnalyzeStackRequest)
		werr := proto.Unmarshal(b, full)
		var got []*pulumirpc.AnalyzerResource
		gerr := wire(b).each(func(b []byte) error {
			r := new(pulumirpc.AnalyzerResource)
			if err := proto.Unmarshal(b, r); err != nil {
				return err
			}
			got = append(got, r)
			return nil
		})
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("proto: %v, wire: %v", werr, gerr)
		}
		if werr != nil {
			return
		}
		if len(got) != len(full.GetResources()) {
			t.Fatalf("wire read %d resources, proto %d", len(got), len(full.GetResources()))
		}
		for i, r := range full.GetResources() {
			if !proto.Equal(r, got[i]) {
				t.Fatalf("resource %d: proto %v, wire %v", i, r, got[i])
			}
		}
	})
}

// FuzzStackReader: a resource converted from its wire form is the one
// converted from its decoded message, errors included.
func FuzzStackReader(f *testing.F) {
	stack, err := bench.StackRequest(bench.Corpus("s", "p", 20))
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range stack.GetResources() {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		// Repeated properties and provider fields: protobuf merges them.
		f.Add(append(slices.Clone(b), b...))
	}
	f.Add([]byte{0x12, 0x02, 0x0a})
	f.Fuzz(func(t *testing.T, b []byte) {
		sr := newStackReader(nil)
		got, gerr := sr.fromWire(b)
		r := new(pulumirpc.AnalyzerResource)
		var want *engine.Resource
		werr := proto.Unmarshal(b, r)
		if werr == nil {
			want, werr = newStackReader(nil).fromProto(r)
		}
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("wire: %v, proto: %v", gerr, werr)
		}
		if gerr != nil {
			return
		}
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); d != "" {
			t.Fatalf("wire and proto differ (-proto +wire):\n%s", d)
		}
	})
}

// TestStackReaderShares: what resources repeat is kept once: a provider
// is converted once per distinct wire form, parents are one string.
func TestStackReaderShares(t *testing.T) {
	t.Parallel()
	stack, err := bench.StackRequest(bench.Corpus("s", "p", 40))
	if err != nil {
		t.Fatal(err)
	}
	sr := newStackReader(nil)
	providers := map[string]*engine.Provider{}
	parents := map[string]*byte{}
	for _, r := range stack.GetResources() {
		b, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sr.fromWire(b)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := providers[res.Provider.URN]; ok && p != res.Provider {
			t.Errorf("%s: provider %s converted again", res.URN, p.URN)
		}
		providers[res.Provider.URN] = res.Provider
		if p, ok := parents[res.Parent]; ok && p != unsafe.StringData(res.Parent) {
			t.Errorf("%s: parent %s copied", res.URN, res.Parent)
		}
		parents[res.Parent] = unsafe.StringData(res.Parent)
	}
	if len(providers) != 2 || len(parents) != 1 {
		t.Errorf("providers %v, parents %v", providers, parents)
	}
}

// TestAnalyzeStackReadsWanted: served, AnalyzeStack leaves out the
// resources no stack policy reads (their properties undecoded) and answers
// exactly as when every resource is decoded (the in-process call), for the
// catalog and the benchmark home; a secret held by a resource no policy
// reads is still scrubbed from messages.
func TestAnalyzeStackReadsWanted(t *testing.T) {
	t.Parallel()
	stack, err := bench.StackRequest(bench.Corpus("bench", "load", 20*18))
	if err != nil {
		t.Fatal(err)
	}
	echo := t.TempDir()
	err = os.CopyFS(echo, fstest.MapFS{
		"warden.yaml": {Data: []byte("organization: acme\ngroups:\n  - name: default\n    mode: preventative\n    default: true\n    packs:\n      - pack: echo\n")},
		"packs/echo/pack.yaml": {Data: []byte(`name: echo
version: 1.0.0
policies:
  - name: echo
    kind: stack
    description: d
    forEach: resources.byType("test:index:Echo")
    violation: "true"
    message: "{{ item.props.text }}"
`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	secretStack := &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{
		{Urn: "urn:pulumi:dev::p::test:index:Db::db", Type: "test:index:Db", Name: "db",
			Properties: props(t, resource.PropertyMap{"password": resource.MakeSecret(resource.NewStringProperty("correct-horse-battery"))})},
		{Urn: "urn:pulumi:dev::p::test:index:Echo::echo", Type: "test:index:Echo", Name: "echo",
			Properties: props(t, resource.PropertyMap{"text": resource.NewStringProperty("the password is correct-horse-battery")})},
	}}
	for _, c := range []struct {
		name, dir string
		req       *pulumirpc.AnalyzeStackRequest
	}{{"catalog", "", stack}, {"bench home", "../testdata/bench/warden", stack}, {"echo", echo, secretStack}} {
		server := func() *Server {
			h, err := home.Default()
			if c.dir != "" {
				h, err = home.Load(c.dir)
			}
			if err != nil {
				t.Fatal(err)
			}
			return NewServer(h, nil, Options{Logger: testLogger(t)})
		}
		whole, err := server().AnalyzeStack(t.Context(), c.req)
		if err != nil {
			t.Fatal(err)
		}
		served, err := newTestClient(t, server()).AnalyzeStack(t.Context(), c.req)
		if err != nil {
			t.Fatal(err)
		}
		if len(whole.GetDiagnostics()) == 0 {
			t.Fatalf("%s: no diagnostics", c.name)
		}
		if d := cmp.Diff(whole, served, protocmp.Transform()); d != "" {
			t.Errorf("%s: served differs from decoded whole (-whole +served):\n%s", c.name, d)
		}
		for _, d := range served.GetDiagnostics() {
			if strings.Contains(d.GetMessage(), "correct-horse") {
				t.Errorf("%s: a secret in a message: %s", c.name, d.GetMessage())
			}
		}
	}
	// What the served reader left out: on the corpus, the catalog's stack
	// policies read 7 of its 18 types; the rest holding a secret (the
	// databases' passwords) are decoded too.
	h, err := home.Default()
	if err != nil {
		t.Fatal(err)
	}
	sess, err := NewServer(h, nil, Options{Logger: testLogger(t)}).current(stack.Resources[0].Urn)
	if err != nil {
		t.Fatal(err)
	}
	sr := newStackReader(sess.StackReads())
	kept := map[string]bool{}
	for _, r := range stack.GetResources() {
		b, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sr.fromWire(b)
		if err != nil {
			t.Fatal(err)
		}
		if res != nil {
			kept[res.Type] = true
		}
	}
	if sr.count != len(stack.GetResources()) || len(kept) != 8 || !kept["aws:rds/instance:Instance"] || kept["aws:iam/role:Role"] {
		t.Errorf("read %d, kept the types %v", sr.count, kept)
	}
}

package analyzer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/warden-policy/warden/packs/engine"
)

// The analyzer's side of the wire: the codec and method handlers through
// which Analyze, Remediate and AnalyzeStack requests reach the Server
// without the intermediate protobuf trees the generated code would build.
//
// AnalyzeStack carries the whole stack in one message. Decoded the usual
// way, every resource becomes a tree of protobuf objects several times the
// size of its wire form, all alive until the call ends, and that tree is
// most of the plugin's peak memory. The analyzer instead keeps the request
// as bytes (stackWire) and decodes one resource at a time as it converts
// it, or not at all when no pack of the session has a stack policy.

// stackWire is an AnalyzeStackRequest still in its wire form: the gRPC
// receive buffers themselves, not a copy, each freed as soon as it is read.
type stackWire struct {
	data     mem.BufferSlice // one reference, ours until release
	released bool
}

func (w *stackWire) release() {
	if !w.released {
		w.released = true
		w.data.Free()
	}
}

// first is the URN of the first resource, "" when there is none.
func (w *stackWire) first() (string, error) {
	var urn string
	err := w.read(false, func(b []byte) error {
		r := new(pulumirpc.AnalyzerResource)
		if err := proto.Unmarshal(b, r); err != nil {
			return malformed(err)
		}
		urn = r.GetUrn()
		return errStop
	})
	if err == errStop {
		err = nil
	}
	return urn, err
}

// each reads the request's resources in order, calling f with the wire
// form of each (an AnalyzerResource message) and releasing the request as
// it goes; f may not keep b, which is reused. It can be called once.
func (w *stackWire) each(f func(b []byte) error) error {
	return w.read(true, f)
}

func (w *stackWire) read(consume bool, f func(b []byte) error) error {
	if w.released {
		return fmt.Errorf("the AnalyzeStack request was already read")
	}
	rd := w.data.Reader() // takes its own references, frees them as it reads
	defer rd.Close()
	if consume {
		w.release()
	}
	var buf []byte
	for rd.Remaining() > 0 {
		tag, err := binary.ReadUvarint(rd)
		if err != nil {
			return malformed(err)
		}
		num, typ := protowire.DecodeTag(tag)
		if num < protowire.MinValidNumber {
			return malformed(fmt.Errorf("invalid field number %d", num))
		}
		if num != 1 || typ != protowire.BytesType { // 1 is resources; skip what a newer engine adds
			if err := skipField(rd, num, typ, 0); err != nil {
				return malformed(err)
			}
			continue
		}
		n, err := binary.ReadUvarint(rd)
		if err != nil {
			return malformed(err)
		}
		if n > uint64(rd.Remaining()) {
			return malformed(io.ErrUnexpectedEOF)
		}
		buf = slices.Grow(buf[:0], int(n))[:n]
		if _, err := io.ReadFull(rd, buf); err != nil {
			return malformed(err)
		}
		if err := f(buf); err != nil {
			return err
		}
	}
	return nil
}

// maxGroupDepth is how deeply skipField follows nested groups, the limit
// protobuf-go's own decoder applies.
const maxGroupDepth = 10000

// skipField reads past the value of field num, of wire type typ, as
// proto.Unmarshal would skip an unknown field: a group (a wire type no
// current engine sends) up to its matching end.
func skipField(rd *mem.Reader, num protowire.Number, typ protowire.Type, depth int) error {
	var n uint64
	switch typ {
	case protowire.StartGroupType:
		if depth >= maxGroupDepth {
			return fmt.Errorf("groups nested deeper than %d", maxGroupDepth)
		}
		for {
			tag, err := binary.ReadUvarint(rd)
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
			n, t := protowire.DecodeTag(tag)
			if n < protowire.MinValidNumber {
				return fmt.Errorf("invalid field number %d", n)
			}
			if t == protowire.EndGroupType {
				if n != num {
					return fmt.Errorf("group %d ended by %d", num, n)
				}
				return nil
			}
			if err := skipField(rd, n, t, depth+1); err != nil {
				return err
			}
		}
	case protowire.VarintType:
		_, err := binary.ReadUvarint(rd)
		return err
	case protowire.Fixed32Type:
		n = 4
	case protowire.Fixed64Type:
		n = 8
	case protowire.BytesType:
		var err error
		if n, err = binary.ReadUvarint(rd); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unexpected wire type %d", typ)
	}
	if n > uint64(rd.Remaining()) {
		return io.ErrUnexpectedEOF
	}
	_, err := io.CopyN(io.Discard, rd, int64(n))
	return err
}

func malformed(err error) error { return fmt.Errorf("malformed AnalyzeStack request: %w", err) }

// requestWire is an Analyze or Remediate request decoded but for its
// properties, which stay in wire form for propsFromWire.
type requestWire struct {
	req   *pulumirpc.AnalyzeRequest
	props []byte
}

// split decodes every field of the request but the properties (field 2).
// A request that repeats its properties (protobuf would merge them) is
// decoded whole, the usual way.
func (w *requestWire) split(b []byte) error {
	w.req = new(pulumirpc.AnalyzeRequest)
	rest := make([]byte, 0, len(b))
	var props []byte
	seen := false
	for r := b; len(r) > 0; {
		num, typ, n := protowire.ConsumeTag(r)
		if n < 0 {
			return proto.Unmarshal(b, w.req) // the library's error
		}
		m := protowire.ConsumeFieldValue(num, typ, r[n:])
		if m < 0 {
			return proto.Unmarshal(b, w.req)
		}
		if num == 2 && typ == protowire.BytesType {
			if seen {
				return proto.Unmarshal(b, w.req)
			}
			props, _ = protowire.ConsumeBytes(r[n:])
			seen = true
		} else {
			rest = append(rest, r[:n+m]...)
		}
		r = r[n+m:]
	}
	if err := proto.Unmarshal(rest, w.req); err != nil {
		return err
	}
	if seen {
		w.props = props
	} else {
		w.props = []byte{} // no properties: an empty Struct
	}
	return nil
}

// properties decodes the request's properties: from the wire form when
// split kept it, else from the decoded request.
func (w *requestWire) properties() (map[string]any, error) {
	if w.props == nil {
		return propsFromProto(w.req.GetProperties())
	}
	return propsFromWire(w.props)
}

// raw is the request's properties as a Struct, decoded whole.
func (w *requestWire) raw() (*structpb.Struct, error) {
	if w.props == nil {
		return w.req.GetProperties(), nil
	}
	st := new(structpb.Struct)
	if err := proto.Unmarshal(w.props, st); err != nil {
		return nil, err
	}
	return st, nil
}

// stackCodec is the server's codec: protobuf, except that an AnalyzeStack
// request is kept as bytes and the properties of Analyze and Remediate
// requests are decoded straight into engine values (see propsFromWire).
type stackCodec struct{ encoding.CodecV2 }

func (c stackCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if w, ok := v.(*requestWire); ok {
		return w.split(data.Materialize())
	}
	if w, ok := v.(*stackWire); ok {
		data.Ref() // gRPC frees data when Unmarshal returns; the handler releases this one
		w.data = data
		return nil
	}
	return c.CodecV2.Unmarshal(data, v)
}

// register puts srv on gs as the Analyzer service, with AnalyzeStack
// reading the request's wire form (the codec must be stackCodec: see
// ServerOptions).
// wireAnalyzer is what the wire handlers call for requests they keep in
// wire form: an analyzer that takes an Analyze or Remediate request with
// its properties undecoded, and an AnalyzeStack request read one resource
// at a time. *Server is one; any other AnalyzerServer gets its requests
// decoded whole, the usual way.
type wireAnalyzer interface {
	analyzeWire(context.Context, *requestWire) (*pulumirpc.AnalyzeResponse, error)
	remediateWire(context.Context, *requestWire) (*pulumirpc.RemediateResponse, error)
	analyzeStackWire(context.Context, *stackWire) (*pulumirpc.AnalyzeResponse, error)
}

var _ wireAnalyzer = (*Server)(nil)

func (s *Server) analyzeWire(ctx context.Context, w *requestWire) (*pulumirpc.AnalyzeResponse, error) {
	return s.analyze(ctx, w.req, w.properties)
}

func (s *Server) remediateWire(ctx context.Context, w *requestWire) (*pulumirpc.RemediateResponse, error) {
	return s.remediate(ctx, w.req, w.properties, w.raw)
}

func register(gs *grpc.Server, srv pulumirpc.AnalyzerServer) {
	desc := pulumirpc.Analyzer_ServiceDesc
	desc.Methods = append([]grpc.MethodDesc(nil), desc.Methods...)
	for i := range desc.Methods {
		switch desc.Methods[i].MethodName {
		case "AnalyzeStack":
			desc.Methods[i].Handler = analyzeStackHandler
		case "Analyze":
			desc.Methods[i].Handler = requestHandler(pulumirpc.Analyzer_Analyze_FullMethodName,
				func(a wireAnalyzer, ctx context.Context, w *requestWire) (any, error) {
					return a.analyzeWire(ctx, w)
				},
				func(srv pulumirpc.AnalyzerServer, ctx context.Context, req *pulumirpc.AnalyzeRequest) (any, error) {
					return srv.Analyze(ctx, req)
				})
		case "Remediate":
			desc.Methods[i].Handler = requestHandler(pulumirpc.Analyzer_Remediate_FullMethodName,
				func(a wireAnalyzer, ctx context.Context, w *requestWire) (any, error) {
					return a.remediateWire(ctx, w)
				},
				func(srv pulumirpc.AnalyzerServer, ctx context.Context, req *pulumirpc.AnalyzeRequest) (any, error) {
					return srv.Remediate(ctx, req)
				})
		}
	}
	gs.RegisterService(&desc, srv)
}

// requestHandler is the method handler of Analyze or Remediate: ours gets
// the properties decoded from the wire; another implementation gets the
// request decoded whole.
func requestHandler(method string,
	ours func(wireAnalyzer, context.Context, *requestWire) (any, error),
	other func(pulumirpc.AnalyzerServer, context.Context, *pulumirpc.AnalyzeRequest) (any, error),
) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		in := new(requestWire)
		if err := dec(in); err != nil {
			return nil, err
		}
		h := func(ctx context.Context, req any) (any, error) {
			w := req.(*requestWire)
			a, ok := srv.(wireAnalyzer)
			if !ok {
				st, err := w.raw()
				if err != nil {
					return nil, status.Error(codes.InvalidArgument, err.Error())
				}
				w.req.Properties = st
				return other(srv.(pulumirpc.AnalyzerServer), ctx, w.req)
			}
			return ours(a, ctx, w)
		}
		if interceptor == nil {
			return h(ctx, in)
		}
		return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: method}, h)
	}
}

func analyzeStackHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(stackWire)
	if err := dec(in); err != nil {
		return nil, err
	}
	defer in.release()
	h := func(ctx context.Context, req any) (any, error) {
		w := req.(*stackWire)
		if a, ok := srv.(wireAnalyzer); ok {
			return a.analyzeStackWire(ctx, w)
		}
		full := new(pulumirpc.AnalyzeStackRequest) // another implementation: decode as usual
		if err := proto.Unmarshal(w.data.Materialize(), full); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return srv.(pulumirpc.AnalyzerServer).AnalyzeStack(ctx, full)
	}
	if interceptor == nil {
		return h(ctx, in)
	}
	return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: pulumirpc.Analyzer_AnalyzeStack_FullMethodName}, h)
}

func (s *Server) analyzeStackWire(ctx context.Context, w *stackWire) (*pulumirpc.AnalyzeResponse, error) {
	first, err := w.first()
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return s.analyzeStack(ctx, first, func(sr *stackReader, add func(*engine.Resource)) error {
		return w.each(func(b []byte) error {
			r, err := sr.fromWire(b)
			if err != nil {
				return err
			}
			if r != nil {
				add(r)
			}
			return nil
		})
	})
}

// errStop ends a read early.
var errStop = errors.New("stop")

func newStackCodec() stackCodec {
	return stackCodec{encoding.GetCodecV2(protocodec.Name)}
}

package analyzer

import (
	"context"
	"fmt"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// AnalyzeStack carries the whole stack in one message. Decoded the usual
// way, every resource becomes a tree of protobuf objects several times the
// size of its wire form, all alive until the call ends, and that tree is
// most of the plugin's peak memory. The analyzer instead keeps the request
// as bytes (stackWire) and decodes one resource at a time as it converts
// it, or not at all when no pack of the session has a stack policy.

// stackWire is an AnalyzeStackRequest still in its wire form.
type stackWire struct{ data []byte }

// each decodes the request's resources in order, calling f with each; f
// may keep nothing of r but what it converts.
func (w *stackWire) each(f func(r *pulumirpc.AnalyzerResource) error) error {
	b := w.data
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("malformed AnalyzeStack request: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType { // 1 is resources; skip what a newer engine adds
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("malformed AnalyzeStack request: %w", protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return fmt.Errorf("malformed AnalyzeStack request: %w", protowire.ParseError(n))
		}
		b = b[n:]
		r := new(pulumirpc.AnalyzerResource)
		if err := proto.Unmarshal(v, r); err != nil {
			return fmt.Errorf("malformed AnalyzeStack request: %w", err)
		}
		if err := f(r); err != nil {
			return err
		}
	}
	return nil
}

// stackCodec is the server's codec: protobuf, except that an AnalyzeStack
// request is kept as bytes.
type stackCodec struct{ encoding.CodecV2 }

func (c stackCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if w, ok := v.(*stackWire); ok {
		w.data = data.Materialize()
		return nil
	}
	return c.CodecV2.Unmarshal(data, v)
}

// register puts srv on gs as the Analyzer service, with AnalyzeStack
// reading the request's wire form (the codec must be stackCodec: see
// ServerOptions).
func register(gs *grpc.Server, srv pulumirpc.AnalyzerServer) {
	desc := pulumirpc.Analyzer_ServiceDesc
	desc.Methods = append([]grpc.MethodDesc(nil), desc.Methods...)
	for i := range desc.Methods {
		if desc.Methods[i].MethodName == "AnalyzeStack" {
			desc.Methods[i].Handler = analyzeStackHandler
		}
	}
	gs.RegisterService(&desc, srv)
}

func analyzeStackHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(stackWire)
	if err := dec(in); err != nil {
		return nil, err
	}
	h := func(ctx context.Context, req any) (any, error) {
		w := req.(*stackWire)
		if s, ok := srv.(*Server); ok {
			return s.analyzeStackWire(ctx, w)
		}
		full := new(pulumirpc.AnalyzeStackRequest) // another implementation: decode as usual
		if err := proto.Unmarshal(w.data, full); err != nil {
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
	var first string
	errFirst := w.each(func(r *pulumirpc.AnalyzerResource) error {
		first = r.GetUrn()
		return errStop
	})
	if errFirst != nil && errFirst != errStop {
		return nil, status.Error(codes.InvalidArgument, errFirst.Error())
	}
	return s.analyzeStack(ctx, first, w.each)
}

// errStop ends an each early.
var errStop = fmt.Errorf("stop")

func newStackCodec() stackCodec {
	return stackCodec{encoding.GetCodecV2(protocodec.Name)}
}

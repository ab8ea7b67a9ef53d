package analyzer

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"

	"github.com/hashicorp/go-hclog"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// MaxMessageSize matches Pulumi's own servers: AnalyzeStack carries the
// whole stack.
const MaxMessageSize = 400 << 20

// ServerOptions are the gRPC options of the plugin's server: message limits
// as Pulumi's, a recovery interceptor, and the codec that keeps
// AnalyzeStack requests in wire form (see stackWire).
func ServerOptions(log hclog.Logger) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(newStackCodec()),
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		// A fixed pool of stream workers instead of a goroutine per RPC:
		// a worker's stack has already grown to what evaluation needs, so
		// calls stop paying for stack growth (10% of the plugin's CPU
		// under load). When every worker is busy, gRPC starts a goroutine.
		grpc.NumStreamWorkers(uint32(2 * runtime.GOMAXPROCS(0))),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
			defer recoverPanic(log, info.FullMethod, &err)
			return h(ctx, req)
		}),
	}
}

// Serve registers srv on a new gRPC server, writes the port and a newline
// to portOut (the plugin's only stdout output), and serves lis until ctx is
// done, then stops gracefully.
func Serve(ctx context.Context, lis net.Listener, srv pulumirpc.AnalyzerServer, portOut io.Writer, log hclog.Logger) error {
	gs := grpc.NewServer(ServerOptions(log)...)
	register(gs, srv)
	healthpb.RegisterHealthServer(gs, health.NewServer())
	port := lis.Addr().(*net.TCPAddr).Port
	if _, err := fmt.Fprintf(portOut, "%d\n", port); err != nil {
		return fmt.Errorf("writing port: %w", err)
	}
	if f, ok := portOut.(interface{ Sync() error }); ok {
		_ = f.Sync() // a pipe cannot sync; the write itself is unbuffered
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			gs.GracefulStop()
		case <-done:
		}
	}()
	if err := gs.Serve(lis); err != nil && ctx.Err() == nil {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// Package langhost is Warden's Pulumi language plugin, pulumi-language-warden
// (the warden binary, run under that name).
// It exists for the directory form of --policy-pack: the Pulumi CLI reads
// PulumiPolicy.yaml (runtime: warden), loads the language plugin named after
// the runtime and asks it to RunPlugin the pack directory as an analyzer.
// RunPlugin runs the analyzer in this process, with that directory as the
// policy home, and streams what it writes (the port line on stdout, logs on
// stderr) back: one process starts, not the language host and then a
// second copy of the binary, so the directory form starts as fast as the
// executable form.
//
// The binary holds the analyzer too, so installing this one file with
// `pulumi plugin install language warden VERSION --file $(which warden)` is
// enough.
package langhost

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/warden-policy/warden/analyzer"
)

// PluginName is the file name the Pulumi CLI gives the language plugin.
const PluginName = "pulumi-language-warden"

// EnvMode set to "analyzer" makes the language plugin binary run as the
// analyzer; RunPlugin sets it for the process it starts.
const EnvMode = "WARDEN_PLUGIN_MODE"

// Server implements enough of pulumirpc.LanguageRuntimeServer for policy
// pack directories.
type Server struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	log     hclog.Logger
	self    string // this binary, started in analyzer mode
	version string
}

// NewServer returns a language runtime that starts self as the analyzer.
func NewServer(self, version string, log hclog.Logger) *Server {
	return &Server{self: self, version: version, log: log}
}

// Handshake accepts the engine's address; nothing else is needed.
func (s *Server) Handshake(context.Context, *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetPluginInfo reports Warden's version.
func (s *Server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.version}, nil
}

// GetRequiredPlugins: a Warden pack needs no other plugin.
func (s *Server) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// GetRequiredPackages: a Warden pack needs no package.
func (s *Server) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// InstallDependencies has nothing to install: that is the point of Warden.
func (s *Server) InstallDependencies(*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	return nil
}

// About describes the runtime.
func (s *Server) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	return &pulumirpc.AboutResponse{Executable: s.self, Version: s.version}, nil
}

// RunPlugin starts the analyzer for a policy pack directory and streams its
// output until it exits or the engine cancels the call.
func (s *Server) RunPlugin(req *pulumirpc.RunPluginRequest, stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	if req.GetKind() != "" && req.GetKind() != "analyzer" {
		return status.Errorf(codes.InvalidArgument, "the warden runtime runs policy packs (analyzer plugins), not %s plugins", req.GetKind())
	}
	dir := req.GetInfo().GetRootDirectory()
	if dir == "" {
		dir = req.GetInfo().GetProgramDirectory()
	}
	if dir == "" {
		return status.Error(codes.InvalidArgument, "RunPlugin without a policy pack directory")
	}
	if !filepath.IsAbs(dir) && req.GetPwd() != "" {
		dir = filepath.Join(req.GetPwd(), dir)
	}
	getenv := os.Getenv
	if env := req.GetEnv(); len(env) > 0 {
		vars := make(map[string]string, len(env))
		for _, kv := range env {
			if k, v, ok := strings.Cut(kv, "="); ok {
				vars[k] = v
			}
		}
		getenv = func(k string) string { return vars[k] }
	}
	var mu sync.Mutex // stream.Send is not safe for concurrent use
	send := func(r *pulumirpc.RunPluginResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.Send(r)
	}
	stdout := writerFunc(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: slices.Clone(b)}})
	})
	stderr := writerFunc(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: slices.Clone(b)}})
	})
	code := analyzer.Run(stream.Context(), analyzer.Process{
		Args:   append([]string{PluginName, "--home", dir}, req.GetArgs()...),
		Stdout: stdout, Stderr: stderr, Getenv: getenv, Version: s.version,
	})
	if stream.Context().Err() != nil {
		return nil // the engine stopped the plugin
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

// writerFunc is an io.Writer that hands each write to a function.
type writerFunc func([]byte) error

func (f writerFunc) Write(b []byte) (int, error) {
	if err := f(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Main is pulumi-language-warden's main: the analyzer when EnvMode says so,
// else the language runtime server.
func Main(ctx context.Context, p analyzer.Process) int {
	if p.Getenv(EnvMode) == "analyzer" {
		return analyzer.Run(ctx, p)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "warden-language", Output: p.Stderr, Level: hclog.LevelFromString(orDefault(p.Getenv(analyzer.EnvLogLevel), "warn"))})
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(p.Stderr, "finding this executable: %v\n", err)
		return 1
	}
	if len(p.Args) < 2 {
		fmt.Fprintf(p.Stderr, "%s is Warden's Pulumi language plugin; the Pulumi CLI starts it for policy packs with runtime: warden\n", filepath.Base(p.Args[0]))
		return 1
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(p.Stderr, "listening: %v\n", err)
		return 1
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(analyzer.MaxMessageSize), grpc.MaxSendMsgSize(analyzer.MaxMessageSize))
	pulumirpc.RegisterLanguageRuntimeServer(gs, NewServer(self, p.Version, log))
	fmt.Fprintf(p.Stdout, "%d\n", lis.Addr().(*net.TCPAddr).Port)
	go func() {
		<-ctx.Done()
		gs.GracefulStop()
	}()
	if err := gs.Serve(lis); err != nil && ctx.Err() == nil {
		log.Error("serving", "error", err)
		return 1
	}
	return 0
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// engine is the minimal Engine service an analyzer may call back (log
// lines, mostly); it accepts everything.
type engine struct {
	pulumirpc.UnimplementedEngineServer
}

func (engine) Log(context.Context, *pulumirpc.LogRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (engine) GetRootResource(context.Context, *pulumirpc.GetRootResourceRequest) (*pulumirpc.GetRootResourceResponse, error) {
	return &pulumirpc.GetRootResourceResponse{}, nil
}

// Plugin is a started analyzer.
type Plugin struct {
	Client pulumirpc.AnalyzerClient
	// Startup is the time from exec to the end of Configure: what every
	// preview and update pays before its first Analyze.
	Startup time.Duration
	// Policies are the names the analyzer advertises.
	Policies []string
	cmd      *exec.Cmd
	conn     *grpc.ClientConn
	engine   *grpc.Server
}

// Start runs the analyzer as the engine does: the executable with the
// engine's address as its last argument, the port read from its first
// stdout line, then Handshake, ConfigureStack, GetAnalyzerInfo and
// Configure (with every policy at its advertised level).
func Start(ctx context.Context, bin string, args []string, dir string) (*Plugin, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	es := grpc.NewServer()
	pulumirpc.RegisterEngineServer(es, engine{})
	go func() { _ = es.Serve(lis) }()

	begin := time.Now()
	cmd := exec.CommandContext(ctx, bin, append(args, lis.Addr().String())...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		es.Stop()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		es.Stop()
		return nil, err
	}
	p := &Plugin{cmd: cmd, engine: es}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("reading the port line: %w", err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("the first stdout line %q is not a port", line)
	}
	p.conn, err = grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(400<<20), grpc.MaxCallSendMsgSize(400<<20)))
	if err != nil {
		p.Close()
		return nil, err
	}
	p.Client = pulumirpc.NewAnalyzerClient(p.conn)
	root, _ := filepath.Abs(filepath.Dir(bin))
	if _, err := p.Client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{EngineAddress: lis.Addr().String(), RootDirectory: &root, ProgramDirectory: &root}); err != nil && !unimplemented(err) {
		p.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if _, err := p.Client.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{Stack: "bench", Project: "load", Organization: "acme", DryRun: true}); err != nil && !unimplemented(err) {
		p.Close()
		return nil, fmt.Errorf("configure stack: %w", err)
	}
	info, err := p.Client.GetAnalyzerInfo(ctx, &emptypb.Empty{})
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("analyzer info: %w", err)
	}
	for _, pol := range info.GetPolicies() {
		p.Policies = append(p.Policies, pol.GetName())
	}
	if info.GetSupportsConfig() {
		cfg := map[string]*pulumirpc.PolicyConfig{}
		for _, pol := range info.GetPolicies() {
			// The engine always sends a Struct, empty when no
			// properties are configured (Node packs rely on it).
			cfg[pol.GetName()] = &pulumirpc.PolicyConfig{EnforcementLevel: pol.GetEnforcementLevel(), Properties: &structpb.Struct{}}
		}
		if _, err := p.Client.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: cfg}); err != nil {
			p.Close()
			return nil, fmt.Errorf("configure: %w", err)
		}
	}
	p.Startup = time.Since(begin)
	return p, nil
}

func unimplemented(err error) bool { return strings.Contains(err.Error(), "Unimplemented") }

// PeakRSS reads the plugin's peak resident memory (VmHWM), in bytes.
func (p *Plugin) PeakRSS() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// CPU is the CPU time (user and system) the plugin has used so far, read
// from /proc at the kernel's clock-tick resolution (10 ms): the plugin's
// own cost, apart from the driver's, which shares the machine.
func (p *Plugin) CPU() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it. utime and stime are fields 14 and 15 of the line.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// Close cancels the plugin and stops everything.
func (p *Plugin) Close() {
	if p.Client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _ = p.Client.Cancel(ctx, &emptypb.Empty{})
		cancel()
	}
	if p.conn != nil {
		p.conn.Close()
	}
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
	p.engine.Stop()
}

// AnalyzeResult measures a batch of Analyze calls.
type AnalyzeResult struct {
	Calls       int
	Concurrency int
	Elapsed     time.Duration
	P50, P99    time.Duration
	// Diagnostics counts diagnostics per policy name.
	Diagnostics map[string]int
}

// PerSecond is the throughput.
func (r AnalyzeResult) PerSecond() float64 { return float64(r.Calls) / r.Elapsed.Seconds() }

// Encoded is a request marshalled once, before the clock starts: the
// driver shares the machine with the plugin, and marshalling each request
// again on every run would be the driver's cost counted as the plugin's.
type Encoded struct {
	URN  string
	wire []byte
}

// Encode marshals requests for Analyze.
func Encode(reqs []*pulumirpc.AnalyzeRequest) ([]Encoded, error) {
	out := make([]Encoded, len(reqs))
	for i, r := range reqs {
		b, err := proto.Marshal(r)
		if err != nil {
			return nil, err
		}
		out[i] = Encoded{URN: r.GetUrn(), wire: b}
	}
	return out, nil
}

// preEncoded is the client codec: an Encoded request goes out as its
// bytes, everything else (the responses) is protobuf as usual.
type preEncoded struct{}

func (preEncoded) Name() string { return "proto" }
func (preEncoded) Marshal(v any) ([]byte, error) {
	if e, ok := v.(*Encoded); ok {
		return e.wire, nil
	}
	return proto.Marshal(v.(proto.Message))
}
func (preEncoded) Unmarshal(data []byte, v any) error {
	return proto.Unmarshal(data, v.(proto.Message))
}

// Analyze sends every request once, from c workers.
func (p *Plugin) Analyze(ctx context.Context, reqs []Encoded, c int) (AnalyzeResult, error) {
	lat := make([]time.Duration, len(reqs))
	diags := make([]map[string]int, c)
	errs := make([]error, c)
	next := make(chan int)
	var wg sync.WaitGroup
	begin := time.Now()
	for w := range c {
		diags[w] = map[string]int{}
		wg.Go(func() {
			for i := range next {
				t := time.Now()
				resp := new(pulumirpc.AnalyzeResponse)
				err := p.conn.Invoke(ctx, pulumirpc.Analyzer_Analyze_FullMethodName, &reqs[i], resp, grpc.ForceCodec(preEncoded{}))
				lat[i] = time.Since(t)
				if err != nil {
					errs[w] = fmt.Errorf("analyze %s: %w", reqs[i].URN, err)
					continue
				}
				for _, d := range resp.GetDiagnostics() {
					diags[w][d.GetPolicyName()]++
				}
			}
		})
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	res := AnalyzeResult{Calls: len(reqs), Concurrency: c, Elapsed: time.Since(begin), Diagnostics: map[string]int{}}
	for w := range c {
		if errs[w] != nil {
			return res, errs[w]
		}
		for k, v := range diags[w] {
			res.Diagnostics[k] += v
		}
	}
	slices.Sort(lat)
	res.P50, res.P99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	return res, nil
}

// EncodeStack marshals an AnalyzeStack request.
func EncodeStack(req *pulumirpc.AnalyzeStackRequest) (Encoded, error) {
	b, err := proto.Marshal(req)
	return Encoded{wire: b}, err
}

// AnalyzeStack sends one AnalyzeStack request and times it.
func (p *Plugin) AnalyzeStack(ctx context.Context, req Encoded) (time.Duration, map[string]int, error) {
	begin := time.Now()
	resp := new(pulumirpc.AnalyzeResponse)
	err := p.conn.Invoke(ctx, pulumirpc.Analyzer_AnalyzeStack_FullMethodName, &req, resp, grpc.ForceCodec(preEncoded{}))
	if err != nil {
		return 0, nil, err
	}
	d := time.Since(begin)
	counts := map[string]int{}
	for _, diag := range resp.GetDiagnostics() {
		counts[diag.GetPolicyName()]++
	}
	return d, counts, nil
}

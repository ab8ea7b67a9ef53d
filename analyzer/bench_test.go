package analyzer

import (
	"fmt"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/warden-policy/warden/internal/bench"
	"github.com/warden-policy/warden/packs/home"
)

// benchServer is the analyzer for the benchmark home of the performance
// comparison (testdata/bench/warden), or the built-in catalog when dir is
// empty.
func benchServer(b *testing.B, dir string) *Server {
	b.Helper()
	h, err := home.Default()
	if dir != "" {
		h, err = home.Load(dir)
	}
	if err != nil {
		b.Fatal(err)
	}
	return NewServer(h, nil, Options{Logger: hclog.NewNullLogger()})
}

func benchRequests(b *testing.B, n int) []*pulumirpc.AnalyzeRequest {
	b.Helper()
	reqs, err := bench.AnalyzeRequests(bench.Corpus("bench", "load", n))
	if err != nil {
		b.Fatal(err)
	}
	return reqs
}

// BenchmarkAnalyze is one Analyze call of the load driver's corpus, in
// process (no gRPC): what the analyzer itself spends per resource.
func BenchmarkAnalyze(b *testing.B) {
	for _, c := range []struct{ name, dir string }{{"bench-home", "../testdata/bench/warden"}, {"builtin", ""}} {
		b.Run(c.name, func(b *testing.B) {
			s := benchServer(b, c.dir)
			reqs := benchRequests(b, 1200)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.Analyze(b.Context(), reqs[i%len(reqs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkAnalyzeStack is one AnalyzeStack call over the load driver's
// related corpus, in process but from the request's wire form, as served
// (stackWire: no gRPC transport): the ten-policy home's one stack policy,
// and every built-in pack's. 100,000 resources with WARDEN_BENCH_100K=1.
func BenchmarkAnalyzeStack(b *testing.B) {
	sizes := []int{10_000}
	if os.Getenv("WARDEN_BENCH_100K") != "" {
		sizes = append(sizes, 100_000)
	}
	for _, n := range sizes {
		req, err := bench.StackRequest(bench.Corpus("bench", "load", n))
		if err != nil {
			b.Fatal(err)
		}
		data, err := proto.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		req = nil
		for _, c := range []struct{ name, dir string }{{"bench-home", "../testdata/bench/warden"}, {"builtin", ""}} {
			b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
				s := benchServer(b, c.dir)
				b.ReportAllocs()
				for b.Loop() {
					w := &stackWire{data: mem.BufferSlice{mem.SliceBuffer(data)}}
					if _, err := s.analyzeStackWire(b.Context(), w); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

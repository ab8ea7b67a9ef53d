package analyzer

import (
	"testing"

	"github.com/hashicorp/go-hclog"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

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

// BenchmarkAnalyzeStack is one AnalyzeStack call over 10,000 related
// resources, in process (no gRPC): the ten-policy home's one stack policy,
// and every built-in pack's.
func BenchmarkAnalyzeStack(b *testing.B) {
	req, err := bench.StackRequest(bench.Corpus("bench", "load", 10000))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, dir string }{{"bench-home", "../testdata/bench/warden"}, {"builtin", ""}} {
		b.Run(c.name, func(b *testing.B) {
			s := benchServer(b, c.dir)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.AnalyzeStack(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

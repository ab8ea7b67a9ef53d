// Command warden-bench is the load driver: it starts an analyzer plugin
// exactly as the Pulumi engine does and measures startup, Analyze latency
// and throughput, AnalyzeStack time, peak memory and diagnostics per
// policy, over a deterministic corpus of AWS and Kubernetes resources.
//
//	warden-bench --analyzer $(which pulumi-analyzer-warden) --sizes 100,1000,10000 --concurrency 1,16
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/warden-policy/warden/internal/bench"
)

type row struct {
	Size        int            `json:"size"`
	Concurrency int            `json:"concurrency"`
	StartupMS   float64        `json:"startupMs"`
	P50US       float64        `json:"analyzeP50Us"`
	P99US       float64        `json:"analyzeP99Us"`
	PerSecond   float64        `json:"analyzePerSecond"`
	StackMS     float64        `json:"analyzeStackMs"`
	PeakRSSMiB  float64        `json:"peakRssMiB"`
	Diagnostics map[string]int `json:"diagnostics"`
}

func main() {
	analyzerBin := flag.String("analyzer", "", "the analyzer executable to start")
	dir := flag.String("dir", ".", "working directory for the analyzer")
	sizes := flag.String("sizes", "100,1000,10000", "corpus sizes")
	conc := flag.String("concurrency", "1,16", "Analyze concurrency levels")
	asJSON := flag.Bool("json", false, "print JSON rows")
	flag.Parse()
	if *analyzerBin == "" {
		fmt.Fprintln(os.Stderr, "warden-bench: --analyzer is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var rows []row
	for _, n := range ints(*sizes) {
		corpus := bench.Corpus("bench", "load", n)
		reqs, err := bench.AnalyzeRequests(corpus)
		check(err)
		stackReq, err := bench.StackRequest(corpus)
		check(err)
		for _, c := range ints(*conc) {
			p, err := bench.Start(ctx, *analyzerBin, flag.Args(), *dir)
			check(err)
			res, err := p.Analyze(ctx, reqs, c)
			check(err)
			stackTime, stackDiags, err := p.AnalyzeStack(ctx, stackReq)
			check(err)
			for k, v := range stackDiags {
				res.Diagnostics[k] += v
			}
			rows = append(rows, row{
				Size: n, Concurrency: c, StartupMS: ms(p.Startup), P50US: us(res.P50), P99US: us(res.P99),
				PerSecond: res.PerSecond(), StackMS: ms(stackTime), PeakRSSMiB: float64(p.PeakRSS()) / (1 << 20),
				Diagnostics: res.Diagnostics,
			})
			p.Close()
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		check(enc.Encode(rows))
		return
	}
	fmt.Printf("%8s %5s %10s %10s %10s %12s %12s %10s %8s\n", "size", "conc", "startup", "p50", "p99", "analyze/s", "stack", "peak RSS", "diags")
	for _, r := range rows {
		total := 0
		for _, v := range r.Diagnostics {
			total += v
		}
		fmt.Printf("%8d %5d %8.1fms %8.0fµs %8.0fµs %12.0f %10.1fms %8.1fMiB %8d\n",
			r.Size, r.Concurrency, r.StartupMS, r.P50US, r.P99US, r.PerSecond, r.StackMS, r.PeakRSSMiB, total)
	}
	if len(rows) > 0 {
		last := rows[len(rows)-1]
		names := make([]string, 0, len(last.Diagnostics))
		for k := range last.Diagnostics {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Printf("\ndiagnostics per policy (size %d):\n", last.Size)
		for _, k := range names {
			fmt.Printf("  %6d  %s\n", last.Diagnostics[k], k)
		}
	}
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		out = append(out, n)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "warden-bench:", err)
		os.Exit(1)
	}
}

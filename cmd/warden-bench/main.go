// Command warden-bench is the load driver: it starts an analyzer plugin
// exactly as the Pulumi engine does and measures startup, Analyze latency
// and throughput, AnalyzeStack time, peak memory and diagnostics per
// policy, over a deterministic corpus of AWS and Kubernetes resources.
//
//	warden-bench --analyzer $(which pulumi-analyzer-warden) --sizes 100,1000,10000 --concurrency 1,16
//	warden-bench --analyzer "warden=pulumi-analyzer-warden --home ./policy" --analyzer node=./pack/pulumi-analyzer-node
//
// With --cli it runs the real Pulumi CLI instead (see internal/bench/cli.go):
// pulumi preview and pulumi up of a program of each size, once per run with
// each analyzer as the policy pack (NAME= for none; VAR=VALUE words after
// the path are environment for the CLI and the pack), and reports what
// each adds over the run without a pack.
//
//	warden-bench --cli ~/.cache/warden-e2e/bin --provider ./fakeaws --sizes 100,500,2000 \
//	  --analyzer none= --analyzer "warden=$PWD/home/pulumi-analyzer-warden" --analyzer node=$PWD/pack/pulumi-analyzer-node
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/warden-policy/warden/internal/bench"
)

type row struct {
	Analyzer    string  `json:"analyzer"`
	Size        int     `json:"size"`
	Concurrency int     `json:"concurrency"`
	StartupMS   float64 `json:"startupMs"`
	P50US       float64 `json:"analyzeP50Us"`
	P99US       float64 `json:"analyzeP99Us"`
	PerSecond   float64 `json:"analyzePerSecond"`
	// CPUUS is the plugin's own CPU time per Analyze call; DriverCPUUS
	// the driver's, which shares the machine (it bounds the throughput
	// any plugin can reach here).
	CPUUS       float64        `json:"analyzeCpuUs"`
	DriverCPUUS float64        `json:"driverCpuUs"`
	StackMS     float64        `json:"analyzeStackMs"`
	PeakRSSMiB  float64        `json:"peakRssMiB"`
	Diagnostics map[string]int `json:"diagnostics"`
	// Policies are the policy names the analyzer advertises.
	Policies []string `json:"policies"`
}

// analyzer is one --analyzer: a name for the tables, the executable and
// the arguments it gets before the engine address.
type analyzer struct {
	name, path string
	args       []string
}

// env is what a --cli analyzer's VAR=VALUE words set; args the others.
func (a analyzer) split() (env, args []string) {
	for _, w := range a.args {
		if k, _, ok := strings.Cut(w, "="); ok && k != "" && !strings.HasPrefix(k, "-") {
			env = append(env, w)
		} else {
			args = append(args, w)
		}
	}
	return env, args
}

// analyzers is the repeatable --analyzer flag: NAME=PATH [ARG...], or
// PATH [ARG...] (named by the executable's base name).
type analyzers []analyzer

func (a *analyzers) String() string { return fmt.Sprint(*a) }
func (a *analyzers) Set(v string) error {
	name, cmd, ok := strings.Cut(v, "=")
	if !ok || strings.ContainsAny(name, " /") {
		name, cmd = "", v
	}
	fields := strings.Fields(cmd)
	if len(fields) == 0 && name != "" {
		*a = append(*a, analyzer{name: name}) // no policy pack (--cli)
		return nil
	}
	if len(fields) == 0 {
		return fmt.Errorf("%q names no executable", v)
	}
	if name == "" {
		name = filepath.Base(fields[0])
	}
	*a = append(*a, analyzer{name: name, path: fields[0], args: fields[1:]})
	return nil
}

func main() {
	var plugins analyzers
	flag.Var(&plugins, "analyzer", "analyzer to start, NAME=PATH [ARG...] or PATH [ARG...] (repeatable: the first is compared with the others)")
	dir := flag.String("dir", ".", "working directory for the analyzers")
	sizes := flag.String("sizes", "100,1000,10000", "corpus sizes")
	conc := flag.String("concurrency", "1,16", "Analyze concurrency levels")
	runs := flag.Int("runs", 1, "runs per analyzer, interleaved; figures are medians")
	asJSON := flag.Bool("json", false, "print JSON rows (every run)")
	cli := flag.String("cli", "", "run the real Pulumi CLI from this directory (pulumi, pulumi-language-yaml) instead of driving the analyzers")
	provider := flag.String("provider", "", "with --cli: the stand-in AWS provider (e2e/fakeaws, built)")
	flag.Parse()
	if len(plugins) == 0 {
		fmt.Fprintln(os.Stderr, "warden-bench: --analyzer is required")
		os.Exit(2)
	}
	if *cli != "" {
		if *provider == "" {
			fmt.Fprintln(os.Stderr, "warden-bench: --cli needs --provider")
			os.Exit(2)
		}
		runCLI(*cli, *provider, ints(*sizes), *runs, plugins)
		return
	}
	for _, a := range plugins {
		if a.path == "" {
			fmt.Fprintf(os.Stderr, "warden-bench: --analyzer %s= (no policy pack) needs --cli\n", a.name)
			os.Exit(2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var rows []row
	for _, n := range ints(*sizes) {
		corpus := bench.Corpus("bench", "load", n)
		msgs, err := bench.AnalyzeRequests(corpus)
		check(err)
		reqs, err := bench.Encode(msgs)
		check(err)
		stackMsg, err := bench.StackRequest(corpus)
		check(err)
		stackReq, err := bench.EncodeStack(stackMsg)
		check(err)
		for _, c := range ints(*conc) {
			// Interleaved: run r of every analyzer before run r+1 of any, so
			// drift on the machine hits them alike.
			for range *runs {
				for _, a := range plugins {
					rows = append(rows, measure(ctx, a, *dir, n, c, reqs, stackReq))
				}
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		check(enc.Encode(rows))
		return
	}
	med := medians(rows)
	fmt.Printf("%-10s %8s %5s %10s %10s %10s %12s %10s %10s %12s %10s %8s\n", "analyzer", "size", "conc", "startup", "p50", "p99", "analyze/s", "cpu/call", "driver", "stack", "peak RSS", "diags")
	for _, r := range med {
		fmt.Printf("%-10s %8d %5d %8.1fms %8.0fµs %8.0fµs %12.0f %8.0fµs %8.0fµs %10.1fms %8.1fMiB %8d\n",
			r.Analyzer, r.Size, r.Concurrency, r.StartupMS, r.P50US, r.P99US, r.PerSecond, r.CPUUS, r.DriverCPUUS, r.StackMS, r.PeakRSSMiB, total(r.Diagnostics))
	}
	if len(plugins) > 1 {
		printRatios(med, plugins[0].name)
	}
	printDiagnostics(med)
}

func measure(ctx context.Context, a analyzer, dir string, n, c int, reqs []bench.Encoded, stackReq bench.Encoded) row {
	p, err := bench.Start(ctx, a.path, append(a.args, flag.Args()...), dir)
	check(err)
	defer p.Close()
	cpu, self := p.CPU(), selfCPU()
	res, err := p.Analyze(ctx, reqs, c)
	check(err)
	cpu, self = p.CPU()-cpu, selfCPU()-self
	stackTime, stackDiags, err := p.AnalyzeStack(ctx, stackReq)
	check(err)
	for k, v := range stackDiags {
		res.Diagnostics[k] += v
	}
	return row{
		Analyzer: a.name, Size: n, Concurrency: c, StartupMS: ms(p.Startup), P50US: us(res.P50), P99US: us(res.P99),
		PerSecond: res.PerSecond(), CPUUS: us(cpu) / float64(len(reqs)), DriverCPUUS: us(self) / float64(len(reqs)), StackMS: ms(stackTime), PeakRSSMiB: float64(p.PeakRSS()) / (1 << 20),
		Diagnostics: res.Diagnostics, Policies: p.Policies,
	}
}

// medians folds the runs of each (analyzer, size, concurrency) into one
// row of per-figure medians, in first-seen order. Diagnostics are taken
// from the first run: they are deterministic.
func medians(rows []row) []row {
	type key struct {
		a    string
		n, c int
	}
	groups := map[key][]row{}
	var order []key
	for _, r := range rows {
		k := key{r.Analyzer, r.Size, r.Concurrency}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []row
	for _, k := range order {
		g := groups[k]
		m := func(f func(row) float64) float64 {
			vs := make([]float64, len(g))
			for i, r := range g {
				vs[i] = f(r)
			}
			sort.Float64s(vs)
			return vs[len(vs)/2]
		}
		out = append(out, row{
			Analyzer: k.a, Size: k.n, Concurrency: k.c,
			StartupMS: m(func(r row) float64 { return r.StartupMS }), P50US: m(func(r row) float64 { return r.P50US }),
			P99US: m(func(r row) float64 { return r.P99US }), PerSecond: m(func(r row) float64 { return r.PerSecond }),
			CPUUS: m(func(r row) float64 { return r.CPUUS }), DriverCPUUS: m(func(r row) float64 { return r.DriverCPUUS }),
			StackMS: m(func(r row) float64 { return r.StackMS }), PeakRSSMiB: m(func(r row) float64 { return r.PeakRSSMiB }),
			Diagnostics: g[0].Diagnostics, Policies: g[0].Policies,
		})
	}
	return out
}

// printRatios prints base / other for every figure, throughput inverted
// (other / base), so that below 1 always means the base is better.
func printRatios(med []row, base string) {
	byKey := map[[2]int]row{}
	for _, r := range med {
		if r.Analyzer == base {
			byKey[[2]int{r.Size, r.Concurrency}] = r
		}
	}
	fmt.Printf("\nratios %s / other (below 1: %s is better; throughput is other / %s):\n", base, base, base)
	fmt.Printf("%-10s %8s %5s %9s %9s %9s %10s %9s %9s %9s  %s\n", "other", "size", "conc", "startup", "p50", "p99", "analyze/s", "cpu/call", "stack", "RSS", "diagnostics")
	for _, r := range med {
		b, ok := byKey[[2]int{r.Size, r.Concurrency}]
		if r.Analyzer == base || !ok {
			continue
		}
		agree := "agree"
		if d := diff(b.Policies, b.Diagnostics, r.Diagnostics); d != "" {
			agree = "differ: " + d
		}
		fmt.Printf("%-10s %8d %5d %9.2f %9.2f %9.2f %10.2f %9.2f %9.2f %9.2f  %s\n", r.Analyzer, r.Size, r.Concurrency,
			b.StartupMS/r.StartupMS, b.P50US/r.P50US, b.P99US/r.P99US, r.PerSecond/b.PerSecond, b.CPUUS/r.CPUUS, b.StackMS/r.StackMS, b.PeakRSSMiB/r.PeakRSSMiB, agree)
	}
}

// diff names the policies, of those the base advertises, whose
// diagnostic counts differ (an analyzer running more policies, such as
// the whole built-in catalog, is compared on the base's).
func diff(policies []string, a, b map[string]int) string {
	var out []string
	for _, k := range policies {
		if a[k] != b[k] {
			out = append(out, fmt.Sprintf("%s %d vs %d", k, a[k], b[k]))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// printDiagnostics lists the first analyzer's diagnostics per policy at
// the largest size (the ratios table says where the others differ).
func printDiagnostics(med []row) {
	var r row
	for _, m := range med {
		if m.Analyzer == med[0].Analyzer && m.Size >= r.Size {
			r = m
		}
	}
	names := make([]string, 0, len(r.Diagnostics))
	for k := range r.Diagnostics {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Printf("\ndiagnostics per policy (%s, size %d):\n", r.Analyzer, r.Size)
	for _, k := range names {
		fmt.Printf("  %6d  %s\n", r.Diagnostics[k], k)
	}
}

func total(d map[string]int) int {
	t := 0
	for _, v := range d {
		t += v
	}
	return t
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

// selfCPU is the driver's own CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "warden-bench:", err)
		os.Exit(1)
	}
}

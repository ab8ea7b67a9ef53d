package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/warden-policy/warden/internal/bench"
)

// runCLI is --cli: for each size, a deployed project; then, runs times and
// interleaved, pulumi preview and pulumi up with each analyzer as the
// policy pack. It prints, size by size as each is done, medians and what
// each adds over the analyzer without a pack (named by an empty path),
// then the added times' ratios, Warden's over the others'. An analyzer
// started with WARDEN_LOG_LEVEL=debug also says how long recording its run
// in the findings ledger took (median).
func runCLI(pulumi, provider string, sizes []int, runs int, plugins analyzers) {
	dir, err := os.MkdirTemp("", "warden-bench-cli-")
	check(err)
	defer os.RemoveAll(dir)
	c, err := bench.NewCLI(pulumi, provider, dir)
	check(err)
	var none string
	for _, a := range plugins {
		if a.path == "" {
			none = a.name
		}
		if _, args := a.split(); len(args) > 0 {
			check(fmt.Errorf("%s: a policy pack takes no arguments (%v); VAR=VALUE words are its environment", a.name, args))
		}
	}
	commands := [][]string{{"preview"}, {"up", "--yes", "--skip-preview"}}
	fmt.Printf("%-16s %6s %10s %10s %10s %10s\n", "analyzer", "size", "preview", "up", "+preview", "+up")
	for _, n := range sizes {
		project, err := c.Project(n)
		check(err)
		times := map[[2]string][]float64{} // analyzer, command; "ledger": what recording took
		for range runs {
			for _, a := range plugins {
				env, _ := a.split()
				for _, cmd := range commands {
					d, out, err := c.Time(project, a.path, env, cmd...)
					check(err)
					k := [2]string{a.name, cmd[0]}
					times[k] = append(times[k], ms(d))
					if rec, ok := bench.Recorded(out); ok {
						times[[2]string{a.name, "ledger"}] = append(times[[2]string{a.name, "ledger"}], ms(rec))
					}
				}
			}
		}
		median := func(name, cmd string) float64 {
			vs := append([]float64(nil), times[[2]string{name, cmd}]...)
			if len(vs) == 0 {
				return -1
			}
			sort.Float64s(vs)
			return vs[len(vs)/2]
		}
		added := map[[2]string]float64{}
		for _, a := range plugins {
			p, u := median(a.name, "preview"), median(a.name, "up")
			row := fmt.Sprintf("%-16s %6d %8.0fms %8.0fms", a.name, n, p, u)
			if none != "" && a.name != none {
				ap, au := p-median(none, "preview"), u-median(none, "up")
				added[[2]string{a.name, "preview"}], added[[2]string{a.name, "up"}] = ap, au
				row += fmt.Sprintf(" %8.0fms %8.0fms", ap, au)
			}
			if rec := median(a.name, "ledger"); rec >= 0 {
				row += fmt.Sprintf("  (recording the run: %.0fms)", rec)
			}
			fmt.Println(row)
		}
		if none == "" {
			continue
		}
		for _, a := range plugins {
			for _, ref := range plugins {
				if !strings.HasPrefix(a.name, "warden") || ref.path == "" || strings.HasPrefix(ref.name, "warden") {
					continue
				}
				fmt.Printf("  added, %s / %s: preview %.2f, up %.2f\n", a.name, ref.name,
					added[[2]string{a.name, "preview"}]/added[[2]string{ref.name, "preview"}],
					added[[2]string{a.name, "up"}]/added[[2]string{ref.name, "up"}])
			}
		}
	}
}

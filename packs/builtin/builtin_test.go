package builtin_test

import (
	"testing"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/packtest"
)

// TestEveryPolicyCompiles compiles every built-in policy now, which is what
// lets Pack defer compiling to first use.
func TestEveryPolicyCompiles(t *testing.T) {
	t.Parallel()
	for _, name := range builtin.Names() {
		if _, err := engine.LoadFS(builtin.FS(), name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestBuiltinPacks runs every built-in pack's own test cases, and checks
// that each policy has at least one violating and one passing case.
func TestBuiltinPacks(t *testing.T) {
	packs, err := builtin.Packs()
	if err != nil {
		t.Fatal(err)
	}
	if len(packs) == 0 {
		t.Fatal("no built-in packs")
	}
	for _, p := range packs {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			suites, err := packtest.LoadSuitesFS(builtin.FS(), p.Name, p.Name)
			if err != nil {
				t.Fatal(err)
			}
			results, err := packtest.Run(t.Context(), p, suites)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range results {
				for _, f := range r.Failures {
					t.Errorf("%s: %s", r.Case.Name, f)
				}
			}
			for _, pol := range p.Policies {
				if cov := packtest.CoverageOf(results, pol.Name); !cov.Violation || !cov.Pass {
					t.Errorf("%s: want a violating and a passing case, have violation=%v pass=%v", pol.Name, cov.Violation, cov.Pass)
				}
			}
		})
	}
}

// TestDefaultLevels holds the catalog's documented choice: policies rated
// critical block by default, every other policy is advisory.
func TestDefaultLevels(t *testing.T) {
	packs, err := builtin.Packs()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packs {
		for _, pol := range p.Policies {
			want := "advisory"
			if pol.Severity == "critical" {
				want = "mandatory"
			}
			if string(pol.Level) != want {
				t.Errorf("%s/%s: severity %q, level %q; want %s", p.Name, pol.Name, pol.Severity, pol.Level, want)
			}
		}
	}
}

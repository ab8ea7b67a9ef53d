package builtin_test

import (
	"bytes"
	"io/fs"
	"strings"
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

// TestCheckedFresh: the checked expressions the binary ships
// (checked/*.bin) are what the packs and this build's CEL declarations
// give now, and there is one file per pack.
func TestCheckedFresh(t *testing.T) {
	t.Parallel()
	shipped, err := fs.Glob(builtin.Checked(), "checked/*.bin")
	if err != nil {
		t.Fatal(err)
	}
	if len(shipped) != len(builtin.Names()) {
		t.Errorf("checked expressions for %d packs, %d packs: run go generate ./packs/builtin", len(shipped), len(builtin.Names()))
	}
	for _, name := range builtin.Names() {
		want, err := engine.CheckedASTs(builtin.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fs.ReadFile(builtin.Checked(), "checked/"+name+".bin")
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: the shipped checked expressions are stale (%v): run go generate ./packs/builtin", name, err)
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

// TestStackReadsKnown: every built-in stack policy reaches resources only
// through byType/referencing with literal types, so the analyzer decodes
// only those on a large stack (packs/README.md, StackReads). A new policy
// that scans resources would make every AnalyzeStack decode everything.
func TestStackReadsKnown(t *testing.T) {
	t.Parallel()
	for _, name := range builtin.Names() {
		p, err := engine.LoadFS(builtin.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		if pats, all := p.StackReads(); all {
			t.Errorf("%s: a stack policy reads every resource (patterns %v)", name, pats)
		}
	}
}

// TestPolicyMetadata: every built-in policy says how bad a violation is,
// which framework it comes from, how to fix it and where to read more, and
// which controls it checks (possibly none): what reports and the console
// show, and what framework views select by.
func TestPolicyMetadata(t *testing.T) {
	t.Parallel()
	for _, name := range builtin.Names() {
		p, err := builtin.Pack(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, pol := range p.Policies {
			ps := pol.Spec
			if ps.Severity == "" || ps.Framework == nil || ps.Framework.Name == "" || ps.Framework.Reference == "" ||
				ps.RemediationSteps == "" || !strings.HasPrefix(ps.URL, "https://") || ps.Controls == nil {
				t.Errorf("%s: %s/%s lacks severity, framework, remediation steps, an https URL or controls", ps.Pos, name, pol.Name)
			}
		}
	}
}

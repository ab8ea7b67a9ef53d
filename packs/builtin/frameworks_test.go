package builtin_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/warden-policy/warden/internal/frameworks"
	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/packtest"
)

// TestControlsExist: every control a built-in policy names is in its
// framework's file: a typo would silently leave the policy out of the
// view.
func TestControlsExist(t *testing.T) {
	t.Parallel()
	for _, name := range builtin.Names() {
		p, err := builtin.Pack(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, pol := range p.Policies {
			for i, ref := range pol.Controls {
				fw, id, _ := strings.Cut(ref, "/")
				pos := pol.Spec.ControlPos[i]
				if !slices.Contains(builtin.Frameworks(), fw) {
					t.Errorf("%s: %s/%s: no framework %q (have %s)", pos, name, pol.Name, fw, strings.Join(builtin.Frameworks(), ", "))
					continue
				}
				f, err := builtin.Framework(fw)
				if err != nil {
					t.Fatal(err)
				}
				if c := f.Control(id); c == nil {
					t.Errorf("%s: %s/%s: %s has no control %q", pos, name, pol.Name, fw, id)
				} else if !c.IaC {
					t.Errorf("%s: %s/%s: %s control %s is marked iac: false (%s), yet a policy checks it", pos, name, pol.Name, fw, id, c.Why)
				}
			}
		}
	}
}

// TestFrameworkViews: each framework view is the built-in policies that
// name one of its controls, at their own levels, reporting the framework
// and those controls, and judges every source pack's test cases as the
// source pack does.
func TestFrameworkViews(t *testing.T) {
	if len(builtin.Frameworks()) == 0 {
		t.Fatal("no framework views")
	}
	for _, fw := range builtin.Frameworks() {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			f, err := builtin.Framework(fw)
			if err != nil {
				t.Fatal(err)
			}
			view, err := builtin.Pack(fw)
			if err != nil {
				t.Fatal(err)
			}
			if view.Name != fw || view.Version != f.PackVersion {
				t.Errorf("view is %s@%s, want %s@%s", view.Name, view.Version, fw, f.PackVersion)
			}
			var want []string
			for _, src := range builtin.Names() {
				p, err := builtin.Pack(src)
				if err != nil {
					t.Fatal(err)
				}
				for _, pol := range p.Policies {
					ids := builtin.ControlsIn(pol.Controls, fw)
					if len(ids) == 0 {
						continue
					}
					want = append(want, pol.Name)
					vp := view.Policy(pol.Name)
					if vp == nil {
						continue // reported below
					}
					if vp.Level != pol.Level || vp.Severity != pol.Severity {
						t.Errorf("%s: level %s severity %s in the view, %s %s in %s", pol.Name, vp.Level, vp.Severity, pol.Level, pol.Severity, src)
					}
					if fr := vp.Framework; fr == nil || fr.Name != f.Title || fr.Version != f.Version || fr.Reference != strings.Join(ids, ", ") {
						t.Errorf("%s: framework %+v, want %s %s %s", pol.Name, fr, f.Title, f.Version, strings.Join(ids, ", "))
					}
					if err := vp.Compile(); err != nil {
						t.Errorf("%s: %v", pol.Name, err)
					}
				}
				sameVerdicts(t, view, p)
			}
			var got []string
			for _, pol := range view.Policies {
				got = append(got, pol.Name)
			}
			if !slices.Equal(got, want) {
				t.Errorf("view policies:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// sameVerdicts runs src's test cases against view, for the policies the
// view holds.
func sameVerdicts(t *testing.T, view, src *engine.Pack) {
	t.Helper()
	suites, err := packtest.LoadSuitesFS(builtin.FS(), src.Name, src.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range suites {
		cfg := map[string]engine.PolicyConfig{}
		for k, v := range s.Config {
			if k == "all" || view.Policy(k) != nil {
				cfg[k] = v
			}
		}
		s.Config = cfg
		for _, c := range s.Cases {
			c.Expect = slices.DeleteFunc(c.Expect, func(e *packtest.Expectation) bool { return view.Policy(e.Policy) == nil })
		}
	}
	results, err := packtest.Run(t.Context(), view, suites)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		for _, f := range r.Failures {
			t.Errorf("%s through the view: %s: %s", src.Name, r.Case.Name, f)
		}
	}
}

// TestReadmeCatalog keeps the README's catalog tables true: a row per
// built-in pack and per framework view, with its version and policy count
// (and, for a view, its controls: checked by a policy, checkable but not
// yet checked, not checkable from IaC).
func TestReadmeCatalog(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[strings.Trim(cells[0], "`")] = cells[1:]
	}
	total := 0
	for _, name := range builtin.Names() {
		p, err := builtin.Pack(name)
		if err != nil {
			t.Fatal(err)
		}
		total += len(p.Policies)
		row := rows[name]
		if len(row) < 2 || row[0] != p.Version || row[1] != strconv.Itoa(len(p.Policies)) {
			t.Errorf("README row for %s: %q, want version %s and %d policies", name, row, p.Version, len(p.Policies))
		}
	}
	for _, name := range builtin.Frameworks() {
		p, err := builtin.Pack(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := frameworks.Map(name)
		if err != nil {
			t.Fatal(err)
		}
		s := r.Summary
		want := []string{p.Version, strconv.Itoa(len(p.Policies)), strconv.Itoa(s.Controls), strconv.Itoa(s.Controls - s.NotCheckable - s.NoPolicy), strconv.Itoa(s.NoPolicy), strconv.Itoa(s.NotCheckable)}
		if row := rows[name]; len(row) < len(want)+1 || !slices.Equal(row[1:len(want)+1], want) {
			t.Errorf("README row for %s: %q, want title then %q", name, row, want)
		}
	}
	if !strings.Contains(string(readme), fmt.Sprintf("%d built-in policies", total)) {
		t.Errorf("README does not say %q", fmt.Sprintf("%d built-in policies", total))
	}
}

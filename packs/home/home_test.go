package home

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warden-policy/warden/packs/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestStackSelector(t *testing.T) {
	t.Parallel()
	st := Stack{Organization: "acme", Project: "payments", Name: "prod"}
	for _, tc := range []struct {
		sel  string
		want bool
	}{
		{"prod", true}, {"dev", false}, {"pr*", true},
		{"payments/prod", true}, {"web/prod", false}, {"*/prod", true}, {"pay*/prod", true},
		{"acme/payments/prod", true}, {"other/payments/prod", false}, {"acme/*/*", true}, {"*/*/dev", false},
		{"*pro*", true}, {"p*d", true}, {"*", true}, {"prod*x", false},
	} {
		sel, err := ParseStackSelector(tc.sel)
		if err != nil {
			t.Fatalf("%s: %v", tc.sel, err)
		}
		if got := sel.Matches(st); got != tc.want {
			t.Errorf("%q matches acme/payments/prod = %v, want %v", tc.sel, got, tc.want)
		}
	}
	for _, bad := range []string{"", "a//b", "/prod", "o/p/s/x", "[a"} {
		if _, err := ParseStackSelector(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// path.Match's other wildcards are refused, not taken literally.
	for _, sel := range []string{"pro?", "[p]rod", `pro\d`} {
		if _, err := ParseStackSelector(sel); err == nil || !strings.Contains(err.Error(), "* is the only one") {
			t.Errorf("%q: %v, want the one-wildcard refusal", sel, err)
		}
	}
}

func TestRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rule string
		tags map[string]string
		want bool
	}{
		{"env=prod", map[string]string{"env": "prod"}, true},
		{"env=prod", map[string]string{"env": "dev"}, false},
		{"env=prod", nil, false},
		{"env!=prod", map[string]string{"env": "dev"}, true},
		{"env!=prod", nil, true}, // true when the tag is absent
		{"env!=prod", map[string]string{"env": "prod"}, false},
		{"critical", map[string]string{"critical": ""}, true},
		{"critical", nil, false},
		{"!exempt", nil, true},
		{"!exempt", map[string]string{"exempt": "yes"}, false},
		{"env=prod,tier=critical", map[string]string{"env": "prod", "tier": "critical"}, true},
		{"env=prod,tier=critical", map[string]string{"env": "prod"}, false},
		{"env=prod OR tier=critical", map[string]string{"tier": "critical"}, true},
		{"env=prod OR tier=critical", map[string]string{"env": "dev"}, false},
		{"tier=critical OR env=prod,!exempt", map[string]string{"env": "prod", "exempt": "y"}, false},
		{"tier=critical OR env=prod,!exempt", map[string]string{"env": "prod"}, true},
		{"a=1, b=2", map[string]string{"a": "1", "b": "2"}, true}, // spaces around , are trimmed
	} {
		r, err := ParseRule(tc.rule)
		if err != nil {
			t.Fatalf("%s: %v", tc.rule, err)
		}
		if got, _ := r.Match(tc.tags); got != tc.want {
			t.Errorf("%q on %v = %v, want %v", tc.rule, tc.tags, got, tc.want)
		}
	}
	for _, bad := range []string{"", "env=", "=prod", "env==prod", "env = prod", "a,,b", "a OR ", "a or b", "!a=b", "a!", "a=b=c"} {
		if _, err := ParseRule(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func load(t *testing.T) *Home {
	t.Helper()
	h, err := Load("testdata/home")
	if err != nil {
		var buf bytes.Buffer
		spec.Print(&buf, err, nil)
		t.Fatal(buf.String())
	}
	return h
}

func TestResolve(t *testing.T) {
	t.Parallel()
	h := load(t)
	type want struct {
		groups   []string
		ownerLvl spec.Level
		ipLvl    spec.Level
		tag      any
		minLen   any
		version  string
	}
	for _, tc := range []struct {
		name  string
		stack Stack
		want  want
	}{
		{"default group only", Stack{Organization: "acme", Project: "web", Name: "dev"},
			want{[]string{"baseline"}, spec.Advisory, spec.Disabled, "team", nil, "1.2.0"}},
		{"selected by a stack glob: strictest level wins, config layers", Stack{Organization: "acme", Project: "web", Name: "prod"},
			want{[]string{"baseline", "production"}, spec.Mandatory, spec.Advisory, "team", 3.0, "1.2.0"}},
		{"selected by name", Stack{Organization: "acme", Project: "payments", Name: "live"},
			want{[]string{"baseline", "production"}, spec.Mandatory, spec.Advisory, "team", 3.0, "1.2.0"}},
		{"selected by a glob and a tag rule", Stack{Organization: "acme", Project: "web", Name: "prod", Tags: map[string]string{"env": "prod"}},
			want{[]string{"baseline", "production", "critical"}, spec.Mandatory, spec.Mandatory, "team", 3.0, "1.2.0"}},
		{"selected by a tag rule", Stack{Organization: "acme", Project: "web", Name: "staging", Tags: map[string]string{"tier": "critical"}},
			want{[]string{"baseline", "critical"}, spec.Advisory, spec.Mandatory, "team", nil, "1.2.0"}},
		{"excluded by a negated tag", Stack{Organization: "acme", Project: "web", Name: "qa", Tags: map[string]string{"env": "prod", "exempt": "1"}},
			want{[]string{"baseline"}, spec.Advisory, spec.Disabled, "team", nil, "1.2.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := h.Resolve(tc.stack, Preventative)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Packs) != 1 {
				t.Fatalf("packs: %s", res.Names())
			}
			r := res.Packs[0]
			var groups []string
			for _, g := range r.Groups {
				groups = append(groups, g.Group)
				if g.Why == "" {
					t.Errorf("group %s has no explanation", g.Group)
				}
			}
			if !slices.Equal(groups, tc.want.groups) {
				t.Errorf("groups %v, want %v", groups, tc.want.groups)
			}
			if r.Pack.Version != tc.want.version {
				t.Errorf("version %s, want %s (^1 picks the newest 1.x)", r.Pack.Version, tc.want.version)
			}
			if l := r.Config["owner-tag"].Level; l != tc.want.ownerLvl {
				t.Errorf("owner-tag level %s, want %s", l, tc.want.ownerLvl)
			}
			if l := r.Config["no-public-ip"].Level; l != tc.want.ipLvl {
				t.Errorf("no-public-ip level %s, want %s", l, tc.want.ipLvl)
			}
			props := r.Config["owner-tag"].Properties
			if props["tag"] != tc.want.tag || props["minLength"] != tc.want.minLen {
				t.Errorf("owner-tag config %v", props)
			}
		})
	}
	t.Run("explanations", func(t *testing.T) {
		res, err := h.Resolve(Stack{Organization: "acme", Project: "web", Name: "prod", Tags: map[string]string{"env": "prod"}}, Preventative)
		if err != nil {
			t.Fatal(err)
		}
		r := res.Packs[0]
		want := []GroupMatch{{"baseline", "default group"}, {"production", "stacks: */prod"}, {"critical", "stackRule: env=prod,!exempt"}}
		if !slices.Equal(r.Groups, want) {
			t.Errorf("why: %v, want %v", r.Groups, want)
		}
		if r.LevelFrom["owner-tag"] != "production" || r.LevelFrom["no-public-ip"] != "critical" {
			t.Errorf("level from: %v", r.LevelFrom)
		}
	})
	t.Run("audit groups are not preventative", func(t *testing.T) {
		res, err := h.Resolve(Stack{Name: "dev"}, Audit)
		if err != nil {
			t.Fatal(err)
		}
		if res.Names() != "aws-foundations@0.3.0" {
			t.Errorf("audit packs: %s", res.Names())
		}
		nightly := h.Groups[3]
		if len(nightly.Sources) != 2 || nightly.Sources[0].Path != filepath.Join("testdata/home", "../state") {
			t.Errorf("sources: %+v", nightly.Sources)
		}
	})
}

func TestConflictingConfig(t *testing.T) {
	t.Parallel()
	src := `groups:
  - name: one
    default: true
    packs: [{pack: acme, config: {owner-tag: {tag: team}}}]
  - name: two
    stacks: [prod]
    packs: [{pack: acme, config: {owner-tag: {tag: squad}}}]
`
	h, err := Parse("testdata/home", "w.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Resolve(Stack{Name: "dev"}, Preventative); err != nil {
		t.Errorf("dev selects one group only: %v", err)
	}
	_, err = h.Resolve(Stack{Name: "prod"}, Preventative)
	if err == nil || !strings.Contains(err.Error(), "w.yaml:7:35: acme/owner-tag: config tag conflicts with another group's value") {
		t.Errorf("conflict: %v", err)
	}
}

func TestExceptions(t *testing.T) {
	t.Parallel()
	h := load(t)
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name            string
		target          Target
		active, expired []string
	}{
		{"URN glob", Target{Pack: "acme", Policy: "owner-tag", Exposed: "owner-tag", URN: "urn:pulumi:prod::web::aws:s3/bucket:Bucket::legacy-assets", Type: "aws:s3/bucket:Bucket"},
			[]string{"legacy-web"}, nil},
		{"URN glob does not match", Target{Pack: "acme", Policy: "owner-tag", Exposed: "owner-tag", URN: "urn:pulumi:prod::web::aws:s3/bucket:Bucket::assets", Type: "aws:s3/bucket:Bucket"},
			nil, nil},
		{"type token, qualified policy name", Target{Pack: "acme", Policy: "no-public-ip", Exposed: "no-public-ip", URN: "urn:pulumi:dev::web::aws:ec2/instance:Instance::vm", Type: "aws:ec2/instance:Instance"},
			[]string{"legacy-web"}, nil},
		{"other policy on a matching target", Target{Pack: "acme", Policy: "no-public-ip", Exposed: "no-public-ip", URN: "urn:pulumi:prod::web::aws:s3/bucket:Bucket::legacy-assets", Type: "aws:s3/bucket:Bucket"},
			nil, nil},
		{"expired", Target{Pack: "acme", Policy: "owner-tag", Exposed: "owner-tag", URN: "urn:pulumi:dev::web::aws:s3/bucket:Bucket::tmp", Type: "aws:s3/bucket:Bucket"},
			nil, []string{"expired-waiver"}},
	} {
		active, expired := h.Find(tc.target, now)
		ids := func(es []*Exception) []string {
			var out []string
			for _, e := range es {
				out = append(out, e.ID)
			}
			return out
		}
		if !slices.Equal(ids(active), tc.active) || !slices.Equal(ids(expired), tc.expired) {
			t.Errorf("%s: active %v expired %v, want %v %v", tc.name, ids(active), ids(expired), tc.active, tc.expired)
		}
	}
	if d := h.Exceptions[0].Describe(); d != "excepted by legacy-web: The legacy web tier is being replaced (SEC-42). (approved by security-team, expires 2027-03-01)" {
		t.Errorf("describe: %s", d)
	}
	// The last day still applies.
	if h.Exceptions[0].Expired(time.Date(2027, 3, 1, 23, 0, 0, 0, time.UTC)) || !h.Exceptions[0].Expired(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Error("expiry day")
	}
	warnings := h.Warnings(now, func(p string) bool { return p == "owner-tag" || p == "acme/no-public-ip" })
	want := []string{
		"testdata/home/warden.yaml:46:3: exception expired-waiver expired on 2026-01-31 and no longer applies",
		`testdata/home/warden.yaml:55:9: exception typo names policy "owner-tags", which no pack of this home has`,
	}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
}

// TestErrors: every problem of a broken warden.yaml at once, positioned.
func TestErrors(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/errors")
	if err == nil {
		t.Fatal("the broken home loaded")
	}
	var buf bytes.Buffer
	spec.Print(&buf, err, func(name string) []byte { b, _ := os.ReadFile(name); return b })
	golden := "testdata/errors/errors.golden"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, _ := os.ReadFile(golden)
	if buf.String() != string(want) {
		t.Errorf("errors differ from %s:\n%s", golden, buf.String())
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	h, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Resolve(Stack{Name: "any"}, Preventative)
	if err != nil || len(res.Packs) < 2 {
		t.Fatalf("default home: %v %v", res, err)
	}
}

func TestSchedule(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"@every 6h": 6 * time.Hour, "@every 1h30m": 90 * time.Minute, "@hourly": time.Hour, "@daily": 24 * time.Hour} {
		if got, err := ParseSchedule(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"6h", "@every", "@every soon", "@every 10s", "0 */6 * * *"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	_, err := Parse("", "warden.yaml", []byte("groups:\n  - name: d\n    default: true\n    schedule: \"@every 6h\"\n    packs: []\n  - name: a\n    mode: audit\n    sources: [x.json]\n    schedule: \"@every 5s\"\n    packs: []\n"))
	if err == nil || !strings.Contains(err.Error(), "warden.yaml:4:15: a schedule belongs to audit groups") || !strings.Contains(err.Error(), "and 1 more") {
		t.Errorf("schedules in the wrong place: %v", err)
	}
}

// TestReadmeHome keeps the README's warden.yaml example loadable, rollout
// levels and all.
func TestReadmeHome(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "**warden.yaml.**")
	if !ok {
		t.Fatal("README has no warden.yaml section")
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	text, _, _ := strings.Cut(rest, "```")
	h, err := Parse(t.TempDir(), "README.md", []byte(text))
	if err != nil {
		t.Fatalf("the README's warden.yaml does not load:\n%v", err)
	}
	// dev: only the default group; on prod the production group makes them
	// mandatory now, which beats a staged level and shadow.
	res, err := h.Resolve(Stack{Organization: "acme", Project: "shop", Name: "dev"}, Preventative)
	if err != nil {
		t.Fatal(err)
	}
	st := res.Packs[0].Stages
	if !st["s3-bucket-versioning"].Shadow || st["rds-deletion-protection"].From.IsZero() {
		t.Errorf("stages: %+v", st)
	}
}

// TestStronger: between groups, the stricter level wins; at one level, a
// visible one beats shadow, one in force now beats a staged one, and the
// earlier start beats the later.
func TestStronger(t *testing.T) {
	jan, feb := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		a      spec.Level
		sa     Stage
		b      spec.Level
		sb     Stage
		strict bool
	}{
		{spec.Mandatory, Stage{}, spec.Advisory, Stage{}, true},
		{spec.Mandatory, Stage{From: jan}, spec.Advisory, Stage{}, true},
		{spec.Advisory, Stage{}, spec.Advisory, Stage{Shadow: true}, true},
		{spec.Advisory, Stage{Shadow: true}, spec.Disabled, Stage{}, true},
		{spec.Mandatory, Stage{}, spec.Mandatory, Stage{From: jan}, true},
		{spec.Mandatory, Stage{From: jan}, spec.Mandatory, Stage{From: feb}, true},
		{spec.Mandatory, Stage{From: feb}, spec.Mandatory, Stage{From: jan}, false},
		{spec.Mandatory, Stage{}, spec.Mandatory, Stage{}, false},
	} {
		if got := stronger(tc.a, tc.sa, tc.b, tc.sb); got != tc.strict {
			t.Errorf("stronger(%s %+v, %s %+v) = %v", tc.a, tc.sa, tc.b, tc.sb, got)
		}
	}
}

// TestFrameworkViewInGroup: a group applies a framework view by its name,
// as one pack, with config for its policies; the level set for the view
// applies to each of its policies.
func TestFrameworkViewInGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const yml = `organization: acme
groups:
  - name: cis
    mode: preventative
    default: true
    packs:
      - pack: cis-aws-3.0
        enforcementLevel: mandatory
`
	if err := os.WriteFile(filepath.Join(dir, "warden.yaml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Resolve(Stack{Organization: "acme", Project: "web", Name: "prod"}, Preventative)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packs) != 1 || res.Packs[0].Pack.Name != "cis-aws-3.0" || len(res.Packs[0].Pack.Policies) == 0 {
		t.Fatalf("resolved %s", res.Names())
	}
	r := res.Packs[0]
	for _, pol := range r.Pack.Policies {
		if l := r.Config[pol.Name].Level; l != spec.Mandatory {
			t.Errorf("%s at %s, want mandatory", pol.Name, l)
		}
	}
}

//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-policy/warden/internal/aztest"
	"github.com/warden-policy/warden/internal/gcstest"
	"github.com/warden-policy/warden/internal/pgtest"
)

// secret is the database password of the test program; it must never appear
// in anything the CLI prints.
const secret = "hunter2-SuperSecret"

var tools struct {
	dir        string // pulumi, pulumi-language-yaml
	bin        string // Warden's binaries and fakeaws
	pulumiHome string // plugins installed once for every test
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tools.dir = os.Getenv("WARDEN_E2E_BIN")
	if tools.dir == "" {
		fmt.Fprintln(os.Stderr, "WARDEN_E2E_BIN is not set: run `make e2e`, which builds the Pulumi CLI first")
		return 1
	}
	tmp, err := os.MkdirTemp("", "warden-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	tools.bin = filepath.Join(tmp, "bin")
	tools.pulumiHome = filepath.Join(tmp, "pulumi-home")
	build := exec.Command("go", "build", "-o", tools.bin+"/", "../cmd/...", "./fakeaws")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building Warden:", err)
		return 1
	}
	for _, args := range [][]string{
		{"plugin", "install", "resource", "aws", "7.0.0", "--file", filepath.Join(tools.bin, "fakeaws")},
		{"plugin", "install", "language", "warden", "0.1.0", "--file", filepath.Join(tools.bin, "warden")},
	} {
		cmd := exec.Command(filepath.Join(tools.dir, "pulumi"), args...)
		cmd.Env = baseEnv(tools.pulumiHome)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "pulumi %s: %v\n%s", strings.Join(args, " "), err, out)
			return 1
		}
	}
	// The findings ledger's PostgreSQL store, on a throwaway server.
	if pg, err = pgtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "starting PostgreSQL:", err)
		return 1
	}
	defer pg.Stop()
	// Azurite, for the Azure Blob backend.
	if az, err = aztest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "starting Azurite:", err)
		return 1
	}
	defer az.Stop()
	// Google Cloud Storage (fake-gcs-server), for the gs:// backend.
	if gcs, err = gcstest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer gcs.Stop()
	return m.Run()
}

var (
	pg  *pgtest.Server
	az  *aztest.Server
	gcs *gcstest.Server
)

// baseEnv is a hermetic environment for the CLI: no ambient plugins, no
// downloads, no update checks.
func baseEnv(pulumiHome string) []string {
	return []string{
		"PATH=" + tools.dir + string(os.PathListSeparator) + "/usr/bin:/bin",
		"HOME=" + os.Getenv("HOME"),
		"PULUMI_HOME=" + pulumiHome,
		// The findings ledger's spool, when a store is down.
		"XDG_STATE_HOME=" + filepath.Join(filepath.Dir(pulumiHome), "state"),
		"PULUMI_CONFIG_PASSPHRASE=e2e-passphrase",
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
		"PULUMI_IGNORE_AMBIENT_PLUGINS=true",
		"PULUMI_SKIP_CONFIRMATIONS=true",
		"PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true",
		"NO_COLOR=1",
	}
}

// env is one test's world: a copy of the policy home, a project, a backend.
type env struct {
	t       *testing.T
	home    string // the policy home directory
	project string
	vars    []string
}

// form is one way of handing the home to the CLI.
type form struct {
	name string
	pack func(e *env) string
}

var forms = []form{
	// The analyzer binary, linked into the home: the home is its directory.
	{"executable", func(e *env) string { return filepath.Join(e.home, "pulumi-analyzer-warden") }},
	// The home directory itself: PulumiPolicy.yaml says runtime: warden.
	{"directory", func(e *env) string { return e.home }},
}

func newEnv(t *testing.T, stack string) *env {
	t.Helper()
	return newEnvWith(t, "home", "shop", stack)
}

// newEnvWith copies the home and project folders of testdata.
func newEnvWith(t *testing.T, homeDir, projectDir, stack string) *env {
	t.Helper()
	dir := t.TempDir()
	if strings.Contains(dir, ",") {
		t.Fatalf("test directory %q has a comma: --policy-pack splits on commas", dir)
	}
	e := &env{t: t, home: filepath.Join(dir, "home"), project: filepath.Join(dir, projectDir)}
	copyDir(t, filepath.Join("testdata", homeDir), e.home)
	copyDir(t, filepath.Join("testdata", projectDir), e.project)
	if err := os.Symlink(filepath.Join(tools.bin, "pulumi-analyzer-warden"), filepath.Join(e.home, "pulumi-analyzer-warden")); err != nil {
		t.Fatal(err)
	}
	backend := filepath.Join(dir, "backend")
	if err := os.MkdirAll(backend, 0o755); err != nil {
		t.Fatal(err)
	}
	e.vars = append(baseEnv(tools.pulumiHome), "PULUMI_BACKEND_URL=file://"+backend)
	e.mustPulumi("stack", "init", stack)
	return e
}

// pulumi runs the CLI in the project and returns its combined output and
// exit code. Every output is checked for the test program's secret.
func (e *env) pulumi(args ...string) (string, int) {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(tools.dir, "pulumi"), append(args, "--non-interactive")...)
	cmd.Dir = e.project
	cmd.Env = e.vars
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("pulumi %s: %v", strings.Join(args, " "), err)
	}
	if strings.Contains(out.String(), secret) {
		e.t.Errorf("pulumi %s printed the secret:\n%s", strings.Join(args, " "), out.String())
	}
	return out.String(), code
}

func (e *env) mustPulumi(args ...string) string {
	e.t.Helper()
	out, code := e.pulumi(args...)
	if code != 0 {
		e.t.Fatalf("pulumi %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// writeConfig writes a --policy-pack-config file and returns its path.
func (e *env) writeConfig(cfg map[string]any) string {
	e.t.Helper()
	data, err := json.Marshal(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(e.t.TempDir(), "policy-config.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// resources reads the stack's state: URN name -> inputs.
func (e *env) resources() map[string]map[string]any {
	e.t.Helper()
	var export struct {
		Deployment struct {
			Resources []struct {
				URN    string         `json:"urn"`
				Inputs map[string]any `json:"inputs"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	out := e.mustPulumi("stack", "export")
	if err := json.Unmarshal([]byte(out), &export); err != nil {
		e.t.Fatalf("stack export: %v\n%s", err, out)
	}
	m := map[string]map[string]any{}
	for _, r := range export.Deployment.Resources {
		m[r.URN[strings.LastIndex(r.URN, "::")+2:]] = r.Inputs
	}
	return m
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func contains(t *testing.T, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("output does not contain %q:\n%s", s, out)
		}
	}
}

// TestPreview: advisory and mandatory violations are shown, a mandatory one
// fails the preview, and an unknown value gives the can't-run advisory.
func TestPreview(t *testing.T) {
	t.Parallel()
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "dev")
			out, code := e.pulumi("preview", "--policy-pack", f.pack(e))
			if code == 0 {
				t.Fatalf("preview passed despite mandatory violations:\n%s", out)
			}
			contains(t, out,
				"preview failed",
				"[mandatory] [severity: critical]  s3-bucket-no-public-acl  (aws:s3:Bucket: site)",
				"the ACL public-read makes the bucket readable by anyone",
				"[mandatory]  db-password-length  (aws:rds:Instance: db)",
				"password [secret] is shorter than 30",
				"can't run policy 'ec2-sg-no-public-ssh' from policy pack 'aws-foundations@v0.3.0' during preview",
				"can't be known during preview",
				"aws-foundations@v0.3.0", "e2e-pack@v1.0.0",
			)
		})
	}
}

// TestUpBlocked: a mandatory violation blocks the update and the resource is
// not created.
func TestUpBlocked(t *testing.T) {
	t.Parallel()
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "dev")
			out, code := e.pulumi("up", "--yes", "--skip-preview", "--policy-pack", f.pack(e))
			if code == 0 {
				t.Fatalf("up passed despite mandatory violations:\n%s", out)
			}
			// Which mandatory violation stops the run first depends on
			// scheduling; what matters is that neither resource exists.
			contains(t, out, "[mandatory]")
			res := e.resources()
			if _, created := res["site"]; created {
				t.Errorf("the bucket with a public ACL was created: %v", res["site"])
			}
			if _, created := res["db"]; created {
				t.Errorf("the database with a short password was created")
			}
		})
	}
}

// TestConfigRemediationAndUnknowns: --policy-pack-config changes levels and
// config; remediation changes what is deployed; advisory violations never
// block; a value unknown during preview is evaluated in the update; stack
// policies run.
func TestConfigRemediationAndUnknowns(t *testing.T) {
	t.Parallel()
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "dev")
			cfg := e.writeConfig(map[string]any{
				"s3-bucket-no-public-acl": "remediate",
				"db-password-length":      map[string]any{"minimum": 12},
			})
			out, code := e.pulumi("up", "--yes", "--policy-pack", f.pack(e), "--policy-pack-config", cfg)
			if code != 0 {
				t.Fatalf("up failed: exit %d\n%s", code, out)
			}
			contains(t, out,
				"[remediate]  s3-bucket-no-public-acl",
				// The unknown address of the preview, known in the update.
				`ingress from ["198.51.100.7/32"]`,
				"[advisory]  buckets-are-tagged",
				"bucket logs has no owner",
			)
			res := e.resources()
			if acl := res["site"]["acl"]; acl != "private" {
				t.Errorf("deployed acl = %v, want private (remediated)", acl)
			}
			// The same program fails again once the config is gone: the
			// password is shorter than the default minimum.
			out, code = e.pulumi("preview", "--policy-pack", f.pack(e))
			if code == 0 {
				t.Fatalf("preview without config passed:\n%s", out)
			}
			contains(t, out, "password [secret] is shorter than 30")
		})
	}
}

// TestPolicyAnalyze: `pulumi policy analyze --file` (no ConfigureStack) exits
// non-zero on a mandatory violation and 0 when clean.
func TestPolicyAnalyze(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "prod")
	e.mustPulumi("up", "--yes", "--skip-preview") // no policies: the state to analyze
	state := filepath.Join(t.TempDir(), "state.json")
	e.mustPulumi("stack", "export", "--file", state)
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			out, code := e.pulumi("policy", "analyze", "--file", state, "--policy-pack", f.pack(e))
			if code == 0 {
				t.Fatalf("policy analyze passed despite mandatory violations:\n%s", out)
			}
			contains(t, out, "s3-bucket-no-public-acl", "one or more mandatory policy violations were found")
			clean := e.writeConfig(map[string]any{"all": "advisory"})
			out, code = e.pulumi("policy", "analyze", "--file", state, "--policy-pack", f.pack(e), "--policy-pack-config", clean)
			if code != 0 {
				t.Fatalf("policy analyze with every policy advisory: exit %d\n%s", code, out)
			}
			contains(t, out, "[advisory] [severity: critical]  s3-bucket-no-public-acl")
		})
	}
}

// TestNameScopeConfig: a Compliance-Ready --policy-pack-config carries over
// through the real CLI: the engine validates excludeFor against the schema
// Warden advertises, and Warden leaves the bucket it names out; a pattern
// Warden cannot compile stops the run with a message naming the key.
func TestNameScopeConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "prod")
	e.mustPulumi("up", "--yes", "--skip-preview") // no policies: the state to analyze
	state := filepath.Join(t.TempDir(), "state.json")
	e.mustPulumi("stack", "export", "--file", state)
	pack := forms[0].pack(e)
	out, _ := e.pulumi("policy", "analyze", "--file", state, "--policy-pack", pack)
	contains(t, out, "s3-bucket-no-public-acl")
	scoped := e.writeConfig(map[string]any{"s3-bucket-no-public-acl": map[string]any{"excludeFor": []any{"^si", "unrelated"}, "ignoreCase": true}})
	out, _ = e.pulumi("policy", "analyze", "--file", state, "--policy-pack", pack, "--policy-pack-config", scoped)
	if strings.Contains(out, "s3-bucket-no-public-acl") {
		t.Errorf("the bucket excludeFor names is still judged:\n%s", out)
	}
	bad := e.writeConfig(map[string]any{"s3-bucket-no-public-acl": map[string]any{"excludeFor": []any{"(?<=lookbehind)"}}})
	out, code := e.pulumi("policy", "analyze", "--file", state, "--policy-pack", pack, "--policy-pack-config", bad)
	if code == 0 {
		t.Fatalf("a pattern Warden cannot compile was accepted:\n%s", out)
	}
	contains(t, out, "at /excludeFor/0: not a regular expression Warden can use")
}

// TestBrokenHome: a home that does not load fails the run with a positioned
// message; nothing runs unguarded.
func TestBrokenHome(t *testing.T) {
	t.Parallel()
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "dev")
			broken := "organization: acme\ngroups:\n  - name: default\n    default: true\n    packs:\n      - pack: aws-foundation\n"
			if err := os.WriteFile(filepath.Join(e.home, "warden.yaml"), []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			out, code := e.pulumi("up", "--yes", "--skip-preview", "--policy-pack", f.pack(e))
			if code == 0 {
				t.Fatalf("up passed with a broken home:\n%s", out)
			}
			contains(t, out, "warden.yaml:6:9", `unknown pack "aws-foundation"`)
			if len(e.resources()) > 0 {
				t.Error("resources were created with a broken home")
			}
		})
	}
}

// TestGroups: one home for every stack. The same violation is advisory on
// dev and blocks prod; a tag rule selects a critical stack; an exception
// lets one named resource through with its reason shown.
func TestGroups(t *testing.T) {
	t.Parallel()
	const excepted = "excepted by public-site: The marketing site is public by design (SEC-123). (approved by security-team, expires 2099-12-31)"
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			t.Run("dev is advisory and goes through", func(t *testing.T) {
				t.Parallel()
				e := newEnvWith(t, "groups-home", "promo", "dev")
				out := e.mustPulumi("up", "--yes", "--policy-pack", f.pack(e))
				contains(t, out, "[advisory] [severity: critical]  s3-bucket-no-public-acl  (aws:s3:Bucket: promo)",
					"[advisory] [severity: critical]  s3-bucket-no-public-acl  (aws:s3:Bucket: site)")
				if len(e.resources()) < 3 {
					t.Errorf("dev resources were not created")
				}
			})
			t.Run("prod is mandatory except the excepted bucket", func(t *testing.T) {
				t.Parallel()
				e := newEnvWith(t, "groups-home", "promo", "prod")
				out, code := e.pulumi("preview", "--policy-pack", f.pack(e))
				if code == 0 {
					t.Fatalf("prod preview passed:\n%s", out)
				}
				contains(t, out, "[mandatory] [severity: critical]  s3-bucket-no-public-acl  (aws:s3:Bucket: promo)",
					"[advisory] [severity: critical]  s3-bucket-no-public-acl  (aws:s3:Bucket: site)", excepted)
				out, code = e.pulumi("up", "--yes", "--skip-preview", "--policy-pack", f.pack(e))
				if code == 0 {
					t.Fatalf("prod up passed:\n%s", out)
				}
				if _, created := e.resources()["promo"]; created {
					t.Error("the public promo bucket was created in prod")
				}
			})
			t.Run("prod lets the excepted resource through", func(t *testing.T) {
				t.Parallel()
				e := newEnvWith(t, "groups-home", "site", "prod")
				out := e.mustPulumi("up", "--yes", "--policy-pack", f.pack(e))
				contains(t, out, excepted)
				if _, created := e.resources()["site"]; !created {
					t.Error("the excepted bucket was not created")
				}
			})
			t.Run("a version 2 config file's exceptions are honoured", func(t *testing.T) {
				t.Parallel()
				e := newEnvWith(t, "groups-home", "promo", "prod")
				cfg := e.writeConfig(map[string]any{
					"version": 2,
					"exceptions": map[string]any{"promo-launch": map[string]any{
						"reason": "Launch week, public by design (MKT-9).",
						"match": []any{map[string]any{"policies": []any{"s3-bucket-no-public-acl"},
							"targets": []any{"urn:pulumi:prod::promo::aws:s3/bucket:Bucket::promo"}}},
					}},
				})
				out := e.mustPulumi("preview", "--policy-pack", f.pack(e), "--policy-pack-config", cfg)
				// The engine matches the file's exceptions on the exposed names and
				// lists the waived violation as exempted; the preview passes.
				contains(t, out, "[exempted]  s3-bucket-no-public-acl", excepted)
			})
			t.Run("the tag rule selects a critical stack", func(t *testing.T) {
				t.Parallel()
				e := newEnvWith(t, "groups-home", "promo", "staging")
				out := e.mustPulumi("preview", "--policy-pack", f.pack(e))
				contains(t, out, "[advisory] [severity: critical]  s3-bucket-no-public-acl  (aws:s3:Bucket: promo)")
				e.mustPulumi("stack", "tag", "set", "tier", "critical")
				out, code := e.pulumi("preview", "--policy-pack", f.pack(e))
				if code == 0 {
					t.Fatalf("critical staging preview passed:\n%s", out)
				}
				contains(t, out, "[mandatory] [severity: critical]  s3-bucket-no-public-acl  (aws:s3:Bucket: promo)")
			})
		})
	}
}

//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/warden-policy/warden/internal/aztest"
	"github.com/warden-policy/warden/internal/s3test"
)

// auditLines runs warden audit -o json over a backend and returns its
// findings as comparable lines.
func (e *env) auditLines(source string) []string {
	e.t.Helper()
	out := e.warden(1, "audit", source, "--home", e.home, "-o", "json", "--store", "off")
	var rep struct {
		Stacks []struct {
			Stack    string
			Findings []struct{ Policy, URN, Kind, Message string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		e.t.Fatalf("audit %s: %v\n%s", source, err, out)
	}
	var lines []string
	for _, st := range rep.Stacks {
		for _, f := range st.Findings {
			lines = append(lines, st.Stack+" "+f.Policy+" "+f.URN+" "+f.Kind+" "+f.Message)
		}
	}
	sort.Strings(lines)
	return lines
}

// TestAuditCloudBackends: the real pulumi CLI logs in to an S3 server
// (gofakes3), to Azurite (the Azure Blob protocol) and to a Google Cloud
// Storage server (fake-gcs-server), each on 127.0.0.1, and deploys two
// projects; warden audit of that URL reports exactly what
// the same stacks give on a file backend.
func TestAuditCloudBackends(t *testing.T) {
	t.Parallel()
	container, err := az.Container(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, login := range map[string]string{"s3": s3test.Bucket(t, nil), "azblob": container, "gs": gcs.Bucket(t, nil)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var lines [2][]string
			for i, backend := range []string{login, ""} {
				dir := t.TempDir()
				e := &env{t: t, home: filepath.Join(dir, "home")}
				copyDir(t, filepath.Join("testdata", "home"), e.home)
				if backend == "" {
					backend = "file://" + filepath.Join(dir, "backend")
					os.MkdirAll(filepath.Join(dir, "backend"), 0o755)
				}
				e.vars = append(baseEnv(tools.pulumiHome), "PULUMI_BACKEND_URL="+backend,
					"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_EC2_METADATA_DISABLED=true",
					"AZURE_STORAGE_ACCOUNT="+aztest.Account, "AZURE_STORAGE_KEY="+aztest.Key)
				for k, v := range gcs.Env() {
					e.vars = append(e.vars, k+"="+v)
				}
				for _, project := range []string{"shop", "site"} {
					e.project = filepath.Join(dir, project)
					copyDir(t, filepath.Join("testdata", project), e.project)
					e.mustPulumi("stack", "init", "prod")
					e.mustPulumi("up", "--yes", "--skip-preview") // no policies: the state to audit
				}
				lines[i] = e.auditLines(backend)
			}
			if len(lines[0]) == 0 || strings.Join(lines[0], "\n") != strings.Join(lines[1], "\n") {
				t.Errorf("%s backend:\n%s\nfile backend:\n%s", name, strings.Join(lines[0], "\n"), strings.Join(lines[1], "\n"))
			}
			// PULUMI_CONFIG_PASSPHRASE is set (baseEnv): the audit decrypts the
			// database password through the SDK and evaluates it, without
			// printing it (warden checks every output for it).
			if !strings.Contains(strings.Join(lines[0], "\n"), "db-password-length urn:pulumi:prod::shop::aws:rds/instance:Instance::db violation password [secret] is shorter than 30") {
				t.Errorf("the passphrase-encrypted password was not evaluated:\n%s", strings.Join(lines[0], "\n"))
			}
			for _, want := range []string{"acme/shop/prod", "acme/site/prod"} {
				if !strings.Contains(strings.Join(lines[0], "\n"), want) {
					t.Errorf("the %s audit has no findings of %s", name, want)
				}
			}
		})
	}
}

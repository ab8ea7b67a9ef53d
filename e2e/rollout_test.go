//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rolloutHome is the e2e home with the packs at the given levels.
func (e *env) rolloutHome(aws, e2e, e2eConfig string) {
	e.t.Helper()
	text := `# The rollout walk-through's home.
organization: acme
groups:
  - name: default
    mode: preventative
    default: true
    packs:
      - pack: aws-foundations
        version: ^0.3
        enforcementLevel: ` + aws + `
      - pack: e2e-pack
        enforcementLevel: ` + e2e + `
` + e2eConfig
	if err := os.WriteFile(filepath.Join(e.home, "warden.yaml"), []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// extraBucket is a new public bucket the rollout adds to the program.
const extraBucket = `  extra:
    type: aws:s3/bucket:Bucket
    properties:
      bucket: acme-extra
      acl: public-read
      tags: {owner: web}
`

// TestRollout walks the README's "rolling out on existing stacks" with the
// real CLI: a stack deployed with everything advisory has old violations;
// made mandatory, they block; a baseline lets the update through while a
// new violating resource blocks; a fixed one is pruned from the baseline;
// a staged level is advisory before its date and mandatory on it
// ($WARDEN_NOW passes the date in); a shadow policy's violation is in the
// ledger and not in pulumi's output.
func TestRollout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "prod")
	pack := forms[0].pack(e)

	// 1. Everything advisory: the update passes and the ledger has the
	// stack's violations.
	e.rolloutHome("advisory", "advisory", "")
	e.mustPulumi("up", "--yes", "--skip-preview", "--policy-pack", pack)
	if f := e.findings(); len(f) == 0 {
		t.Fatal("the advisory update recorded no findings")
	}

	// 2. Mandatory: the old violations block.
	e.rolloutHome("mandatory", "mandatory", "")
	if out, code := e.pulumi("preview", "--policy-pack", pack); code == 0 {
		t.Fatalf("preview passed with mandatory packs and old violations:\n%s", out)
	}

	// 3. A baseline from the ledger: the update passes, each old
	// violation reported as baselined.
	out := e.warden(0, "baseline", "create", "--stack", "acme/shop/prod", "--home", e.home)
	contains(t, out, "baselined ", "violations of acme/shop/prod")
	baseline := filepath.Join(e.home, "baselines", "shop", "prod.yaml")
	if _, err := os.Stat(baseline); err != nil {
		t.Fatal(err)
	}
	out = e.mustPulumi("up", "--yes", "--skip-preview", "--policy-pack", pack)
	contains(t, out, "baselined on ")

	// 4. A new violating resource blocks.
	e.program("resources:\n", "resources:\n"+extraBucket)
	out, code := e.pulumi("preview", "--policy-pack", pack)
	if code == 0 || !strings.Contains(out, "acme-extra") && !strings.Contains(out, "extra") {
		t.Fatalf("a new violating bucket did not block:\n%s", out)
	}
	e.program(extraBucket, "")

	// 5. One old violation fixed: the update marks it fixed; prune drops it.
	e.program("acl: public-read", "acl: private")
	e.mustPulumi("up", "--yes", "--skip-preview", "--policy-pack", pack)
	out = e.warden(0, "baseline", "prune", "--stack", "acme/shop/prod", "--home", e.home)
	contains(t, out, "- aws-foundations/s3-bucket-no-public-acl", "pruned ")
	data, _ := os.ReadFile(baseline)
	if strings.Contains(string(data), "s3-bucket-no-public-acl") {
		t.Errorf("the fixed violation is still baselined:\n%s", data)
	}

	// 6. Staged: aws-foundations mandatory from 2030-01-01. A new bucket
	// passes before the date, saying when it will block, and blocks on it.
	e.rolloutHome("mandatory from 2030-01-01", "mandatory", "")
	e.program("resources:\n", "resources:\n"+extraBucket)
	out = e.mustPulumi("preview", "--policy-pack", pack)
	contains(t, out, "becomes mandatory on 2030-01-01")
	vars := e.vars
	e.vars = append(append([]string(nil), vars...), "WARDEN_NOW=2030-01-01")
	if out, code := e.pulumi("preview", "--policy-pack", pack); code == 0 {
		t.Errorf("the staged policy did not block on its date:\n%s", out)
	}
	e.vars = vars

	// 7. Shadow: a violation of a shadow policy is recorded, not shown.
	e.rolloutHome("mandatory from 2030-01-01", "mandatory", "        config:\n          no-doc-range-sources: shadow\n")
	e.program(`cidrBlocks: ["${ip.publicIp}/32"]`, `cidrBlocks: ["198.51.100.0/24"]`)
	out = e.mustPulumi("up", "--yes", "--skip-preview", "--policy-pack", pack)
	if strings.Contains(out, "no-doc-range-sources") || strings.Contains(out, "198.51.100.0") {
		t.Errorf("the shadow policy shows in pulumi's output:\n%s", out)
	}
	if f, ok := e.findings()["no-doc-range-sources web"]; !ok || f.Status != "open" {
		t.Errorf("the shadow policy's violation is not in the ledger: %+v", e.findings())
	}
}

// TestDirectoryFormRecords: the directory form runs the analyzer inside the
// language host's process; its runs reach the ledger as the executable
// form's do.
func TestDirectoryFormRecords(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "prod")
	e.rolloutHome("advisory", "advisory", "")
	out := e.mustPulumi("up", "--yes", "--skip-preview", "--policy-pack", forms[1].pack(e))
	contains(t, out, "s3-bucket-no-public-acl")
	runs := e.runs()
	if len(runs) != 1 || runs[0].Run.Kind != "update" || !runs[0].Run.Complete || runs[0].Stack != "acme/shop/prod" {
		t.Fatalf("runs after a directory-form update: %+v", runs)
	}
	if f, ok := e.findings()["s3-bucket-no-public-acl site"]; !ok || f.Status != "open" {
		t.Errorf("findings: %+v", e.findings())
	}
}

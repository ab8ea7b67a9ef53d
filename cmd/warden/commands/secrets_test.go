package commands

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// leakySecret holds every character an escaping rewrites: a quote, a
// backslash, a newline, a tab, U+2028 and the markup characters. Its
// fragments hunter and line2 appear nowhere else, so finding either in an
// output means the secret leaked, in whatever escaping.
const leakySecret = "hunter\"2\\x\nline2\t\u2028<&>'"

// leakyPack quotes its input in errors every way CEL and Warden's helpers
// can: cel-go's timestamp() and int(), semver.*, ports.covers, on the secret
// itself and on a value derived from it, plus a message interpolating it.
const leakyPack = `name: leaky
version: 0.1.0
description: Policies that fail on a secret value.
policies:
  - name: ts
    description: timestamp() quotes its argument.
    resourceTypes: [test:index:Thing]
    violation: timestamp(resource.props.token) < timestamp("2030-01-01T00:00:00Z")
  - name: derived
    description: a value derived from the secret, quoted.
    resourceTypes: [test:index:Thing]
    violation: timestamp("20" + resource.props.token.upperAscii()) < timestamp("2030-01-01T00:00:00Z")
  - name: to-int
    description: int() quotes its argument.
    resourceTypes: [test:index:Thing]
    violation: int(resource.props.token) > 0
  - name: compare
    description: semver.compare
    resourceTypes: [test:index:Thing]
    violation: semver.compare(resource.props.token, "1.0.0") > 0
  - name: satisfies
    description: semver.satisfies
    resourceTypes: [test:index:Thing]
    violation: semver.satisfies("1.0.0", resource.props.token)
  - name: covers
    description: ports.covers
    resourceTypes: [test:index:Thing]
    violation: ports.covers(resource.props.token, 22)
  - name: told
    description: a message that interpolates the secret
    resourceTypes: [test:index:Thing]
    violation: "true"
    message: "token {{ resource.props.token }} and {{ timestamp(resource.props.token) }}"
  - name: plain
    description: an error on a value that is not secret keeps its detail
    resourceTypes: [test:index:Thing]
    violation: timestamp(resource.props.when) < timestamp("2030-01-01T00:00:00Z")
`

// TestSecretsNeverShown: a secret whose plaintext any escaping rewrites
// does not appear, quoted, JSON-, XML- or otherwise escaped, in any output
// of analyze, audit or test.
func TestSecretsNeverShown(t *testing.T) {
	t.Setenv("WARDEN_HOME", "")
	dir := t.TempDir()
	pack := filepath.Join(dir, "leaky")
	writeFile(t, filepath.Join(pack, "pack.yaml"), leakyPack)

	token := map[string]any{"plaintext": mustJSON(t, leakySecret)}
	token["4dabf18193072939515e22adb298388d"] = "1b47061264138c4ac30d75fd1eb44270"
	props := map[string]any{"token": token, "when": "not a time"}
	export := map[string]any{
		"version": 3,
		"deployment": map[string]any{
			"manifest": map[string]any{"time": "2026-11-30T10:12:00Z", "version": "v3.274.1"},
			"resources": []any{
				map[string]any{"urn": "urn:pulumi:prod::shop::pulumi:pulumi:Stack::shop-prod", "custom": false, "type": "pulumi:pulumi:Stack"},
				map[string]any{"urn": "urn:pulumi:prod::shop::test:index:Thing::t", "custom": true, "type": "test:index:Thing",
					"inputs": props, "outputs": props, "id": "t-id"},
			},
		},
	}
	stack := filepath.Join(dir, "stack.json")
	writeFile(t, stack, mustJSON(t, export))

	// The same resource as a pack test case, its token written with !secret.
	writeFile(t, filepath.Join(pack, "tests", "leaky.yaml"), `apiVersion: warden/v1
kind: PackTest
cases:
  - name: a secret token
    resource:
      type: test:index:Thing
      name: t
      props: {when: not a time, token: !secret `+mustJSON(t, leakySecret)+`}
    # Wrong on purpose: a failed expectation prints what the policy gave.
    expect: {told: violation, ts: pass, covers: pass, plain: pass}
`)

	// The findings ledger records the analyses and audits, in SQLite and
	// in PostgreSQL: neither may hold the secret either.
	sqliteFile := filepath.Join(dir, "findings.db")
	sqlite, postgres := "sqlite:"+sqliteFile, pg.Database(t)
	runs := [][]string{ // stack and pack are temporary paths: named by position
		{"analyze", "--file", stack, "--pack", pack, "--store", sqlite},
		{"analyze", "--file", stack, "--pack", pack, "-o", "json", "--store", postgres},
		{"analyze", "--file", stack, "--pack", pack, "-o", "sarif"},
		{"analyze", "--file", stack, "--pack", pack, "-o", "junit"},
		{"audit", stack, "--pack", pack, "--store", sqlite},
		{"audit", stack, "--pack", pack, "-o", "json", "--store", postgres},
		{"test", pack},
		{"test", "-o", "json", pack},
		{"test", "-o", "junit", pack},
	}
	for _, args := range runs {
		name := strings.NewReplacer(stack, "stack.json", pack, "leaky", sqlite, "sqlite", postgres, "postgres").Replace(strings.Join(args, " "))
		t.Run(name, func(t *testing.T) {
			ios, out, errOut := TestStreams()
			code := Main(args, ios)
			all := out.String() + errOut.String()
			if code > ExitFindings {
				t.Fatalf("exit code %d:\n%s", code, all)
			}
			for _, fragment := range []string{"hunter", "line2", "HUNTER", "LINE2"} {
				if strings.Contains(all, fragment) {
					t.Errorf("output shows the secret (%q):\n%s", fragment, all)
				}
			}
			// The errors are still reported, and one on a value that is not
			// secret keeps its detail.
			if !strings.Contains(all, "withheld") {
				t.Errorf("no withheld error in output:\n%s", all)
			}
			if !strings.Contains(all, "not a time") {
				t.Errorf("the error on a plain value lost its detail:\n%s", all)
			}
		})
	}
	var stored []byte
	for _, f := range []string{sqliteFile, sqliteFile + "-wal"} {
		data, _ := os.ReadFile(f)
		stored = append(stored, data...)
	}
	dump := pg.Dump(t, postgres)
	for name, data := range map[string][]byte{"the SQLite ledger": stored, "a dump of the PostgreSQL ledger": dump} {
		if !strings.Contains(string(data), "withheld") {
			t.Errorf("%s does not hold the findings", name)
		}
		for _, fragment := range []string{"hunter", "line2", "HUNTER", "LINE2"} {
			if strings.Contains(string(data), fragment) {
				t.Errorf("%s holds the secret (%q)", name, fragment)
			}
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

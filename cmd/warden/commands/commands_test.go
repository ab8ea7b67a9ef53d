package commands

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

const (
	example    = "../../../testdata/stacks/example.json"
	testHome   = "testdata/home"
	backendDir = "testdata/backend"
)

// TestCLI runs the CLI as a user would, inside the process, checking exit
// codes, stdout against golden files, and stderr.
func TestCLI(t *testing.T) {
	t.Setenv("WARDEN_HOME", "") // the embedded default unless --home says otherwise
	broken := filepath.Join(t.TempDir(), "truncated.json")
	data, _ := os.ReadFile(example)
	if err := os.WriteFile(broken, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	notExport := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(notExport, []byte(`{"hello": "world"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		golden string // stdout golden file, if any
		stderr string // substring of stderr
	}{
		{name: "analyze human", args: []string{"analyze", "--file", example}, code: ExitFindings, golden: "analyze.human",
			stderr: "2 secret values are encrypted"},
		{name: "analyze json", args: []string{"analyze", "--file", example, "-o", "json"}, code: ExitFindings, golden: "analyze.json"},
		{name: "analyze sarif", args: []string{"analyze", "--file", example, "-o", "sarif"}, code: ExitFindings, golden: "analyze.sarif"},
		{name: "analyze junit", args: []string{"analyze", "--file", example, "-o", "junit"}, code: ExitFindings, golden: "analyze.junit"},
		{name: "analyze with a home: groups and exceptions", args: []string{"analyze", "--file", example, "--home", testHome}, code: ExitFindings, golden: "analyze.home"},
		{name: "analyze as a dev stack: advisory only", args: []string{"analyze", "--file", example, "--home", testHome, "--stack", "acme/shop/dev"}, code: ExitOK},
		{name: "analyze with a tag rule", args: []string{"analyze", "--file", example, "--home", testHome, "--stack", "acme/shop/qa", "--tag", "tier=critical"}, code: ExitFindings},
		{name: "analyze clean with exactly one pack", args: []string{"analyze", "--file", example, "--pack", "testdata/packs/clean"}, code: ExitOK},
		{name: "unknown output", args: []string{"analyze", "--file", example, "-o", "xml"}, code: ExitInput, stderr: `unknown --output "xml": want one of human, json, sarif, junit`},
		{name: "missing file flag", args: []string{"analyze"}, code: ExitInput, stderr: "--file is required"},
		{name: "no such file", args: []string{"analyze", "--file", "nope.json"}, code: ExitInput, stderr: "no such file"},
		{name: "truncated export", args: []string{"analyze", "--file", broken}, code: ExitInput, stderr: "truncated"},
		{name: "stray argument", args: []string{"groups", "list", "extra"}, code: ExitInput, stderr: `unknown command "extra"`},
		{name: "not an export", args: []string{"analyze", "--file", notExport}, code: ExitInput, stderr: "not a stack export"},
		{name: "home without warden.yaml", args: []string{"analyze", "--file", example, "--home", "testdata/packs"}, code: ExitInput, stderr: "has no warden.yaml"},
		{name: "bad stack", args: []string{"analyze", "--file", example, "--stack", "prod"}, code: ExitInput, stderr: "want org/project/stack"},
		{name: "bad flag", args: []string{"analyze", "--nope"}, code: ExitInput, stderr: "unknown flag: --nope"},
		{name: "audit a backend folder", args: []string{"audit", "--home", testHome}, code: ExitFindings, golden: "audit.human", stderr: "audited 2 stacks"},
		{name: "audit json", args: []string{"audit", "file://" + backendDir, "-o", "json"}, code: ExitFindings, golden: "audit.json"},
		{name: "audit a file that is not there", args: []string{"audit", "missing.json"}, code: ExitInput, stderr: "no such file"},
		{name: "audit an http source", args: []string{"audit", "https://example.com/state"}, code: ExitInput, stderr: "only stack export files and backend URLs"},
		{name: "groups list", args: []string{"groups", "list", "--home", testHome}, code: ExitOK, golden: "groups.list"},
		{name: "groups list json", args: []string{"groups", "list", "--home", testHome, "-o", "json"}, code: ExitOK, golden: "groups.list.json"},
		{name: "groups resolve", args: []string{"groups", "resolve", "--home", testHome, "--stack", "acme/shop/prod"}, code: ExitOK, golden: "groups.resolve"},
		{name: "groups resolve json", args: []string{"groups", "resolve", "--home", testHome, "--stack", "acme/shop/staging", "--tag", "tier=critical", "-o", "json"}, code: ExitOK, golden: "groups.resolve.json"},
		{name: "groups resolve needs a stack", args: []string{"groups", "resolve"}, code: ExitInput, stderr: "--stack is required"},
		{name: "packs list", args: []string{"packs", "list", "--home", testHome}, code: ExitOK, golden: "packs.list"},
		{name: "packs list json", args: []string{"packs", "list", "--home", testHome, "-o", "json"}, code: ExitOK, golden: "packs.list.json"},
		{name: "packs list available", args: []string{"packs", "list", "--view", "available"}, code: ExitOK, golden: "packs.list.available"},
		{name: "packs list available json", args: []string{"packs", "list", "--view", "available", "-o", "json"}, code: ExitOK, golden: "packs.list.available.json"},
		{name: "packs show", args: []string{"packs", "show", "kubernetes-baseline"}, code: ExitOK, golden: "packs.show"},
		{name: "packs show json", args: []string{"packs", "show", "kubernetes-baseline", "-o", "json"}, code: ExitOK, golden: "packs.show.json"},
		{name: "packs show unknown", args: []string{"packs", "show", "nope"}, code: ExitInput, stderr: "no pack nope"},
		{name: "packs show framework", args: []string{"packs", "show", "cis-eks-1.4"}, code: ExitOK, golden: "packs.show.framework"},
		{name: "test passing pack", args: []string{"test", "../../../packs/builtin/kubernetes-baseline"}, code: ExitOK, golden: "test.pass"},
		{name: "test failing pack", args: []string{"test", "--coverage", "testdata/packs/failing"}, code: ExitFindings, golden: "test.fail"},
		{name: "test json", args: []string{"test", "-o", "json", "testdata/packs/failing"}, code: ExitFindings, golden: "test.json"},
		{name: "test junit", args: []string{"test", "-o", "junit", "testdata/packs/failing"}, code: ExitFindings, golden: "test.junit"},
		{name: "test coverage below the minimum", args: []string{"test", "--min-coverage", "100", "testdata/packs/clean"}, code: ExitFindings},
		{name: "test pack with bad config", args: []string{"test", "testdata/packs/badconfig"}, code: ExitInput,
			stderr: `testdata/packs/badconfig/tests/t.yaml:4:3: validating policy config: badconfig 0.1.0  owner-tag: enforcement level "blocking"`},
		{name: "validate broken pack", args: []string{"validate", "../../../packs/engine/testdata/errors/cel"}, code: ExitInput,
			stderr: "cel-errors/undeclared: violation: undeclared reference to 'resouce'"},
		{name: "validate a broken home", args: []string{"validate", "../../../packs/home/testdata/errors"}, code: ExitInput,
			stderr: "testdata/errors/warden.yaml:2:1: unknown field \"grups\""},
		{name: "validate a home", args: []string{"validate", testHome}, code: ExitOK, golden: "validate.home"},
		{name: "version", args: []string{"version"}, code: ExitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ios, out, errOut := TestStreams()
			code := Main(tc.args, ios)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			if tc.golden != "" {
				golden(t, tc.golden, out.String())
			}
			if tc.stderr != "" && !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stderr %q does not contain %q", errOut, tc.stderr)
			}
			if strings.Contains(errOut.String(), "goroutine ") || strings.Contains(errOut.String(), "panic") {
				t.Errorf("stack trace on stderr: %s", errOut)
			}
		})
	}
}

// TestSARIFSchema validates the SARIF output against the SARIF 2.1.0 JSON
// schema (testdata/sarif-2.1.0-rtm.5.json, from the schemastore copy that
// Microsoft's SARIF tools ship).
func TestSARIFSchema(t *testing.T) {
	t.Setenv("WARDEN_HOME", "")
	ios, out, _ := TestStreams()
	if code := Main([]string{"analyze", "--file", example, "--home", testHome, "-o", "sarif"}, ios); code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	f, err := os.Open("../../../internal/report/testdata/sarif-2.1.0-rtm.5.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Errorf("SARIF output does not validate: %v", err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				Suppressions []any `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &log); err != nil || len(log.Runs[0].Results) == 0 {
		t.Fatalf("results: %v", err)
	}
	suppressed := 0
	for _, r := range log.Runs[0].Results {
		suppressed += len(r.Suppressions)
	}
	if suppressed != 1 {
		t.Errorf("%d suppressed results, want the one exception", suppressed)
	}
}

// TestJUnitParses reads the JUnit output back as JUnit XML.
func TestJUnitParses(t *testing.T) {
	t.Setenv("WARDEN_HOME", "")
	for _, args := range [][]string{
		{"analyze", "--file", example, "-o", "junit"},
		{"audit", "file://" + backendDir, "-o", "junit"},
		{"test", "-o", "junit", "testdata/packs/failing", "../../../packs/builtin/aws-foundations"},
	} {
		ios, out, _ := TestStreams()
		Main(args, ios)
		var doc struct {
			XMLName  xml.Name `xml:"testsuites"`
			Tests    int      `xml:"tests,attr"`
			Failures int      `xml:"failures,attr"`
			Suites   []struct {
				Name  string `xml:"name,attr"`
				Tests int    `xml:"tests,attr"`
				Cases []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
					} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("%v: not XML: %v\n%s", args, err, out)
		}
		cases, failures := 0, 0
		for _, s := range doc.Suites {
			cases += len(s.Cases)
			for _, c := range s.Cases {
				if c.Failure != nil {
					failures++
				}
			}
		}
		if cases == 0 || cases != doc.Tests || failures != doc.Failures || failures == 0 {
			t.Errorf("%v: %d cases (%d declared), %d failures (%d declared)", args, cases, doc.Tests, failures, doc.Failures)
		}
	}
}

// TestInitTestValidate walks a new home through init, test and validate.
func TestInitTestValidate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "policy")
	ios, out, errOut := TestStreams()
	cmd := newCmdInit(ios, nil)
	cmd.SetArgs([]string{dir})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("init: %v\n%s", err, errOut)
	}
	if !strings.Contains(out.String(), "pulumi preview --policy-pack "+dir) {
		t.Errorf("init does not print the preview line:\n%s", out)
	}
	if ignore, _ := os.ReadFile(filepath.Join(dir, ".gitignore")); !strings.Contains(string(ignore), "\n.warden.lock\n") {
		t.Errorf("init's .gitignore does not list the edit lock:\n%s", ignore)
	}
	for _, args := range [][]string{
		{"test", "--min-coverage", "100", filepath.Join(dir, "packs", "example")},
		{"validate", dir},
		{"groups", "resolve", "--home", dir, "--stack", "organization/shop/prod"},
	} {
		ios, out, errOut := TestStreams()
		if code := Main(args, ios); code != ExitOK {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	ios, _, errOut = TestStreams()
	if code := Main([]string{"init", dir}, ios); code != ExitInput || !strings.Contains(errOut.String(), "already has a warden.yaml") {
		t.Errorf("a second init: exit %d: %s", code, errOut)
	}
}

// TestInitKeepsGitignore: init into a folder with a .gitignore adds the
// edit lock and the local findings ledger to it, once, keeping what was
// there.
func TestInitKeepsGitignore(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, ".gitignore")
	if err := os.WriteFile(file, []byte("node_modules"), 0o644); err != nil {
		t.Fatal(err)
	}
	ios, _, errOut := TestStreams()
	if code := Main([]string{"init", dir}, ios); code != ExitOK {
		t.Fatalf("init: %s", errOut)
	}
	if err := ignoreLocalFiles(dir); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	if want := "node_modules\n# warden's edit lock: it holds nothing\n.warden.lock\n" +
		"# warden's findings ledger (findings.db) and its spool: local state, not policy\n.warden/\n"; string(got) != want {
		t.Errorf(".gitignore is %q, want %q", got, want)
	}
}

func TestPacksNew(t *testing.T) {
	dir := t.TempDir()
	ios, _, errOut := TestStreams()
	if code := Main([]string{"packs", "new", "acme-rules", "--dir", dir}, ios); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ios, out, _ := TestStreams()
	if code := Main([]string{"test", "--min-coverage", "100", filepath.Join(dir, "acme-rules")}, ios); code != ExitOK {
		t.Errorf("the new pack's tests: exit %d\n%s", code, out)
	}
	ios, _, errOut = TestStreams()
	if code := Main([]string{"packs", "new", "bad name"}, ios); code != ExitInput {
		t.Errorf("bad name: exit %d %s", code, errOut)
	}
}

// TestAnalyzeParsing checks flag parsing alone, through the run function.
func TestAnalyzeParsing(t *testing.T) {
	ios, _, _ := TestStreams()
	var got *analyzeOptions
	cmd := newCmdAnalyze(ios, func(_ context.Context, o *analyzeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--file", "s.json", "--pack", "a", "--pack", "b", "--home", "h", "--stack", "o/p/s", "--tag", "k=v", "-o", "sarif"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.File != "s.json" || len(got.Packs) != 2 || got.Home != "h" || got.Stack != "o/p/s" || got.Tags[0] != "k=v" || got.Output != "sarif" {
		t.Errorf("parsed %+v", got)
	}
}

func TestCompletion(t *testing.T) {
	ios, out, _ := TestStreams()
	if code := Main([]string{"completion", "bash"}, ios); code != ExitOK || !strings.Contains(out.String(), "warden") {
		t.Errorf("completion: exit %d", code)
	}
}

// TestParsing checks each command's flags alone, through its run function.
func TestParsing(t *testing.T) {
	ios, _, _ := TestStreams()
	t.Run("audit", func(t *testing.T) {
		var got *auditOptions
		cmd := newCmdAudit(ios, func(_ context.Context, o *auditOptions) error { got = o; return nil })
		cmd.SetArgs([]string{"--home", "h", "-o", "junit", "a.json", "file://b"})
		if err := cmd.Execute(); err != nil || got.Home != "h" || got.Output != "junit" || len(got.Sources) != 2 {
			t.Errorf("%v %+v", err, got)
		}
	})
	t.Run("test", func(t *testing.T) {
		var got *testOptions
		cmd := newCmdTest(ios, func(_ context.Context, o *testOptions) error { got = o; return nil })
		cmd.SetArgs([]string{"--coverage", "--min-coverage", "90", "-v", "-o", "json", "p1", "p2"})
		if err := cmd.Execute(); err != nil || !got.Coverage || got.MinCoverage != 90 || !got.Verbose || got.Output != "json" || len(got.Dirs) != 2 {
			t.Errorf("%v %+v", err, got)
		}
		cmd = newCmdTest(ios, func(context.Context, *testOptions) error { return nil })
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		cmd.SetArgs([]string{"--min-coverage", "120"})
		if err := cmd.Execute(); err == nil {
			t.Error("a coverage above 100% parsed")
		}
		cmd = newCmdTest(ios, func(context.Context, *testOptions) error { return nil })
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		cmd.SetArgs([]string{"-o", "sarif"})
		if err := cmd.Execute(); err == nil {
			t.Error("sarif is not a test output")
		}
	})
	t.Run("groups resolve", func(t *testing.T) {
		var got *groupsResolveOptions
		cmd := newCmdGroupsResolve(ios, func(_ context.Context, o *groupsResolveOptions) error { got = o; return nil })
		cmd.SetArgs([]string{"--stack", "o/p/s", "--tag", "a=b", "--tag", "c=d", "--mode", "audit"})
		if err := cmd.Execute(); err != nil || got.Stack != "o/p/s" || len(got.Tags) != 2 || got.Mode != "audit" {
			t.Errorf("%v %+v", err, got)
		}
		cmd = newCmdGroupsResolve(ios, func(context.Context, *groupsResolveOptions) error { return nil })
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		cmd.SetArgs([]string{"--stack", "o/p/s", "--mode", "sometimes"})
		if err := cmd.Execute(); err == nil {
			t.Error("a bad mode parsed")
		}
	})
	t.Run("validate and init default to the current directory", func(t *testing.T) {
		var v *validateOptions
		cmd := newCmdValidate(ios, func(_ context.Context, o *validateOptions) error { v = o; return nil })
		cmd.SetArgs(nil)
		if err := cmd.Execute(); err != nil || len(v.Dirs) != 1 || v.Dirs[0] != "." {
			t.Errorf("%v %+v", err, v)
		}
		var i *initOptions
		icmd := newCmdInit(ios, func(_ context.Context, o *initOptions) error { i = o; return nil })
		icmd.SetArgs([]string{"--org", "acme"})
		if err := icmd.Execute(); err != nil || i.Dir != "." || i.Org != "acme" {
			t.Errorf("%v %+v", err, i)
		}
	})
}

package commands

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
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

const example = "../../../testdata/stacks/example.json"

// TestMain runs the CLI as a user would, end to end inside the process.
func TestCLI(t *testing.T) {
	t.Parallel()
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
		name     string
		args     []string
		code     int
		golden   string // stdout golden file, if any
		stderr   string // substring of stderr
		notInAny string // must appear in neither stream
	}{
		{name: "analyze human", args: []string{"analyze", "--file", example}, code: ExitFindings, golden: "analyze.human.golden",
			stderr: "2 secret values are encrypted"},
		{name: "analyze json", args: []string{"analyze", "--file", example, "-o", "json"}, code: ExitFindings, golden: "analyze.json.golden"},
		{name: "analyze clean with no built-ins", args: []string{"analyze", "--file", example, "--no-builtin", "--pack", "testdata/packs/clean"}, code: ExitOK},
		{name: "unknown output", args: []string{"analyze", "--file", example, "-o", "xml"}, code: ExitInput, stderr: `unknown --output "xml"`},
		{name: "missing file flag", args: []string{"analyze"}, code: ExitInput, stderr: "--file is required"},
		{name: "no such file", args: []string{"analyze", "--file", "nope.json"}, code: ExitInput, stderr: "no such file"},
		{name: "truncated export", args: []string{"analyze", "--file", broken}, code: ExitInput, stderr: "truncated"},
		{name: "not an export", args: []string{"analyze", "--file", notExport}, code: ExitInput, stderr: "not a stack export"},
		{name: "bad flag", args: []string{"analyze", "--nope"}, code: ExitInput, stderr: "unknown flag: --nope"},
		{name: "test passing pack", args: []string{"test", "../../../packs/builtin/aws-foundations"}, code: ExitOK, golden: "test.pass.golden"},
		{name: "test failing pack", args: []string{"test", "--coverage", "testdata/packs/failing"}, code: ExitFindings, golden: "test.fail.golden"},
		{name: "validate broken pack", args: []string{"validate", "../../../packs/engine/testdata/errors/cel"}, code: ExitInput, stderr: "cel-errors/undeclared: violation: undeclared reference to 'resouce'"},
		{name: "test pack with bad config", args: []string{"test", "testdata/packs/badconfig"}, code: ExitInput,
			stderr: `testdata/packs/badconfig/tests/t.yaml:4:3: validating policy config: badconfig 0.1.0  owner-tag: enforcement level "blocking"`},
		{name: "validate good pack", args: []string{"validate", "testdata/packs/clean"}, code: ExitOK},
		{name: "version", args: []string{"version"}, code: ExitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
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

// TestAnalyzeParsing checks flag parsing alone, through the run function.
func TestAnalyzeParsing(t *testing.T) {
	t.Parallel()
	ios, _, _ := TestStreams()
	var got *analyzeOptions
	cmd := newCmdAnalyze(ios, func(_ context.Context, o *analyzeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--file", "s.json", "--pack", "a", "--pack", "b", "--no-builtin", "-o", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.File != "s.json" || len(got.Packs) != 2 || !got.NoBuiltin || got.Output != "json" {
		t.Errorf("parsed %+v", got)
	}
}

package analyzer

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRunWarnsUngoverned: a home that governs no stack loads (it is valid)
// but the plugin says so at warn level on stderr, which Pulumi shows in the
// preview; stdout still carries the port line alone.
func TestRunWarnsUngoverned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := "organization: acme\ngroups:\n  - {name: orphan, packs: [aws-foundations]}\n"
	if err := os.WriteFile(filepath.Join(dir, "warden.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr strings.Builder
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, Process{
			Args: []string{"pulumi-analyzer-warden", "--home", dir, "127.0.0.1:1"}, Stdout: pw, Stderr: &stderr,
			Getenv: func(string) string { return "" }, Version: "0.1.0",
		})
		pw.Close()
	}()
	r := bufio.NewReader(pr)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if port, err := strconv.Atoi(strings.TrimSuffix(line, "\n")); err != nil || port <= 0 {
		t.Fatalf("first stdout line %q is not a port", line)
	}
	cancel()
	if rest, _ := io.ReadAll(r); len(rest) > 0 {
		t.Errorf("more on stdout after the port: %q", rest)
	}
	if c := <-code; c != 0 {
		t.Errorf("exit code %d", c)
	}
	if got := stderr.String(); !strings.Contains(got, "[WARN]") || !strings.Contains(got, "no preventative group selects a stack") {
		t.Errorf("stderr lacks the warning: %q", got)
	}
}

//go:build e2e

package e2e

import (
	"path/filepath"
	"testing"

	"github.com/warden-policy/warden/internal/bench"
)

// TestBenchProgram keeps the real-CLI benchmark (make bench-cli) working:
// its program deploys on the stand-in provider, an update with the whole
// built-in catalog as the policy pack completes (no mandatory policy
// fails, so AnalyzeStack runs), as the benchmark's timings assume, and the
// analyzer says how long recording the run took, which it reports.
func TestBenchProgram(t *testing.T) {
	t.Parallel()
	c, err := bench.NewCLI(tools.dir, filepath.Join(tools.bin, "fakeaws"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	project, err := c.Project(30)
	if err != nil {
		t.Fatal(err)
	}
	pack := filepath.Join(tools.bin, "pulumi-analyzer-warden")
	for _, cmd := range [][]string{{"preview"}, {"up", "--yes", "--skip-preview"}} {
		_, out, err := c.Time(project, pack, []string{"WARDEN_LOG_LEVEL=debug"}, cmd...)
		if err != nil {
			t.Errorf("%s with the built-in catalog: %v", cmd[0], err)
		}
		if _, ok := bench.Recorded(out); !ok {
			t.Errorf("%s: the analyzer did not say how long recording took:\n%s", cmd[0], out)
		}
	}
}

//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs testdata/script/*.txtar against the built warden binary
// and the real pulumi CLI, as a user types the commands.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", tools.bin+string(os.PathListSeparator)+tools.dir+string(os.PathListSeparator)+"/usr/bin:/bin")
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("WARDEN_HOME", "")
			env.Setenv("PULUMI_BACKEND_URL", "file://"+filepath.Join(env.WorkDir, "backend"))
			for _, kv := range baseEnv(tools.pulumiHome) {
				k, v, _ := cut(kv)
				if k != "PATH" && k != "HOME" {
					env.Setenv(k, v)
				}
			}
			return os.MkdirAll(filepath.Join(env.WorkDir, "backend"), 0o755)
		},
	})
}

func cut(kv string) (string, string, bool) {
	for i := range kv {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

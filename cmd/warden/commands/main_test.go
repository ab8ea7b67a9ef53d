package commands

import (
	"fmt"
	"os"
	"testing"

	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/internal/pgtest"
	"github.com/warden-policy/warden/internal/s3test"
)

// envAsCLI makes the test binary act as the warden CLI: tests that need
// real processes (concurrent edits racing for the home's lock) re-run it
// with this variable set and warden's arguments.
const envAsCLI = "WARDEN_TEST_AS_CLI"

// pg is a throwaway PostgreSQL server for the tests of the findings
// ledger's commands.
var pg *pgtest.Server

func TestMain(m *testing.M) {
	if os.Getenv(envAsCLI) == "1" {
		os.Exit(Main(os.Args[1:], System()))
	}
	// The findings ledger is off unless a test names a store (--store):
	// commands run on the testdata homes must not write into them. The
	// spool goes to a temporary state directory.
	state, err := os.MkdirTemp("", "warden-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv(ledger.EnvStore, "off")
	s3test.Credentials()
	os.Setenv("XDG_STATE_HOME", state)
	pg, err = pgtest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting PostgreSQL for the ledger tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	pg.Stop()
	os.RemoveAll(state)
	os.Exit(code)
}

package commands

import (
	"os"
	"testing"
)

// envAsCLI makes the test binary act as the warden CLI: tests that need
// real processes (concurrent edits racing for the home's lock) re-run it
// with this variable set and warden's arguments.
const envAsCLI = "WARDEN_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(envAsCLI) == "1" {
		os.Exit(Main(os.Args[1:], System()))
	}
	os.Exit(m.Run())
}

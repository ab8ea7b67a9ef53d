package home

import (
	"fmt"
	"os"
)

// EnvHome names the policy home for every door into Warden: the plugin,
// the CLI, and later the ledger and the console.
const EnvHome = "WARDEN_HOME"

// Find is the directory of the policy home a command uses: flag (--home,
// or the plugin's pack directory), else $WARDEN_HOME, else fallback. The
// fallback is where each door looks when no home is named: "" (the
// embedded default) for commands that read, "." for the commands that edit
// a home's files, the binary's directory for the plugin.
func Find(flag string, getenv func(string) string, fallback string) string {
	if flag != "" {
		return flag
	}
	if d := getenv(EnvHome); d != "" {
		return d
	}
	return fallback
}

// NotHomeError says that a directory named as a policy home is not one.
type NotHomeError struct{ Dir, Why string }

func (e *NotHomeError) Error() string { return e.Dir + " " + e.Why }

// Open loads the home in dir, or the embedded default when dir is "". A
// dir that is not a directory holding warden.yaml is a NotHomeError: a
// home that was named is never silently replaced by the default.
func Open(dir string) (*Home, error) {
	if dir == "" {
		return Default()
	}
	if err := Check(dir); err != nil {
		return nil, err
	}
	return Load(dir)
}

// Check reports, as a NotHomeError, why dir is not a policy home.
func Check(dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return &NotHomeError{Dir: dir, Why: "is not a directory: it cannot be a policy home"}
	}
	if !Exists(dir) {
		return &NotHomeError{Dir: dir, Why: fmt.Sprintf("has no %s: it is not a policy home (warden init %s creates one)", File, dir)}
	}
	return nil
}

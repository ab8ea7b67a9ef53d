package commands

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/warden-policy/warden/internal/report"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
)

// checkOutput accepts one of formats; anything else is a usage error, never
// a silent fallback.
func checkOutput(o string, formats ...report.Format) error {
	if !slices.Contains(formats, report.Format(o)) {
		names := make([]string, len(formats))
		for i, f := range formats {
			names[i] = string(f)
		}
		return &FlagError{Err: fmt.Errorf("unknown --output %q: want one of %s", o, strings.Join(names, ", "))}
	}
	return nil
}

// loadHome loads the policy home a reading command uses: --home, else
// WARDEN_HOME, else the embedded default (the built-in packs). packDirs,
// when given, replace the home with exactly those packs.
func loadHome(dir string, packDirs []string) (*home.Home, error) {
	if len(packDirs) > 0 {
		var packs []*engine.Pack
		for _, d := range packDirs {
			p, err := engine.Load(d)
			if err != nil {
				return nil, err
			}
			packs = append(packs, p)
		}
		return home.FromPacks(packs, strings.Join(packDirs, ", ")), nil
	}
	return home.Open(home.Find(dir, os.Getenv, ""))
}

// homeDir is the policy home an editing command changes: --home, else
// WARDEN_HOME, else the current directory, which must be a home.
func homeDir(flag string) (string, error) {
	dir := home.Find(flag, os.Getenv, ".")
	return dir, home.Check(dir)
}

// warnUngoverned prints, to stderr so that -o json stays clean, one of
// (*home.Home).Ungoverned's warnings: the home is valid but lets every
// deployment through unchecked, which nobody should learn from a silent
// "0 policies".
func warnUngoverned(ios *IOStreams, w string) {
	fmt.Fprintf(ios.ErrOut, "warning: %s\n", w)
}

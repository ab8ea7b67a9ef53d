package commands

import (
	"fmt"
	"slices"
	"strings"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
)

// outputFormats are the values --output takes; anything else is a usage
// error, never a silent fallback.
var outputFormats = []string{"human", "json"}

func checkOutput(o string) error {
	if !slices.Contains(outputFormats, o) {
		return &FlagError{Err: fmt.Errorf("unknown --output %q: want one of %s", o, strings.Join(outputFormats, ", "))}
	}
	return nil
}

// loadPacks returns the built-in packs (unless noBuiltin) and the packs in
// dirs. A pack that does not load fails the whole command: never analyze
// with part of the policies.
func loadPacks(dirs []string, noBuiltin bool) ([]*engine.Pack, error) {
	var out []*engine.Pack
	if !noBuiltin {
		b, err := builtin.Packs()
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	for _, d := range dirs {
		p, err := engine.Load(d)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	seen := map[string]bool{}
	for _, p := range out {
		if seen[p.Name] {
			return nil, &InputError{Err: fmt.Errorf("pack %s is loaded twice", p.Name)}
		}
		seen[p.Name] = true
	}
	if len(out) == 0 {
		return nil, &FlagError{Err: fmt.Errorf("no packs to run: give --pack or drop --no-builtin")}
	}
	return out, nil
}

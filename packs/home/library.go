package home

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/Masterminds/semver/v3"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
)

// Available is one version of a pack a home can use: built in, or
// published in the home's packs folder.
type Available struct {
	Pack   *engine.Pack
	Source string // "built-in" or the version's directory
}

// Packs lists every pack version available to the home in dir (the
// built-in catalog alone when dir is ""), by name, newest version first:
// versions compare as semver, so 1.10.0 is newer than 1.9.0.
func Packs(dir string) ([]Available, error) {
	names := append(builtin.Names(), builtin.Frameworks()...)
	if dir != "" {
		entries, err := os.ReadDir(filepath.Join(dir, PacksDir))
		if err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("reading the packs of %s: %w", dir, err)
		}
		for _, e := range entries {
			if e.IsDir() && !slices.Contains(names, e.Name()) {
				names = append(names, e.Name())
			}
		}
	}
	slices.Sort(names)
	l := newLibrary(dir)
	var out []Available
	for _, name := range names {
		cands, errs := l.candidates(name)
		if len(errs) > 0 {
			return nil, errs
		}
		for _, c := range cands {
			out = append(out, Available{Pack: c.pack, Source: c.source})
		}
	}
	return out, nil
}

// ErrNoPack is FindPack's answer when no version of the pack matches.
var ErrNoPack = errors.New("no such pack")

// FindPack is the newest version of pack name available to the home in dir
// that matches version: "" for the newest, an exact version, or a semver
// range, as in a group's pack entry.
func FindPack(dir, name, version string) (Available, error) {
	var c *semver.Constraints
	if version != "" {
		var err error
		if c, err = semver.NewConstraint(version); err != nil {
			return Available{}, fmt.Errorf("pack %s@%s: %q is not a version or a semver range", name, version, version)
		}
	}
	cands, errs := newLibrary(dir).candidates(name)
	if len(errs) > 0 {
		return Available{}, errs
	}
	for _, cand := range cands { // newest first
		if c == nil || c.Check(cand.version) {
			return Available{Pack: cand.pack, Source: cand.source}, nil
		}
	}
	return Available{}, ErrNoPack
}

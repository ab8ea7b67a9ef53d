package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/lockedfile"

	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/packs/home"
)

// EnvStore names the findings store, overriding the home's: a store URL,
// or "off" to record nothing.
const EnvStore = "WARDEN_FINDINGS"

// Locate is the URL of the store a home records into, "" when recording is
// off: $WARDEN_FINDINGS, else the home's findings.store (a relative sqlite
// path is against the home), else sqlite:<home>/.warden/findings.db, else
// (the embedded default home) sqlite:$XDG_STATE_HOME/warden/findings.db
// (~/.local/state/warden/findings.db).
func Locate(h *home.Home, getenv func(string) string) string {
	if v := getenv(EnvStore); v != "" {
		if v == "off" {
			return ""
		}
		return v
	}
	if s := h.FindingsStore; s != "" {
		if p, ok := strings.CutPrefix(s, "sqlite:"); ok && !filepath.IsAbs(p) && h.Dir != "" {
			return "sqlite:" + filepath.Join(h.Dir, p)
		}
		return s
	}
	if h.Dir != "" {
		return "sqlite:" + filepath.Join(h.Dir, home.StateDir, "findings.db")
	}
	return "sqlite:" + filepath.Join(StateHome(getenv), "warden", "findings.db")
}

// StateHome is the user's state directory: $XDG_STATE_HOME, else
// ~/.local/state.
func StateHome(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state")
	}
	return filepath.Join(os.TempDir(), "warden-state")
}

// Spool is where runs wait for a store that could not be reached: one
// JSON file per run, in a folder of its own per store (named by a hash of
// the store's URL, which may hold a password and is not written). Every
// command that reaches the store records and removes them (Drain), so
// nothing a deployment found is lost.
type Spool struct{ Dir string }

// SpoolFor is the spool of a store.
func SpoolFor(storeURL string, getenv func(string) string) Spool {
	sum := sha256.Sum256([]byte(storeURL))
	return Spool{Dir: filepath.Join(StateHome(getenv), "warden", "spool", hex.EncodeToString(sum[:8]))}
}

// Put writes a run to the spool, atomically: a reader sees all of it or
// none.
func (sp Spool) Put(r *Run) (string, error) {
	if err := os.MkdirAll(sp.Dir, 0o700); err != nil {
		return "", fmt.Errorf("spooling run %s: %w", r.ID, err)
	}
	data, err := encodeSpooled(r)
	if err != nil {
		return "", fmt.Errorf("spooling run %s: %w", r.ID, err)
	}
	file := filepath.Join(sp.Dir, r.ID+".json")
	tmp, err := os.CreateTemp(sp.Dir, ".run-*")
	if err != nil {
		return "", fmt.Errorf("spooling run %s: %w", r.ID, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("spooling run %s: %w", r.ID, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("spooling run %s: %w", r.ID, err)
	}
	tmp.Close()
	if err := os.Rename(tmp.Name(), file); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("spooling run %s: %w", r.ID, err)
	}
	return file, nil
}

// spooled is a Run as the spool keeps it: every field, findings included.
type spooled struct {
	ID           string             `json:"id"`
	Organization string             `json:"organization"`
	Project      string             `json:"project"`
	Stack        string             `json:"stack"`
	Kind         Kind               `json:"kind"`
	Started      time.Time          `json:"started"`
	Finished     time.Time          `json:"finished"`
	Version      string             `json:"version"`
	Packs        []string           `json:"packs"`
	Groups       []string           `json:"groups"`
	Source       string             `json:"source,omitempty"`
	Complete     bool               `json:"complete"`
	Blocked      bool               `json:"blocked"`
	Ran          []string           `json:"ran"`
	Analyzed     []string           `json:"analyzed"`
	Resources    int                `json:"resources"`
	Findings     []findings.Finding `json:"findings"`
}

func encodeSpooled(r *Run) ([]byte, error) {
	return json.Marshal(spooled{
		ID: r.ID, Organization: r.Organization, Project: r.Project, Stack: r.Stack, Kind: r.Kind, Started: r.Started, Finished: r.Finished,
		Version: r.Version, Packs: r.Packs, Groups: r.Groups, Source: r.Source, Complete: r.Complete, Blocked: r.Blocked,
		Ran: r.Ran, Analyzed: r.Analyzed, Resources: r.Resources, Findings: r.Findings,
	})
}

func decodeSpooled(data []byte) (*Run, error) {
	var s spooled
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if s.ID == "" || !slices.Contains(Kinds, s.Kind) {
		return nil, errors.New("no run ID or kind")
	}
	return &Run{
		ID: s.ID, Organization: s.Organization, Project: s.Project, Stack: s.Stack, Kind: s.Kind, Started: s.Started, Finished: s.Finished,
		Version: s.Version, Packs: s.Packs, Groups: s.Groups, Source: s.Source, Complete: s.Complete, Blocked: s.Blocked,
		Ran: s.Ran, Analyzed: s.Analyzed, Resources: s.Resources, Findings: s.Findings,
	}, nil
}

// Drain records every spooled run into s, oldest first, removing each once
// it is recorded (recording a run twice is harmless: runs are keyed by ID).
// A file that does not read as a run is left, and reported.
func (sp Spool) Drain(ctx context.Context, s *Store) (int, error) {
	files, _ := filepath.Glob(filepath.Join(sp.Dir, "*.json"))
	sort.Strings(files) // run IDs start with their time
	n := 0
	var errs []error
	for _, f := range files {
		err := func() error {
			// One drainer per file: two commands starting at once must not
			// both record it and race to remove it.
			unlock, err := lockedfile.MutexAt(f + ".lock").Lock()
			if err != nil {
				return err
			}
			defer unlock()
			data, err := os.ReadFile(f)
			if errors.Is(err, os.ErrNotExist) {
				return nil // the other drainer had it
			}
			if err != nil {
				return err
			}
			r, err := decodeSpooled(data)
			if err != nil {
				return fmt.Errorf("%s: not a spooled run: %w", f, err)
			}
			if err := s.Record(ctx, r); err != nil {
				return err
			}
			n++
			return os.Remove(f)
		}()
		os.Remove(f + ".lock")
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

package ledger

import (
	"context"
	"fmt"
)

// Save records a run without ever failing its caller: the run goes to the
// spool first (so a process killed next loses nothing), then into the
// store, with every run spooled earlier. It returns a warning to show the
// user, "" when all went well: the ledger never decides a deployment or a
// command's outcome.
func Save(ctx context.Context, storeURL string, getenv func(string) string, r *Run) (warning string) {
	sp := SpoolFor(storeURL, getenv)
	file, perr := sp.Put(r)
	s, err := Open(ctx, storeURL)
	if err != nil {
		if perr != nil {
			return fmt.Sprintf("findings ledger: this run was not recorded: %v; and it could not be kept for later: %v", err, perr)
		}
		return fmt.Sprintf("findings ledger: %v; this run is kept in %s and will be recorded by the next warden command that reaches the store", err, file)
	}
	defer s.Close()
	if perr != nil {
		// Not spooled: record it directly.
		if err := s.Record(ctx, r); err != nil {
			return fmt.Sprintf("findings ledger: this run was not recorded: %v", err)
		}
	}
	if _, err := sp.Drain(ctx, s); err != nil {
		return fmt.Sprintf("findings ledger: %v; what could not be recorded is kept in %s", err, sp.Dir)
	}
	return ""
}

// Connect opens the store for a command that reads or triages it, first
// recording whatever runs its spool holds. A spool that cannot be drained
// is a warning; a store that cannot be opened is the error.
func Connect(ctx context.Context, storeURL string, getenv func(string) string) (s *Store, warning string, err error) {
	s, err = Open(ctx, storeURL)
	if err != nil {
		return nil, "", err
	}
	sp := SpoolFor(storeURL, getenv)
	if n, err := sp.Drain(ctx, s); err != nil {
		warning = fmt.Sprintf("findings ledger: %v; what could not be recorded is kept in %s", err, sp.Dir)
	} else if n > 0 {
		warning = fmt.Sprintf("findings ledger: recorded %d run(s) that were waiting in %s", n, sp.Dir)
	}
	return s, warning, nil
}

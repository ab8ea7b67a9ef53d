package home

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/lockedfile"
)

// LockFile is the lock beside warden.yaml that serializes edits of a home.
// It holds nothing; warden init lists it in the home's .gitignore.
const LockFile = ".warden.lock"

// StateDir is the folder of a home's local state: the default findings
// ledger and its spool. warden init lists it in the home's .gitignore.
const StateDir = ".warden"

// Lock takes the home's edit lock, waiting for whoever holds it, and
// returns the function that releases it. Every change to warden.yaml or
// to the packs folder happens under it: without it, edits running at once
// each read the same warden.yaml and the last write silently undid the
// others. The lock is an OS file lock (flock, LockFileEx), so the kernel
// releases it when a process dies holding it.
func Lock(dir string) (unlock func(), err error) {
	unlock, err = lockedfile.MutexAt(filepath.Join(dir, LockFile)).Lock()
	if err != nil {
		return nil, fmt.Errorf("locking policy home %s: %w", dir, err)
	}
	return unlock, nil
}

// Edit is the one way to change a home: it takes the home's lock, reads
// and loads warden.yaml, calls fn with an editor over the text and the
// loaded home, and, if fn changed the text, validates it and writes it
// atomically, all before releasing the lock. An error from fn, or a
// refused or invalid edit, leaves the file as it was.
//
// fn may also change the packs folder (packs publish, packs remove): it
// runs under the same lock, against the warden.yaml it was given. The CLI
// goes through Edit, and so must anything else that edits a home (the
// findings ledger, the console).
func Edit(dir string, fn func(e *Editor, h *Home) error) error {
	unlock, err := Lock(dir)
	if err != nil {
		return err
	}
	defer unlock()
	e, err := OpenEditor(dir)
	if err != nil {
		return err
	}
	h, err := e.Home()
	if err != nil {
		return err
	}
	if err := fn(e, h); err != nil {
		return err
	}
	if bytes.Equal(e.src, e.orig) {
		return nil
	}
	return e.save()
}

// writeFileAtomic replaces file with data so that a crash at any point
// leaves either the old text or the new one, never a mix or nothing: a
// temporary file in the same directory, synced, renamed over file, then
// the directory synced so the rename itself is durable. The file keeps
// its permissions.
func writeFileAtomic(file string, data []byte) (err error) {
	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	mode := os.FileMode(0o644)
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: syncing: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

package commands

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

// Exit codes, the one place that knows them.
const (
	ExitOK       = 0 // clean
	ExitFindings = 1 // blocking violations, or failing pack tests
	ExitInput    = 2 // usage or invalid input; nothing was evaluated
	ExitInternal = 3 // a bug or an environment failure
	ExitPartial  = 4 // audit: some stacks could not be read; the others were audited
)

// FlagError is a usage problem: wrong flags or arguments.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// InputError is invalid input: a file that is not what it should be.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// errFindings means the command ran and its results fail the run; the
// results themselves were already written.
var errFindings = errors.New("findings")

// errIncomplete means an audit could not read every stack; what it read
// was audited and reported, and the failures were named on stderr.
var errIncomplete = errors.New("some stacks could not be audited")

// exitCode maps an error to the process's exit code and prints it once.
func exitCode(err error, ios *IOStreams) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errFindings) {
		return ExitFindings
	}
	if errors.Is(err, errIncomplete) {
		return ExitPartial
	}
	var list spec.ErrorList
	if errors.As(err, &list) {
		spec.Print(ios.ErrOut, list, readSource)
		return ExitInput
	}
	var fe *FlagError
	var ie *InputError
	var re *home.RefusedError
	var pe *fs.PathError
	var nh *home.NotHomeError
	var be *home.BadEditError
	var le *ledger.InputError
	var pub *home.PublishError
	var se *ledger.StoreError
	switch {
	case errors.As(err, &fe):
		fmt.Fprintf(ios.ErrOut, "error: %v\nRun 'warden --help' for usage.\n", err)
		return ExitInput
	// A refused edit (one warden cannot make safely) wrote nothing and says
	// where to look: bad input, like an invalid file.
	case errors.As(err, &ie), errors.As(err, &re), errors.As(err, &pe), errors.As(err, &nh), errors.As(err, &be), errors.As(err, &le), errors.As(err, &pub):
		fmt.Fprintf(ios.ErrOut, "error: %v\n", err)
		return ExitInput
	// A findings store that cannot be reached or read: the environment,
	// not the input, and not a bug.
	case errors.As(err, &se):
		fmt.Fprintf(ios.ErrOut, "error: %v\n", err)
		return ExitInternal
	}
	fmt.Fprintf(ios.ErrOut, "internal error: %v\n", err)
	return ExitInternal
}

func readSource(name string) []byte {
	b, _ := os.ReadFile(name)
	return b
}

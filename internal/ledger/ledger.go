// Package ledger is Warden's findings ledger: it records every run (a
// preview, an update, `pulumi policy analyze`, `warden analyze`, `warden
// audit`) with what it found, and keeps one tracked finding per policy,
// resource and stack across runs, with its triage (status, priority,
// assignee, reason) and the history of every change.
//
// Two stores share one implementation over database/sql: SQLite, embedded
// through a pure-Go driver so the binaries stay static (the default, no
// set-up), and PostgreSQL through pgx, for teams whose CI runners are
// ephemeral. A URL picks one (Open). The schema is migrated on open; a
// schema newer than the binary is refused.
//
// The ledger never decides a deployment: the plugin records after the
// engine has its verdict, and a store that cannot be reached leaves the
// run in a local spool (Spool) that the next Warden command records.
package ledger

import (
	"errors"
	"fmt"
	"time"

	"github.com/warden-policy/warden/internal/findings"
)

// Kind is what sort of run a Run was.
type Kind string

// Run kinds. Previews are hypothetical: they are recorded, but they never
// open, fix or reopen a finding.
const (
	Preview       Kind = "preview"        // pulumi preview (and up's preview phase)
	Update        Kind = "update"         // pulumi up, destroy, refresh
	PolicyAnalyze Kind = "policy-analyze" // pulumi policy analyze
	Analyze       Kind = "analyze"        // warden analyze
	Audit         Kind = "audit"          // warden audit
)

// Kinds lists the run kinds.
var Kinds = []Kind{Preview, Update, PolicyAnalyze, Analyze, Audit}

// Changes reports whether runs of this kind change findings' status.
func (k Kind) Changes() bool { return k != Preview }

// Run is one analysis as recorded.
type Run struct {
	ID                           string    `json:"id"`
	Organization, Project, Stack string    `json:"-"`
	Kind                         Kind      `json:"kind"`
	Started                      time.Time `json:"started"`
	Finished                     time.Time `json:"finished"`
	Version                      string    `json:"wardenVersion"` // Warden's
	Packs                        []string  `json:"packs"`         // name@version
	Groups                       []string  `json:"groups"`
	Source                       string    `json:"source,omitempty"` // the export audited, if any
	// Complete is set when the run saw every resource: the engine's final
	// AnalyzeStack, or a whole export. An update stopped by a mandatory
	// violation is not complete (the engine skips AnalyzeStack).
	Complete bool `json:"complete"`
	// Blocked is set when a finding blocked the run.
	Blocked bool `json:"blocked"`
	// Ran lists the policies that ran, as pack/policy: a finding of one
	// of them that the run did not see again is fixed (see Record).
	Ran []string `json:"-"`
	// Analyzed lists the resources whose inputs were analyzed: on an
	// incomplete run, only their findings can be fixed.
	Analyzed []string `json:"-"`
	// Resources is how many resources the run analyzed.
	Resources int `json:"resources"`
	// Findings are what the run found (can't-runs are counted, not kept:
	// they say a preview could not decide, nothing about the resource).
	Findings []findings.Finding `json:"-"`
	// Counts, filled when a run is read back.
	Violations int `json:"violations"`
	Blocking   int `json:"blocking"`
}

// Name is the run's stack as org/project/stack.
func (r *Run) Name() string { return r.Organization + "/" + r.Project + "/" + r.Stack }

// Status is where a finding is in triage.
type Status string

// Statuses. A run moves a finding to fixed when it no longer violates and
// back to open when a fixed one recurs; everything else is a person's call.
const (
	StatusOpen       Status = "open"
	StatusInProgress Status = "in-progress"
	StatusByDesign   Status = "by-design" // needs a reason
	StatusFixed      Status = "fixed"
	StatusIgnored    Status = "ignored" // needs a reason
)

// Statuses lists the statuses in triage order.
var Statuses = []Status{StatusOpen, StatusInProgress, StatusByDesign, StatusFixed, StatusIgnored}

// Valid reports whether s is a status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// NeedsReason reports whether moving to s needs a reason.
func (s Status) NeedsReason() bool { return s == StatusByDesign || s == StatusIgnored }

// Active reports whether a finding in status s still counts against
// compliance.
func (s Status) Active() bool { return s == StatusOpen || s == StatusInProgress }

// Finding is a tracked finding: one per organization, project, stack,
// pack, policy and resource URN (findings.ID).
type Finding struct {
	ID           string `json:"id"`
	Organization string `json:"organization"`
	Project      string `json:"project"`
	Stack        string `json:"stack"`
	Pack         string `json:"pack"`
	Policy       string `json:"policy"`
	URN          string `json:"urn,omitempty"`
	Type         string `json:"type,omitempty"`
	Severity     string `json:"severity,omitempty"`
	Level        string `json:"enforcementLevel"`
	Kind         string `json:"kind"`
	Message      string `json:"message"`
	// Exception is the id of the exception that waived the finding when
	// it was last seen, "" if none.
	Exception string `json:"exception,omitempty"`
	// Baselined is the day the stack's baseline says the violation was
	// first seen, "" when no baseline covered it when last seen.
	Baselined string    `json:"baselined,omitempty"`
	Status    Status    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	Priority  string    `json:"priority"`
	Assignee  string    `json:"assignee,omitempty"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	LastRun   string    `json:"lastRun"`
	Updated   time.Time `json:"updated"`
}

// Blocks reports whether the finding, when last seen, failed its run.
func (f *Finding) Blocks() bool {
	return f.Exception == "" && f.Baselined == "" && f.Kind != string(findings.CantRun) && (f.Level == "mandatory" || f.Level == "remediate")
}

// Priorities are P0 (most urgent) to P4; new findings get one from their
// severity (critical P1, high P2, medium P3, low P4).
var Priorities = []string{"P0", "P1", "P2", "P3", "P4"}

func priorityOf(severity string) string {
	switch severity {
	case "critical":
		return "P1"
	case "high":
		return "P2"
	case "low":
		return "P4"
	}
	return "P3"
}

// Change is one entry of a finding's history.
type Change struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"` // a person, or "run <id>"
	Field string    `json:"field"`
	From  string    `json:"from,omitempty"`
	To    string    `json:"to"`
	Run   string    `json:"run,omitempty"`
}

// Sighting is one run that saw a finding.
type Sighting struct {
	Run     string    `json:"run"`
	Kind    Kind      `json:"kind"`
	At      time.Time `json:"at"`
	Level   string    `json:"enforcementLevel"`
	Message string    `json:"message"`
}

// Triage is a person's edit of findings; nil fields are left alone.
type Triage struct {
	Status   *Status
	Reason   *string
	Priority *string
	Assignee *string
}

// Check validates an edit before anything is written.
func (t Triage) Check() error {
	if t.Status != nil && !t.Status.Valid() {
		return &InputError{Msg: fmt.Sprintf("unknown status %q: want one of open, in-progress, by-design, fixed, ignored", *t.Status)}
	}
	if t.Status != nil && t.Status.NeedsReason() && (t.Reason == nil || *t.Reason == "") {
		return &InputError{Msg: fmt.Sprintf("status %s needs a reason (--reason): say why it is acceptable", *t.Status)}
	}
	if t.Priority != nil {
		ok := false
		for _, p := range Priorities {
			ok = ok || *t.Priority == p
		}
		if !ok {
			return &InputError{Msg: fmt.Sprintf("unknown priority %q: want one of P0, P1, P2, P3, P4", *t.Priority)}
		}
	}
	if t.Status == nil && t.Reason == nil && t.Priority == nil && t.Assignee == nil {
		return &InputError{Msg: "nothing to change: give --status, --reason, --priority or --assignee"}
	}
	return nil
}

// Filter selects findings; empty fields select everything.
type Filter struct {
	Status   []Status
	Severity []string
	Pack     string
	Policy   string
	Stack    string // org/project/stack, project/stack or stack
	Assignee string
	// IDs, when set, limits the result to these findings.
	IDs []string
	// Packs and Stacks (org/project/stack), when not nil, limit the result
	// to findings of those packs on those stacks: what a group governs.
	Packs, Stacks []string
	// Limit, when positive, caps how many findings Findings returns.
	Limit int
}

// InputError is a request the ledger refuses: an unknown status, a missing
// reason, an unknown ID. The CLI reports it as a usage error.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// ErrNotFound is returned for an ID the ledger does not have.
var ErrNotFound = errors.New("not found")

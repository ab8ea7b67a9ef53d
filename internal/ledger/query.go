package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/warden-policy/warden/packs/home"
)

const findingColumns = `id, organization, project, stack, pack, policy, urn, type, severity, level, kind, message, exception, baselined, status, reason, priority, assignee, first_seen, last_seen, last_run, updated`

func scanFinding(sc interface{ Scan(...any) error }) (*Finding, error) {
	var f Finding
	var first, last, updated int64
	var status string
	if err := sc.Scan(&f.ID, &f.Organization, &f.Project, &f.Stack, &f.Pack, &f.Policy, &f.URN, &f.Type, &f.Severity, &f.Level, &f.Kind,
		&f.Message, &f.Exception, &f.Baselined, &status, &f.Reason, &f.Priority, &f.Assignee, &first, &last, &f.LastRun, &updated); err != nil {
		return nil, err
	}
	f.Status = Status(status)
	f.FirstSeen, f.LastSeen, f.Updated = time.Unix(0, first).UTC(), time.Unix(0, last).UTC(), time.Unix(0, updated).UTC()
	return &f, nil
}

// where renders a filter as a WHERE clause with ? placeholders.
func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		conds = append(conds, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	statuses := make([]string, len(f.Status))
	for i, s := range f.Status {
		statuses[i] = string(s)
	}
	in("status", statuses)
	in("severity", f.Severity)
	in("id", f.IDs)
	if f.Packs != nil {
		in("pack", f.Packs)
		if len(f.Packs) == 0 {
			conds = append(conds, "1 = 0")
		}
	}
	if f.Stacks != nil {
		in("organization || '/' || project || '/' || stack", f.Stacks)
		if len(f.Stacks) == 0 {
			conds = append(conds, "1 = 0")
		}
	}
	eq := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = ?")
			args = append(args, v)
		}
	}
	eq("pack", f.Pack)
	eq("policy", f.Policy)
	eq("assignee", f.Assignee)
	if f.Stack != "" {
		parts := strings.Split(f.Stack, "/")
		cols := []string{"stack"}
		switch len(parts) {
		case 2:
			cols = []string{"project", "stack"}
		case 3:
			cols = []string{"organization", "project", "stack"}
		}
		for i, c := range cols {
			if i < len(parts) {
				eq(c, parts[i])
			}
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Stacks lists the stacks the ledger has findings of, as org/project/stack.
func (s *Store) Stacks(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT organization, project, stack FROM findings ORDER BY organization, project, stack`)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o, p, st string
		if err := rows.Scan(&o, &p, &st); err != nil {
			return nil, s.fail(err)
		}
		out = append(out, o+"/"+p+"/"+st)
	}
	return out, s.fail(rows.Err())
}

// Findings lists the findings a filter selects, most urgent first.
func (s *Store) Findings(ctx context.Context, f Filter) ([]*Finding, error) {
	where, args := f.where()
	query := `SELECT ` + findingColumns + ` FROM findings` + where + ` ORDER BY priority, organization, project, stack, pack, policy, urn`
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.dialect.q(query), args...)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	var out []*Finding
	for rows.Next() {
		fd, err := scanFinding(rows)
		if err != nil {
			return nil, s.fail(err)
		}
		out = append(out, fd)
	}
	return out, s.fail(rows.Err())
}

// Count is how many findings a filter selects.
func (s *Store) Count(ctx context.Context, f Filter) (int, error) {
	where, args := f.where()
	var n int
	err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT COUNT(*) FROM findings`+where), args...).Scan(&n)
	return n, s.fail(err)
}

// Group is one line of a grouped listing: findings counted by status.
type Group struct {
	Key      string         `json:"key"`      // pack/policy, URN or org/project/stack
	Severity string         `json:"severity"` // the group's highest
	Total    int            `json:"total"`
	ByStatus map[Status]int `json:"byStatus"`
}

// Grouping is what findings are grouped by.
type Grouping string

// Groupings.
const (
	ByPolicy   Grouping = "policy"
	ByResource Grouping = "resource"
	ByStack    Grouping = "stack"
)

// Grouped counts the findings a filter selects, by policy, resource or
// stack, in the database (a million findings are not read into memory).
func (s *Store) Grouped(ctx context.Context, f Filter, by Grouping) ([]Group, error) {
	var cols string
	switch by {
	case ByPolicy:
		cols = "pack, policy"
	case ByResource:
		cols = "urn"
	case ByStack:
		cols = "organization, project, stack"
	default:
		return nil, &InputError{Msg: fmt.Sprintf("cannot group by %q: want policy, resource or stack", by)}
	}
	n := strings.Count(cols, ",") + 1
	where, args := f.where()
	// Raw columns, status and severity: the grouping index covers the
	// query and is already in its order, so nothing is computed per row.
	rows, err := s.db.QueryContext(ctx, s.dialect.q(`SELECT `+cols+`, status, severity, COUNT(*) FROM findings`+where+
		` GROUP BY `+cols+`, status, severity ORDER BY `+cols), args...)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	at := map[string]int{}
	var out []Group
	key := make([]string, n)
	dest := make([]any, n+3)
	for i := range key {
		dest[i] = &key[i]
	}
	var status, sev string
	var count int
	dest[n], dest[n+1], dest[n+2] = &status, &sev, &count
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, s.fail(err)
		}
		k := strings.Join(key, "/")
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, Group{Key: k, Severity: sev, ByStatus: map[Status]int{}})
		}
		g := &out[i]
		if rank(sev) < rank(g.Severity) {
			g.Severity = sev
		}
		g.Total += count
		g.ByStatus[Status(status)] += count
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err)
	}
	sortGroups(out)
	return out, nil
}

var severityNames = []string{"critical", "high", "medium", "low"}

func rank(sev string) int {
	for i, s := range severityNames {
		if s == sev {
			return i
		}
	}
	return len(severityNames)
}

// Finding reads one finding with its history and the runs that saw it.
func (s *Store) Finding(ctx context.Context, id string) (*Finding, []Change, []Sighting, error) {
	q := s.dialect.q
	fd, err := scanFinding(s.db.QueryRowContext(ctx, q(`SELECT `+findingColumns+` FROM findings WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, &InputError{Msg: fmt.Sprintf("no finding %q in %s", id, s.url)}
	}
	if err != nil {
		return nil, nil, nil, s.fail(err)
	}
	changes, err := s.history(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	rows, err := s.db.QueryContext(ctx, q(`SELECT s.run_id, r.kind, r.started, s.level, s.message FROM sightings s JOIN runs r ON r.id = s.run_id
		WHERE s.finding_id = ? ORDER BY r.started`), id)
	if err != nil {
		return nil, nil, nil, s.fail(err)
	}
	defer rows.Close()
	var seen []Sighting
	for rows.Next() {
		var sg Sighting
		var kind string
		var at int64
		if err := rows.Scan(&sg.Run, &kind, &at, &sg.Level, &sg.Message); err != nil {
			return nil, nil, nil, s.fail(err)
		}
		sg.Kind, sg.At = Kind(kind), time.Unix(0, at).UTC()
		seen = append(seen, sg)
	}
	return fd, changes, seen, s.fail(rows.Err())
}

func (s *Store) history(ctx context.Context, id string) ([]Change, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.q(`SELECT at, actor, field, old_value, new_value, run_id FROM history WHERE finding_id = ? ORDER BY seq`), id)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var at int64
		if err := rows.Scan(&at, &c.Actor, &c.Field, &c.From, &c.To, &c.Run); err != nil {
			return nil, s.fail(err)
		}
		c.At = time.Unix(0, at).UTC()
		out = append(out, c)
	}
	return out, s.fail(rows.Err())
}

// Update applies a triage edit to findings, all or none: an unknown ID
// refuses the whole edit. Each field that changes is a history entry with
// actor and time.
func (s *Store) Update(ctx context.Context, ids []string, t Triage, actor string, now time.Time) error {
	if err := t.Check(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return &InputError{Msg: "no finding IDs given"}
	}
	q := s.dialect.q
	at := now.UnixNano()
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			var status, reason, priority, assignee string
			err := tx.QueryRowContext(ctx, q(`SELECT status, reason, priority, assignee FROM findings WHERE id = ?`), id).Scan(&status, &reason, &priority, &assignee)
			if errors.Is(err, sql.ErrNoRows) {
				return &InputError{Msg: fmt.Sprintf("no finding %q in %s: nothing was changed", id, s.url)}
			}
			if err != nil {
				return err
			}
			type change struct{ field, col, from, to string }
			var cs []change
			if t.Status != nil && string(*t.Status) != status {
				cs = append(cs, change{"status", "status", status, string(*t.Status)})
			}
			if t.Reason != nil && *t.Reason != reason {
				cs = append(cs, change{"reason", "reason", reason, *t.Reason})
			}
			if t.Priority != nil && *t.Priority != priority {
				cs = append(cs, change{"priority", "priority", priority, *t.Priority})
			}
			if t.Assignee != nil && *t.Assignee != assignee {
				cs = append(cs, change{"assignee", "assignee", assignee, *t.Assignee})
			}
			for _, c := range cs {
				if _, err := tx.ExecContext(ctx, q(`UPDATE findings SET `+c.col+` = ?, updated = ? WHERE id = ?`), c.to, at, id); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, q(`INSERT INTO history (finding_id, at, actor, field, old_value, new_value, run_id) VALUES (?, ?, ?, ?, ?, ?, '')`),
					id, at, actor, c.field, c.from, c.to); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

const runColumns = `id, organization, project, stack, kind, started, finished, version, packs, group_names, ran, source, complete, blocked, resources, violations, blocking`

func scanRun(sc interface{ Scan(...any) error }) (*Run, error) {
	var r Run
	var kind, packs, groups, ran string
	var started, finished int64
	if err := sc.Scan(&r.ID, &r.Organization, &r.Project, &r.Stack, &kind, &started, &finished, &r.Version, &packs, &groups, &ran,
		&r.Source, &r.Complete, &r.Blocked, &r.Resources, &r.Violations, &r.Blocking); err != nil {
		return nil, err
	}
	r.Kind = Kind(kind)
	r.Started, r.Finished = time.Unix(0, started).UTC(), time.Unix(0, finished).UTC()
	_ = json.Unmarshal([]byte(packs), &r.Packs)
	_ = json.Unmarshal([]byte(groups), &r.Groups)
	_ = json.Unmarshal([]byte(ran), &r.Ran)
	return &r, nil
}

// Runs lists the newest runs first, at most limit (0: all), of one stack
// when stack is set (as in Filter.Stack).
func (s *Store) Runs(ctx context.Context, stack string, limit int) ([]*Run, error) {
	where, args := Filter{Stack: stack}.where()
	query := `SELECT ` + runColumns + ` FROM runs` + where + ` ORDER BY started DESC, id DESC`
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := s.db.QueryContext(ctx, s.dialect.q(query), args...)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	var out []*Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, s.fail(err)
		}
		out = append(out, r)
	}
	return out, s.fail(rows.Err())
}

// RunSighting is one finding as a run saw it.
type RunSighting struct {
	Finding   string `json:"finding"`
	Pack      string `json:"pack"`
	Policy    string `json:"policy"`
	URN       string `json:"urn,omitempty"`
	Level     string `json:"enforcementLevel"`
	Kind      string `json:"kind"`
	Message   string `json:"message"`
	Exception string `json:"exception,omitempty"`
}

// Blocks reports whether the sighting failed its run.
func (r *RunSighting) Blocks() bool {
	return r.Exception == "" && (r.Level == "mandatory" || r.Level == "remediate")
}

// Run reads one run and what it saw.
func (s *Store) Run(ctx context.Context, id string) (*Run, []RunSighting, error) {
	q := s.dialect.q
	r, err := scanRun(s.db.QueryRowContext(ctx, q(`SELECT `+runColumns+` FROM runs WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, &InputError{Msg: fmt.Sprintf("no run %q in %s", id, s.url)}
	}
	if err != nil {
		return nil, nil, s.fail(err)
	}
	rows, err := s.db.QueryContext(ctx, q(`SELECT finding_id, pack, policy, urn, level, kind, message, exception FROM sightings WHERE run_id = ? ORDER BY pack, policy, urn`), id)
	if err != nil {
		return nil, nil, s.fail(err)
	}
	defer rows.Close()
	var out []RunSighting
	for rows.Next() {
		var sg RunSighting
		if err := rows.Scan(&sg.Finding, &sg.Pack, &sg.Policy, &sg.URN, &sg.Level, &sg.Kind, &sg.Message, &sg.Exception); err != nil {
			return nil, nil, s.fail(err)
		}
		out = append(out, sg)
	}
	return r, out, s.fail(rows.Err())
}

// ForGroup limits f to what a group of the home governs: its packs, on the
// ledger's stacks it selects (an audit group: every stack). The ledger
// keeps no stack tags, so a group that selects by stackRule alone selects
// no stack here.
func (s *Store) ForGroup(ctx context.Context, h *home.Home, name string, f *Filter) error {
	var g *home.Group
	var names []string
	for _, hg := range h.Groups {
		names = append(names, hg.Name)
		if hg.Name == name {
			g = hg
		}
	}
	if g == nil {
		return &InputError{Msg: fmt.Sprintf("the home has no group %q (it has %s)", name, strings.Join(names, ", "))}
	}
	f.Packs = []string{}
	for _, p := range g.Packs {
		f.Packs = append(f.Packs, p.Name)
	}
	stacks, err := s.Stacks(ctx)
	if err != nil {
		return err
	}
	f.Stacks = []string{}
	for _, ref := range stacks {
		parts := strings.SplitN(ref, "/", 3)
		if ok, _ := g.Selects(home.Stack{Organization: parts[0], Project: parts[1], Name: parts[2]}); ok || g.Mode == home.Audit {
			f.Stacks = append(f.Stacks, ref)
		}
	}
	return nil
}

// ExceptionMatches is what an exception for these findings matches: one
// match per policy (pack/policy) with the resources of its findings, in
// the order given. An unknown ID is an InputError; so is a finding about
// the whole stack, which names no resource to except.
func (s *Store) ExceptionMatches(ctx context.Context, ids []string) ([]home.ExceptionMatch, error) {
	var out []home.ExceptionMatch
	at := map[string]int{}
	for _, id := range ids {
		f, _, _, err := s.Finding(ctx, id)
		if err != nil {
			return nil, err
		}
		if f.URN == "" {
			return nil, &InputError{Msg: fmt.Sprintf("finding %s is about the whole stack (no resource): an exception names resources; write a stack-wide one in warden.yaml by hand", id)}
		}
		pol := f.Pack + "/" + f.Policy
		i, ok := at[pol]
		if !ok {
			i = len(out)
			at[pol] = i
			out = append(out, home.ExceptionMatch{Policies: []string{pol}})
		}
		if !slices.Contains(out[i].Targets, f.URN) {
			out[i].Targets = append(out[i].Targets, f.URN)
		}
	}
	return out, nil
}

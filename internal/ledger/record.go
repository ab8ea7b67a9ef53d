package ledger

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/warden-policy/warden/internal/findings"
)

// NewRunID is a run ID: its start time (so IDs sort by time) and random
// bits (so runs started in the same second on many runners do not clash).
func NewRunID(started time.Time) string {
	var b [5]byte
	rand.Read(b[:])
	return "r" + started.UTC().Format("20060102T150405") + "-" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// observation is one finding of a run, merged by identity: a policy that
// reports two violations on one resource is one finding, with both
// messages.
type observation struct {
	id string
	f  findings.Finding
}

func observations(r *Run) []observation {
	var out []observation
	at := map[string]int{}
	for _, f := range r.Findings {
		if f.Kind == findings.CantRun {
			continue
		}
		id := findings.ID(r.Organization, r.Project, r.Stack, f.Pack, f.Policy, f.URN)
		if i, ok := at[id]; ok {
			if !strings.Contains(out[i].f.Message, f.Message) {
				out[i].f.Message += "\n" + f.Message
			}
			continue
		}
		at[id] = len(out)
		out = append(out, observation{id: id, f: f})
	}
	return out
}

func exceptionOf(f *findings.Finding) string {
	if f.Exception != nil {
		return f.Exception.ID
	}
	return ""
}

// Record stores a run and what it found, in one transaction:
//
//   - every finding it saw is a sighting of the run;
//   - unless it is a preview: a finding seen for the first time is opened
//     (priority from its severity), a fixed one seen again is reopened,
//     and the rest are updated (level, message, exception, last seen);
//   - unless it is a preview: a finding of this stack not seen again is
//     fixed when the run evaluated its policy on it: every policy that ran
//     when the run is complete (a deleted resource's findings included),
//     only the analyzed resources' findings otherwise.
//
// A run never writes a finding's assignee, priority or reason, and it
// changes a status only from the one it read (a conditional update), so a
// triage edit made meanwhile is never overwritten.
func (s *Store) Record(ctx context.Context, r *Run) error {
	obs := observations(r)
	violations, blocking := 0, 0
	for i := range r.Findings {
		if r.Findings[i].Kind != findings.CantRun {
			violations++
		}
		if r.Findings[i].Blocking() {
			blocking++
		}
	}
	packs, _ := json.Marshal(nonNil(r.Packs))
	groups, _ := json.Marshal(nonNil(r.Groups))
	ran, _ := json.Marshal(nonNil(r.Ran))
	q := s.dialect.q
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q(`INSERT INTO runs (id, organization, project, stack, kind, started, finished, version, packs, group_names, ran, source, complete, blocked, resources, violations, blocking)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
			r.ID, r.Organization, r.Project, r.Stack, string(r.Kind), r.Started.UnixNano(), r.Finished.UnixNano(), r.Version,
			string(packs), string(groups), string(ran), r.Source, r.Complete, r.Blocked, r.Resources, violations, blocking)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // recorded already (a spooled run sent twice)
		}
		sight, err := tx.PrepareContext(ctx, q(`INSERT INTO sightings (run_id, finding_id, pack, policy, urn, level, kind, message, exception, baselined)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, finding_id) DO NOTHING`))
		if err != nil {
			return err
		}
		defer sight.Close()
		for _, o := range obs {
			if _, err := sight.ExecContext(ctx, r.ID, o.id, o.f.Pack, o.f.Policy, o.f.URN, string(o.f.Level), string(o.f.Kind), o.f.Message, exceptionOf(&o.f), o.f.Baselined); err != nil {
				return err
			}
		}
		if !r.Kind.Changes() {
			return nil
		}
		return s.track(ctx, tx, r, obs)
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// track applies a status-changing run to the stack's findings.
func (s *Store) track(ctx context.Context, tx *sql.Tx, r *Run, obs []observation) error {
	q := s.dialect.q
	type known struct{ status, pack, policy, urn string }
	existing := map[string]known{}
	rows, err := tx.QueryContext(ctx, q(`SELECT id, status, pack, policy, urn FROM findings WHERE organization = ? AND project = ? AND stack = ?`),
		r.Organization, r.Project, r.Stack)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		var k known
		if err := rows.Scan(&id, &k.status, &k.pack, &k.policy, &k.urn); err != nil {
			rows.Close()
			return err
		}
		existing[id] = k
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	at := r.Finished.UnixNano()
	actor := "run " + r.ID
	insert, err := tx.PrepareContext(ctx, q(`INSERT INTO findings (id, organization, project, stack, pack, policy, urn, type, severity, level, kind, message, exception, baselined, status, reason, priority, assignee, first_seen, last_seen, last_run, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', '', ?, '', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`))
	if err != nil {
		return err
	}
	defer insert.Close()
	update, err := tx.PrepareContext(ctx, q(`UPDATE findings SET type = CASE WHEN ? = '' THEN type ELSE ? END, severity = ?, level = ?, kind = ?, message = ?, exception = ?, baselined = ?, last_seen = ?, last_run = ?
		WHERE id = ? AND last_seen <= ?`))
	if err != nil {
		return err
	}
	defer update.Close()
	// A status moves only from the one read, and only if nothing newer
	// than this run (a later run, a triage edit) touched the finding.
	setStatus, err := tx.PrepareContext(ctx, q(`UPDATE findings SET status = ?, updated = ? WHERE id = ? AND status = ? AND updated <= ? AND last_seen <= ?`))
	if err != nil {
		return err
	}
	defer setStatus.Close()
	hist, err := tx.PrepareContext(ctx, q(`INSERT INTO history (finding_id, at, actor, field, old_value, new_value, run_id) VALUES (?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return err
	}
	defer hist.Close()
	move := func(id, from, to string) error {
		res, err := setStatus.ExecContext(ctx, to, at, id, from, at, at)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			_, err = hist.ExecContext(ctx, id, at, actor, "status", from, to, r.ID)
		}
		return err
	}
	seen := make(map[string]bool, len(obs))
	for _, o := range obs {
		seen[o.id] = true
		f := &o.f
		k, ok := existing[o.id]
		if !ok {
			res, err := insert.ExecContext(ctx, o.id, r.Organization, r.Project, r.Stack, f.Pack, f.Policy, f.URN, f.Type, string(f.Severity),
				string(f.Level), string(f.Kind), f.Message, exceptionOf(f), f.Baselined, priorityOf(string(f.Severity)), at, at, r.ID, at)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				if _, err := hist.ExecContext(ctx, o.id, at, actor, "status", "", string(StatusOpen), r.ID); err != nil {
					return err
				}
				continue
			}
			// Another run on this stack opened it meanwhile: update it.
			k.status = string(StatusOpen)
		}
		// A run older than the last one to see the finding (a spooled run
		// recorded late) does not overwrite what the newer one saw.
		if _, err := update.ExecContext(ctx, f.Type, f.Type, string(f.Severity), string(f.Level), string(f.Kind), f.Message, exceptionOf(f), f.Baselined, at, r.ID, o.id, at); err != nil {
			return err
		}
		if k.status == string(StatusFixed) {
			if err := move(o.id, string(StatusFixed), string(StatusOpen)); err != nil {
				return err
			}
		}
	}
	ran := make(map[string]bool, len(r.Ran))
	for _, p := range r.Ran {
		ran[p] = true
	}
	var analyzed map[string]bool
	if !r.Complete {
		analyzed = make(map[string]bool, len(r.Analyzed))
		for _, u := range r.Analyzed {
			analyzed[u] = true
		}
	}
	ids := make([]string, 0, len(existing))
	for id := range existing {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a stable order of writes
	for _, id := range ids {
		k := existing[id]
		if seen[id] || k.status == string(StatusFixed) || !ran[k.pack+"/"+k.policy] {
			continue
		}
		if !r.Complete && (k.urn == "" || !analyzed[k.urn]) {
			continue // the run did not get to it
		}
		if err := move(id, k.status, string(StatusFixed)); err != nil {
			return err
		}
	}
	return nil
}

package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// migrations are the schema's versions, in order: migration i brings the
// schema to version i+1. A released migration is never edited; a change
// is a new one. {serial} is the dialect's auto-increment key. The
// grouping indexes end in status and severity, so that `findings list
// --by` reads an index alone, in group order. Times are
// Unix nanoseconds, lists JSON text.
var migrations = []string{
	`CREATE TABLE runs (
		id TEXT PRIMARY KEY,
		organization TEXT NOT NULL, project TEXT NOT NULL, stack TEXT NOT NULL,
		kind TEXT NOT NULL, started BIGINT NOT NULL, finished BIGINT NOT NULL,
		version TEXT NOT NULL, packs TEXT NOT NULL, group_names TEXT NOT NULL, ran TEXT NOT NULL,
		source TEXT NOT NULL, complete BOOLEAN NOT NULL, blocked BOOLEAN NOT NULL,
		resources INTEGER NOT NULL, violations INTEGER NOT NULL, blocking INTEGER NOT NULL
	);
	CREATE INDEX runs_stack ON runs (organization, project, stack, started);
	CREATE INDEX runs_started ON runs (started);
	CREATE TABLE findings (
		id TEXT PRIMARY KEY,
		organization TEXT NOT NULL, project TEXT NOT NULL, stack TEXT NOT NULL,
		pack TEXT NOT NULL, policy TEXT NOT NULL, urn TEXT NOT NULL, type TEXT NOT NULL,
		severity TEXT NOT NULL, level TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL,
		exception TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
		priority TEXT NOT NULL, assignee TEXT NOT NULL,
		first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, last_run TEXT NOT NULL, updated BIGINT NOT NULL
	);
	CREATE INDEX findings_stack ON findings (organization, project, stack, status, severity);
	CREATE INDEX findings_policy ON findings (pack, policy, status, severity);
	CREATE INDEX findings_resource ON findings (urn, status, severity);
	CREATE INDEX findings_active ON findings (organization, project, stack, pack, policy, severity, urn) WHERE status IN ('open', 'in-progress') AND exception = '';
	CREATE TABLE sightings (
		run_id TEXT NOT NULL, finding_id TEXT NOT NULL,
		pack TEXT NOT NULL, policy TEXT NOT NULL, urn TEXT NOT NULL,
		level TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL, exception TEXT NOT NULL,
		PRIMARY KEY (run_id, finding_id)
	);
	CREATE INDEX sightings_finding ON sightings (finding_id);
	CREATE TABLE history (
		seq {serial},
		finding_id TEXT NOT NULL, at BIGINT NOT NULL, actor TEXT NOT NULL,
		field TEXT NOT NULL, old_value TEXT NOT NULL, new_value TEXT NOT NULL, run_id TEXT NOT NULL
	);
	CREATE INDEX history_finding ON history (finding_id, seq);`,
	// 2: a baselined violation (the day it was first seen, from the
	// stack's baseline) is marked, as an excepted one is.
	`ALTER TABLE findings ADD COLUMN baselined TEXT NOT NULL DEFAULT '';
	ALTER TABLE sightings ADD COLUMN baselined TEXT NOT NULL DEFAULT '';`,
}

// SchemaVersion is the newest schema this binary knows.
var SchemaVersion = len(migrations)

// ErrNewerSchema is a store written by a newer Warden.
var ErrNewerSchema = errors.New("newer schema")

// migrate brings the schema to SchemaVersion, each migration in its own
// transaction with the version it reaches, so a crash leaves a schema at
// some whole version. Opening processes take turns: SQLite's immediate
// transactions and a PostgreSQL advisory lock serialize them.
func (s *Store) migrate(ctx context.Context) error {
	for {
		done, err := s.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

func (s *Store) migrateOne(ctx context.Context) (done bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if s.dialect.name == "postgres" {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7261926)`); err != nil {
			return false, err
		}
	}
	// Inside the lock: PostgreSQL's IF NOT EXISTS is not safe against a
	// concurrent CREATE.
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS warden_schema (version INTEGER NOT NULL)`); err != nil {
		return false, err
	}
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM warden_schema`).Scan(&v); err != nil {
		return false, err
	}
	cur := int(v.Int64)
	switch {
	case cur > SchemaVersion:
		return false, &StoreError{URL: s.url, Err: fmt.Errorf("%w: its schema is version %d, this warden knows up to %d: upgrade warden (nothing was changed)", ErrNewerSchema, cur, SchemaVersion)}
	case cur == SchemaVersion:
		return true, tx.Commit()
	}
	ddl := strings.ReplaceAll(migrations[cur], "{serial}", s.dialect.serial)
	for _, stmt := range strings.Split(ddl, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("migrating to schema version %d: %w", cur+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.dialect.q(`INSERT INTO warden_schema (version) VALUES (?)`), cur+1); err != nil {
		return false, err
	}
	return false, tx.Commit()
}

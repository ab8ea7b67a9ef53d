package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/rogpeppe/go-internal/lockedfile"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", pure Go
)

// Store is a findings ledger over one database. It is safe for concurrent
// use, also by several processes at once on one database.
type Store struct {
	db      *sql.DB
	dialect dialect
	url     string // redacted, for messages
	secret  string // the URL's password, scrubbed from every message
	file    string // the SQLite file, "" for PostgreSQL
}

// dialect is what differs between the two databases.
type dialect struct {
	name string
	// serial is the type of an auto-increment primary key.
	serial string
	// numbered placeholders ($1) rather than ?.
	numbered bool
}

var (
	sqliteDialect   = dialect{name: "sqlite", serial: "INTEGER PRIMARY KEY AUTOINCREMENT"}
	postgresDialect = dialect{name: "postgres", serial: "BIGSERIAL PRIMARY KEY", numbered: true}
)

// q rewrites a query written with ? placeholders for the dialect.
func (d dialect) q(query string) string {
	if !d.numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// StoreError is a store that cannot be opened or used: unreachable,
// refused, corrupted, or of a newer schema. Its text names the store with
// any password removed.
type StoreError struct {
	URL string
	Err error
}

func (e *StoreError) Error() string { return fmt.Sprintf("findings store %s: %v", e.URL, e.Err) }
func (e *StoreError) Unwrap() error { return e.Err }

// Open opens the store a URL names and brings its schema up to date:
//
//	sqlite:PATH                 an SQLite file (created with its directory)
//	postgres://USER:PASS@HOST/DB  PostgreSQL (also postgresql://); pgx's
//	                            parameters, e.g. ?sslmode=disable
func Open(ctx context.Context, rawURL string) (*Store, error) {
	s, err := open(rawURL)
	if err != nil {
		return nil, err
	}
	if err := s.setup(ctx); err != nil {
		s.db.Close()
		return nil, s.fail(err)
	}
	return s, nil
}

// setup switches a new SQLite file to WAL and migrates the schema. For
// SQLite it holds a lock file beside the database: switching the journal
// mode needs the database to itself and does not wait for a busy one, so
// processes opening a new ledger at once would otherwise fail with
// SQLITE_BUSY (seen 2 times in 20 runs of TestConcurrentOpen).
func (s *Store) setup(ctx context.Context) error {
	if s.file == "" {
		return s.migrate(ctx)
	}
	unlock, err := lockedfile.MutexAt(s.file + ".lock").Lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return err
	}
	return s.migrate(ctx)
}

func open(rawURL string) (*Store, error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if path == "" {
			return nil, &StoreError{URL: rawURL, Err: errors.New("no file: want sqlite:PATH")}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, &StoreError{URL: rawURL, Err: err}
		}
		// busy_timeout makes concurrent writers (8 plugins ending at once)
		// wait their turn; immediate transactions take the write lock up
		// front, so two writers never deadlock upgrading a read lock. WAL
		// (readers work while a run is recorded) is set once, in setup.
		dsn := "file:" + path + "?_pragma=busy_timeout(30000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, &StoreError{URL: rawURL, Err: err}
		}
		return &Store{db: db, dialect: sqliteDialect, url: rawURL, file: path}, nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		u, err := url.Parse(rawURL)
		if err != nil {
			// An unparsable URL may still hold a password: say nothing of it.
			return nil, &StoreError{URL: "postgres://…", Err: errors.New("not a valid URL")}
		}
		red := u.Redacted()
		secret, _ := u.User.Password()
		db, err := sql.Open("pgx", rawURL)
		if err != nil {
			return nil, &StoreError{URL: red, Err: errors.New("not a valid PostgreSQL URL")}
		}
		db.SetMaxOpenConns(8)
		return &Store{db: db, dialect: postgresDialect, url: red, secret: secret}, nil
	}
	return nil, &StoreError{URL: redactAny(rawURL), Err: errors.New("unknown store: want sqlite:PATH or postgres://…")}
}

// redactAny removes what may be a password from a URL-ish string.
func redactAny(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	if i := strings.Index(s, "@"); i >= 0 {
		return "…" + s[i:]
	}
	return s
}

// URL is the store's URL without its password.
func (s *Store) URL() string { return s.url }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// fail wraps a database error as a StoreError, scrubbing the password
// from its text (drivers sometimes quote the connection string).
func (s *Store) fail(err error) error {
	if err == nil {
		return nil
	}
	var se *StoreError
	var ie *InputError
	if errors.As(err, &se) || errors.As(err, &ie) || errors.Is(err, ErrNotFound) {
		return err
	}
	msg := err.Error()
	if s.secret != "" {
		msg = strings.ReplaceAll(msg, s.secret, "xxxxx")
	}
	if strings.Contains(msg, "file is not a database") || strings.Contains(msg, "database disk image is malformed") {
		msg += " (the file is damaged or is not a findings ledger; move it aside and Warden starts a new one)"
	}
	return &StoreError{URL: s.url, Err: errors.New(msg)}
}

// tx runs fn in a transaction, committing if it returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return s.fail(err)
	}
	return s.fail(tx.Commit())
}

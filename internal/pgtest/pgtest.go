// Package pgtest starts a throwaway PostgreSQL server for tests: initdb
// into a temporary directory, pg_ctl start on a free loopback port, and
// one fresh database per test. It runs the server as the "postgres" user
// when the tests run as root (PostgreSQL refuses to run as root), so it
// works the same on a laptop and in CI. The server binaries come from the
// Debian package postgresql (scripts/test-setup.sh installs it); without
// them Start fails: the PostgreSQL store is never silently left untested.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// Server is a running throwaway PostgreSQL server.
type Server struct {
	dir  string
	bin  string
	port int
	as   *user.User // the user the server runs as; nil: this process's
	n    atomic.Int64
}

// bindir finds the newest PostgreSQL server binaries.
func bindir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	// Elsewhere (not Debian's layout): the directory of initdb on PATH.
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb, pg_ctl): install the Debian package postgresql (make test does, through scripts/test-setup.sh)")
}

// Start starts a server; Stop it when done.
func Start() (*Server, error) {
	bin, err := bindir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "warden-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and there is no postgres user to run the server as: %w", err)
		}
		s.as = u
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "warden", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200", s.port, dir)
	if out, err := s.run("pg_ctl", "-D", data, "-o", opts, "-w", "-t", "60", "-l", filepath.Join(dir, "log"), "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return s, nil
}

func (s *Server) run(tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(s.bin, tool), args...)
	if s.as != nil {
		cmd = exec.Command("runuser", append([]string{"-u", s.as.Username, "--", filepath.Join(s.bin, tool)}, args...)...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// URL is the URL of one database of the server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://warden@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// Database creates a fresh database for one test and returns its URL.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	url, create := s.Reserve(t)
	create()
	return url
}

// Reserve names a fresh database without creating it: connecting to its URL
// fails until create is called (a store that is down, then back).
func (s *Server) Reserve(t testing.TB) (url string, create func()) {
	t.Helper()
	name := fmt.Sprintf("t%d", s.n.Add(1))
	return s.URL(name), func() { s.create(t, name) }
}

func (s *Server) create(t testing.TB, name string) {
	t.Helper()
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
}

// Dump is pg_dump of a database the server holds (by URL): everything it
// stores, as text.
func (s *Server) Dump(t testing.TB, url string) []byte {
	t.Helper()
	out, err := exec.Command(filepath.Join(s.bin, "pg_dump"), "--dbname", url).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	return out
}

// Stop stops the server and removes its files.
func (s *Server) Stop() {
	s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	os.RemoveAll(s.dir)
}

package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/packs/spec"
)

// bigRun is a run of n resources with one finding on every fifth.
func bigRun(n int, at time.Time) *Run {
	r := run(Update, at, true)
	r.Resources = n
	r.Ran = []string{"aws/p0", "aws/p1", "aws/p2", "aws/p3", "aws/p4"}
	r.Analyzed = make([]string, n)
	for i := range n {
		urn := fmt.Sprintf("urn:pulumi:prod::site::aws:s3/bucket:Bucket::b%d", i)
		r.Analyzed[i] = urn
		if i%5 == 0 {
			r.Findings = append(r.Findings, violation(fmt.Sprintf("p%d", i%25/5), urn, spec.Advisory))
		}
	}
	return r
}

// BenchmarkRecord is what the findings ledger adds to the end of a run of
// 10,000 resources with 2,000 findings: ledger.Save (spool, open the store,
// record, drain), each iteration a new run of the same stack (findings
// seen again, as on every update after the first).
func BenchmarkRecord(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			url := "sqlite:" + filepath.Join(b.TempDir(), "findings.db")
			if name == "postgres" {
				url = pg.Database(b)
			}
			getenv := func(k string) string {
				if k == "XDG_STATE_HOME" {
					return b.TempDir()
				}
				return ""
			}
			at := t0
			if w := Save(context.Background(), url, getenv, bigRun(10000, at)); w != "" {
				b.Fatal(w)
			}
			b.ReportAllocs()
			for b.Loop() {
				at = at.Add(time.Hour)
				r := bigRun(10000, at)
				if w := Save(context.Background(), url, getenv, r); w != "" {
					b.Fatal(w)
				}
			}
		})
	}
}

// BenchmarkListByPolicy is `warden findings list --by policy` over
// 1,000,000 findings (10,000 stacks of 100), on SQLite.
func BenchmarkListByPolicy(b *testing.B) {
	url := "sqlite:" + filepath.Join(b.TempDir(), "findings.db")
	s, err := Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fill(b, s, 1_000_000)
	b.ResetTimer()
	for b.Loop() {
		gs, err := s.Grouped(context.Background(), Filter{}, ByPolicy)
		if err != nil || len(gs) != 125 {
			b.Fatalf("%d groups, %v", len(gs), err)
		}
	}
}

// fill inserts n findings directly, in one transaction: recording them run
// by run would measure Record, not the listing.
func fill(b *testing.B, s *Store, n int) {
	b.Helper()
	err := s.tx(context.Background(), func(tx *sql.Tx) error {
		ins, err := tx.Prepare(s.dialect.q(`INSERT INTO findings (` + findingColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
		if err != nil {
			return err
		}
		defer ins.Close()
		sevs := []string{"critical", "high", "medium", "low"}
		statuses := []string{"open", "open", "in-progress", "fixed", "ignored"}
		for i := range n {
			stack, policy := fmt.Sprintf("s%d", i/100), fmt.Sprintf("p%d", i%125)
			urn := fmt.Sprintf("urn:pulumi:%s::site::aws:s3/bucket:Bucket::b%d", stack, i%100)
			id := findings.ID("acme", "site", stack, "aws", policy, urn)
			if _, err := ins.Exec(id, "acme", "site", stack, "aws", policy, urn, "aws:s3/bucket:Bucket", sevs[i%4], "advisory", "violation",
				"message", "", statuses[i%5], "", "P3", "", int64(i), int64(i), "r", int64(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// clock is a fake clock whose Sleep advances it, ending the loop at end.
type clock struct {
	now    time.Time
	end    time.Time
	cancel context.CancelFunc
	onWake func(now time.Time)
}

func (c *clock) Now() time.Time { return c.now }

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		panic(fmt.Sprintf("sleep %s: the loop would spin", d))
	}
	c.now = c.now.Add(d)
	if c.onWake != nil {
		c.onWake(c.now)
	}
	if !c.now.Before(c.end) {
		c.cancel()
		return ctx.Err()
	}
	return nil
}

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// run drives a scheduler on a fake clock for d and returns when each job
// ran, as offsets from t0.
func run(t *testing.T, d time.Duration, jobs func(now time.Time) ([]Job, error), fail func(name string, at time.Duration) bool) (map[string][]time.Duration, *Scheduler, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &clock{now: t0, end: t0.Add(d), cancel: cancel}
	ran := map[string][]time.Duration{}
	var log bytes.Buffer
	s := &Scheduler{
		Jobs: func() ([]Job, error) { return jobs(c.now) },
		Run: func(ctx context.Context, j Job) error {
			at := c.now.Sub(t0)
			ran[j.Name] = append(ran[j.Name], at)
			c.now = c.now.Add(time.Second) // a run takes time
			if fail != nil && fail(j.Name, at) {
				return errors.New("bucket unreachable")
			}
			return nil
		},
		Log: &log, Now: c.Now, Sleep: c.Sleep,
	}
	if err := s.Loop(ctx); err != nil {
		t.Fatal(err)
	}
	return ran, s, log.String()
}

func offsets(ds ...string) string {
	return strings.Join(ds, " ")
}

func show(ds []time.Duration) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return strings.Join(out, " ")
}

// TestSchedule: each job runs at start and then once per period (counted
// from its start), in turn, never overlapping.
func TestSchedule(t *testing.T) {
	t.Parallel()
	ran, s, _ := run(t, 3*time.Hour, func(time.Time) ([]Job, error) {
		return []Job{{"hourly", time.Hour}, {"twice", 90 * time.Minute}}, nil
	}, nil)
	if got, want := show(ran["hourly"]), offsets("0s", "1h0m0s", "2h0m0s"); got != want {
		t.Errorf("hourly ran at %s, want %s", got, want)
	}
	// "twice" waits for hourly's first run (a second) at start.
	if got, want := show(ran["twice"]), offsets("1s", "1h30m1s"); got != want {
		t.Errorf("twice ran at %s, want %s", got, want)
	}
	st := s.Status()
	if len(st) != 2 || st[0].Name != "hourly" || st[0].Last != t0.Add(2*time.Hour) || st[0].Next != t0.Add(3*time.Hour) || st[0].LastErr != "" {
		t.Errorf("status: %+v", st)
	}
}

// TestRetry: a run that fails is retried after 1, 2, 4 ... minutes, up to
// the period, and a success resets the backoff.
func TestRetry(t *testing.T) {
	t.Parallel()
	ran, s, log := run(t, 30*time.Minute, func(time.Time) ([]Job, error) {
		return []Job{{"flaky", 5 * time.Minute}}, nil
	}, func(_ string, at time.Duration) bool { return at < 12*time.Minute })
	// Fails at 0, 1m, 3m, 7m, then is retried 5m later (8m capped at the
	// period): 12m succeeds, and the next runs are every 5m.
	if got, want := show(ran["flaky"]), offsets("0s", "1m0s", "3m0s", "7m0s", "12m0s", "17m0s", "22m0s", "27m0s"); got != want {
		t.Errorf("flaky ran at %s, want %s", got, want)
	}
	for _, want := range []string{"retrying in 1m0s", "retrying in 2m0s", "retrying in 4m0s", "retrying in 5m0s", "bucket unreachable"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if st := s.Status(); len(st) != 1 || st[0].LastErr != "" {
		t.Errorf("status after a success: %+v", st)
	}
}

// TestJobsChange: jobs are read again as time passes: a new job runs at
// once, a removed one stops, a new period counts from the last run, and an
// unreadable list keeps the previous one (logged once).
func TestJobsChange(t *testing.T) {
	t.Parallel()
	ran, _, log := run(t, 5*time.Hour, func(now time.Time) ([]Job, error) {
		at := now.Sub(t0)
		switch {
		case at < 90*time.Minute:
			return []Job{{"a", time.Hour}}, nil
		case at < 2*time.Hour+30*time.Minute:
			return nil, errors.New("warden.yaml:3:1: bad")
		case at < 3*time.Hour+30*time.Minute:
			return []Job{{"a", 2 * time.Hour}, {"b", time.Hour}}, nil
		default:
			return []Job{{"b", time.Hour}}, nil
		}
	}, nil)
	// a: 0, 1h, 2h (the last list kept); its new period makes the next
	// run 4h, but it is gone at 3h30m.
	if got, want := show(ran["a"]), offsets("0s", "1h0m0s", "2h0m0s"); got != want {
		t.Errorf("a ran at %s, want %s", got, want)
	}
	// b appears at the first wake after 2h30m (the loop wakes each minute
	// after a's 2h run, which took a second) and runs hourly.
	if got, want := show(ran["b"]), offsets("2h30m1s", "3h30m1s", "4h30m1s"); got != want {
		t.Errorf("b ran at %s, want %s", got, want)
	}
	if n := strings.Count(log, "cannot be read"); n != 1 {
		t.Errorf("the unreadable list was logged %d times:\n%s", n, log)
	}
}

// TestNoJobs: with nothing scheduled the loop waits, reading the list
// again each Poll.
func TestNoJobs(t *testing.T) {
	t.Parallel()
	reads := 0
	ran, _, _ := run(t, 10*time.Minute, func(time.Time) ([]Job, error) { reads++; return nil, nil }, nil)
	if len(ran) != 0 || reads != 10 {
		t.Errorf("ran %v, read the jobs %d times, want 10", ran, reads)
	}
}

// Package schedule runs the home's scheduled audit groups: each at start
// and then on its schedule, one at a time, retrying a failed run with
// backoff. `warden audit --watch` and `warden console` share it, so a
// group runs the same way whichever process keeps the ledger current.
//
// The jobs are read again at every wake (at least once a minute), so a
// group added, removed or rescheduled in warden.yaml, by hand or through
// the console, takes effect without a restart.
package schedule

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Job is one scheduled audit group.
type Job struct {
	Name  string
	Every time.Duration
}

// Status is what a job did last and will do next, for display.
type Status struct {
	Job
	Next    time.Time
	Last    time.Time // zero before its first run
	LastErr string    // "" when the last run completed
	Running bool
}

// Scheduler runs jobs on their schedules. Runs never overlap: one loop
// runs them in turn, the most overdue first.
type Scheduler struct {
	// Jobs lists the jobs; an error keeps the previous list (a home being
	// edited is not a reason to stop auditing).
	Jobs func() ([]Job, error)
	// Run runs one job; an error means it did not complete and is retried
	// after a minute, then two, four, ... up to the job's period.
	Run func(ctx context.Context, j Job) error
	// Log gets one line per run, retry and unreadable job list.
	Log io.Writer
	// Now and Sleep are the clock (tests pass a fake one); Sleep returns
	// ctx's error when ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	state map[string]*Status
}

// Poll is the longest the loop sleeps before reading the jobs again.
const Poll = time.Minute

// Loop runs the jobs until ctx ends, and then returns nil: an
// interrupted watch is a clean stop.
func (s *Scheduler) Loop(ctx context.Context) error {
	now, sleep := s.Now, s.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = realSleep
	}
	backoff := map[string]time.Duration{}
	var jobs []Job
	var jobsErr string
	for ctx.Err() == nil {
		js, err := s.Jobs()
		switch {
		case err != nil && err.Error() != jobsErr:
			jobsErr = err.Error()
			fmt.Fprintf(s.Log, "%s: the scheduled groups cannot be read, keeping the last ones: %v\n", now().Format(time.DateTime), err)
		case err == nil:
			jobs, jobsErr = js, ""
		}
		due := s.plan(jobs, now())
		if due == nil {
			if len(jobs) == 0 {
				if sleep(ctx, Poll) != nil {
					return nil
				}
				continue
			}
			wait := min(s.soonest().Sub(now()), Poll)
			if sleep(ctx, wait) != nil {
				return nil
			}
			continue
		}
		start := now()
		fmt.Fprintf(s.Log, "%s: auditing group %s\n", start.Format(time.DateTime), due.Name)
		s.update(due.Name, func(st *Status) { st.Running = true })
		err = s.Run(ctx, due.Job)
		if ctx.Err() != nil {
			s.update(due.Name, func(st *Status) { st.Running = false })
			return nil
		}
		s.update(due.Name, func(st *Status) {
			st.Running, st.Last, st.LastErr = false, start, ""
			if err == nil {
				backoff[due.Name] = 0
				st.Next = start.Add(st.Every)
				return
			}
			b := min(max(2*backoff[due.Name], time.Minute), st.Every)
			backoff[due.Name] = b
			st.Next, st.LastErr = start.Add(b), err.Error()
			fmt.Fprintf(s.Log, "audit of group %s did not complete (%v): retrying in %s\n", due.Name, err, b)
		})
	}
	return nil
}

// plan brings the state in line with jobs (new jobs are due now, gone
// ones dropped, a changed period counts from the last run) and returns
// the most overdue job, or nil.
func (s *Scheduler) plan(jobs []Job, now time.Time) *Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == nil {
		s.state = map[string]*Status{}
	}
	keep := map[string]bool{}
	for _, j := range jobs {
		keep[j.Name] = true
		st, ok := s.state[j.Name]
		switch {
		case !ok:
			s.state[j.Name] = &Status{Job: j, Next: now}
		case st.Every != j.Every:
			st.Every = j.Every
			if !st.Last.IsZero() && st.LastErr == "" {
				st.Next = st.Last.Add(j.Every)
			}
		}
	}
	var due *Status
	for name, st := range s.state {
		if !keep[name] {
			delete(s.state, name)
			continue
		}
		if !st.Next.After(now) && (due == nil || st.Next.Before(due.Next) || st.Next.Equal(due.Next) && st.Name < due.Name) {
			due = st
		}
	}
	if due == nil {
		return nil
	}
	c := *due
	return &c
}

func (s *Scheduler) soonest() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t time.Time
	for _, st := range s.state {
		if t.IsZero() || st.Next.Before(t) {
			t = st.Next
		}
	}
	return t
}

func (s *Scheduler) update(name string, f func(*Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.state[name]; ok {
		f(st)
	}
}

// Status is every job's state, by name.
func (s *Scheduler) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.state))
	for _, st := range s.state {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b Status) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func realSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package console

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/warden-policy/warden/internal/ledger"
	"github.com/warden-policy/warden/packs/home"
)

func fsSub(dir string) (fs.FS, error) { return fs.Sub(assets, dir) }

// ledgerOrFail is the store for a findings page, or renders why there is
// none.
func (s *Server) ledgerOrFail(w http.ResponseWriter, r *http.Request) *ledger.Store {
	st, err := s.store(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, err)
		return nil
	}
	if st == nil {
		s.fail(w, r, http.StatusNotFound, errors.New("no findings ledger: the console was started with the ledger off"))
		return nil
	}
	return st
}

// findingsOverview shows the compliance scores and the stack × pack map.
func (s *Server) findingsOverview(w http.ResponseWriter, r *http.Request) {
	st := s.ledgerOrFail(w, r)
	if st == nil {
		return
	}
	c, err := st.Compliance(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	// The heatmap: one row per stack, one column per pack, open findings.
	var stacks, packs []string
	cells := map[[2]string]int{}
	for _, cell := range c.Table {
		if !slices.Contains(stacks, cell.Stack) {
			stacks = append(stacks, cell.Stack)
		}
		if !slices.Contains(packs, cell.Pack) {
			packs = append(packs, cell.Pack)
		}
		n := 0
		for _, v := range cell.BySeverity {
			n += v
		}
		cells[[2]string{cell.Stack, cell.Pack}] = n
	}
	sort.Strings(packs)
	type row struct {
		Stack string
		Cells []int
	}
	var rows []row
	for _, stack := range stacks {
		rw := row{Stack: stack}
		for _, p := range packs {
			rw.Cells = append(rw.Cells, cells[[2]string{stack, p}])
		}
		rows = append(rows, rw)
	}
	runs, err := st.Runs(r.Context(), "", 10)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	s.render(w, r, http.StatusOK, "findings", page{Title: "Policy Findings", Nav: "findings", Data: map[string]any{
		"C": c, "Packs": packs, "Rows": rows, "Runs": runs,
	}})
}

// findingsCompliance lists failing resources per policy, filtered.
func (s *Server) findingsCompliance(w http.ResponseWriter, r *http.Request) {
	st := s.ledgerOrFail(w, r)
	if st == nil {
		return
	}
	q := r.URL.Query()
	f := ledger.Filter{Status: []ledger.Status{ledger.StatusOpen, ledger.StatusInProgress}, Pack: q.Get("pack")}
	if sev := q.Get("severity"); sev != "" {
		f.Severity = []string{sev}
	}
	if g := q.Get("group"); g != "" {
		h, err := s.home()
		if err == nil {
			err = st.ForGroup(r.Context(), h, g, &f)
		}
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, err)
			return
		}
	}
	groups, err := st.Grouped(r.Context(), f, ledger.ByPolicy)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	h, _ := s.home()
	var names []string
	if h != nil {
		for _, g := range h.Groups {
			names = append(names, g.Name)
		}
	}
	s.render(w, r, http.StatusOK, "compliance", page{Title: "Compliance", Nav: "findings", Data: map[string]any{
		"Groups": groups, "Severity": q.Get("severity"), "Pack": q.Get("pack"), "Group": q.Get("group"), "GroupNames": names,
	}})
}

// findingsIssues is the triage list, with batch edits.
func (s *Server) findingsIssues(w http.ResponseWriter, r *http.Request) {
	st := s.ledgerOrFail(w, r)
	if st == nil {
		return
	}
	q := r.URL.Query()
	f := ledger.Filter{Pack: q.Get("pack"), Policy: q.Get("policy"), Stack: q.Get("stack"), Assignee: q.Get("assignee")}
	status := q.Get("status")
	switch status {
	case "":
		f.Status = []ledger.Status{ledger.StatusOpen, ledger.StatusInProgress}
	case "all":
	default:
		if !ledger.Status(status).Valid() {
			s.fail(w, r, http.StatusBadRequest, fmt.Errorf("unknown status %q", status))
			return
		}
		f.Status = []ledger.Status{ledger.Status(status)}
	}
	if sev := q.Get("severity"); sev != "" {
		f.Severity = []string{sev}
	}
	// A page shows the most urgent 500; the rest are counted.
	f.Limit = 500
	list, err := st.Findings(r.Context(), f)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	more := 0
	if len(list) == f.Limit {
		total, err := st.Count(r.Context(), f)
		if err != nil {
			s.fail(w, r, http.StatusServiceUnavailable, err)
			return
		}
		more = total - len(list)
	}
	s.render(w, r, http.StatusOK, "issues", page{Title: "Issues", Nav: "findings", Data: map[string]any{
		"Findings": list, "More": more, "Status": status, "Severity": q.Get("severity"), "Pack": q.Get("pack"),
		"Stack": q.Get("stack"), "Assignee": q.Get("assignee"), "Statuses": ledger.Statuses, "Priorities": ledger.Priorities,
	}})
}

// updateFindings is a batch triage edit, through the ledger's rules.
func (s *Server) updateFindings(w http.ResponseWriter, r *http.Request) {
	st := s.ledgerOrFail(w, r)
	if st == nil {
		return
	}
	var t ledger.Triage
	if v := r.PostFormValue("status"); v != "" {
		status := ledger.Status(v)
		t.Status = &status
	}
	if v := r.PostFormValue("reason"); v != "" {
		t.Reason = &v
	}
	if v := r.PostFormValue("priority"); v != "" {
		t.Priority = &v
	}
	if r.PostFormValue("set-assignee") != "" {
		v := strings.TrimSpace(r.PostFormValue("assignee"))
		t.Assignee = &v
	}
	ids := r.PostForm["id"]
	err := st.Update(r.Context(), ids, t, s.opts.Actor, s.opts.Now())
	if s.ledgerFailed(w, r, err) {
		return
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/findings") {
		back = "/findings/issues"
	}
	done(w, r, back, fmt.Sprintf("updated %d finding(s)", len(ids)))
}

// finding is one finding: its fields, history, runs, and its policy's
// remediation steps.
func (s *Server) finding(w http.ResponseWriter, r *http.Request) {
	st := s.ledgerOrFail(w, r)
	if st == nil {
		return
	}
	f, history, runs, err := st.Finding(r.Context(), r.PathValue("id"))
	var ie *ledger.InputError
	if errors.As(err, &ie) {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	data := map[string]any{"F": f, "History": history, "Runs": runs, "Statuses": ledger.Statuses, "Priorities": ledger.Priorities}
	if h, err := s.home(); err == nil {
		data["Version"] = version(h)
		data["Editable"] = s.opts.Home != "" && f.URN != "" && f.Exception == ""
		if a, err := home.FindPack(h.Dir, f.Pack, ""); err == nil {
			for _, pol := range a.Pack.Policies {
				if pol.Name == f.Policy {
					data["Remediation"], data["URL"], data["Description"] = pol.RemediationSteps, pol.URL, pol.Description
				}
			}
		}
	}
	s.render(w, r, http.StatusOK, "finding", page{Title: "Finding " + f.ID, Nav: "findings", Data: data})
}

// ledgerFailed reports a ledger error, if any: a request the ledger
// refuses is the user's (400), anything else the store's (503).
func (s *Server) ledgerFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	var ie *ledger.InputError
	switch {
	case errors.As(err, &ie):
		s.fail(w, r, http.StatusBadRequest, err)
	case err != nil:
		s.fail(w, r, http.StatusServiceUnavailable, err)
	default:
		return false
	}
	return true
}

// exceptFinding is `warden exceptions new --finding ID`: it writes an
// exception for the finding into warden.yaml, with the reason, approver
// and expiry of the form.
func (s *Server) exceptFinding(w http.ResponseWriter, r *http.Request) {
	st := s.ledgerOrFail(w, r)
	if st == nil {
		return
	}
	id := r.PathValue("id")
	matches, err := st.ExceptionMatches(r.Context(), []string{id})
	if s.ledgerFailed(w, r, err) {
		return
	}
	expires, err := home.ParseExpiry(strings.TrimSpace(r.PostFormValue("expires")), s.opts.Now())
	if err != nil {
		s.editError(w, r, err)
		return
	}
	x := home.NewException{
		ID: cmp.Or(strings.TrimSpace(r.PostFormValue("exception")), "finding-"+id), Reason: strings.TrimSpace(r.PostFormValue("reason")),
		ApprovedBy: strings.TrimSpace(r.PostFormValue("approvedBy")), Expires: expires, Match: matches,
	}
	if err := s.edit(r.PostFormValue("version"), func(e *home.Editor, h *home.Home) error { return e.AddException(h, x) }); err != nil {
		s.editError(w, r, err)
		return
	}
	done(w, r, "/findings/"+id, "added exception "+x.ID+" to warden.yaml; the next run records the finding as excepted")
}

// stack is a stack's page: the groups that apply, its packs and levels,
// its last runs and open findings.
func (s *Server) stack(w http.ResponseWriter, r *http.Request) {
	h, err := s.home()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	ref := r.PathValue("org") + "/" + r.PathValue("project") + "/" + r.PathValue("stack")
	stack := home.Stack{Organization: r.PathValue("org"), Project: r.PathValue("project"), Name: r.PathValue("stack")}
	res, err := h.Resolve(stack, home.Preventative)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	data := map[string]any{"Stack": ref, "Groups": h.Applies(stack, home.Preventative), "Packs": resolvedPacks(res)}
	if b := h.Baseline(stack.Organization, stack.Project, stack.Name); b != nil {
		data["Baseline"] = b
	}
	if st, err := s.store(r.Context()); err == nil && st != nil {
		data["Runs"], _ = st.Runs(r.Context(), ref, 10)
		data["Open"], _ = st.Findings(r.Context(), ledger.Filter{Stack: ref, Status: []ledger.Status{ledger.StatusOpen, ledger.StatusInProgress}})
	}
	s.render(w, r, http.StatusOK, "stack", page{Title: "Stack " + ref, Nav: "findings", Data: data})
}

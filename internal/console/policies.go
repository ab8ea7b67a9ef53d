package console

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/warden-policy/warden/internal/backend"
	"github.com/warden-policy/warden/internal/schedule"
	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/spec"
)

func (s *Server) routes() {
	static, _ := fsSub("static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/packs", http.StatusSeeOther) })
	s.mux.HandleFunc("GET /packs", s.packs)
	s.mux.HandleFunc("GET /packs/{name}", s.pack)
	s.mux.HandleFunc("POST /packs/add", s.addPack)
	s.mux.HandleFunc("POST /packs/publish", s.publishPack)
	s.mux.HandleFunc("GET /groups", s.groups)
	s.mux.HandleFunc("GET /groups/new", s.groupForm)
	s.mux.HandleFunc("POST /groups/new", s.createGroup)
	s.mux.HandleFunc("GET /groups/{name}/edit", s.groupForm)
	s.mux.HandleFunc("POST /groups/{name}/edit", s.editGroup)
	s.mux.HandleFunc("POST /groups/{name}/remove", s.removeGroup)
	s.mux.HandleFunc("GET /resolve", s.resolve)
	s.mux.HandleFunc("GET /findings", s.findingsOverview)
	s.mux.HandleFunc("GET /findings/compliance", s.findingsCompliance)
	s.mux.HandleFunc("GET /findings/issues", s.findingsIssues)
	s.mux.HandleFunc("POST /findings/update", s.updateFindings)
	s.mux.HandleFunc("GET /findings/{id}", s.finding)
	s.mux.HandleFunc("POST /findings/{id}/exception", s.exceptFinding)
	s.mux.HandleFunc("GET /stacks/{org}/{project}/{stack}", s.stack)
}

// packRow is one pack in the Policy Packs table.
type packRow struct {
	Name, Version, Description, Publisher, Source string
	Policies                                      int
	Frameworks                                    []string
	Groups                                        []string
	InUse                                         bool
}

func publisher(a home.Available) string {
	if a.Source == "built-in" {
		return "Warden (built-in)"
	}
	return "organization"
}

func frameworks(p *engine.Pack) []string {
	var out []string
	for _, pol := range p.Policies {
		if f := pol.Framework; f != nil && f.Name != "" && !slices.Contains(out, f.Name) {
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	return out
}

// packs is the Policy Packs tab: the organization's packs (those the
// home's groups use, and those published in it) or the available catalog.
func (s *Server) packs(w http.ResponseWriter, r *http.Request) {
	h, err := s.home()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	view := r.URL.Query().Get("view")
	if view != "available" {
		view = "organization"
	}
	avail, err := home.Packs(h.Dir)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	used := map[string][]string{}
	for _, g := range h.Groups {
		for _, e := range g.Packs {
			if !slices.Contains(used[e.Name], g.Name) {
				used[e.Name] = append(used[e.Name], g.Name)
			}
		}
	}
	var rows []packRow
	seen := map[string]bool{}
	for _, a := range avail { // newest version of each first
		if seen[a.Pack.Name] {
			continue
		}
		seen[a.Pack.Name] = true
		row := packRow{
			Name: a.Pack.Name, Version: a.Pack.Version, Description: a.Pack.Description, Publisher: publisher(a), Source: a.Source,
			Policies: len(a.Pack.Policies), Frameworks: frameworks(a.Pack), Groups: used[a.Pack.Name], InUse: len(used[a.Pack.Name]) > 0,
		}
		inOrg := row.InUse || a.Source != "built-in"
		if view == "organization" && !inOrg || view == "available" && row.InUse {
			continue
		}
		rows = append(rows, row)
	}
	groups := []string{}
	for _, g := range h.Groups {
		if g.Mode == home.Preventative {
			groups = append(groups, g.Name)
		}
	}
	s.render(w, r, http.StatusOK, "packs", page{Title: "Policy Packs", Nav: "packs", Data: map[string]any{
		"View": view, "Rows": rows, "Groups": groups, "Version": version(h),
	}})
}

// version identifies the text of warden.yaml a form was made from: a save
// whose file has changed since is refused (no lost update).
func version(h *home.Home) string {
	sum := sha256.Sum256(h.Source)
	return hex.EncodeToString(sum[:8])
}

// StaleError is a save from a form older than warden.yaml.
var errStale = errors.New("warden.yaml changed on disk after this form was loaded (another edit, or git): nothing was written; reload the page and make the change again")

// edit applies a change to the home through home.Edit, as the CLI does,
// refusing it when warden.yaml is no longer the version the form showed.
func (s *Server) edit(formVersion string, fn func(e *home.Editor, h *home.Home) error) error {
	if s.opts.Home == "" {
		return errors.New("the embedded default home cannot be edited: run warden console --home DIR on a home (warden init makes one)")
	}
	return home.Edit(s.opts.Home, func(e *home.Editor, h *home.Home) error {
		if version(h) != formVersion {
			return errStale
		}
		return fn(e, h)
	})
}

// editError is how a refused edit is shown: bad input is the user's (400),
// a stale form a conflict (409).
func (s *Server) editError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadRequest
	if errors.Is(err, errStale) {
		status = http.StatusConflict
	}
	var be *home.BadEditError
	var re *home.RefusedError
	var ie *home.InvalidEditError
	if !errors.As(err, &be) && !errors.As(err, &re) && !errors.As(err, &ie) && !errors.Is(err, errStale) {
		status = http.StatusInternalServerError
	}
	s.fail(w, r, status, err)
}

// pack is a pack's page: Overview, Policies, Entities Applied.
func (s *Server) pack(w http.ResponseWriter, r *http.Request) {
	h, err := s.home()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	name, ver := r.PathValue("name"), r.URL.Query().Get("version")
	a, err := home.FindPack(h.Dir, name, ver)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, fmt.Errorf("no pack %s: %w", name, err))
		return
	}
	type entity struct {
		Group, Mode, Why string
		Stacks           []string
	}
	var entities []entity
	for _, g := range h.Groups {
		if !slices.ContainsFunc(g.Packs, func(e *home.PackEntry) bool { return e.Name == name }) {
			continue
		}
		e := entity{Group: g.Name, Mode: string(g.Mode)}
		switch {
		case g.Default:
			e.Why = "every stack (default group)"
		case g.Mode == home.Audit:
			for _, src := range g.Sources {
				e.Stacks = append(e.Stacks, src.Text)
			}
		default:
			for _, sel := range g.Stacks {
				e.Stacks = append(e.Stacks, sel.Text)
			}
			if g.Rule != nil {
				e.Why = "stacks tagged " + g.Rule.Text
			}
		}
		entities = append(entities, e)
	}
	s.render(w, r, http.StatusOK, "pack", page{Title: name, Nav: "packs", Data: map[string]any{
		"Pack": a.Pack, "Publisher": publisher(a), "Source": a.Source, "Frameworks": frameworks(a.Pack),
		"Entities": entities, "View": r.URL.Query().Get("view"), "Version": version(h),
		"InOrg": len(entities) > 0 || a.Source != "built-in",
	}})
}

// addPack is "Add to organization": the pack joins a preventative group
// (the default one unless chosen), as warden packs add does.
func (s *Server) addPack(w http.ResponseWriter, r *http.Request) {
	name, group, level := r.PostFormValue("pack"), r.PostFormValue("group"), spec.Level(r.PostFormValue("level"))
	if !builtin.Has(name) {
		s.fail(w, r, http.StatusBadRequest, fmt.Errorf("no built-in pack %q", name))
		return
	}
	err := s.edit(r.PostFormValue("version"), func(e *home.Editor, h *home.Home) error {
		target := group
		if target == "" {
			var err error
			if target, err = h.DefaultPreventative(); err != nil {
				return err
			}
		}
		return e.ChangeGroup(h, target, home.GroupChange{AddPacks: []home.PackRef{{Name: name, Level: level}}})
	})
	if err != nil {
		s.editError(w, r, err)
		return
	}
	done(w, r, "/packs/"+name, "added "+name+" to the organization")
}

// publishPack publishes a pack version from a directory, as warden packs
// publish does: validated, its tests run and passing, immutable once
// published.
func (s *Server) publishPack(w http.ResponseWriter, r *http.Request) {
	dir := strings.TrimSpace(r.PostFormValue("dir"))
	if s.opts.Home == "" || dir == "" {
		s.fail(w, r, http.StatusBadRequest, errors.New("give the pack's directory, on the machine the console runs on"))
		return
	}
	pub, err := home.Publish(r.Context(), s.opts.Home, dir)
	var pe *home.PublishError
	var list spec.ErrorList
	var perr *fs.PathError
	switch {
	case errors.As(err, &pe), errors.As(err, &list), errors.As(err, &perr):
		s.fail(w, r, http.StatusBadRequest, err)
		return
	case err != nil:
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	what := fmt.Sprintf("published %s@%s (%d policies, %d test cases)", pub.Pack.Name, pub.Pack.Version, len(pub.Pack.Policies), pub.Cases)
	if pub.Unchanged {
		what = fmt.Sprintf("%s@%s is already published, unchanged", pub.Pack.Name, pub.Pack.Version)
	}
	done(w, r, "/packs/"+pub.Pack.Name+"?version="+pub.Pack.Version, what)
}

// groupRow is one line of the Policy Groups table.
type groupRow struct {
	Name, Mode, Entities string
	Default              bool
	Packs                []string
	// Schedule is an audit group's schedule and, when this console runs
	// it, its last and next run; Failed is the last run's error.
	Schedule, Failed string
}

func describeGroup(g *home.Group) groupRow {
	row := groupRow{Name: g.Name, Mode: string(g.Mode), Default: g.Default}
	var ent []string
	switch {
	case g.Default:
		ent = append(ent, "all stacks")
	case g.Mode == home.Audit:
		for _, src := range g.Sources {
			ent = append(ent, src.Text)
		}
	default:
		for _, sel := range g.Stacks {
			ent = append(ent, sel.Text)
		}
		if g.Rule != nil {
			ent = append(ent, "tags: "+g.Rule.Text)
		}
	}
	row.Entities = strings.Join(ent, ", ")
	for _, e := range g.Packs {
		p := e.Name
		if e.Level != "" {
			p += " (" + string(e.Level) + ")"
		}
		row.Packs = append(row.Packs, p)
	}
	return row
}

// shortDuration is a schedule's period as people write it: 6h, not 6h0m0s.
func shortDuration(d time.Duration) string {
	out := d.String()
	for _, z := range []string{"m0s", "h0m"} {
		if strings.HasSuffix(out, z) {
			out = strings.TrimSuffix(out, z[1:])
		}
	}
	return out
}

func (s *Server) groups(w http.ResponseWriter, r *http.Request) {
	h, err := s.home()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	sched := map[string]schedule.Status{}
	if s.opts.Schedules != nil {
		for _, st := range s.opts.Schedules() {
			sched[st.Name] = st
		}
	}
	var rows []groupRow
	for _, g := range h.Groups {
		row := describeGroup(g)
		if g.Schedule > 0 {
			row.Schedule = "every " + shortDuration(g.Schedule)
			if st, ok := sched[g.Name]; ok {
				switch {
				case st.Running:
					row.Schedule += " · running now"
				case !st.Last.IsZero():
					row.Schedule += " · last " + st.Last.Format(time.DateTime)
				}
				if !st.Next.IsZero() && !st.Running {
					row.Schedule += " · next " + st.Next.Format(time.DateTime)
				}
				row.Failed = st.LastErr
			}
		}
		rows = append(rows, row)
	}
	s.render(w, r, http.StatusOK, "groups", page{Title: "Policy Groups", Nav: "groups", Data: map[string]any{"Rows": rows, "Version": version(h)}})
}

// groupFormData is what the create and edit forms show.
type groupFormData struct {
	Edit    bool
	Name    string
	Mode    string
	Default bool
	Stacks  string // one selector or source per line
	Rule    string
	Known   []string          // stacks the ledger knows, to choose from
	Chosen  []string          // of Known, those listed
	Packs   []string          // every pack available
	Levels  map[string]string // pack -> "include" or a level; absent: not in the group
	Version string
}

func (s *Server) groupForm(w http.ResponseWriter, r *http.Request) {
	h, err := s.home()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	d := groupFormData{Mode: r.URL.Query().Get("mode"), Levels: map[string]string{}, Version: version(h)}
	if d.Mode != string(home.Audit) {
		d.Mode = string(home.Preventative)
	}
	if name := r.PathValue("name"); name != "" {
		g := findGroup(h, name)
		if g == nil {
			s.fail(w, r, http.StatusNotFound, fmt.Errorf("no group %q", name))
			return
		}
		d.Edit, d.Name, d.Mode, d.Default = true, g.Name, string(g.Mode), g.Default
		var lines []string
		for _, sel := range g.Stacks {
			lines = append(lines, sel.Text)
		}
		for _, src := range g.Sources {
			lines = append(lines, src.Text)
		}
		d.Stacks = strings.Join(lines, "\n")
		if g.Rule != nil {
			d.Rule = g.Rule.Text
		}
		for _, e := range g.Packs {
			d.Levels[e.Name] = "include"
			if e.Level != "" {
				d.Levels[e.Name] = string(e.Level)
			}
		}
	}
	avail, err := home.Packs(h.Dir)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	for _, a := range avail {
		if !slices.Contains(d.Packs, a.Pack.Name) {
			d.Packs = append(d.Packs, a.Pack.Name)
		}
	}
	d.Known = s.knownStacks(r, h)
	title := "Create " + d.Mode + " policy group"
	if d.Edit {
		title = "Edit policy group " + d.Name
	}
	s.render(w, r, http.StatusOK, "group", page{Title: title, Nav: "groups", Data: d})
}

// knownStacks are the stacks a form offers: the backend's (--backend, any
// URL pulumi login takes) and those the ledger has findings of, as
// org/project/stack. A backend that cannot be read offers none.
func (s *Server) knownStacks(r *http.Request, h *home.Home) []string {
	var out []string
	if s.opts.Backend != "" {
		if b, err := backend.Open(r.Context(), s.opts.Backend); err == nil {
			refs, _ := b.Stacks(r.Context())
			b.Close()
			for _, ref := range refs {
				project := ref.Project
				if project == "" { // the legacy layout names no project
					project = "*"
				}
				out = append(out, h.Org("")+"/"+project+"/"+ref.Name)
			}
		}
	}
	if st, err := s.store(r.Context()); err == nil && st != nil {
		seen, _ := st.Stacks(r.Context())
		out = append(out, seen...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func findGroup(h *home.Home, name string) *home.Group {
	for _, g := range h.Groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// formList reads a textarea of one item per line (or comma-separated) and
// the checked boxes of a field.
func formList(r *http.Request, text, boxes string) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, line := range strings.FieldsFunc(r.PostFormValue(text), func(c rune) bool { return c == '\n' || c == ',' }) {
		add(line)
	}
	for _, v := range r.PostForm[boxes] {
		add(v)
	}
	return out
}

// formPacks reads the pack rows: each pack's select is "" (not in the
// group), "include" (the pack's own levels) or a level.
func formPacks(r *http.Request) ([]home.PackRef, error) {
	var out []home.PackRef
	names := make([]string, 0, len(r.PostForm))
	for k := range r.PostForm {
		if strings.HasPrefix(k, "pack:") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		v := r.PostFormValue(k)
		switch v {
		case "":
			continue
		case "include":
			out = append(out, home.PackRef{Name: strings.TrimPrefix(k, "pack:")})
		default:
			if !spec.Level(v).Valid() {
				return nil, &home.BadEditError{Err: fmt.Errorf("level %q: want advisory, mandatory, remediate or disabled", v)}
			}
			out = append(out, home.PackRef{Name: strings.TrimPrefix(k, "pack:"), Level: spec.Level(v)})
		}
	}
	return out, nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	g := home.NewGroup{Name: strings.TrimSpace(r.PostFormValue("name")), Mode: home.Mode(r.PostFormValue("mode")), Rule: strings.TrimSpace(r.PostFormValue("rule"))}
	if g.Name == "" {
		s.fail(w, r, http.StatusBadRequest, errors.New("a group needs a name"))
		return
	}
	if g.Mode != home.Preventative && g.Mode != home.Audit {
		s.fail(w, r, http.StatusBadRequest, fmt.Errorf("mode %q: want preventative or audit", g.Mode))
		return
	}
	list := formList(r, "stacks", "stack")
	if g.Mode == home.Audit {
		g.Sources, g.Rule = list, ""
	} else {
		g.Stacks = list
	}
	packs, err := formPacks(r)
	if err != nil {
		s.editError(w, r, err)
		return
	}
	g.Packs = packs
	if err := s.edit(r.PostFormValue("version"), func(e *home.Editor, h *home.Home) error { return e.AddGroup(h, g) }); err != nil {
		s.editError(w, r, err)
		return
	}
	done(w, r, "/groups", "created group "+g.Name)
}

// editGroup turns the submitted form into the change from the group as it
// is: stacks, sources and packs added and removed, levels, rule, name.
func (s *Server) editGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	packs, err := formPacks(r)
	if err != nil {
		s.editError(w, r, err)
		return
	}
	list := formList(r, "stacks", "stack")
	rename := strings.TrimSpace(r.PostFormValue("name"))
	rule := strings.TrimSpace(r.PostFormValue("rule"))
	err = s.edit(r.PostFormValue("version"), func(e *home.Editor, h *home.Home) error {
		g := findGroup(h, name)
		if g == nil {
			return &home.BadEditError{Err: fmt.Errorf("no group %q", name)}
		}
		var c home.GroupChange
		if rename != "" && rename != name {
			c.Rename = rename
		}
		var have []string
		if g.Mode == home.Audit {
			for _, src := range g.Sources {
				have = append(have, src.Text)
			}
			c.AddSources, c.RemoveSources = diff(have, list)
		} else {
			for _, sel := range g.Stacks {
				have = append(have, sel.Text)
			}
			c.AddStacks, c.RemoveStacks = diff(have, list)
			cur := ""
			if g.Rule != nil {
				cur = g.Rule.Text
			}
			if rule != cur {
				c.Rule = &rule
			}
		}
		current := map[string]*home.PackEntry{}
		for _, pe := range g.Packs {
			current[pe.Name] = pe
		}
		for _, p := range packs {
			pe, ok := current[p.Name]
			switch {
			case !ok:
				c.AddPacks = append(c.AddPacks, p)
			case pe.Level != p.Level && p.Level != "":
				c.Levels = append(c.Levels, p)
			}
			delete(current, p.Name)
		}
		for n := range current {
			c.RemovePacks = append(c.RemovePacks, n)
		}
		sort.Strings(c.RemovePacks)
		return e.ChangeGroup(h, name, c)
	})
	if err != nil {
		s.editError(w, r, err)
		return
	}
	done(w, r, "/groups", "saved group "+cmpOr(rename, name))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// diff is what to add to have and remove from it to get want.
func diff(have, want []string) (add, remove []string) {
	for _, w := range want {
		if !slices.Contains(have, w) {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !slices.Contains(want, h) {
			remove = append(remove, h)
		}
	}
	return add, remove
}

func (s *Server) removeGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.edit(r.PostFormValue("version"), func(e *home.Editor, h *home.Home) error { return e.RemoveGroup(h, name) }); err != nil {
		s.editError(w, r, err)
		return
	}
	done(w, r, "/groups", "removed group "+name)
}

// resolve is `warden groups resolve` for a chosen stack.
func (s *Server) resolve(w http.ResponseWriter, r *http.Request) {
	h, err := s.home()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	data := map[string]any{"Stack": r.URL.Query().Get("stack"), "Known": s.knownStacks(r, h)}
	if ref := r.URL.Query().Get("stack"); ref != "" {
		parts := strings.Split(ref, "/")
		if len(parts) != 3 || slices.Contains(parts, "") {
			s.fail(w, r, http.StatusBadRequest, fmt.Errorf("stack %q: want org/project/stack", ref))
			return
		}
		stack := home.Stack{Organization: parts[0], Project: parts[1], Name: parts[2]}
		res, err := h.Resolve(stack, home.Preventative)
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, err)
			return
		}
		data["Groups"] = h.Applies(stack, home.Preventative)
		data["Packs"] = resolvedPacks(res)
	}
	s.render(w, r, http.StatusOK, "resolve", page{Title: "Which groups apply", Nav: "groups", Data: data})
}

type resolvedPolicy struct {
	Name, Level, From string
}

type resolvedPack struct {
	Name     string
	Groups   []string
	Policies []resolvedPolicy
}

func resolvedPacks(res *home.Resolution) []resolvedPack {
	var out []resolvedPack
	for _, rp := range res.Packs {
		p := resolvedPack{Name: rp.Pack.String()}
		for _, g := range rp.Groups {
			p.Groups = append(p.Groups, g.Group+" ("+g.Why+")")
		}
		for _, pol := range rp.Pack.Policies {
			p.Policies = append(p.Policies, resolvedPolicy{Name: pol.Name, Level: string(rp.Config[pol.Name].Level), From: rp.LevelFrom[pol.Name]})
		}
		out = append(out, p)
	}
	return out
}

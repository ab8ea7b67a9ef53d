package home

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/warden-policy/warden/packs/spec"
)

// NewException is an exception to add: the policies (as "pack/policy" or
// exposed names) and targets of each match, why, who approved it, and
// until when.
type NewException struct {
	ID         string
	Reason     string
	ApprovedBy string
	Expires    time.Time // zero: never
	Match      []ExceptionMatch
}

// AddException adds an exception after the home's last one, leaving every
// other line of warden.yaml (comments included) as it was.
func (e *Editor) AddException(h *Home, x NewException) error {
	if x.ID == "" || strings.ContainsAny(x.ID, " :#\n") {
		return badEdit("exception id %q: want a word (letters, digits, - and _)", x.ID)
	}
	if slices.ContainsFunc(h.Exceptions, func(o *Exception) bool { return o.ID == x.ID }) {
		return badEdit("exception %q already exists", x.ID)
	}
	if strings.TrimSpace(x.Reason) == "" {
		return badEdit("an exception needs a reason: say why the waiver is safe")
	}
	body := mapping("reason", x.Reason)
	if x.ApprovedBy != "" {
		mapSet(body, "approvedBy", scalar(x.ApprovedBy))
	}
	if !x.Expires.IsZero() {
		mapSet(body, "expires", scalar(x.Expires.Format(time.DateOnly)))
	}
	matches := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, m := range x.Match {
		mn := mapping("policies", flowSeq(m.Policies), "targets", seq(m.Targets...))
		matches.Content = append(matches.Content, mn)
	}
	mapSet(body, "match", matches)

	l, err := e.locate()
	if err != nil {
		return err
	}
	before, err := e.snapshot()
	if err != nil {
		return err
	}
	var key, val *yaml.Node
	for i := 0; i+1 < len(l.root.Content); i += 2 {
		if l.root.Content[i].Value == "exceptions" {
			key, val = l.root.Content[i], l.root.Content[i+1]
		}
	}
	entry := func(col int) (string, error) {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(mapping(x.ID, body)); err != nil {
			return "", err
		}
		enc.Close()
		var out strings.Builder
		for _, line := range strings.SplitAfter(buf.String(), "\n") {
			if strings.TrimSpace(line) != "" {
				out.WriteString(strings.Repeat(" ", col) + line)
			}
		}
		return out.String(), nil
	}
	switch {
	case key == nil:
		text, err := entry(2)
		if err != nil {
			return err
		}
		src := string(e.src)
		if src != "" && !strings.HasSuffix(src, "\n") {
			src += "\n"
		}
		e.setSource([]byte(src+"exceptions:\n"+text), nil)
	case val.Kind == yaml.MappingNode && val.Style&yaml.FlowStyle == 0 && len(val.Content) > 0:
		// After the last exception: up to the next top-level key (or the
		// end), less the blank and comment lines that belong to it.
		lines := e.lines()
		to := len(lines)
		for k := 0; k+1 < len(l.root.Content); k += 2 {
			if n := l.root.Content[k]; n.Line > key.Line && n.Line-1 < to {
				to = n.Line - 1
			}
		}
		last := val.Content[len(val.Content)-2].Line - 1
		for to > last+1 {
			if t := strings.TrimSpace(lines[to-1]); t != "" && !strings.HasPrefix(t, "#") {
				break
			}
			to--
		}
		text, err := entry(val.Content[0].Column - 1)
		if err != nil {
			return err
		}
		e.splice(to, to, text)
	case (val.Kind == yaml.MappingNode && len(val.Content) == 0) || (val.Kind == yaml.ScalarNode && val.Tag == "!!null"):
		// exceptions: {} (or nothing) on one line: becomes a block mapping.
		line := key.Line - 1
		text, err := entry(key.Column + 1)
		if err != nil {
			return err
		}
		e.splice(line, line+1, strings.Repeat(" ", key.Column-1)+"exceptions:\n"+text)
	default:
		return &RefusedError{Pos: e.pos(val), Msg: "exceptions is not a block mapping warden can append to: edit it by hand"}
	}
	// The edit must add exactly this exception and change nothing else.
	after, err := e.Home()
	if err != nil {
		e.restore(before)
		return err
	}
	if len(after.Exceptions) != len(h.Exceptions)+1 || after.Exceptions[len(after.Exceptions)-1].ID != x.ID ||
		len(after.Groups) != len(h.Groups) {
		e.restore(before)
		return &RefusedError{Pos: spec.Pos{File: e.File}, Msg: "adding the exception would change more than the exceptions: edit warden.yaml by hand"}
	}
	return nil
}

var relativeDays = regexp.MustCompile(`^(\d+)([dw])$`)

// ParseExpiry reads an exception's expiry as people give it: a number of
// days (30d) or weeks (2w) from now, or a date; the last day it applies.
// "" is no expiry. A day already past is refused: an exception that never
// applies is a mistake.
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	y, m, d := now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	var t time.Time
	if g := relativeDays.FindStringSubmatch(s); g != nil {
		n, err := strconv.Atoi(g[1])
		if err != nil || n > 3660 {
			return t, badEdit("expiry %q: at most 3660 days", s)
		}
		if g[2] == "w" {
			n *= 7
		}
		t = today.AddDate(0, 0, n)
	} else {
		var err error
		if t, err = time.Parse(time.DateOnly, s); err != nil {
			return t, badEdit("expiry %q: want a number of days (30d), of weeks (2w), or a date (YYYY-MM-DD)", s)
		}
	}
	if t.Before(today) {
		return t, badEdit("expiry %s is in the past (today is %s)", t.Format(time.DateOnly), today.Format(time.DateOnly))
	}
	return t, nil
}

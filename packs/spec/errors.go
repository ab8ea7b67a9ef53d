package spec

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Pos is a position in a source file. Line and Col are 1-based; a zero Col
// means the column is not known (yaml.v3 syntax errors carry only a line).
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col,omitempty"`
}

// IsValid reports whether the position has at least a line.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String renders the position as file:line:col, leaving out what is unknown.
func (p Pos) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.IsValid() {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%d", p.Line)
		if p.Col > 0 {
			fmt.Fprintf(&b, ":%d", p.Col)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// Error codes are stable strings a machine can match on (as OPA's
// rego_parse_error), printed in JSON output but not in the human form.
const (
	CodeSyntax  = "syntax"  // the YAML does not parse
	CodeSchema  = "schema"  // a field is missing, unknown or of the wrong type
	CodeInvalid = "invalid" // a value is out of its domain (name, version, level, token)
	CodeCompile = "compile" // a CEL expression does not parse or type-check
	CodeConfig  = "config"  // a policy config does not match its schema
)

// Error is one positioned problem in a pack or policy home. Pack and Policy
// name what the problem concerns, when known.
type Error struct {
	Pos    Pos    `json:"pos"`
	Code   string `json:"code"`
	Pack   string `json:"pack,omitempty"`
	Policy string `json:"policy,omitempty"`
	Msg    string `json:"message"`
}

// Error renders "file:line:col: pack/policy: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	if subject := e.Subject(); subject != "" {
		b.WriteString(subject)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Subject is "pack", "pack/policy" or "" depending on what is known.
func (e *Error) Subject() string {
	switch {
	case e.Pack != "" && e.Policy != "":
		return e.Pack + "/" + e.Policy
	case e.Pack != "":
		return e.Pack
	case e.Policy != "":
		return e.Policy
	}
	return ""
}

// ErrorList collects every problem found in a load instead of stopping at the
// first one, in the manner of go/scanner.ErrorList.
type ErrorList []*Error

// Add appends an error at pos.
func (l *ErrorList) Add(pos Pos, code, pack, policy, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Code: code, Pack: pack, Policy: policy, Msg: fmt.Sprintf(format, args...)})
}

// Append adds all errors of other.
func (l *ErrorList) Append(other ErrorList) { *l = append(*l, other...) }

// Len, Sort: errors sort by file, line, column, then message.
func (l ErrorList) Len() int { return len(l) }

// Sort orders the list by position, then message, and drops exact duplicates.
func (l *ErrorList) Sort() {
	slices.SortStableFunc(*l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	*l = slices.CompactFunc(*l, func(a, b *Error) bool { return *a == *b })
}

// Error summarises the list: the first error, and how many more there are.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Sources looks up the text of a file so that Print can show the offending
// line under each message.
type Sources func(file string) []byte

// Print writes one error per line. When src knows the file, the source line
// and a caret under the column follow each message, as cel-go prints them.
func Print(w io.Writer, err error, src Sources) {
	var list ErrorList
	switch e := err.(type) {
	case ErrorList:
		list = e
	case *Error:
		list = ErrorList{e}
	default:
		fmt.Fprintln(w, err)
		return
	}
	for _, e := range list {
		fmt.Fprintln(w, e.Error())
		if src == nil || !e.Pos.IsValid() {
			continue
		}
		line, ok := sourceLine(src(e.Pos.File), e.Pos.Line)
		if !ok {
			continue
		}
		fmt.Fprintf(w, " | %s\n", line)
		if e.Pos.Col > 0 {
			fmt.Fprintf(w, " | %s^\n", caretPad(line, e.Pos.Col))
		}
	}
}

func sourceLine(text []byte, n int) (string, bool) {
	if text == nil {
		return "", false
	}
	lines := strings.Split(string(text), "\n")
	if n < 1 || n > len(lines) {
		return "", false
	}
	return strings.TrimRight(lines[n-1], "\r"), true
}

// caretPad returns the padding that puts a caret under column col of line,
// keeping tabs so the caret lines up in a terminal.
func caretPad(line string, col int) string {
	var b strings.Builder
	for i, r := range line {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

package engine

import (
	"encoding/json"
	"encoding/xml"
	"html"
	"strconv"
	"strings"
)

// SecretForms lists the ways a secret's plaintext can appear in text: as it
// is, and as each escaping Warden's outputs and the libraries it calls
// apply to a string (Go's %q and its ASCII form, JSON with and without HTML
// escaping, XML and HTML). A scrubber or a leak check that looks for the
// plaintext alone misses `hunter\"2` in a quoted error or `a&amp;b` in
// JUnit. The plaintext comes first; the forms are distinct.
func SecretForms(plain string) []string {
	forms := []string{plain}
	add := func(f string) {
		for _, g := range forms {
			if g == f {
				return
			}
		}
		forms = append(forms, f)
	}
	unquote := func(q string) string { return q[1 : len(q)-1] }
	add(unquote(strconv.Quote(plain)))
	add(unquote(strconv.QuoteToASCII(plain)))
	add(unquote(strconv.QuoteToGraphic(plain)))
	if b, err := json.Marshal(plain); err == nil { // escapes <, > and & too
		add(unquote(string(b)))
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(plain) == nil {
		add(unquote(strings.TrimSuffix(b.String(), "\n")))
	}
	add(html.EscapeString(plain))
	var x strings.Builder
	if xml.EscapeText(&x, []byte(plain)) == nil { // also escapes \n, \t and \r
		add(x.String())
	}
	return forms
}

package engine

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"slices"
	"strings"
	"testing"
)

// TestSecretForms: every rendering of a secret that Warden's outputs or
// the libraries it calls produce is among its forms.
func TestSecretForms(t *testing.T) {
	secret := "hunter\"2\\x\nline2\t\u2028<&>'\x01é"
	forms := SecretForms(secret)
	if forms[0] != secret {
		t.Errorf("first form %q, want the plaintext", forms[0])
	}
	jsonHTML, _ := json.Marshal(secret)
	var jsonPlain bytes.Buffer
	enc := json.NewEncoder(&jsonPlain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(secret)
	var x bytes.Buffer
	_ = xml.EscapeText(&x, []byte(secret))
	renderings := map[string]string{
		"%q":             fmt.Sprintf("%q", secret),
		"%+q":            fmt.Sprintf("%+q", secret),
		"json":           string(jsonHTML),
		"json, no html":  jsonPlain.String(),
		"xml.EscapeText": x.String(),
		"html":           html.EscapeString(secret),
	}
	for name, text := range renderings {
		if !slices.ContainsFunc(forms, func(f string) bool { return strings.Contains(text, f) }) {
			t.Errorf("%s rendering %q contains none of the forms %q", name, text, forms)
		}
	}
	for i, f := range forms {
		if slices.Index(forms, f) != i {
			t.Errorf("form %q repeated", f)
		}
	}
}

package packtest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
)

// TestLeakedSecretEscaped: the leak check finds a secret however its
// plaintext was escaped on the way into a message or an error.
func TestLeakedSecretEscaped(t *testing.T) {
	secret := "hunter\"2\nline2\u2028"
	for _, text := range []string{
		"bad " + secret,
		fmt.Sprintf("invalid RFC 3339 timestamp %q", secret),
		fmt.Sprintf("%+q", secret),
		`{"error": "hunter\"2\nline2\u2028"}`,
		"hunter&#34;2&#xA;line2\u2028",
	} {
		r := &engine.Result{Errors: []error{errors.New(text)}}
		if got := leakedSecret(r, []string{secret}); got != "error 0" {
			t.Errorf("leakedSecret(%q) = %q, want error 0", text, got)
		}
	}
	r := &engine.Result{Errors: []error{errors.New("the error depends on a secret value")}}
	if got := leakedSecret(r, []string{secret}); got != "" {
		t.Errorf("leakedSecret on a clean error = %q", got)
	}
}

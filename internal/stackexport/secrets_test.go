package stackexport

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"

	"github.com/warden-policy/warden/packs/engine"
)

// TestPassphraseSecrets: with the stack's passphrase, an encrypted secret
// is read as a secret of its value, through the SDK's crypter and the salt
// Pulumi's passphrase secrets manager writes; without it, or with a wrong
// one, it stays an unknown secret and is counted.
func TestPassphraseSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	salt := []byte("0123456789abcdef")
	c := config.NewSymmetricCrypterFromPassphrase("correct horse", salt)
	check, _ := c.EncryptValue(ctx, "pulumi")
	ct, _ := c.EncryptValue(ctx, `"s3cret-value-1234"`)
	export, err := json.Marshal(map[string]any{"version": 3, "deployment": map[string]any{
		"secrets_providers": map[string]any{"type": "passphrase", "state": map[string]any{"salt": "v1:" + base64.StdEncoding.EncodeToString(salt) + ":" + check}},
		"resources": []any{map[string]any{
			"urn": "urn:pulumi:prod::shop::aws:rds/instance:Instance::db", "type": "aws:rds/instance:Instance", "custom": true,
			"inputs": map[string]any{"password": map[string]any{sig.Key: sig.Secret, "ciphertext": ct}},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	password := func(st *Stack) any { return st.Resources[0].Inputs.Props["password"] }
	for _, c := range []struct {
		phrase    string
		want      any
		encrypted int
		wrong     bool
	}{
		{"correct horse", engine.Secret{Value: "s3cret-value-1234"}, 0, false},
		{"", engine.Secret{Value: engine.Unknown{}}, 1, false},
		{"wrong horse", engine.Secret{Value: engine.Unknown{}}, 1, true},
	} {
		st, err := ReadWith(strings.NewReader(string(export)), Options{Passphrase: c.phrase})
		if err != nil {
			t.Fatal(err)
		}
		if got := password(st); got != c.want || st.Encrypted != c.encrypted || st.WrongPassphrase != c.wrong {
			t.Errorf("passphrase %q: %#v, %d encrypted, wrong %v", c.phrase, got, st.Encrypted, st.WrongPassphrase)
		}
	}
}

package stackexport

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
)

// Options change how a state is read.
type Options struct {
	// Passphrase, when set, decrypts the secrets of a stack whose secrets
	// provider is "passphrase" (PULUMI_CONFIG_PASSPHRASE), through the
	// Pulumi SDK's crypter, so policies see their values (which are still
	// secrets: never shown). Other secrets stay unknown, counted in
	// Stack.Encrypted.
	Passphrase string
}

// ErrWrongPassphrase is a passphrase that does not open a stack's secrets;
// they stay unknown (Stack.WrongPassphrase).
var ErrWrongPassphrase = errors.New("the passphrase does not decrypt this stack's secrets")

type secretsProvider struct {
	Type  string `json:"type"`
	State struct {
		Salt string `json:"salt"`
	} `json:"state"`
}

// crypters caches a crypter per passphrase and salt: deriving the key takes
// a million PBKDF2 rounds (by design, a second or so), once per stack
// config, not once per value.
var crypters sync.Map // passphrase + "\x00" + salt -> config.Crypter

// passphraseCrypter is the crypter of a passphrase-encrypted stack, checked
// against the salt's own encrypted "pulumi", as Pulumi's passphrase
// secrets manager does: "v1:<base64 salt>:v1:<nonce>:<ciphertext>".
func passphraseCrypter(phrase, salt string) (config.Crypter, error) {
	key := phrase + "\x00" + salt
	if c, ok := crypters.Load(key); ok {
		return c.(config.Crypter), nil
	}
	parts := strings.SplitN(salt, ":", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, fmt.Errorf("the stack's passphrase salt is not in a form Pulumi writes")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("the stack's passphrase salt: %w", err)
	}
	c := config.NewSymmetricCrypterFromPassphrase(phrase, raw)
	if check, err := c.DecryptValue(context.Background(), parts[2]); err != nil || check != "pulumi" {
		return nil, ErrWrongPassphrase
	}
	crypters.Store(key, c)
	return c, nil
}

// decrypter is how a read turns a secret's ciphertext into its plaintext
// JSON, nil when it cannot.
func decrypter(opts Options, sp *secretsProvider, s *Stack) func(string) (string, bool) {
	if opts.Passphrase == "" || sp == nil || sp.Type != "passphrase" {
		return nil
	}
	c, err := passphraseCrypter(opts.Passphrase, sp.State.Salt)
	if err != nil {
		s.WrongPassphrase = true
		return nil
	}
	return func(ciphertext string) (string, bool) {
		pt, err := c.DecryptValue(context.Background(), ciphertext)
		return pt, err == nil && json.Valid([]byte(pt))
	}
}

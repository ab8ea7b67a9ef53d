package stackexport

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-policy/warden/packs/engine"
)

// FuzzReadExport: Read never panics; a positioned error has a line and a
// column; an export it accepts is one JSON value of a version Pulumi
// writes, whose property values nest at most MaxDepth deep.
func FuzzReadExport(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "..", "testdata", "stacks", "example.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, s := range []string{minimal, minimal + "x", `{"version": -1, "deployment": {}}`, deepExport(MaxDepth + 1),
		`{"version": 2, "checkpoint": {"stack": "o/p/s", "latest": {"resources": [{"urn": "u", "type": "pulumi:providers:aws", "inputs": {"region": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}}]}}}`,
		`{"version": 3, "deployment": {"resources": [{"urn": "u", "type": "t", "provider": "p::id", "outputs": {"s": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "[[1]]"}}}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Read(strings.NewReader(string(data)))
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) && (pe.Line < 1 || pe.Col < 1) {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON")
		}
		var head struct{ Version int }
		if err := json.Unmarshal(data, &head); err != nil || head.Version < minVersion || head.Version > maxVersion {
			t.Fatalf("accepted version %d (%v)", head.Version, err)
		}
		for _, r := range st.Resources {
			if r.Inputs == nil || r.Outputs == nil {
				t.Fatal("a resource without inputs or outputs")
			}
			for _, props := range []map[string]any{r.Inputs.Props, r.Outputs.Props} {
				if d := depth(props); d > MaxDepth+1 { // +1: a secret wraps its value
					t.Fatalf("accepted values %d deep", d)
				}
			}
		}
	})
}

func depth(v any) int {
	switch v := v.(type) {
	case map[string]any:
		d := 0
		for _, e := range v {
			d = max(d, depth(e))
		}
		return d + 1
	case []any:
		d := 0
		for _, e := range v {
			d = max(d, depth(e))
		}
		return d + 1
	case engine.Secret:
		return depth(v.Value)
	}
	return 0
}

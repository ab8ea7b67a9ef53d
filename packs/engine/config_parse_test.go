package engine

import (
	"reflect"
	"strings"
	"testing"

	"github.com/warden-policy/warden/packs/spec"
)

// TestParsePolicyConfig: the --policy-pack-config forms, shared by
// warden.yaml and pack tests.
func TestParsePolicyConfig(t *testing.T) {
	tests := []struct {
		in      any
		want    PolicyConfig
		wantErr string
	}{
		{in: "mandatory", want: PolicyConfig{Level: spec.Mandatory}},
		{in: map[string]any{"enforcementLevel": "advisory", "tags": []any{"owner"}},
			want: PolicyConfig{Level: spec.Advisory, Properties: map[string]any{"tags": []any{"owner"}}}},
		{in: map[string]any{"tags": []any{"owner"}}, want: PolicyConfig{Properties: map[string]any{"tags": []any{"owner"}}}},
		// An unknown level is kept for the caller to report at its position.
		{in: "blocking", want: PolicyConfig{Level: "blocking"}},
		{in: map[string]any{"enforcementLevel": 1.0}, wantErr: "enforcementLevel must be a string"},
		{in: 3.0, wantErr: "want a level or a mapping"},
		{in: []any{"mandatory"}, wantErr: "want a level or a mapping"},
	}
	for _, tc := range tests {
		got, err := ParsePolicyConfig(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParsePolicyConfig(%v) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParsePolicyConfig(%v) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

package analyzer

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/warden-policy/warden/internal/stackexport"
)

// TestSpecialValuesParity: a resource reference, an asset and an archive
// read the same to a policy whether they reach the plugin over the wire or
// `warden analyze` in a state file (as Pulumi writes them there).
func TestSpecialValuesParity(t *testing.T) {
	t.Parallel()
	asset, err := resource.NewTextAsset("hello")
	if err != nil {
		t.Fatal(err)
	}
	archive := &resource.Archive{Sig: resource.ArchiveSig, Hash: "4a5b", URI: "https://example.com/a.zip"} // no fetch
	// Marshalled as the engine marshals them (propertyrpc keeps references).
	wire, err := plugin.MarshalProperties(resource.PropertyMap{
		"role":    resource.MakeCustomResourceReference("urn:pulumi:prod::web::aws:iam/role:Role::r", "role-id", "7.0.0"),
		"comp":    resource.MakeComponentResourceReference("urn:pulumi:prod::web::my:index:Comp::c", ""),
		"code":    resource.NewAssetProperty(asset),
		"bundle":  resource.NewArchiveProperty(archive),
		"wrapped": resource.NewArrayProperty([]resource.PropertyValue{resource.MakeSecret(resource.NewAssetProperty(asset))}),
	}, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true})
	if err != nil {
		t.Fatal(err)
	}
	wired, err := propsFromProto(wire)
	if err != nil {
		t.Fatal(err)
	}
	const sigKey = `"4dabf18193072939515e22adb298388d"`
	state := `{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:prod::web::test:index:Thing::t", "type": "test:index:Thing", "custom": true, "inputs": {
		"role": {` + sigKey + `: "5cf8f73096256a8f31e491e813e4eb8e", "urn": "urn:pulumi:prod::web::aws:iam/role:Role::r", "id": "role-id", "packageVersion": "7.0.0"},
		"comp": {` + sigKey + `: "5cf8f73096256a8f31e491e813e4eb8e", "urn": "urn:pulumi:prod::web::my:index:Comp::c"},
		"code": {` + sigKey + `: "c44067f5952c0a294b673a41bacd8c17", "hash": "` + asset.Hash + `", "text": "hello"},
		"bundle": {` + sigKey + `: "0def7320c3a5731c473e5ecbe6d01bc7", "hash": "` + archive.Hash + `", "uri": "https://example.com/a.zip"},
		"wrapped": [{` + sigKey + `: "1b47061264138c4ac30d75fd1eb44270", "plaintext": "{\"4dabf18193072939515e22adb298388d\":\"c44067f5952c0a294b673a41bacd8c17\",\"hash\":\"` + asset.Hash + `\",\"text\":\"hello\"}"}]
	}}]}}`
	st, err := stackexport.Read(strings.NewReader(state))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wired, st.Resources[0].Inputs.Props); d != "" {
		t.Errorf("special values differ (-plugin +state):\n%s", d)
	}
}

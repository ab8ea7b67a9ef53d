package backend

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/warden-policy/warden/internal/aztest"
	"github.com/warden-policy/warden/internal/gcstest"
	"github.com/warden-policy/warden/internal/s3test"
)

// stackCheckpoint is a stack's checkpoint as the diy backend writes it, built
// from the example export with its stack and project renamed.
func stackCheckpoint(t *testing.T, project, stack string) []byte {
	t.Helper()
	data, err := os.ReadFile("../../testdata/stacks/example.json")
	if err != nil {
		t.Fatal(err)
	}
	var export struct {
		Version    int             `json:"version"`
		Deployment json.RawMessage `json:"deployment"`
	}
	if err := json.Unmarshal(data, &export); err != nil {
		t.Fatal(err)
	}
	dep := strings.ReplaceAll(string(export.Deployment), "urn:pulumi:prod::shop::", "urn:pulumi:"+stack+"::"+project+"::")
	out, err := json.Marshal(map[string]any{"version": 3, "checkpoint": map[string]any{"stack": "organization/" + project + "/" + stack, "latest": json.RawMessage(dep)}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func zst(t *testing.T, data []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return w.EncodeAll(data, nil)
}

func s3Server(t *testing.T, objects map[string][]byte) string { return s3test.Bucket(t, objects) }

// gcs is a Google Cloud Storage server on 127.0.0.1 (fake-gcs-server, in
// process), which gocloud reaches through STORAGE_EMULATOR_HOST.
var gcs *gcstest.Server

// az is Azurite, Microsoft's Azure Storage emulator.
var az *aztest.Server

// TestAzure: an azblob:// backend on Azurite reads as the others do.
func TestAzure(t *testing.T) {
	t.Parallel()
	url, err := az.Container(context.Background(), map[string][]byte{
		".pulumi/meta.yaml":              []byte("version: 1\n"),
		".pulumi/stacks/web/prod.json":   stackCheckpoint(t, "web", "prod"),
		".pulumi/stacks/api/dev.json.gz": gz(t, stackCheckpoint(t, "api", "dev")),
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	refs, err := b.Stacks(context.Background())
	if err != nil || len(refs) != 2 || refs[0].String() != "api/dev" || refs[1].String() != "web/prod" {
		t.Fatalf("stacks: %v %v", refs, err)
	}
	for _, r := range refs {
		st, err := b.Read(context.Background(), r)
		if err != nil || st.Project != r.Project || len(st.Resources) == 0 {
			t.Errorf("%s: %v", r, err)
		}
	}
	if _, err := Open(context.Background(), az.URL("nosuchcontainer")); err == nil {
		b, _ := Open(context.Background(), az.URL("nosuchcontainer"))
		if _, err := b.Stacks(context.Background()); err == nil {
			t.Error("a missing container lists stacks")
		}
	}
}

func TestMain(m *testing.M) {
	s3test.Credentials()
	var err error
	gcs, err = gcstest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for k, v := range gcs.Env() {
		os.Setenv(k, v)
	}
	az, err = aztest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting Azurite:", err)
		os.Exit(1)
	}
	for k, v := range az.Env() {
		os.Setenv(k, v)
	}
	code := m.Run()
	az.Stop()
	gcs.Stop()
	os.Exit(code)
}

// TestGCS: a gs:// backend reads as the S3 one does.
func TestGCS(t *testing.T) {
	t.Parallel()
	url := gcs.Bucket(t, map[string][]byte{
		".pulumi/meta.yaml":               []byte("version: 1\n"),
		".pulumi/stacks/web/prod.json":    stackCheckpoint(t, "web", "prod"),
		".pulumi/stacks/web/dev.json.gz":  gz(t, stackCheckpoint(t, "web", "dev")),
		".pulumi/stacks/web/old.json.bak": []byte("x"),
	})
	b, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	refs, err := b.Stacks(context.Background())
	if err != nil || len(refs) != 2 || refs[0].String() != "web/dev" || refs[1].String() != "web/prod" {
		t.Fatalf("stacks: %v %v", refs, err)
	}
	for _, r := range refs {
		st, err := b.Read(context.Background(), r)
		if err != nil || st.Project != "web" || len(st.Resources) == 0 {
			t.Errorf("%s: %v", r, err)
		}
	}
}

// TestS3: both layouts, plain, gzip and zstd checkpoints, backup files
// skipped, read over the S3 protocol exactly as from a file backend.
func TestS3(t *testing.T) {
	t.Parallel()
	plain := stackCheckpoint(t, "web", "prod")
	objects := map[string][]byte{
		".pulumi/meta.yaml":                []byte("version: 1\n"),
		".pulumi/stacks/web/prod.json":     plain,
		".pulumi/stacks/web/prod.json.bak": []byte("not a checkpoint"),
		".pulumi/stacks/web/dev.json.gz":   gz(t, stackCheckpoint(t, "web", "dev")),
		".pulumi/stacks/api/prod.json.zst": zst(t, stackCheckpoint(t, "api", "prod")),
		".pulumi/history/web/prod/x.json":  []byte("{}"),
		".pulumi/stacks/toplevel-old.json": plain, // legacy layout: not read in a version 1 backend
		".pulumi/locks/web/prod/lock.json": []byte("{}"),
	}
	url := s3Server(t, objects)
	b, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	refs, err := b.Stacks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range refs {
		names = append(names, r.String())
	}
	if strings.Join(names, " ") != "api/prod web/dev web/prod" {
		t.Fatalf("stacks: %v", names)
	}
	// The same stack read from a file backend and from S3 is the same.
	dir := t.TempDir()
	file := filepath.Join(dir, ".pulumi", "stacks", "web", "prod.json")
	os.MkdirAll(filepath.Dir(file), 0o755)
	os.WriteFile(file, plain, 0o644)
	os.WriteFile(filepath.Join(dir, ".pulumi", "meta.yaml"), []byte("version: 1\n"), 0o644)
	fb, err := Open(context.Background(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	frefs, _ := fb.Stacks(context.Background())
	if len(frefs) != 1 {
		t.Fatalf("file backend stacks: %v", frefs)
	}
	fromFile, err := fb.Read(context.Background(), frefs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		st, err := b.Read(context.Background(), r)
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if st.Name != r.Name || st.Project != r.Project || len(st.Resources) != len(fromFile.Resources) {
			t.Errorf("%s read as %s/%s with %d resources, want %d", r, st.Project, st.Name, len(st.Resources), len(fromFile.Resources))
		}
	}
}

// TestLegacyLayout: a version 0 backend keeps its stacks at the top of the
// stacks folder; without meta.yaml both layouts are read.
func TestLegacyLayout(t *testing.T) {
	t.Parallel()
	objects := map[string][]byte{
		".pulumi/stacks/prod.json":   stackCheckpoint(t, "shop", "prod"),
		".pulumi/stacks/dev.json.gz": gz(t, stackCheckpoint(t, "shop", "dev")),
		".pulumi/stacks/web/x.json":  stackCheckpoint(t, "web", "x"),
	}
	for _, c := range []struct{ meta, want string }{{"", "dev prod web/x"}, {"version: 0\n", "dev prod"}} {
		meta, want := c.meta, c.want
		delete(objects, ".pulumi/meta.yaml")
		if meta != "" {
			objects[".pulumi/meta.yaml"] = []byte(meta)
		}
		b, err := Open(context.Background(), s3Server(t, objects))
		if err != nil {
			t.Fatal(err)
		}
		refs, err := b.Stacks(context.Background())
		b.Close()
		var names []string
		for _, r := range refs {
			names = append(names, r.String())
		}
		if err != nil || strings.Join(names, " ") != want {
			t.Errorf("meta.yaml %q: stacks %v (%v), want %s", meta, names, err, want)
		}
	}
}

// TestFaults: a newer layout, a missing bucket, a bad URL and a damaged
// checkpoint are errors that say so, without credentials.
func TestFaults(t *testing.T) {
	t.Parallel()
	url := s3Server(t, map[string][]byte{
		".pulumi/meta.yaml":            []byte("version: 7\n"),
		".pulumi/stacks/web/prod.json": stackCheckpoint(t, "web", "prod"),
	})
	if _, err := Open(context.Background(), url); err == nil || !strings.Contains(err.Error(), "layout version 7") {
		t.Errorf("a newer layout: %v", err)
	}
	missing := strings.Replace(url, "s3://state", "s3://nosuchbucket", 1)
	if b, err := Open(context.Background(), missing); err == nil {
		if _, err = b.Stacks(context.Background()); err == nil {
			t.Error("a missing bucket lists stacks")
		}
	}
	var be *Error
	if _, err := Open(context.Background(), "file:///no/such/folder"); !errors.As(err, &be) {
		t.Errorf("a missing folder: %v", err)
	}
	if _, err := Open(context.Background(), "azblob://c?storage_account=a&sig=SECRETSIG"); err != nil && strings.Contains(err.Error(), "SECRETSIG") {
		t.Errorf("a message shows a SAS signature: %v", err)
	}
	bad := s3Server(t, map[string][]byte{
		".pulumi/meta.yaml":              []byte("version: 1\n"),
		".pulumi/stacks/web/prod.json":   stackCheckpoint(t, "web", "prod")[:200],
		".pulumi/stacks/web/dev.json.gz": []byte("not gzip"),
	})
	b, err := Open(context.Background(), bad)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	refs, _ := b.Stacks(context.Background())
	for _, r := range refs {
		if _, err := b.Read(context.Background(), r); err == nil {
			t.Errorf("%s: a damaged checkpoint read", r)
		}
	}
}

// TestGoogleCredentials: gs:// takes Google credentials in Pulumi's order,
// and a broken GOOGLE_CREDENTIALS is named, never echoed.
func TestGoogleCredentials(t *testing.T) {
	ctx := context.Background()
	// A service account whose token endpoint is a local server: the JSON
	// form is read and used, not only parsed.
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"from-token-uri","token_type":"Bearer","expires_in":3600}`)
	}))
	defer tokens.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	account, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": "audit@example.iam.gserviceaccount.com",
		"private_key": string(pemKey), "private_key_id": "k1", "token_uri": tokens.URL,
	})
	for _, tc := range []struct {
		name, json, token, want, wantErr string
	}{
		{name: "json", json: string(account), token: "ignored", want: "from-token-uri"},
		{name: "token", token: "static-token", want: "static-token"},
		{name: "not json", json: "hunter2-not-json", wantErr: "GOOGLE_CREDENTIALS does not hold"},
		{name: "bad type", json: `{"type":"hunter2-type"}`, wantErr: "GOOGLE_CREDENTIALS (type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOOGLE_CREDENTIALS", tc.json)
			t.Setenv("GOOGLE_OAUTH_ACCESS_TOKEN", tc.token)
			creds, err := googleCredentials(ctx)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "hunter2-not") {
					t.Fatalf("error %v, want %q and no content", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tok, err := creds.TokenSource.Token()
			if err != nil || tok.AccessToken != tc.want {
				t.Fatalf("token %v %v, want %s", tok, err, tc.want)
			}
		})
	}
}

// TestMissingCredentials: a backend opened without its cloud's credentials
// says which variables to set.
func TestMissingCredentials(t *testing.T) {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
		"AZURE_STORAGE_ACCOUNT": "",
	} {
		t.Setenv(k, v)
	}
	url := s3Server(t, map[string][]byte{".pulumi/meta.yaml": []byte("version: 1\n")})
	for _, tc := range []struct{ url, want string }{
		{url, "no AWS credentials (set AWS_PROFILE"},
		{"azblob://state", "no Azure storage account (set AZURE_STORAGE_ACCOUNT"},
	} {
		if _, err := Open(context.Background(), tc.url); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		}
	}
}

// Package backend reads the stacks of a Pulumi self-managed backend from
// the URL `pulumi login` takes (file://, s3://, gs://, azblob://, with their
// query parameters), through gocloud.dev/blob, the library Pulumi's own
// self-managed backend uses, with each cloud's standard credential chain.
//
// It only reads: it never writes, locks or creates anything in a backend
// (not even the meta.yaml Pulumi writes on first login). It reads both
// layouts (project-scoped .pulumi/stacks/<project>/<stack>.json and the
// legacy .pulumi/stacks/<stack>.json) and plain, gzip- and zstd-compressed
// checkpoints, as Pulumi writes them.
package backend

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"cloud.google.com/go/storage"
	"github.com/klauspost/compress/zstd"
	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"  // azblob://
	_ "gocloud.dev/blob/fileblob" // file://
	"gocloud.dev/blob/gcsblob"    // gs://
	_ "gocloud.dev/blob/s3blob"   // s3://
	"gocloud.dev/gcerrors"
	"gocloud.dev/gcp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"gopkg.in/yaml.v3"

	"github.com/warden-policy/warden/internal/stackexport"
)

// stacksDir is where a backend keeps its checkpoints; metaFile says its
// layout version.
const (
	stacksDir = ".pulumi/stacks"
	metaFile  = ".pulumi/meta.yaml"
)

// MaxVersion is the newest backend layout this Warden reads (Pulumi's
// diy backend: 0 legacy, 1 project-scoped stacks).
const MaxVersion = 1

// IsURL reports whether s names a backend rather than a file.
func IsURL(s string) bool {
	for _, p := range []string{"file://", "s3://", "gs://", "azblob://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// Backend is an open backend, read-only.
type Backend struct {
	bucket *blob.Bucket
	// URL is the backend's URL as given, without credentials.
	URL string
	// Version is the layout version from meta.yaml (0 when absent).
	Version int
	// Read is how checkpoints are read (a passphrase for their secrets).
	ReadOptions stackexport.Options
	// noMeta is set when the backend has no meta.yaml: both layouts are
	// read, as warden audit always read file:// folders.
	noMeta bool
}

// Error is a backend that cannot be opened or read: a bad URL, missing
// credentials, an unreachable or denied bucket, a newer layout.
type Error struct {
	URL string
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("backend %s: %v", e.URL, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Open opens the backend a URL names and reads its layout version.
func Open(ctx context.Context, rawURL string) (*Backend, error) {
	red := redact(rawURL)
	u, err := massage(rawURL)
	if err != nil {
		return nil, &Error{URL: red, Err: err}
	}
	p, err := url.Parse(u)
	if err != nil {
		return nil, &Error{URL: red, Err: errors.New("not a valid URL")}
	}
	mux := blob.DefaultURLMux()
	if p.Scheme == gcsblob.Scheme {
		opener, err := gcsOpener(ctx)
		if err != nil {
			return nil, &Error{URL: red, Err: err}
		}
		mux = &blob.URLMux{}
		mux.RegisterBucket(gcsblob.Scheme, opener)
	}
	if p.Scheme == azureblob.Scheme {
		// As Pulumi does: the default opener refuses a storage_account
		// override when AZURE_STORAGE_SAS_TOKEN is set; the URL is the
		// user's own.
		mux = &blob.URLMux{}
		mux.RegisterBucket(azureblob.Scheme, &azureblob.URLOpener{
			MakeClient:        azureblob.NewDefaultClient,
			ServiceURLOptions: *azureblob.NewDefaultServiceURLOptions(),
		})
	}
	bucket, err := mux.OpenBucket(ctx, u)
	if err != nil {
		return nil, &Error{URL: red, Err: explain(err)}
	}
	if p.Scheme != "file" {
		if sub := strings.Trim(p.Path, "/"); sub != "" {
			bucket = blob.PrefixedBucket(bucket, sub+"/")
		}
	}
	b := &Backend{bucket: bucket, URL: red}
	if err := b.readMeta(ctx); err != nil {
		bucket.Close()
		return nil, &Error{URL: red, Err: err}
	}
	return b, nil
}

// gcsOpener opens gs:// buckets with the credentials `pulumi login gs://`
// takes, or anonymously against an emulator (STORAGE_EMULATOR_HOST).
// gocloud's default opener prints a warning to stdout when there are no
// credentials and goes on without them; Warden's stdout is its report, so
// missing credentials are an error that says what to set.
func gcsOpener(ctx context.Context) (*gcsblob.URLOpener, error) {
	if os.Getenv("STORAGE_EMULATOR_HOST") != "" {
		return &gcsblob.URLOpener{Client: gcp.NewAnonymousHTTPClient(gcp.DefaultTransport())}, nil
	}
	creds, err := googleCredentials(ctx)
	if err != nil {
		return nil, err
	}
	client, err := gcp.NewHTTPClient(gcp.DefaultTransport(), gcp.CredentialsTokenSource(creds))
	if err != nil {
		return nil, err
	}
	return &gcsblob.URLOpener{Client: client}, nil
}

// googleCredentials resolves Google credentials in Pulumi's order (its
// authhelpers.ResolveGoogleCredentials): the JSON of a credentials file in
// GOOGLE_CREDENTIALS, an access token in GOOGLE_OAUTH_ACCESS_TOKEN, then
// application default credentials. A CI job that logs pulumi in to a gs://
// backend this way audits it with the same environment.
func googleCredentials(ctx context.Context) (*google.Credentials, error) {
	if js := os.Getenv("GOOGLE_CREDENTIALS"); js != "" {
		var head struct {
			Type string `json:"type"`
		}
		// The content is a secret: errors name the variable, never echo it.
		if err := json.Unmarshal([]byte(js), &head); err != nil || head.Type == "" {
			return nil, errors.New("GOOGLE_CREDENTIALS does not hold a Google credentials JSON document (with a \"type\")")
		}
		creds, err := google.CredentialsFromJSONWithType(ctx, []byte(js), google.CredentialsType(head.Type), storage.ScopeReadOnly)
		if err != nil {
			return nil, fmt.Errorf("GOOGLE_CREDENTIALS (type %q) cannot be used: %w", head.Type, err)
		}
		return creds, nil
	}
	if tok := os.Getenv("GOOGLE_OAUTH_ACCESS_TOKEN"); tok != "" {
		return &google.Credentials{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})}, nil
	}
	creds, err := gcp.DefaultCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("no Google Cloud credentials (GOOGLE_CREDENTIALS, GOOGLE_OAUTH_ACCESS_TOKEN, GOOGLE_APPLICATION_CREDENTIALS or gcloud auth application-default login): %w", err)
	}
	return creds, nil
}

// Close releases the backend.
func (b *Backend) Close() error { return b.bucket.Close() }

func (b *Backend) readMeta(ctx context.Context) error {
	data, err := b.bucket.ReadAll(ctx, metaFile)
	switch {
	case gcerrors.Code(err) == gcerrors.NotFound:
		b.noMeta = true // a backend from before meta.yaml, or copied by hand
		return nil
	case err != nil:
		return explain(err)
	}
	var meta struct {
		Version int `yaml:"version"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		return fmt.Errorf("%s does not parse: %w", metaFile, err)
	}
	if meta.Version > MaxVersion || meta.Version < 0 {
		return fmt.Errorf("%s says layout version %d, which this Warden does not know (it reads up to %d): upgrade warden", metaFile, meta.Version, MaxVersion)
	}
	b.Version = meta.Version
	return nil
}

// explain turns a gocloud error into what a person can act on.
func explain(err error) error {
	// The SDKs' missing-credential errors have no type of their own; their
	// words are matched to say which variables to set.
	switch msg := err.Error(); {
	case strings.Contains(msg, "get identity: get credentials"):
		return fmt.Errorf("no AWS credentials (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as for pulumi login s3://): %w", err)
	case strings.Contains(msg, "Options.AccountName is required"):
		return fmt.Errorf("no Azure storage account (set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, or storage_account= in the URL, as for pulumi login azblob://): %w", err)
	}
	switch gcerrors.Code(err) {
	case gcerrors.PermissionDenied:
		return fmt.Errorf("access denied (check the credentials of this cloud's standard chain): %w", err)
	case gcerrors.NotFound:
		return fmt.Errorf("not found (does the bucket exist?): %w", err)
	}
	return err
}

// Ref is one stack of a backend.
type Ref struct {
	Project string // "" in the legacy layout
	Name    string
	Key     string // the checkpoint's key in the bucket
}

// String is the stack as project/stack (or stack).
func (r Ref) String() string {
	if r.Project == "" {
		return r.Name
	}
	return r.Project + "/" + r.Name
}

// checkpoint reports whether key is a stack checkpoint and its stack name:
// .json, .json.gz or .json.zst (not .bak and the like).
func checkpoint(key string) (string, bool) {
	for _, ext := range []string{".json", ".json.gz", ".json.zst"} {
		if name, ok := strings.CutSuffix(key, ext); ok {
			return name, true
		}
	}
	return "", false
}

// Stacks lists the backend's stacks, sorted: in the project-scoped layout
// (version 1) those under a project folder, in the legacy one (version 0)
// those at the top of the stacks folder, and both when there is no
// meta.yaml to say.
func (b *Backend) Stacks(ctx context.Context) ([]Ref, error) {
	prefix := stacksDir + "/"
	it := b.bucket.List(&blob.ListOptions{Prefix: prefix})
	var out []Ref
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &Error{URL: b.URL, Err: fmt.Errorf("listing stacks: %w", explain(err))}
		}
		if obj.IsDir {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(obj.Key, prefix), "/")
		switch {
		case (b.Version >= 1 || b.noMeta) && len(parts) == 2:
			if name, ok := checkpoint(parts[1]); ok {
				out = append(out, Ref{Project: parts[0], Name: name, Key: obj.Key})
			}
		case b.Version == 0 && len(parts) == 1:
			if name, ok := checkpoint(parts[0]); ok {
				out = append(out, Ref{Name: name, Key: obj.Key})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// Read reads one stack's checkpoint, decompressing it as its name says.
func (b *Backend) Read(ctx context.Context, ref Ref) (*stackexport.Stack, error) {
	r, err := b.bucket.NewReader(ctx, ref.Key, nil)
	if err != nil {
		return nil, explain(err)
	}
	defer r.Close()
	var in io.Reader = r
	switch {
	case strings.HasSuffix(ref.Key, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: not gzip: %w", ref.Key, err)
		}
		defer zr.Close()
		in = zr
	case strings.HasSuffix(ref.Key, ".zst"):
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: not zstd: %w", ref.Key, err)
		}
		defer zr.Close()
		in = zr
	}
	st, err := stackexport.ReadWith(in, b.ReadOptions)
	if err != nil {
		var pe *stackexport.Error
		if errors.As(err, &pe) {
			pe.File = b.URL + "/" + ref.Key
			return nil, pe
		}
		return nil, fmt.Errorf("%s: %w", ref.Key, err)
	}
	return st, nil
}

// massage turns the URL a user gives `pulumi login` into what gocloud
// opens, as Pulumi's diy backend does: a file:// path made absolute (~
// expanded) with no_tmp_dir, and the AWS SDK v1-era s3:// parameters
// (disableSSL, scheme-less endpoints) translated for SDK v2.
func massage(raw string) (string, error) {
	switch {
	case strings.HasPrefix(raw, "s3://"):
		return translateS3(raw)
	case !strings.HasPrefix(raw, "file://"):
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parsing the URL: %w", err)
	}
	q := u.Query()
	if q.Get("no_tmp_dir") == "" {
		q.Set("no_tmp_dir", "true")
	}
	p := strings.Split(strings.TrimPrefix(raw, "file://"), "?")[0]
	if strings.HasPrefix(p, "~") {
		usr, err := user.Current()
		if err != nil {
			return "", fmt.Errorf("resolving ~: %w", err)
		}
		p = filepath.Join(usr.HomeDir, strings.TrimPrefix(p, "~"))
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("no backend folder %s: %w", abs, err)
	}
	return "file://" + filepath.ToSlash(abs) + "?" + q.Encode(), nil
}

// translateS3 is Pulumi's translateLegacyS3Params: disableSSL becomes
// disable_https (or goes, when the endpoint has a scheme), a scheme-less
// endpoint gets one, and a custom endpoint computes request checksums
// only when required (third-party stores reject the v2 SDK's default);
// Warden, which only reads, also validates response checksums only when
// required there.
func translateS3(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parsing the URL: %w", err)
	}
	q := u.Query()
	changed := false
	disableSSL := false
	if v, ok := q["disableSSL"]; ok {
		if disableSSL, err = strconv.ParseBool(v[len(v)-1]); err != nil {
			return "", fmt.Errorf("query parameter disableSSL: %w", err)
		}
		q.Del("disableSSL")
		if !strings.Contains(q.Get("endpoint"), "://") {
			q.Set("disable_https", strconv.FormatBool(disableSSL))
		}
		changed = true
	}
	if ep := q.Get("endpoint"); ep != "" {
		if !strings.Contains(ep, "://") {
			scheme := "https"
			if disableSSL {
				scheme = "http"
			}
			q.Set("endpoint", scheme+"://"+ep)
			changed = true
		}
		if q.Get("request_checksum_calculation") == "" && os.Getenv("AWS_REQUEST_CHECKSUM_CALCULATION") == "" {
			q.Set("request_checksum_calculation", "when_required")
			changed = true
		}
		// Likewise for responses, which such stores send without a
		// checksum: the SDK would log a warning for every read.
		if q.Get("response_checksum_validation") == "" && os.Getenv("AWS_RESPONSE_CHECKSUM_VALIDATION") == "" {
			q.Set("response_checksum_validation", "when_required")
			changed = true
		}
	}
	if !changed {
		return raw, nil
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// redact removes credentials from a URL for messages: a user's password
// and query parameters that carry secrets (SAS tokens, keys).
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.SplitN(raw, "?", 2)[0]
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "secret") || strings.Contains(lk, "key") || strings.Contains(lk, "token") || lk == "sig" || strings.Contains(lk, "password") {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

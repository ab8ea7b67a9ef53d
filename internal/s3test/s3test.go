// Package s3test serves an S3 bucket on 127.0.0.1 for tests, over the real
// S3 protocol (github.com/johannesboyne/gofakes3, in process): what the AWS
// SDK and the pulumi CLI talk to in place of AWS, which the test machines
// cannot reach.
package s3test

import (
	"bytes"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials sets the standard AWS chain's environment for the fake
// server, which takes any key; call it from TestMain (before tests run in
// parallel).
func Credentials() {
	os.Setenv("AWS_ACCESS_KEY_ID", "test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// Bucket serves a bucket named "state" holding objects, until the test
// ends, and returns the s3:// URL `pulumi login` would take for it.
func Bucket(t testing.TB, objects map[string][]byte) string {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket("state"); err != nil {
		t.Fatal(err)
	}
	for key, data := range objects {
		if _, err := mem.PutObject("state", key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	return "s3://state?endpoint=" + srv.URL + "&s3ForcePathStyle=true&region=us-east-1"
}

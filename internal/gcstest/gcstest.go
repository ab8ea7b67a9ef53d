// Package gcstest serves Google Cloud Storage on 127.0.0.1 for tests, over
// the real JSON API (github.com/fsouza/fake-gcs-server, in process): what
// gocloud, and so the pulumi CLI, reach through STORAGE_EMULATOR_HOST in
// place of Google Cloud, which the test machines cannot reach.
package gcstest

import (
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// Server is a running GCS server.
type Server struct {
	srv     *fakestorage.Server
	l       net.Listener
	buckets atomic.Int64
}

// Start serves GCS on a free port of 127.0.0.1 until Stop.
func Start() (*Server, error) {
	// Downloads are routed by the Host header (PublicHost), so the server
	// gets its listener's address before it serves on it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true, Scheme: "http", PublicHost: l.Addr().String()})
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("starting the GCS server: %w", err)
	}
	go http.Serve(l, srv.HTTPHandler())
	return &Server{srv: srv, l: l}, nil
}

// Host is the value of STORAGE_EMULATOR_HOST that reaches the server.
func (s *Server) Host() string { return s.l.Addr().String() }

// Env is the environment a client (gocloud, the pulumi CLI) needs: the
// emulator's address, and an access token for the credential chains that
// insist on one before they notice the emulator.
func (s *Server) Env() map[string]string {
	return map[string]string{"STORAGE_EMULATOR_HOST": s.Host(), "GOOGLE_OAUTH_ACCESS_TOKEN": "test-token"}
}

// Bucket creates a new bucket holding objects and returns its gs:// URL.
// Names are unique for the server's life, so -count=N runs do not meet.
func (s *Server) Bucket(t testing.TB, objects map[string][]byte) string {
	t.Helper()
	name := fmt.Sprintf("state%d", s.buckets.Add(1))
	s.srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name})
	for key, data := range objects {
		s.srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: name, Name: key}, Content: data})
	}
	return "gs://" + name
}

// Stop closes the server's listener.
func (s *Server) Stop() { s.l.Close() }

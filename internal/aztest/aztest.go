// Package aztest runs Azurite, Microsoft's Azure Storage emulator (npm
// package azurite), as a blob service on 127.0.0.1 for tests. It speaks
// the real Azure Blob protocol; scripts/test-setup.sh installs it into
// ~/.cache/warden-test/azurite for make test. Without it Start fails: the
// Azure backend is never silently left untested.
package aztest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// Account and Key are Azurite's well-known development account.
const (
	Account = "devstoreaccount1"
	Key     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Server is a running Azurite blob service.
type Server struct {
	cmd  *exec.Cmd
	dir  string
	Host string // 127.0.0.1:PORT
	n    atomic.Int64
}

// binary finds azurite-blob: $WARDEN_AZURITE, the test setup's cache
// (~/.cache/warden-test/azurite), or PATH.
func binary() (string, error) {
	if p := os.Getenv("WARDEN_AZURITE"); p != "" {
		return p, nil
	}
	if cache, err := os.UserCacheDir(); err == nil { // $XDG_CACHE_HOME or ~/.cache, as test-setup.sh
		p := filepath.Join(cache, "warden-test", "azurite", "node_modules", ".bin", "azurite-blob")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("azurite-blob"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no Azurite (azurite-blob): run scripts/test-setup.sh (make test does), or npm install azurite")
}

var listening = regexp.MustCompile(`successfully listens on http://(127\.0\.0\.1:\d+)`)

// Start starts Azurite on a free port; Stop it when done.
func Start() (*Server, error) {
	bin, err := binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "warden-azurite-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", dir,
		"--disableTelemetry", "--skipApiVersionCheck", "--loose", "--silent")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s := &Server{cmd: cmd, dir: dir}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case host, ok := <-found:
		if !ok {
			s.Stop()
			return nil, fmt.Errorf("azurite exited before listening")
		}
		s.Host = host
		return s, nil
	case <-time.After(60 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("azurite did not start listening within a minute")
	}
}

// Env is the environment that points the Azure SDK's standard chain at the
// emulator's development account.
func (s *Server) Env() map[string]string {
	return map[string]string{"AZURE_STORAGE_ACCOUNT": Account, "AZURE_STORAGE_KEY": Key}
}

// URL is the azblob:// URL of a container of the emulator.
func (s *Server) URL(container string) string {
	return fmt.Sprintf("azblob://%s?protocol=http&domain=%s&localemu=true", container, s.Host)
}

// Stop stops Azurite and removes its data.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// Container creates a new container holding objects, through the Azure
// SDK (the test's own writes: Warden only reads backends), and returns its
// azblob:// URL. Each call gets a container of its own.
func (s *Server) Container(ctx context.Context, objects map[string][]byte) (string, error) {
	name := fmt.Sprintf("state%d", s.n.Add(1))
	cred, err := azblob.NewSharedKeyCredential(Account, Key)
	if err != nil {
		return "", err
	}
	client, err := azblob.NewClientWithSharedKeyCredential(fmt.Sprintf("http://%s/%s/", s.Host, Account), cred, nil)
	if err != nil {
		return "", err
	}
	if _, err := client.CreateContainer(ctx, name, nil); err != nil {
		return "", err
	}
	for key, data := range objects {
		if _, err := client.UploadBuffer(ctx, name, key, data, nil); err != nil {
			return "", fmt.Errorf("uploading %s: %w", key, err)
		}
	}
	return s.URL(name), nil
}

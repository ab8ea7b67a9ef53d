package commands

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-policy/warden/internal/s3test"
)

// backendObjects is the testdata file backend as bucket objects.
func backendObjects(t *testing.T) map[string][]byte {
	t.Helper()
	objects := map[string][]byte{}
	err := filepath.WalkDir(backendDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(backendDir, path)
		objects[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return objects
}

// auditFindings runs audit -o json and returns its findings as comparable
// lines, and the exit code.
func auditFindings(t *testing.T, source string) ([]string, int, string) {
	t.Helper()
	ios, out, errOut := TestStreams()
	code := Main([]string{"audit", source, "--home", testHome, "-o", "json"}, ios)
	var rep struct {
		Stacks []struct {
			Stack    string
			Findings []struct{ Policy, URN, Kind, Message string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("audit %s: %v\n%s%s", source, err, out, errOut)
	}
	var lines []string
	for _, st := range rep.Stacks {
		for _, f := range st.Findings {
			lines = append(lines, st.Stack+" "+f.Policy+" "+f.URN+" "+f.Kind+" "+f.Message)
		}
	}
	return lines, code, errOut.String()
}

// TestAuditS3: the same stacks audited from an S3 backend (the real S3
// protocol, on 127.0.0.1) and from a file backend give the same findings;
// a damaged checkpoint is reported by name, the others are still audited,
// and the exit code says the audit is incomplete.
func TestAuditS3(t *testing.T) {
	t.Parallel()
	objects := backendObjects(t)
	fromFile, fileCode, _ := auditFindings(t, "file://"+backendDir)
	fromS3, s3Code, stderr := auditFindings(t, s3test.Bucket(t, objects))
	if len(fromFile) == 0 || strings.Join(fromFile, "\n") != strings.Join(fromS3, "\n") || s3Code != fileCode {
		t.Fatalf("file backend (exit %d):\n%s\nS3 backend (exit %d):\n%s\n%s", fileCode, strings.Join(fromFile, "\n"), s3Code, strings.Join(fromS3, "\n"), stderr)
	}

	damaged := ".pulumi/stacks/shop/prod.json" // a stack with findings
	if objects[damaged] == nil {
		t.Fatalf("testdata has no %s", damaged)
	}
	objects[damaged] = objects[damaged][:len(objects[damaged])/2]
	partial, code, stderr := auditFindings(t, s3test.Bucket(t, objects))
	if code != ExitPartial || !strings.Contains(stderr, "FAILED ") || !strings.Contains(stderr, "1 could not be read") {
		t.Fatalf("a damaged checkpoint (%s): exit %d\n%s", damaged, code, stderr)
	}
	if len(partial) == 0 || len(partial) >= len(fromFile) {
		t.Errorf("the other stacks were not audited: %d findings of %d", len(partial), len(fromFile))
	}

	// An unreachable backend: reported, exit 4.
	_, code, stderr = auditFindings(t, "s3://state?endpoint=http://127.0.0.1:1&s3ForcePathStyle=true&region=us-east-1")
	if code != ExitPartial || !strings.Contains(stderr, "FAILED s3://state") {
		t.Errorf("an unreachable backend: exit %d\n%s", code, stderr)
	}
}

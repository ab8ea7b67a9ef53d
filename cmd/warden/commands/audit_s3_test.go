package commands

import (
	"encoding/json"
	"fmt"
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

	// A stack written by a newer Pulumi (a checkpoint version this build
	// does not read): that stack is reported with the reason, the others
	// are audited.
	objects = backendObjects(t)
	objects[damaged] = []byte(strings.Replace(string(objects[damaged]), `"version": 3`, `"version": 4`, 1))
	partial, code, stderr = auditFindings(t, s3test.Bucket(t, objects))
	if code != ExitPartial || !strings.Contains(stderr, "shop/prod: s3://") || !strings.Contains(stderr, "newer than this build reads") {
		t.Fatalf("a checkpoint from a newer Pulumi: exit %d\n%s", code, stderr)
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

// TestAuditProgressBar: on a terminal, audit's progress is one line
// rewritten in place and cleared before the summary; otherwise a line per
// stack (TestCLI's golden stderr).
func TestAuditProgressBar(t *testing.T) {
	t.Parallel()
	ios, _, errOut := TestStreams()
	ios.ErrTTY = true
	if code := Main([]string{"audit", "file://" + backendDir, "--home", testHome}, ios); code != ExitFindings {
		t.Fatalf("audit: exit %d\n%s", code, errOut)
	}
	s := errOut.String()
	if !strings.Contains(s, "\r\033[K[") || strings.Contains(s, "[1/3] ") || !strings.Contains(s, "\r\033[Kaudited 2 stacks") {
		t.Errorf("stderr on a terminal: %q", s)
	}
}

// BenchmarkAuditS3 audits 1,000 stacks of 100 resources each from the local
// S3 server with the built-in catalog: what `warden audit s3://…` costs a
// team with a thousand stacks (bounded parallel reads, the findings ledger
// off).
func BenchmarkAuditS3(b *testing.B) {
	data, err := os.ReadFile(example)
	if err != nil {
		b.Fatal(err)
	}
	var export struct {
		Deployment struct {
			Manifest  json.RawMessage  `json:"manifest"`
			Resources []map[string]any `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal(data, &export); err != nil {
		b.Fatal(err)
	}
	objects := map[string][]byte{".pulumi/meta.yaml": []byte("version: 1\n")}
	for s := range 1000 {
		stack := fmt.Sprintf("s%03d", s)
		var resources []map[string]any
		for copy := 0; len(resources) < 100; copy++ {
			for _, r := range export.Deployment.Resources {
				if len(resources) == 100 {
					break
				}
				raw, _ := json.Marshal(r)
				text := strings.ReplaceAll(string(raw), "urn:pulumi:prod::shop::", "urn:pulumi:"+stack+"::shop::")
				if copy > 0 && r["type"] != "pulumi:pulumi:Stack" {
					text = strings.ReplaceAll(text, `::`+urnTail(r["urn"].(string))+`"`, fmt.Sprintf("::%s-%d\"", urnTail(r["urn"].(string)), copy))
				} else if copy > 0 {
					continue
				}
				var m map[string]any
				json.Unmarshal([]byte(text), &m)
				resources = append(resources, m)
			}
		}
		cp, _ := json.Marshal(map[string]any{"version": 3, "checkpoint": map[string]any{
			"stack": "organization/shop/" + stack, "latest": map[string]any{"manifest": export.Deployment.Manifest, "resources": resources}}})
		objects[".pulumi/stacks/shop/"+stack+".json"] = cp
	}
	url := s3test.Bucket(b, objects)
	for b.Loop() {
		ios, _, errOut := TestStreams()
		if code := Main([]string{"audit", url, "-o", "json", "--store", "off"}, ios); code != ExitFindings {
			b.Fatalf("audit: exit %d\n%.2000s", code, errOut)
		}
	}
}

func urnTail(urn string) string { return urn[strings.LastIndex(urn, "::")+2:] }

// TestPacksShowS3Backend: packs show --backend reads a backend by the URL
// pulumi login takes, here S3.
func TestPacksShowS3Backend(t *testing.T) {
	t.Parallel()
	stacks := func(backend string) string {
		ios, out, errOut := TestStreams()
		if code := Main([]string{"packs", "show", "aws-foundations", "--home", testHome, "--backend", backend, "-o", "json"}, ios); code != ExitOK {
			t.Fatalf("packs show --backend %s: %d\n%s%s", backend, code, out, errOut)
		}
		var v struct{ Stacks []string }
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		return strings.Join(v.Stacks, " ")
	}
	fromS3, fromFile := stacks(s3test.Bucket(t, backendObjects(t))), stacks("file://"+backendDir)
	if !strings.Contains(fromS3, "acme/shop/prod") || fromS3 != fromFile {
		t.Errorf("stacks that run aws-foundations: S3 %q, file %q", fromS3, fromFile)
	}
}

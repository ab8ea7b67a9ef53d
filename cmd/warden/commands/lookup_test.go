package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// packHome is a policy home with versions of pack acme published under
// packs/acme/<version>/.
func packHome(t *testing.T, versions ...string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "warden.yaml"), "groups:\n  - name: default\n    mode: preventative\n    default: true\n    packs: [{pack: acme}]\n")
	for _, v := range versions {
		writeFile(t, filepath.Join(dir, "packs", "acme", v, "pack.yaml"), fmt.Sprintf(
			"name: acme\nversion: %s\ndescription: version %s\npolicies:\n  - name: p\n    description: d\n    violation: \"false\"\n", v, v))
	}
	return dir
}

// TestPacksShowNewest: versions compare as semver, not as strings.
func TestPacksShowNewest(t *testing.T) {
	dir := packHome(t, "1.9.0", "1.10.0", "1.2.0")
	for _, tc := range []struct{ ref, want string }{
		{"acme", "1.10.0"}, {"acme@1.9.0", "1.9.0"}, {"acme@~1.2", "1.2.0"}, {"acme@^1", "1.10.0"},
	} {
		ref, want := tc.ref, tc.want
		ios, out, errOut := TestStreams()
		if code := Main([]string{"packs", "show", ref, "--home", dir, "-o", "json"}, ios); code != ExitOK {
			t.Errorf("packs show %s: exit %d: %s", ref, code, errOut)
			continue
		}
		var v struct{ Version string }
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		if v.Version != want {
			t.Errorf("packs show %s shows %s, want %s", ref, v.Version, want)
		}
	}
	ios, _, errOut := TestStreams()
	if code := Main([]string{"packs", "show", "acme@2.0.0", "--home", dir}, ios); code != ExitInput || !strings.Contains(errOut.String(), "no pack acme@2.0.0") {
		t.Errorf("packs show acme@2.0.0: exit %d, %s", code, errOut)
	}
	ios, _, errOut = TestStreams()
	if code := Main([]string{"packs", "show", "..", "--home", dir}, ios); code != ExitInput || !strings.Contains(errOut.String(), "no pack ..") {
		t.Errorf("packs show ..: exit %d, %s", code, errOut)
	}
}

// TestPacksListWithoutHome: outside a policy home, packs list shows the
// built-in packs, as groups list does.
func TestPacksListWithoutHome(t *testing.T) {
	t.Setenv("WARDEN_HOME", "")
	t.Chdir(t.TempDir())
	ios, out, errOut := TestStreams()
	if code := Main([]string{"packs", "list"}, ios); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "aws-foundations") || !strings.Contains(out.String(), "built-in") {
		t.Errorf("packs list outside a home:\n%s", out)
	}
	// With a home, its published versions are listed, newest first.
	ios, out, errOut = TestStreams()
	if code := Main([]string{"packs", "list", "--home", packHome(t, "1.9.0", "1.10.0")}, ios); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if i, j := strings.Index(out.String(), "1.10.0"), strings.Index(out.String(), "1.9.0"); i < 0 || j < 0 || i > j {
		t.Errorf("packs list with a home:\n%s", out)
	}
}

// TestUnknownCommand: a command that does not exist is a usage error,
// at the top and under a command group.
func TestUnknownCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"no-such-command"}, `unknown command "no-such-command" for "warden"`},
		{[]string{"groups", "nope"}, `unknown command "nope" for "warden groups"`},
		{[]string{"packs", "nope", "x"}, `unknown command "nope" for "warden packs"`},
	} {
		ios, _, errOut := TestStreams()
		if code := Main(tc.args, ios); code != ExitInput || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("warden %s: exit %d, stderr %q", strings.Join(tc.args, " "), code, errOut)
		}
	}
	ios, _, errOut := TestStreams()
	if code := Main([]string{"groups"}, ios); code != ExitOK {
		t.Errorf("warden groups (help): exit %d, %s", code, errOut)
	}
}

// TestPacksParsing: packs list, show, add and publish parse into their options, as the
// other commands do, without running.
func TestPacksParsing(t *testing.T) {
	ios, _, _ := TestStreams()
	var list *packsListOptions
	cmd := newCmdPacksList(ios, func(_ context.Context, o *packsListOptions) error { list = o; return nil })
	cmd.SetArgs([]string{"--home", "h", "--view", "available", "-o", "json"})
	if err := cmd.Execute(); err != nil || list.Home != "h" || list.View != "available" || list.Output != "json" {
		t.Errorf("packs list: %v %+v", err, list)
	}
	var show *packsShowOptions
	cmd = newCmdPacksShow(ios, func(_ context.Context, o *packsShowOptions) error { show = o; return nil })
	cmd.SetArgs([]string{"acme@^1", "--backend", "file://b", "-o", "json"})
	if err := cmd.Execute(); err != nil || show.Ref != "acme@^1" || show.Backend != "file://b" || show.Output != "json" {
		t.Errorf("packs show: %v %+v", err, show)
	}
	var add *packsAddOptions
	cmd = newCmdPacksAdd(ios, func(_ context.Context, o *packsAddOptions) error { add = o; return nil })
	cmd.SetArgs([]string{"aws-foundations", "--group", "prod", "--level", "mandatory", "--version", "^0"})
	if err := cmd.Execute(); err != nil || add.Name != "aws-foundations" || add.Group != "prod" || add.Level != "mandatory" || add.Range != "^0" {
		t.Errorf("packs add: %v %+v", err, add)
	}
	var pub *packsPublishOptions
	cmd = newCmdPacksPublish(ios, func(_ context.Context, o *packsPublishOptions) error { pub = o; return nil })
	cmd.SetArgs([]string{"./rules", "--home", "h"})
	if err := cmd.Execute(); err != nil || pub.Dir != "./rules" || pub.Home != "h" {
		t.Errorf("packs publish: %v %+v", err, pub)
	}
	var rm *packsRemoveOptions
	cmd = newCmdPacksRemove(ios, func(_ context.Context, o *packsRemoveOptions) error { rm = o; return nil })
	cmd.SetArgs([]string{"acme@1.0.0", "--home", "h"})
	if err := cmd.Execute(); err != nil || rm.Ref != "acme@1.0.0" || rm.Home != "h" {
		t.Errorf("packs remove: %v %+v", err, rm)
	}
}

// TestGroupsEditParsing: groups new, edit and remove parse into their
// options without touching a home.
func TestGroupsEditParsing(t *testing.T) {
	ios, _, _ := TestStreams()
	var n *groupsNewOptions
	cmd := newCmdGroupsNew(ios, func(_ context.Context, o *groupsNewOptions) error { n = o; return nil })
	cmd.SetArgs([]string{"prod", "--stack", "*/prod", "--pack", "aws-foundations", "--level", "mandatory", "--home", "h"})
	if err := cmd.Execute(); err != nil || n.Name != "prod" || len(n.Stacks) != 1 || len(n.Packs) != 1 || n.Levels[0] != "mandatory" || n.Mode != "preventative" {
		t.Errorf("groups new: %v %+v", err, n)
	}
	var e *groupsEditOptions
	cmd = newCmdGroupsEdit(ios, func(_ context.Context, o *groupsEditOptions) error { e = o; return nil })
	cmd.SetArgs([]string{"prod", "--stack-rule", "", "--add-stack", "a/b", "--set-level", "x=advisory"})
	if err := cmd.Execute(); err != nil || e.Name != "prod" || !e.ruleSet || e.Rule != "" || len(e.AddStacks) != 1 || len(e.SetLevels) != 1 {
		t.Errorf("groups edit: %v %+v", err, e)
	}
	var r *groupsRemoveOptions
	cmd = newCmdGroupsRemove(ios, func(_ context.Context, o *groupsRemoveOptions) error { r = o; return nil })
	cmd.SetArgs([]string{"staging"})
	if err := cmd.Execute(); err != nil || r.Name != "staging" {
		t.Errorf("groups remove: %v %+v", err, r)
	}
}

// TestPacksNewRefusesDots: packs new .. would write a pack into the parent
// folder; it is a usage error and writes nothing.
func TestPacksNewRefusesDots(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".", ".."} {
		ios, _, errOut := TestStreams()
		if code := Main([]string{"packs", "new", name, "--dir", filepath.Join(dir, "sub")}, ios); code != ExitInput || !strings.Contains(errOut.String(), "not be all dots") {
			t.Errorf("packs new %s: exit %d, %s", name, code, errOut)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("packs new wrote %v", entries)
	}
}

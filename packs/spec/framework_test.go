package spec

import (
	"strings"
	"testing"
)

func TestParseFramework(t *testing.T) {
	t.Parallel()
	f, err := ParseFramework("f.yaml", []byte(`apiVersion: warden/v1
kind: Framework
name: cis-x-1.0
title: CIS X Benchmark
version: 1.0.0
packVersion: 1.2.0
url: https://example.com
description: X.
controls:
  - id: "1.1"
    title: Keep contact details current
    iac: false
    why: account settings
  - {id: "2.1", title: Encrypt buckets}
`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "cis-x-1.0" || f.PackVersion != "1.2.0" || len(f.Controls) != 2 {
		t.Fatalf("parsed %+v", f)
	}
	if c := f.Control("1.1"); c == nil || c.IaC || c.Why != "account settings" || c.Pos.Line != 10 {
		t.Errorf("1.1: %+v", c)
	}
	if c := f.Control("2.1"); c == nil || !c.IaC || c.Title != "Encrypt buckets" {
		t.Errorf("2.1: %+v", c)
	}
	if f.Control("9") != nil {
		t.Error("a control that is not there")
	}
}

// TestParseFrameworkErrors: each problem positioned, all at once.
func TestParseFrameworkErrors(t *testing.T) {
	t.Parallel()
	_, err := ParseFramework("f.yaml", []byte(`kind: Pack
name: "bad name"
version: 1.0.0
packVersion: "1.0"
contrls: []
controls:
  - id: "1.1"
    title: a
    iac: false
  - id: "1.1"
    title: b
  - {id: "a/b", title: c, iac: maybe}
  - {title: no id}
  - just text
`))
	if err == nil {
		t.Fatal("no errors")
	}
	var lines []string
	for _, e := range err.(ErrorList) {
		lines = append(lines, e.Error())
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		`f.yaml:1:7: bad name: kind "Pack": want Framework`,
		`f.yaml:2:7: bad name: framework name "bad name" must match`,
		`f.yaml:4:14: bad name: packVersion "1.0" is not a semantic version`,
		`f.yaml:5:1: bad name: unknown field "contrls" in framework (did you mean "controls"?)`,
		`f.yaml:9:10: bad name: a control with iac: false says why`,
		`f.yaml:10:5: bad name: duplicate control "1.1" (first defined at 7:5)`,
		`f.yaml:12:10: bad name: control id "a/b" may not contain spaces or /`,
		`f.yaml:12:32: bad name: iac "maybe": want true or false`,
		`f.yaml:13:5: bad name: missing required field "id"`,
		`f.yaml:14:5: bad name: want a control (a mapping with id and title)`,
		`f.yaml:1:1: bad name: missing required field "title"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

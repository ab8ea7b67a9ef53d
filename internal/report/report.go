// Package report writes findings for people and machines: a human summary,
// JSON, SARIF 2.1.0 (what GitHub code scanning reads) and JUnit XML (what CI
// systems render). Writers take an io.Writer and never print anything else.
package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/packs/spec"
)

// Format names an output format.
type Format string

// Output formats.
const (
	Human Format = "human"
	JSON  Format = "json"
	SARIF Format = "sarif"
	JUnit Format = "junit"
)

// Formats lists every format, for flag help and checks.
var Formats = []Format{Human, JSON, SARIF, JUnit}

// Tool describes Warden in machine output.
type Tool struct {
	Name, Version, URL string
}

// Write writes the reports in the format. breakdown adds, for people, a
// summary by pack, policy, stack and severity (audits want it).
func Write(w io.Writer, f Format, tool Tool, reports []*analyze.Report, breakdown bool) error {
	switch f {
	case Human:
		return writeHuman(w, reports, breakdown)
	case JSON:
		return writeJSON(w, reports)
	case SARIF:
		return writeSARIF(w, tool, reports)
	case JUnit:
		return writeJUnit(w, reports)
	}
	return fmt.Errorf("unknown format %q", f)
}

// Total sums the summaries of several reports.
func Total(reports []*analyze.Report) findings.Summary {
	var t findings.Summary
	for _, r := range reports {
		s := r.Summary
		t.Resources += s.Resources
		t.Policies = max(t.Policies, s.Policies)
		t.Violations += s.Violations
		t.Blocking += s.Blocking
		t.Excepted += s.Excepted
		t.Baselined += s.Baselined
		t.CantRun += s.CantRun
		t.Errors += s.Errors
	}
	return t
}

func writeJSON(w io.Writer, reports []*analyze.Report) error {
	for _, r := range reports {
		if r.Findings == nil {
			r.Findings = []findings.Finding{}
		}
	}
	if reports == nil {
		reports = []*analyze.Report{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Stacks  []*analyze.Report `json:"stacks"`
		Summary findings.Summary  `json:"summary"`
	}{reports, Total(reports)})
}

func levelLabel(f *findings.Finding) string {
	switch {
	case f.Kind == findings.CantRun:
		return "CAN'T RUN"
	case f.Exception != nil:
		return "EXCEPTED"
	case f.Baselined != "":
		return "BASELINED"
	case f.Kind == findings.Error:
		return strings.ToUpper(string(f.Level)) + " ERROR"
	}
	return strings.ToUpper(string(f.Level))
}

// baselined is the summary's baselined count, shown only when there are
// some (homes without baselines read as before).
func baselined(s findings.Summary) string {
	if s.Baselined == 0 {
		return ""
	}
	return fmt.Sprintf(", %d baselined", s.Baselined)
}

func writeHuman(w io.Writer, reports []*analyze.Report, breakdown bool) error {
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Stack %s (%s): %d resources, %d policies from %s\n", r.Name, r.Source, r.Summary.Resources, r.Summary.Policies, strings.Join(r.Packs, ", "))
		if len(r.Groups) > 0 {
			fmt.Fprintf(w, "  groups: %s\n", strings.Join(r.Groups, ", "))
		}
		for _, f := range r.Findings {
			fmt.Fprintln(w)
			fmt.Fprintf(w, "  %-10s %-8s %s/%s\n", levelLabel(&f), f.Severity, f.Pack, f.Policy)
			if f.URN != "" {
				fmt.Fprintf(w, "    %s\n", f.URN)
			}
			fmt.Fprintf(w, "    %s\n", f.Description)
			if f.Message != "" {
				fmt.Fprintf(w, "    %s\n", f.Message)
			}
			if e := f.Exception; e != nil {
				fmt.Fprintf(w, "    %s\n", e.Describe())
			}
			if f.Expired != "" {
				fmt.Fprintf(w, "    %s\n", f.ExpiredNote())
			}
			if f.Baselined != "" {
				fmt.Fprintf(w, "    %s\n", f.BaselineNote())
			}
			if f.MandatoryOn != "" {
				fmt.Fprintf(w, "    %s\n", f.StagedNote())
			}
			if f.RemediationSteps != "" && f.Kind == findings.Violation && f.Exception == nil {
				fmt.Fprintf(w, "    fix: %s\n", f.RemediationSteps)
			}
		}
		s := r.Summary
		fmt.Fprintf(w, "\n  %d violations (%d blocking, %d excepted%s), %d can't run, %d errors\n", s.Violations, s.Blocking, s.Excepted, baselined(s), s.CantRun, s.Errors)
	}
	if breakdown {
		writeBreakdown(w, reports)
	}
	return nil
}

// writeBreakdown summarises many stacks: violations by pack, policy, stack
// and severity.
func writeBreakdown(w io.Writer, reports []*analyze.Report) {
	count := map[string]map[string]int{"pack": {}, "policy": {}, "stack": {}, "severity": {}}
	for _, r := range reports {
		for _, f := range r.Findings {
			if f.Kind != findings.Violation {
				continue
			}
			count["pack"][f.Pack]++
			count["policy"][f.Pack+"/"+f.Policy]++
			count["stack"][r.Name]++
			sev := string(f.Severity)
			if sev == "" {
				sev = "unspecified"
			}
			count["severity"][sev]++
		}
	}
	t := Total(reports)
	fmt.Fprintf(w, "\nSummary: %d stacks, %d resources, %d violations (%d blocking, %d excepted%s), %d can't run, %d errors\n",
		len(reports), t.Resources, t.Violations, t.Blocking, t.Excepted, baselined(t), t.CantRun, t.Errors)
	for _, dim := range []string{"pack", "policy", "stack", "severity"} {
		m := count[dim]
		if len(m) == 0 {
			continue
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return cmp.Or(cmp.Compare(m[keys[j]], m[keys[i]]), cmp.Compare(keys[i], keys[j])) < 0
		})
		fmt.Fprintf(w, "  by %s:\n", dim)
		for _, k := range keys {
			fmt.Fprintf(w, "    %5d  %s\n", m[k], k)
		}
	}
}

// SARIF 2.1.0, as much of it as Warden fills in.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	Help             *sarifText     `json:"help,omitempty"`
	HelpURI          string         `json:"helpUri,omitempty"`
	Properties       map[string]any `json:"properties,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	BaselineState       string             `json:"baselineState,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// securitySeverity maps severities to the scores GitHub code scanning
// sorts security alerts by.
var securitySeverity = map[spec.Severity]string{spec.Low: "3.0", spec.Medium: "5.5", spec.High: "8.0", spec.Critical: "9.5"}

func sarifLevel(f *findings.Finding) string {
	switch {
	case f.Kind == findings.CantRun:
		return "note"
	case f.Level == spec.Mandatory || f.Level == spec.Remediate:
		return "error"
	}
	return "warning"
}

func writeSARIF(w io.Writer, tool Tool, reports []*analyze.Report) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: tool.Name, Version: tool.Version, InformationURI: tool.URL, Rules: []sarifRule{}}}, Results: []sarifResult{}}
	index := map[string]int{}
	for _, r := range reports {
		for _, f := range r.Findings {
			id := f.Pack + "/" + f.Policy
			i, ok := index[id]
			if !ok {
				i = len(run.Tool.Driver.Rules)
				index[id] = i
				rule := sarifRule{ID: id, Name: f.Policy, ShortDescription: sarifText{f.Description}, HelpURI: f.URL,
					Properties: map[string]any{"tags": []string{"security", "pulumi", f.Pack}}}
				if f.RemediationSteps != "" {
					rule.Help = &sarifText{f.RemediationSteps}
				}
				if s, ok := securitySeverity[f.Severity]; ok {
					rule.Properties["security-severity"] = s
				}
				run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule)
			}
			msg := f.Description
			if f.Message != "" {
				msg = f.Message
			}
			if f.URN != "" {
				msg += " (" + f.URN + ")"
			}
			sum := sha256.Sum256([]byte(strings.Join([]string{id, r.Name, f.URN, f.Message}, "\x00")))
			res := sarifResult{
				RuleID: id, RuleIndex: i, Level: sarifLevel(&f), Message: sarifText{msg},
				Locations: []sarifLocation{{
					PhysicalLocation: &sarifPhysical{ArtifactLocation: sarifArtifact{URI: r.Source}, Region: sarifRegion{StartLine: 1}},
					LogicalLocations: []sarifLogical{{FullyQualifiedName: cmp.Or(f.URN, r.Name), Kind: "resource"}},
				}},
				PartialFingerprints: map[string]string{"wardenFinding/v1": hex.EncodeToString(sum[:16])},
				Properties:          map[string]any{"stack": r.Name, "enforcementLevel": string(f.Level), "kind": string(f.Kind)},
			}
			if e := f.Exception; e != nil {
				res.Suppressions = []sarifSuppression{{Kind: "external", Justification: e.ID + ": " + e.Reason}}
			}
			if f.Baselined != "" {
				// SARIF's own word for a result a baseline already had.
				res.BaselineState = "unchanged"
			}
			run.Results = append(run.Results, res)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

// JUnit XML: one suite per stack, one case per policy that ran, failing
// when it found a violation.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []JUnitCase `xml:"testcase"`
}

// JUnitCase is one test case; warden test reuses it.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	Skipped   *struct{}     `xml:"skipped,omitempty"`
}

// JUnitFailure describes why a case failed.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes suites of cases: name -> cases, in the order given.
func WriteJUnit(w io.Writer, name string, suites []string, cases map[string][]JUnitCase) error {
	doc := junitSuites{Name: name}
	for _, s := range suites {
		js := junitSuite{Name: s, Cases: cases[s]}
		for _, c := range js.Cases {
			js.Tests++
			if c.Failure != nil {
				js.Failures++
			}
			if c.Skipped != nil {
				js.Skipped++
			}
		}
		doc.Tests += js.Tests
		doc.Failures += js.Failures
		doc.Suites = append(doc.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func writeJUnit(w io.Writer, reports []*analyze.Report) error {
	var suites []string
	cases := map[string][]JUnitCase{}
	for _, r := range reports {
		suites = append(suites, r.Name)
		by := map[string][]findings.Finding{}
		var order []string
		for _, f := range r.Findings {
			id := f.Pack + "/" + f.Policy
			if _, ok := by[id]; !ok {
				order = append(order, id)
			}
			by[id] = append(by[id], f)
		}
		for _, id := range r.Ran {
			if _, ok := by[id]; !ok {
				order = append(order, id)
			}
		}
		slices.Sort(order)
		for _, id := range order {
			c := JUnitCase{Name: id, Classname: r.Name}
			var lines []string
			failing := false
			if len(by[id]) == 0 {
				cases[r.Name] = append(cases[r.Name], c) // ran and passed
				continue
			}
			for _, f := range by[id] {
				lines = append(lines, fmt.Sprintf("[%s] %s: %s", levelLabel(&f), f.URN, cmp.Or(f.Message, f.Description)))
				failing = failing || f.Kind != findings.CantRun && f.Exception == nil && f.Baselined == ""
			}
			if failing {
				c.Failure = &JUnitFailure{Message: by[id][0].Description, Type: string(by[id][0].Level), Text: strings.Join(lines, "\n")}
			} else {
				c.Skipped = &struct{}{}
			}
			cases[r.Name] = append(cases[r.Name], c)
		}
	}
	return WriteJUnit(w, "warden", suites, cases)
}

package analyzer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/findings"
	"github.com/warden-policy/warden/internal/stackexport"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
)

// TestFindingsParity: one stack through the gRPC server (Analyze per
// resource on its inputs, AnalyzeStack on the outputs) and through `warden
// analyze`'s core gives the same findings: the same policies, resources,
// kinds, levels and words, exceptions included.
func TestFindingsParity(t *testing.T) {
	t.Parallel()
	h, err := home.Load("../cmd/warden/commands/testdata/home")
	if err != nil {
		t.Fatal(err)
	}
	st, err := stackexport.ReadFile("../testdata/stacks/example.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ident := home.Stack{Organization: "acme", Project: st.Project, Name: st.Name}

	an, err := analyze.New(h, home.Preventative, analyze.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := an.Report(t.Context(), st, ident)
	if err != nil {
		t.Fatal(err)
	}
	var cli []string
	for i := range rep.Findings {
		cli = append(cli, describe(rep.Findings[i].Pack, rep.Findings[i].Policy, rep.Findings[i].URN,
			string(rep.Findings[i].Kind), levelToProto(rep.Findings[i].ReportedLevel()), rep.Findings[i].Text()))
	}

	srv := NewServer(h, nil, Options{Version: "0.1.0", Logger: testLogger(t), Now: func() time.Time { return now }})
	c := newTestClient(t, srv)
	if _, err := c.ConfigureStack(t.Context(), &pulumirpc.AnalyzerStackConfigureRequest{
		Organization: ident.Organization, Project: ident.Project, Stack: ident.Name,
	}); err != nil {
		t.Fatal(err)
	}
	var plugin []string
	collect := func(resp *pulumirpc.AnalyzeResponse, urn string) {
		for _, d := range resp.GetDiagnostics() {
			kind, at := findings.Violation, cmpOr(d.GetUrn(), urn)
			switch {
			case strings.HasPrefix(d.GetMessage(), "can't run policy"):
				kind, at = findings.CantRun, urn
			case strings.Contains(d.GetMessage(), "\npolicy failed to evaluate: "):
				kind = findings.Error
			}
			policy := d.GetPolicyName()[strings.LastIndex(d.GetPolicyName(), "/")+1:]
			plugin = append(plugin, describe(d.GetPolicyPackName(), policy, at, string(kind), d.GetEnforcementLevel(), d.GetMessage()))
		}
	}
	stack := &pulumirpc.AnalyzeStackRequest{}
	for _, r := range st.Resources {
		req, err := request(r.Inputs)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Analyze(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		collect(resp, r.Inputs.URN)
		out, err := request(r.Outputs)
		if err != nil {
			t.Fatal(err)
		}
		stack.Resources = append(stack.Resources, &pulumirpc.AnalyzerResource{
			Urn: out.Urn, Type: out.Type, Name: out.Name, Properties: out.Properties, Options: out.Options,
			Provider: out.Provider, Parent: r.Outputs.Parent, Dependencies: r.Outputs.Dependencies,
		})
	}
	resp, err := c.AnalyzeStack(t.Context(), stack)
	if err != nil {
		t.Fatal(err)
	}
	collect(resp, "")

	slices.Sort(cli)
	slices.Sort(plugin)
	if len(cli) < 10 {
		t.Fatalf("only %d findings: the corpus should exercise more", len(cli))
	}
	if d := cmp.Diff(cli, plugin); d != "" {
		t.Errorf("findings differ (-warden analyze +plugin):\n%s", d)
	}
	excepted := slices.ContainsFunc(cli, func(s string) bool { return strings.Contains(s, "excepted by break-glass") })
	if !excepted {
		t.Error("the corpus should have an excepted finding")
	}
}

func describe(pack, policy, urn, kind string, level pulumirpc.EnforcementLevel, text string) string {
	return fmt.Sprintf("%s/%s %s %s %s %s", pack, policy, urn, kind, level, strconv.Quote(text))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// request is a resource as the engine would send it to Analyze.
func request(r *engine.Resource) (*pulumirpc.AnalyzeRequest, error) {
	props, err := propsToProto(r.Props)
	if err != nil {
		return nil, err
	}
	req := &pulumirpc.AnalyzeRequest{
		Urn: r.URN, Type: r.Type, Name: r.Name, Properties: props,
		Options: &pulumirpc.AnalyzerResourceOptions{
			Protect: r.Options.Protect, IgnoreChanges: r.Options.IgnoreChanges, DeleteBeforeReplace: r.Options.DeleteBeforeReplace,
			Aliases: r.Options.Aliases, AdditionalSecretOutputs: r.Options.AdditionalSecretOutputs, Parent: r.Options.Parent,
		},
	}
	if p := r.Provider; p != nil {
		pprops, err := propsToProto(p.Props)
		if err != nil {
			return nil, err
		}
		req.Provider = &pulumirpc.AnalyzerProviderResource{Urn: p.URN, Type: p.Type, Name: p.Name, Properties: pprops}
	}
	return req, nil
}

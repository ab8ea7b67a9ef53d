package analyzer

import (
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/warden-policy/warden/packs/home"
)

func groupsClient(t *testing.T) pulumirpc.AnalyzerClient {
	t.Helper()
	h, err := home.Load("testdata/groups")
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	return newTestClient(t, NewServer(h, nil, Options{Logger: testLogger(t), Now: now}))
}

func bucket(t *testing.T, stack, project, name string) *pulumirpc.AnalyzeRequest {
	return &pulumirpc.AnalyzeRequest{
		Urn: "urn:pulumi:" + stack + "::" + project + "::aws:s3/bucket:Bucket::" + name, Type: "aws:s3/bucket:Bucket", Name: name,
		Properties: props(t, resource.PropertyMap{"acl": resource.NewStringProperty("public-read")}),
	}
}

func aclDiagnostic(t *testing.T, c pulumirpc.AnalyzerClient, req *pulumirpc.AnalyzeRequest) *pulumirpc.AnalyzeDiagnostic {
	t.Helper()
	resp, err := c.Analyze(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	d := byPolicy(resp)["s3-bucket-no-public-acl"]
	if len(d) != 1 {
		t.Fatalf("diagnostics: %v", resp)
	}
	return d[0]
}

// TestGroupsByStack: the level follows the groups that select the stack,
// from ConfigureStack or, without it, from the URN.
func TestGroupsByStack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		configure *pulumirpc.AnalyzerStackConfigureRequest
		stack     string
		want      pulumirpc.EnforcementLevel
	}{
		{"dev", &pulumirpc.AnalyzerStackConfigureRequest{Stack: "dev", Project: "promo"}, "dev", pulumirpc.EnforcementLevel_ADVISORY},
		{"prod by name", &pulumirpc.AnalyzerStackConfigureRequest{Stack: "prod", Project: "promo"}, "prod", pulumirpc.EnforcementLevel_MANDATORY},
		{"staging by tag", &pulumirpc.AnalyzerStackConfigureRequest{Stack: "staging", Project: "promo", Tags: map[string]string{"tier": "critical"}}, "staging", pulumirpc.EnforcementLevel_MANDATORY},
		{"prod from the URN", nil, "prod", pulumirpc.EnforcementLevel_MANDATORY},
		{"dev from the URN", nil, "dev", pulumirpc.EnforcementLevel_ADVISORY},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := groupsClient(t)
			if tc.configure != nil {
				if _, err := c.ConfigureStack(t.Context(), tc.configure); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.GetAnalyzerInfo(t.Context(), &emptypb.Empty{}); err != nil {
				t.Fatal(err)
			}
			d := aclDiagnostic(t, c, bucket(t, tc.stack, "promo", "promo"))
			if d.GetEnforcementLevel() != tc.want {
				t.Errorf("level %v, want %v", d.GetEnforcementLevel(), tc.want)
			}
			if !strings.Contains(d.GetMessage(), "\nexception old-waiver expired on 2026-06-30 and no longer applies") {
				t.Errorf("no word of the expired exception: %s", d.GetMessage())
			}
		})
	}
}

// TestException: an excepted mandatory violation is advisory, with the
// exception's id and reason.
func TestException(t *testing.T) {
	t.Parallel()
	c := groupsClient(t)
	if _, err := c.ConfigureStack(t.Context(), &pulumirpc.AnalyzerStackConfigureRequest{Stack: "prod", Project: "promo"}); err != nil {
		t.Fatal(err)
	}
	d := aclDiagnostic(t, c, bucket(t, "prod", "promo", "site"))
	if d.GetEnforcementLevel() != pulumirpc.EnforcementLevel_ADVISORY ||
		!strings.Contains(d.GetMessage(), "excepted by public-site: The marketing site is public by design (SEC-123).") {
		t.Errorf("excepted diagnostic: %v", d)
	}
}

package provider

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestCertificateUpgradeStateFromVersion0 upgrades a version 0 state (as
// the provider stored it before the derived attributes left the schema:
// testdata/certificate_state_v0.json) through the protocol server, as
// Terraform does on the first plan after the upgrade: every attribute the
// current schema has keeps its value, the derived ones are gone, and a plan
// of the unchanged configuration changes nothing.
func TestCertificateUpgradeStateFromVersion0(t *testing.T) {
	ctx := context.Background()
	old, err := os.ReadFile("testdata/certificate_state_v0.json")
	if err != nil {
		t.Fatal(err)
	}
	var oldAttrs map[string]any
	if err := json.Unmarshal(old, &oldAttrs); err != nil {
		t.Fatal(err)
	}
	for _, name := range removedInVersion1 {
		if _, ok := oldAttrs[name]; !ok {
			t.Fatalf("testdata state lacks %s: it is not of version 0", name)
		}
	}
	withAnchor := map[string]any{}
	for k, v := range oldAttrs {
		withAnchor[k] = v
	}
	withAnchor["trust_anchor_sha256"] = strings.Repeat("ab", 32)
	adopted, err := json.Marshal(withAnchor)
	if err != nil {
		t.Fatal(err)
	}

	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	var sresp resource.SchemaResponse
	(&certificateResource{}).Schema(ctx, resource.SchemaRequest{}, &sresp)
	typ := sresp.Schema.Type().TerraformType(ctx)

	for _, tc := range []struct {
		name  string
		state []byte
	}{
		{name: "trust anchor configured", state: old},
		{name: "adopted trust anchor kept", state: adopted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := server.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{
				TypeName: "cmpv2_certificate", Version: 0, RawState: &tfprotov6.RawState{JSON: tc.state},
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range resp.Diagnostics {
				t.Fatalf("diagnostic: %s: %s", d.Summary, d.Detail)
			}
			upgraded, err := resp.UpgradedState.Unmarshal(typ)
			if err != nil {
				t.Fatal(err)
			}
			var attrs map[string]tftypes.Value
			if err := upgraded.As(&attrs); err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal(tc.state, &want); err != nil {
				t.Fatal(err)
			}
			for _, name := range removedInVersion1 {
				if _, ok := attrs[name]; ok {
					t.Errorf("%s is still in the upgraded state", name)
				}
				delete(want, name)
			}
			// Every attribute of the old state is kept; those it did not
			// have (added since) are null.
			for name, v := range attrs {
				if _, old := want[name]; !old && !v.IsNull() {
					t.Errorf("%s, which the version 0 state did not have, is %v, want null", name, v)
				}
			}
			for name := range want {
				if _, ok := attrs[name]; !ok {
					t.Errorf("%s of the version 0 state is missing from the upgraded state", name)
				}
			}
			for name, w := range want {
				s, isString := w.(string)
				if !isString {
					continue
				}
				var got string
				if err := attrs[name].As(&got); err != nil || got != s {
					t.Errorf("%s = %v (%v), want the version 0 value", name, attrs[name], err)
				}
			}
			for _, name := range []string{"subject", "dns_names", "rotation_triggers", "key_usages"} {
				if attrs[name].IsNull() {
					t.Errorf("%s is null after the upgrade", name)
				}
			}

			// The prior state of the next plan is the upgraded one; with the
			// configuration unchanged, ModifyPlan leaves it as proposed.
			notBefore, _ := time.Parse(time.RFC3339, want["not_before"].(string))
			if !planStandsAsProposed(upgraded, upgraded, notBefore.Add(time.Hour)) {
				t.Error("the plan of an upgraded state with an unchanged configuration is not empty")
			}
		})
	}

	t.Run("not JSON", func(t *testing.T) {
		resp, err := server.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{
			TypeName: "cmpv2_certificate", Version: 0, RawState: &tfprotov6.RawState{JSON: []byte("{")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Diagnostics) == 0 || !strings.Contains(resp.Diagnostics[0].Summary, "version 0") {
			t.Fatalf("diagnostics %v, want the unreadable version 0 state named", resp.Diagnostics)
		}
	})
}

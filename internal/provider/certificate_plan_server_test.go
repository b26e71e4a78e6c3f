package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestRenewalPlanWarning plans through the provider's protocol server, the
// way Terraform does, a certificate whose renewal window has opened: the
// plan is an in-place update with the certificate unknown and a warning
// that names the KUR and why (the window and when it opened), which
// `terraform plan` prints. Before the window, the plan carries no warning.
func TestRenewalPlanWarning(t *testing.T) {
	clearProviderEnv(t)
	ctx := context.Background()
	defaultWindow := t0.Add(60 * 24 * time.Hour) // one third of 90 days remains
	previousPEM, _ := testCertificate(t, "previous")
	previous, err := parseCertificatePEM(previousPEM)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		now         time.Time
		edit        func(m *certificateModel)
		wantWarning []string // nil: no warning, certificate kept
	}{
		{name: "before the window", now: defaultWindow.Add(-time.Minute)},
		{name: "default window open", now: defaultWindow,
			wantWarning: []string{"planned key update request (KUR)", "the renewal window opened at " +
				defaultWindow.Format(time.RFC3339)}},
		{name: "window open after a CR or KUR: the previous certificate will be revoked", now: defaultWindow,
			edit: func(m *certificateModel) { m.PreviousCertificatePEM = types.StringValue(previousPEM) },
			wantWarning: []string{"planned key update request (KUR)", "the renewal window opened at",
				"(serial " + previous.SerialNumber.String() + ") leaves the state and is revoked"}},
		{name: "renew_before_expiry window open", now: t1.Add(-10 * 24 * time.Hour),
			edit: func(m *certificateModel) { m.RenewBeforeExpiry = types.StringValue("480h") },
			wantWarning: []string{"planned key update request (KUR)", "the renewal window opened at " +
				t1.Add(-20*24*time.Hour).Format(time.RFC3339)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			server := providerserver.NewProtocol6(newProvider("test", fixedClock(tc.now))())()

			var pschema provider.SchemaResponse
			(&cmpv2Provider{}).Schema(ctx, provider.SchemaRequest{}, &pschema)
			ptyp := pschema.Schema.Type().TerraformType(ctx)
			pcfg := map[string]tftypes.Value{}
			for name, typ := range ptyp.(tftypes.Object).AttributeTypes {
				pcfg[name] = tftypes.NewValue(typ, nil)
			}
			pcfg["url"] = tftypes.NewValue(tftypes.String, "http://127.0.0.1:8829/")
			pcfg["reference"] = tftypes.NewValue(tftypes.String, "ref")
			pcfg["secret"] = tftypes.NewValue(tftypes.String, "pw")
			// A trust anchor: a KUR is planned only when its signed answer can be verified.
			pcfg["trusted_ca_pem"] = tftypes.NewValue(tftypes.String, previousPEM)
			pdv, err := tfprotov6.NewDynamicValue(ptyp, tftypes.NewValue(ptyp, pcfg))
			if err != nil {
				t.Fatal(err)
			}
			cresp, err := server.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &pdv})
			if err != nil || len(cresp.Diagnostics) > 0 {
				t.Fatalf("configure: %v %v", err, cresp.Diagnostics)
			}

			var rschema resource.SchemaResponse
			(&certificateResource{}).Schema(ctx, resource.SchemaRequest{}, &rschema)
			sch := rschema.Schema
			typ := sch.Type().TerraformType(ctx)
			encode := func(m certificateModel) *tfprotov6.DynamicValue {
				st := tfsdk.State{Schema: sch, Raw: tftypes.NewValue(typ, nil)}
				if d := st.Set(ctx, m); d.HasError() {
					t.Fatal(d)
				}
				dv, err := tfprotov6.NewDynamicValue(typ, st.Raw)
				if err != nil {
					t.Fatal(err)
				}
				return &dv
			}
			prior := issuedState()
			planned := issuedState()
			if tc.edit != nil {
				tc.edit(&prior)
				tc.edit(&planned)
			}
			resp, err := server.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
				TypeName:         "cmpv2_certificate",
				PriorState:       encode(prior),
				ProposedNewState: encode(planned),
				Config:           encode(configOf(planned, false)),
			})
			if err != nil {
				t.Fatal(err)
			}
			var warnings []string
			for _, d := range resp.Diagnostics {
				if d.Severity != tfprotov6.DiagnosticSeverityWarning {
					t.Fatalf("diagnostic %s: %s: %s", d.Severity, d.Summary, d.Detail)
				}
				warnings = append(warnings, d.Summary+": "+d.Detail)
			}
			text := strings.Join(warnings, "\n")
			raw, err := resp.PlannedState.Unmarshal(typ)
			if err != nil {
				t.Fatal(err)
			}
			var got certificateModel
			if d := (tfsdk.Plan{Schema: sch, Raw: raw}).Get(ctx, &got); d.HasError() {
				t.Fatal(d)
			}
			if tc.wantWarning == nil {
				if text != "" || got.CertificatePEM.IsUnknown() {
					t.Errorf("before the window: warnings %q, certificate unknown %v; want none and kept", text,
						got.CertificatePEM.IsUnknown())
				}
				return
			}
			if len(warnings) != 1 {
				t.Errorf("want one warning, got %d: %s", len(warnings), text)
			}
			for _, want := range tc.wantWarning {
				if !strings.Contains(text, want) {
					t.Errorf("warning %q does not say %q", text, want)
				}
			}
			if !got.CertificatePEM.IsUnknown() || !got.PrivateKeyPEM.IsUnknown() || got.ID.ValueString() != "1234" {
				t.Errorf("planned certificate unknown %v, key unknown %v, id %s: want a KUR in place with a new key",
					got.CertificatePEM.IsUnknown(), got.PrivateKeyPEM.IsUnknown(), got.ID)
			}
			if len(resp.RequiresReplace) != 0 {
				t.Errorf("requires replace %v: a renewal is in place", resp.RequiresReplace)
			}
		})
	}
}

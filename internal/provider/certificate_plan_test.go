package provider

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// issuedState is the state of a certificate issued by an IR at t0, valid
// for 90 days, with a generated ECDSA key.
func issuedState() certificateModel {
	str := types.StringValue
	subject, _ := types.ObjectValue(subjectAttrTypes, map[string]attr.Value{
		"common_name": str("web.example"), "organization": types.StringNull(), "organizational_unit": types.StringNull(),
		"country": types.StringNull(), "province": types.StringNull(), "locality": types.StringNull(),
		"street_address": types.StringNull(), "postal_code": types.StringNull(), "serial_number": types.StringNull(),
	})
	strings := func(v ...string) types.List {
		if v == nil {
			return types.ListNull(types.StringType)
		}
		elems := make([]attr.Value, len(v))
		for i, s := range v {
			elems[i] = str(s)
		}
		return types.ListValueMust(types.StringType, elems)
	}
	return certificateModel{
		Server:              types.ObjectNull(connectionAttrTypes),
		Enrollment:          types.ObjectNull(enrollmentAttrTypes),
		Subject:             subject,
		DNSNames:            strings("web.example"),
		IPAddresses:         strings(),
		URIs:                strings(),
		EmailAddresses:      strings(),
		KeyUsages:           types.SetValueMust(types.StringType, []attr.Value{str("digital_signature")}),
		ExtendedKeyUsages:   types.SetNull(types.StringType),
		ValidityPeriodHours: types.Int64Null(),
		KeyAlgorithm:        str("ECDSA"),
		RSABits:             types.Int64Value(2048),
		ECDSACurve:          str("P256"),
		PrivateKeyPEM:       str("GENERATED-KEY-PEM"),
		RenewBeforeExpiry:   types.StringNull(),
		RenewAfterIssue:     types.StringNull(),
		RotationTriggers:    types.MapValueMust(types.StringType, map[string]attr.Value{"epoch": str("1")}),
		RevokeOnDestroy:     types.BoolValue(true),
		RevocationReason:    str("unspecified"),
		Timeouts: timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
			"create": types.StringType, "update": types.StringType, "delete": types.StringType})},
		ID:                     str("1234"),
		CertificatePEM:         str("CERT-PEM"),
		CAChainPEM:             str("CHAIN-PEM"),
		SerialNumber:           str("1234"),
		NotBefore:              str(t0.Format(time.RFC3339)),
		NotAfter:               str(t1.Format(time.RFC3339)),
		PreviousCertificatePEM: types.StringNull(),
		LastOperation:          str("ir"),
		ReadyForRenewal:        types.BoolValue(false),
		RenewalTime:            str(t0.Add(60 * 24 * time.Hour).Format(time.RFC3339)),
	}
}

// configOf turns a planned model into what the configuration would hold:
// computed-only attributes null, and the generated key not configured.
func configOf(m certificateModel, userKey bool) certificateModel {
	c := m
	for _, s := range []*types.String{&c.ID, &c.CertificatePEM, &c.CAChainPEM, &c.SerialNumber,
		&c.NotBefore, &c.NotAfter, &c.PreviousCertificatePEM,
		&c.LastOperation, &c.RenewalTime} {
		*s = types.StringNull()
	}
	c.ReadyForRenewal = types.BoolNull()
	if !userKey {
		c.PrivateKeyPEM = types.StringNull()
	}
	return c
}

// plannedPublicKey is the public key, PEM, of a planned private_key_pem:
// "" when it is unknown, the value itself when it is no key (the
// stand-in of issuedState).
func plannedPublicKey(key types.String) string {
	if key.IsUnknown() {
		return ""
	}
	signer, err := parsePrivateKeyPEM(key.ValueString())
	if err != nil {
		return key.ValueString()
	}
	pub, err := pemkey.MarshalPublicKey(signer.Public())
	if err != nil {
		return "unmarshalable: " + err.Error()
	}
	return string(pub)
}

func TestCertificateModifyPlan(t *testing.T) {
	ctx := context.Background()
	renewAt := t0.Add(60 * 24 * time.Hour)
	// With a trust anchor: a CR or KUR is planned only when its signed answer can be verified.
	var withCredentials = &Defaults{URL: "http://127.0.0.1:8829/", Reference: "ref", Secret: "pw",
		TrustedCAs: []*x509.Certificate{{}}}
	_, userKey := testCertificate(t, "user key")
	userSigner, err := parsePrivateKeyPEM(userKey)
	if err != nil {
		t.Fatal(err)
	}
	userPub, err := pemkey.MarshalPublicKey(userSigner.Public())
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name         string
		now          time.Time
		defaults     *Defaults
		state        func(m *certificateModel) // the prior state, from issuedState (and the plan's start)
		edit         func(m *certificateModel) // the planned change
		userKey      bool                      // private_key_pem is in the configuration
		wantCertKept bool                      // certificate_pem stays known (state only)
		wantKeyKept  bool                      // private_key_pem stays known
		// wantPub is the planned public key (certificate_info's public_key_pem
		// after apply): that of the planned private_key_pem, which must be
		// known; "": unknown. The state's generated key stands for itself.
		wantPub     string
		wantLastOp  string // last_operation planned; "": unknown
		wantWarning string // "" : none
		wantError   string
		wantReplace bool
	}{
		{name: "nothing changed before the window", now: t0.Add(time.Hour), defaults: withCredentials,
			wantCertKept: true, wantKeyKept: true, wantPub: "GENERATED-KEY-PEM", wantLastOp: "ir"},
		{name: "renewal window open: in-place KUR with a new key", now: renewAt, defaults: withCredentials,
			wantKeyKept: false, wantLastOp: "kur", wantWarning: "key update request (KUR)"},
		{name: "revoke_on_destroy changed: state only", now: t0.Add(time.Hour), defaults: withCredentials,
			edit:         func(m *certificateModel) { m.RevokeOnDestroy = types.BoolValue(false) },
			wantCertKept: true, wantKeyKept: true, wantPub: "GENERATED-KEY-PEM", wantLastOp: "ir"},
		{name: "server changed: state only", now: t0.Add(time.Hour), defaults: withCredentials,
			edit: func(m *certificateModel) {
				m.Server = types.ObjectValueMust(connectionAttrTypes, map[string]attr.Value{
					"url": types.StringValue("https://other.example/cmp"), "trusted_ca_pem": types.StringNull(),
					"server_certificate_pem": types.StringNull(), "recipient": types.StringNull(),
					"tls": types.ObjectNull(tlsAttrTypes), "basic_auth": types.ObjectNull(basicAuthAttrTypes),
					"implicit_confirm": types.BoolNull(), "message_timeout": types.StringNull()})
			},
			wantCertKept: true, wantKeyKept: true, wantPub: "GENERATED-KEY-PEM", wantLastOp: "ir"},
		{name: "SAN added: CR keeping the key", now: t0.Add(time.Hour), defaults: withCredentials,
			edit: func(m *certificateModel) {
				m.DNSNames = types.ListValueMust(types.StringType, []attr.Value{types.StringValue("web.example"), types.StringValue("api.example")})
			},
			wantKeyKept: true, wantPub: "GENERATED-KEY-PEM", wantLastOp: "cr", wantWarning: "certification request (CR)"},
		{name: "subject changed: CR keeping the key plans public_key_pem known, issuer unknown", now: t0.Add(time.Hour),
			defaults: withCredentials,
			edit: func(m *certificateModel) {
				m.Subject = types.ObjectValueMust(subjectAttrTypes, map[string]attr.Value{
					"common_name": types.StringValue("web2.example"), "organization": types.StringNull(),
					"organizational_unit": types.StringNull(), "country": types.StringNull(), "province": types.StringNull(),
					"locality": types.StringNull(), "street_address": types.StringNull(), "postal_code": types.StringNull(),
					"serial_number": types.StringNull()})
			},
			wantKeyKept: true, wantPub: "GENERATED-KEY-PEM", wantLastOp: "cr", wantWarning: "subject changed"},
		{name: "rotation trigger changed: KUR with a new key", now: t0.Add(time.Hour), defaults: withCredentials,
			edit: func(m *certificateModel) {
				m.RotationTriggers = types.MapValueMust(types.StringType, map[string]attr.Value{"epoch": types.StringValue("2")})
			},
			wantLastOp: "kur", wantWarning: "rotation_triggers changed"},
		{name: "new user-supplied key: KUR with that key", now: t0.Add(time.Hour), defaults: withCredentials,
			userKey: true, edit: func(m *certificateModel) { m.PrivateKeyPEM = types.StringValue("USER-KEY-PEM") },
			wantKeyKept: true, wantPub: "USER-KEY-PEM", wantLastOp: "kur", wantWarning: "private_key_pem changed"},
		{name: "new user-supplied key: public_key_pem planned from it", now: t0.Add(time.Hour), defaults: withCredentials,
			userKey: true, edit: func(m *certificateModel) { m.PrivateKeyPEM = types.StringValue(userKey) },
			wantKeyKept: true, wantPub: string(userPub), wantLastOp: "kur", wantWarning: "private_key_pem changed"},
		{name: "user-supplied key, window open: KUR with the same key keeps public_key_pem", now: renewAt,
			defaults: withCredentials, userKey: true, state: func(m *certificateModel) {
				m.PrivateKeyPEM = types.StringValue(userKey)
			},
			edit:        func(m *certificateModel) { m.PrivateKeyPEM = types.StringValue(userKey) },
			wantKeyKept: true, wantPub: string(userPub), wantLastOp: "kur", wantWarning: "the renewal window opened"},
		{name: "renewal window longer than the granted validity falls back", now: t0.Add(time.Hour), defaults: withCredentials,
			edit:         func(m *certificateModel) { m.RenewBeforeExpiry = types.StringValue("2400h") },
			wantCertKept: true, wantKeyKept: true, wantPub: "GENERATED-KEY-PEM", wantLastOp: "ir",
			wantWarning: "Renewal window does not fit the granted validity"},
		{name: "renew_after_issue under half the validity falls back, naming it", now: t0.Add(time.Hour),
			defaults: withCredentials, edit: func(m *certificateModel) { m.RenewAfterIssue = types.StringValue("24h") },
			wantCertKept: true, wantKeyKept: true, wantPub: "GENERATED-KEY-PEM", wantLastOp: "ir",
			wantWarning: `renew_after_issue = "24h0m0s" would open the renewal window`},
		{name: "expired with a user-supplied key: public_key_pem planned from it", now: t1.Add(time.Minute),
			defaults: withCredentials, userKey: true, state: func(m *certificateModel) {
				m.PrivateKeyPEM = types.StringValue(userKey)
			},
			edit:        func(m *certificateModel) { m.PrivateKeyPEM = types.StringValue(userKey) },
			wantKeyKept: true, wantPub: string(userPub), wantReplace: true, wantWarning: "planned replacement (new IR)"},
		{name: "expired: replace with a new IR", now: t1.Add(time.Minute), defaults: withCredentials,
			wantReplace: true, wantWarning: "planned replacement (new IR)"},
		{name: "expired without IR credentials: error with the remedy", now: t1.Add(time.Minute), defaults: &Defaults{},
			wantError: "CMPV2_REFERENCE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &certificateResource{defaults: tc.defaults, clock: fixedClock(tc.now)}
			var sresp resource.SchemaResponse
			r.Schema(ctx, resource.SchemaRequest{}, &sresp)
			sch := sresp.Schema
			empty := tftypes.NewValue(sch.Type().TerraformType(ctx), nil)

			prior := issuedState()
			if tc.state != nil {
				tc.state(&prior)
			}
			state := tfsdk.State{Schema: sch, Raw: empty}
			if d := state.Set(ctx, prior); d.HasError() {
				t.Fatal(d)
			}
			planned := prior
			if tc.edit != nil {
				tc.edit(&planned)
			}
			plan := tfsdk.State{Schema: sch, Raw: empty}
			if d := plan.Set(ctx, planned); d.HasError() {
				t.Fatal(d)
			}
			config := tfsdk.State{Schema: sch, Raw: empty}
			if d := config.Set(ctx, configOf(planned, tc.userKey)); d.HasError() {
				t.Fatal(d)
			}

			req := resource.ModifyPlanRequest{
				Config: tfsdk.Config{Schema: sch, Raw: config.Raw},
				Plan:   tfsdk.Plan{Schema: sch, Raw: plan.Raw},
				State:  state,
			}
			resp := resource.ModifyPlanResponse{Plan: req.Plan}
			r.ModifyPlan(ctx, req, &resp)

			if tc.wantError != "" {
				if !resp.Diagnostics.HasError() || !strings.Contains(diagText(resp.Diagnostics), tc.wantError) {
					t.Fatalf("diagnostics %v, want an error containing %q", resp.Diagnostics, tc.wantError)
				}
				return
			}
			if resp.Diagnostics.HasError() {
				t.Fatalf("unexpected error: %v", resp.Diagnostics)
			}
			var got certificateModel
			if d := resp.Plan.Get(ctx, &got); d.HasError() {
				t.Fatal(d)
			}
			if kept := !got.CertificatePEM.IsUnknown(); kept != tc.wantCertKept {
				t.Errorf("certificate_pem kept = %v, want %v", kept, tc.wantCertKept)
			}
			if tc.wantCertKept && got.CertificatePEM.ValueString() != "CERT-PEM" {
				t.Errorf("certificate_pem = %q, want the state's", got.CertificatePEM.ValueString())
			}
			if kept := !got.PrivateKeyPEM.IsUnknown(); kept != tc.wantKeyKept {
				t.Errorf("private_key_pem kept = %v, want %v", kept, tc.wantKeyKept)
			}
			if pub := plannedPublicKey(got.PrivateKeyPEM); pub != tc.wantPub {
				t.Errorf("planned public key (of private_key_pem %v) = %q, want %q (\"\": unknown)", got.PrivateKeyPEM, pub, tc.wantPub)
			}
			if got.LastOperation.IsUnknown() != (tc.wantLastOp == "") || got.LastOperation.ValueString() != tc.wantLastOp {
				t.Errorf("last_operation = %v, want %q (\"\": unknown)", got.LastOperation, tc.wantLastOp)
			}
			// certificate_info(certificate_pem).issuer: the CA chooses it.
			if !tc.wantCertKept && !got.CertificatePEM.IsUnknown() {
				t.Errorf("certificate_pem = %v planned known for a new certificate, so would its issuer be; the CA chooses it", got.CertificatePEM)
			}
			if got.ID.ValueString() != "1234" {
				t.Errorf("id = %s, want it stable", got.ID)
			}
			if tc.wantCertKept && got.RenewalTime.IsUnknown() {
				t.Error("renewal_time unknown on a state-only update")
			}
			if replace := len(resp.RequiresReplace) > 0; replace != tc.wantReplace {
				t.Errorf("requires replace = %v (%v), want %v", replace, resp.RequiresReplace, tc.wantReplace)
			}
			if tc.wantReplace && !resp.RequiresReplace.Contains(path.Root("not_after")) {
				t.Errorf("requires replace on %v, want not_after", resp.RequiresReplace)
			}
			warnings := diagText(resp.Diagnostics.Warnings())
			if tc.wantWarning == "" && warnings != "" {
				t.Errorf("unexpected warnings: %s", warnings)
			}
			if !strings.Contains(warnings, tc.wantWarning) {
				t.Errorf("warnings %q, want one containing %q", warnings, tc.wantWarning)
			}
		})
	}
}

func diagText[D interface {
	Summary() string
	Detail() string
}](ds []D) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Summary() + ": " + d.Detail() + "\n")
	}
	return b.String()
}

// TestCertificateModifyPlanCreateRenewalWindow: the plan of a create
// warns about a renewal window that will not fit validity_period_hours,
// before the IR, with the window, the requested validity, the rule applied
// instead and the fix; one that fits plans without a warning.
func TestCertificateModifyPlanCreateRenewalWindow(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, before, after string
		want                []string // nil: no warning
	}{
		{name: "fits", before: "240h"},
		{name: "renew_before_expiry over half of validity_period_hours", before: "600h", want: []string{
			"Renewal window does not fit the requested validity", `renew_before_expiry = "600h0m0s" would open the renewal window 120h0m0s after not_before`,
			"validity_period_hours requests 720h0m0s", "renewal is due when one third of the validity remains, at 480h0m0s after not_before",
			"validity_period_hours = 1200 or more"}},
		{name: "renew_after_issue under half", after: "24h", want: []string{
			`renew_after_issue = "24h0m0s" would open the renewal window 24h0m0s after not_before`,
			"validity_period_hours = 48 or less"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &certificateResource{defaults: &Defaults{URL: "http://127.0.0.1:8829/", Reference: "ref", Secret: "pw"},
				clock: fixedClock(t0)}
			var sresp resource.SchemaResponse
			r.Schema(ctx, resource.SchemaRequest{}, &sresp)
			sch := sresp.Schema
			empty := tftypes.NewValue(sch.Type().TerraformType(ctx), nil)
			m := configOf(issuedState(), false)
			m.ValidityPeriodHours = types.Int64Value(720)
			for s, v := range map[*types.String]string{&m.RenewBeforeExpiry: tc.before, &m.RenewAfterIssue: tc.after} {
				if v != "" {
					*s = types.StringValue(v)
				}
			}
			config := tfsdk.State{Schema: sch, Raw: empty}
			if d := config.Set(ctx, m); d.HasError() {
				t.Fatal(d)
			}
			req := resource.ModifyPlanRequest{
				Config: tfsdk.Config{Schema: sch, Raw: config.Raw},
				Plan:   tfsdk.Plan{Schema: sch, Raw: config.Raw},
				State:  tfsdk.State{Schema: sch, Raw: empty},
			}
			resp := resource.ModifyPlanResponse{Plan: req.Plan}
			r.ModifyPlan(ctx, req, &resp)
			if resp.Diagnostics.HasError() {
				t.Fatalf("unexpected error: %v", resp.Diagnostics)
			}
			warnings := diagText(resp.Diagnostics.Warnings())
			if tc.want == nil && warnings != "" {
				t.Errorf("unexpected warnings: %s", warnings)
			}
			for _, w := range tc.want {
				if !strings.Contains(warnings, w) {
					t.Errorf("warnings %q do not say %q", warnings, w)
				}
			}
		})
	}
}

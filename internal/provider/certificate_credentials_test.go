package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestIRCredentials checks the one IR-credential rule: what is wrong in
// every plan, what only an IR needs, how unknown and write-only values
// count, and which credentials an IR gets.
func TestIRCredentials(t *testing.T) {
	_, certPEM, keyPEM := testExternalCredential(t)
	_, _, otherKeyPEM := testExternalCredential(t)
	null, unknown, str := types.StringNull(), types.StringUnknown(), types.StringValue
	enrollmentTypes := enrollmentAttrTypes
	obj := credentialsObject
	providerCreds := &Defaults{Reference: "provider-ref", Secret: "provider-secret"}
	const ir = "An IR is sent."
	cases := []struct {
		name       string
		enrollment types.Object
		defaults   *Defaults
		sendsIR    string
		wantErr    string    // summary of the error; "" for none
		wantPath   path.Path // where the error is attached
		wantCreds  string    // "mac:<reference>", "sig" or "" for nil
		wantFrom   string    // part of where the credentials came from
	}{
		// Never an error without an IR: the secret_wo of the create is gone.
		{name: "reference, secret_wo null, no IR", enrollment: obj(str("r"), null, null, null, null)},
		{name: "no enrollment, no provider credentials, no IR", enrollment: types.ObjectNull(enrollmentTypes)},
		{name: "reference, secret_wo null, IR", enrollment: obj(str("r"), null, null, null, null), sendsIR: ir,
			wantErr: "Missing enrollment secret", wantPath: path.Root("enrollment").AtName("secret_wo")},
		{name: "reference, secret_wo unknown, IR: known during apply",
			enrollment: obj(str("r"), null, unknown, null, null), sendsIR: ir},
		{name: "enrollment unknown, IR", enrollment: types.ObjectUnknown(enrollmentTypes), sendsIR: ir},
		{name: "reference, secret_wo, IR", enrollment: obj(str("r"), null, str("s"), null, null), sendsIR: ir,
			wantCreds: "mac:r", wantFrom: `enrollment.secret_wo (reference "r")`},
		{name: "reference, secret, IR", enrollment: obj(str("r"), str("s"), null, null, null), sendsIR: ir,
			wantCreds: "mac:r"},
		{name: "empty secret counts as unset", enrollment: obj(str("r"), str(""), null, null, null), sendsIR: ir,
			defaults: providerCreds, wantErr: "Missing enrollment secret",
			wantPath: path.Root("enrollment").AtName("secret_wo")},
		{name: "no enrollment, provider credentials, IR", enrollment: types.ObjectNull(enrollmentTypes),
			defaults: providerCreds, sendsIR: ir, wantCreds: "mac:provider-ref",
			wantFrom: `the provider's secret (or CMPV2_SECRET, reference "provider-ref")`},
		{name: "no enrollment, no provider credentials, IR", enrollment: types.ObjectNull(enrollmentTypes),
			sendsIR: ir, wantErr: "No credentials for the initialization request", wantPath: path.Root("enrollment")},
		{name: "external certificate, IR", enrollment: obj(null, null, null, str(certPEM), str(keyPEM)),
			sendsIR: ir, wantCreds: "sig"},
		// Wrong whatever the plan.
		{name: "secret_wo without reference anywhere, no IR", enrollment: obj(null, null, str("s"), null, null),
			defaults: &Defaults{}, wantErr: "Missing enrollment reference",
			wantPath: path.Root("enrollment").AtName("reference")},
		{name: "secret_wo without reference, before Configure", enrollment: obj(null, null, str("s"), null, null)},
		{name: "secret_wo with the provider's reference, IR", enrollment: obj(null, null, str("s"), null, null),
			defaults: &Defaults{Reference: "provider-ref"}, sendsIR: ir, wantCreds: "mac:provider-ref",
			wantFrom: "enrollment.secret_wo with the provider's reference (or CMPV2_REFERENCE)"},
		{name: "secret with the provider's reference, no IR", enrollment: obj(null, str("s"), null, null, null),
			defaults: &Defaults{Reference: "provider-ref"}},
		{name: "both kinds, no IR", enrollment: obj(str("r"), null, unknown, str(certPEM), str(keyPEM)),
			wantErr: "Conflicting enrollment credentials", wantPath: path.Root("enrollment").AtName("certificate_pem")},
		{name: "certificate without key, no IR", enrollment: obj(null, null, null, str(certPEM), null),
			wantErr: "Missing enrollment key", wantPath: path.Root("enrollment").AtName("private_key_pem")},
		{name: "key without certificate, no IR", enrollment: obj(null, null, null, null, str(keyPEM)),
			wantErr: "Missing enrollment certificate", wantPath: path.Root("enrollment").AtName("certificate_pem")},
		{name: "key of another certificate, no IR", enrollment: obj(null, null, null, str(certPEM), str(otherKeyPEM)),
			wantErr:  "Enrollment key does not match the certificate",
			wantPath: path.Root("enrollment").AtName("private_key_pem")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			creds, from, diags := irCredentials(context.Background(), tc.enrollment, tc.defaults, tc.sendsIR)
			if !strings.Contains(from, tc.wantFrom) || (creds != nil) != (from != "") {
				t.Errorf("credentials from %q, want it to hold %q", from, tc.wantFrom)
			}
			switch {
			case tc.wantErr == "" && diags.HasError():
				t.Fatalf("unexpected error: %v", diags)
			case tc.wantErr != "":
				errs := diags.Errors()
				if len(errs) != 1 || errs[0].Summary() != tc.wantErr {
					t.Fatalf("errors %v, want one %q", diags, tc.wantErr)
				}
				if at, ok := errs[0].(interface{ Path() path.Path }); !ok || !at.Path().Equal(tc.wantPath) {
					t.Errorf("error attached to %v, want %v", errs[0], tc.wantPath)
				}
			}
			var got string
			switch c := creds.(type) {
			case cmpclient.MACCredentials:
				got = "mac:" + c.Reference
			case cmpclient.SignatureCredentials:
				got = "sig"
			}
			if got != tc.wantCreds {
				t.Errorf("credentials %q, want %q", got, tc.wantCreds)
			}
		})
	}
}

// credentialsObject is an enrollment (or cmpv2_server credentials) object
// with the given credentials and the other attributes null.
func credentialsObject(ref, secret, secretWO, cert, key types.String) types.Object {
	null := types.StringNull()
	return types.ObjectValueMust(enrollmentAttrTypes, map[string]attr.Value{"reference": ref, "secret": secret,
		"secret_wo": secretWO, "certificate_pem": cert, "private_key_pem": key, "mac_algorithm": null,
		"secret_encoding": null})
}

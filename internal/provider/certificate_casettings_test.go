package provider

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccCertificateRevokeSupersededFalse: with revoke_superseded = false a
// CR or KUR never sends an RR for the certificate it replaces, nor does
// destroy for previous_certificate_pem, so a CA without revocation never
// sees one. Through IR, CR, KUR, a second CR and destroy, the CA sees
// exactly the enrollments and, with revoke_on_destroy, the one RR for the
// current certificate; every replaced certificate stays live.
func TestAccCertificateRevokeSupersededFalse(t *testing.T) {
	cases := []struct {
		name            string
		revokeOnDestroy bool
	}{
		{"revoke_on_destroy false: no rr at all", false},
		{"revoke_on_destroy true: only the current certificate's rr", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const cn = "keep-replaced.example"
			f := newWindowRun(t, devca.Config{}, cn)
			body := func(dns, epoch string) string {
				return fmt.Sprintf("subject = { common_name = %q }\ndns_names = [%q]\nrotation_triggers = { epoch = %q }\n"+
					"revoke_superseded = false\nrevoke_on_destroy = %t", cn, dns, epoch, tc.revokeOnDestroy)
			}
			var current string
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
				Steps: []resource.TestStep{
					f.step(0, body("a.keep.example", "1"), sentIR),
					crKeepsKey(f.step(0, body("b.keep.example", "1"), sentCR)),
					// A KUR with a previous certificate in state: it leaves
					// the state unrevoked.
					f.step(0, body("b.keep.example", "2"), sentKUR),
					{
						PreConfig:        func() { f.mark = f.e.mark() },
						Config:           f.config(body("c.keep.example", "2")),
						ConfigPlanChecks: emptyPlanAfterApply,
						Check: resource.ComposeTestCheckFunc(f.saw(sentCR), func(s *terraform.State) error {
							current = stateAttr(s, certAddr, "serial_number")
							return nil
						}),
					},
				},
				CheckDestroy: func(*terraform.State) error {
					want := slices.Concat(sentIR, sentCR, sentKUR, sentCR)
					if tc.revokeOnDestroy {
						want = append(want, sentRR...)
					}
					if err := f.e.sawSince(0, want); err != nil {
						return err
					}
					serials := f.e.issuedFor(cn)
					if len(serials) != 4 {
						return fmt.Errorf("the CA issued %v for %s, want 4 certificates", serials, cn)
					}
					for _, serial := range serials {
						wantRevoked := tc.revokeOnDestroy && serial == current
						if got := f.e.revoked(t, serial); got != wantRevoked {
							return fmt.Errorf("certificate %s revoked = %t, want %t (current %s)", serial, got, wantRevoked, current)
						}
					}
					return nil
				},
			})
		})
	}
}

// TestSupersededNote: the plan of a CR or KUR names the certificate it
// revokes, or says with revoke_superseded = false that replaced
// certificates stay valid until they expire.
func TestSupersededNote(t *testing.T) {
	prev, _ := testCertificate(t, "previous")
	cases := []struct {
		name      string
		previous  string
		revoke    bool
		want, not string
	}{
		{"revokes the previous certificate", prev, true, "is revoked (superseded)", "stays valid"},
		{"nothing held, revoking", "", true, "", "revoke"},
		{"keeps the previous certificate", prev, false, "stays valid until it expires", "(superseded)"},
		{"nothing held, not revoking", "", false, "once replaced, stays valid until it expires", "(superseded)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := certificateModel{PreviousCertificatePEM: types.StringNull()}
			if tc.previous != "" {
				state.PreviousCertificatePEM = types.StringValue(tc.previous)
			}
			got := supersededNote(state, tc.revoke)
			if !strings.Contains(got, tc.want) || (tc.want == "" && got != "") || strings.Contains(got, tc.not) {
				t.Errorf("supersededNote = %q, want it to hold %q and not %q", got, tc.want, tc.not)
			}
			if !tc.revoke && !strings.Contains(got, "revoke_superseded = false") {
				t.Errorf("supersededNote = %q does not name revoke_superseded", got)
			}
		})
	}
}

// TestAccCertificateUpdateProtectionMAC: with update_protection = "mac" a
// CR is protected by the enrollment's reference and secret. A plan without
// the secret (secret_wo is never stored) fails naming update_protection
// and sends nothing; with it the CR and its certConf reach the CA
// MAC-protected, and the new certificate replaces the old in state. A
// destroy that would send a MAC-protected RR without a stored secret fails
// at plan, naming the setting; with revoke_on_destroy = false it sends
// nothing.
func TestAccCertificateUpdateProtectionMAC(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	cfg := func(dns string, revokeOnDestroy bool) string {
		return e.providerBlock(false) + fmt.Sprintf(`
variable "enrollment_secret" {
  type      = string
  ephemeral = true
  sensitive = true
  default   = null
}
resource "cmpv2_certificate" "test" {
  subject           = { common_name = "mac-update.example" }
  dns_names         = [%q]
  enrollment        = { reference = %q, secret_wo = var.enrollment_secret }
  update_protection = "mac"
  revoke_on_destroy = %t
}`, dns, e.reference, revokeOnDestroy)
	}
	withSecret := config.Variables{"enrollment_secret": config.StringVariable(e.secret)}
	var mark int
	setMark := func() { mark = e.mark() }
	var serial string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				PreConfig: setMark, Config: cfg("a.mac-update.example", true), ConfigVariables: withSecret,
				Check: resource.ComposeTestCheckFunc(func(s *terraform.State) error {
					serial = stateAttr(s, certAddr, "serial_number")
					return e.sawSince(mark, sentIR)
				}),
			},
			// No secret for the CR: refused at plan, nothing sent.
			{
				PreConfig:   setMark,
				Config:      cfg("b.mac-update.example", true),
				ExpectError: regexp.MustCompile(`(?s)update_protection = "mac".*secret_wo`),
			},
			// With the secret the CR and its certConf are MAC-protected.
			{
				PreConfig: func() {
					if got := e.ops(mark); len(got) != 0 {
						t.Errorf("a plan refused for its missing secret sent %v", got)
					}
					setMark()
				},
				Config: cfg("b.mac-update.example", true), ConfigVariables: withSecret,
				Check: func(s *terraform.State) error {
					e.mu.Lock()
					defer e.mu.Unlock()
					var got []string
					for _, ev := range e.events[mark:] {
						got = append(got, ev.Op+":"+ev.Status+":"+ev.Protection)
					}
					if want := []string{"cr:accepted:mac", "certConf:confirmed:mac"}; !slices.Equal(got, want) {
						return fmt.Errorf("the CA saw %v, want %v", got, want)
					}
					if got := stateAttr(s, certAddr, "serial_number"); got == serial {
						return fmt.Errorf("serial %s after the CR, want a new certificate", got)
					}
					return nil
				},
			},
			// Destroy would send a MAC-protected RR, and a destroy has no
			// secret_wo: refused at plan.
			{
				Config:      cfg("b.mac-update.example", true),
				Destroy:     true,
				ExpectError: regexp.MustCompile(`(?s)update_protection = "mac".*revoke_on_destroy = false`),
			},
			{PreConfig: setMark, Config: cfg("b.mac-update.example", false)},
		},
		CheckDestroy: func(*terraform.State) error { return e.sawSince(mark, nil) },
	})
}

// TestUpdateCredentials: update_protection = "signature" (or unset, in a
// state written before it existed) signs CR, KUR and RR with the
// certificate; "mac" takes the IR's reference and secret through the IR
// credential rule, and an error names update_protection when no secret
// will be there or the enrollment holds a certificate instead.
func TestUpdateCredentials(t *testing.T) {
	_, certPEM, keyPEM := testExternalCredential(t)
	null, str := types.StringNull(), types.StringValue
	obj := func(ref, secret, secretWO, cert, key types.String) types.Object {
		return types.ObjectValueMust(enrollmentAttrTypes, map[string]attr.Value{"reference": ref, "secret": secret,
			"secret_wo": secretWO, "certificate_pem": cert, "private_key_pem": key, "mac_algorithm": null,
			"secret_encoding": null})
	}
	noEnrollment := types.ObjectNull(enrollmentAttrTypes)
	providerCreds := &Defaults{Reference: "provider-ref", Secret: "provider-secret"}
	cases := []struct {
		name       string
		protection types.String
		enrollment types.Object
		defaults   *Defaults
		wantCreds  string // "mac:<reference>" or "" for nil
		wantErr    string // part of the error detail; "" for none
	}{
		{"unset: signature", null, obj(str("r"), str("s"), null, null, null), providerCreds, "", ""},
		{"signature", str("signature"), obj(str("r"), str("s"), null, null, null), providerCreds, "", ""},
		{"mac, enrollment secret", str("mac"), obj(str("r"), str("s"), null, null, null), nil, "mac:r", ""},
		{"mac, write-only secret given again", str("mac"), obj(str("r"), null, str("s"), null, null), nil, "mac:r", ""},
		{"mac, provider's secret", str("mac"), noEnrollment, providerCreds, "mac:provider-ref", ""},
		{"mac, write-only secret not given", str("mac"), obj(str("r"), null, null, null, null), providerCreds, "",
			`update_protection = "mac"`},
		{"mac, no secret anywhere", str("mac"), noEnrollment, &Defaults{}, "", `update_protection = "mac"`},
		{"mac, enrollment certificate", str("mac"), obj(null, null, null, str(certPEM), str(keyPEM)), providerCreds, "",
			"enrollment holds certificate_pem"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := certificateModel{UpdateProtection: tc.protection}
			creds, diags := updateCredentials(context.Background(), m, tc.enrollment, tc.defaults, "CR")
			var got string
			if c, ok := creds.(cmpclient.MACCredentials); ok {
				got = "mac:" + c.Reference
			} else if creds != nil {
				got = "other"
			}
			if got != tc.wantCreds {
				t.Errorf("credentials %q, want %q", got, tc.wantCreds)
			}
			text := diagText(diags.Errors())
			if (tc.wantErr == "") != !diags.HasError() || !strings.Contains(text, tc.wantErr) {
				t.Errorf("errors %q, want one holding %q", text, tc.wantErr)
			}
		})
	}
}

// TestAccCertificateProfile: certificate_profile goes into the IR and,
// changed, sends a CR carrying the new one; the development CA logs each
// request's certProfile in its event's profile field. Without it the
// requests carry none.
func TestAccCertificateProfile(t *testing.T) {
	const cn = "profiled.example"
	f := newWindowRun(t, devca.Config{}, cn)
	body := func(profile string) string {
		b := fmt.Sprintf("subject = { common_name = %q }", cn)
		if profile != "" {
			b += fmt.Sprintf("\ncertificate_profile = %q", profile)
		}
		return b
	}
	// profiles checks the profile of each ir, cr and kur since the mark.
	profiles := func(want ...string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			f.e.mu.Lock()
			defer f.e.mu.Unlock()
			var got []string
			for _, ev := range f.e.events[f.mark:] {
				if slices.Contains([]string{"ir", "cr", "kur"}, ev.Op) {
					got = append(got, ev.Op+":"+ev.Profile)
				}
			}
			if !slices.Equal(got, want) {
				return fmt.Errorf("the CA saw profiles %v, want %v", got, want)
			}
			return nil
		}
	}
	withProfiles := func(s resource.TestStep, want ...string) resource.TestStep {
		s.Check = resource.ComposeTestCheckFunc(s.Check, profiles(want...))
		return s
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			withProfiles(f.step(0, body("tls-server"), sentIR), "ir:tls-server"),
			withProfiles(crKeepsKey(f.step(0, body("tls-client"), sentCR)), "cr:tls-client"),
			// The second CR revokes the IR's certificate (previous_certificate_pem).
			withProfiles(crKeepsKey(f.step(0, body(""), sentCR, sentRR)), "cr:"),
		},
		CheckDestroy: f.allRevoked(3),
	})
}

// TestIRCredentialsMACAlgorithmAndHexSecret: enrollment.mac_algorithm
// chooses the MAC of the enrollment's secret and of the provider's;
// secret_encoding = "hex" decodes secret or secret_wo, and a secret that is
// not hex is an error on that attribute, whatever the plan, that does not
// quote it.
func TestIRCredentialsMACAlgorithmAndHexSecret(t *testing.T) {
	null, str := types.StringNull(), types.StringValue
	obj := func(secret, secretWO, alg, encoding types.String) types.Object {
		return types.ObjectValueMust(enrollmentAttrTypes, map[string]attr.Value{"reference": str("r"), "secret": secret,
			"secret_wo": secretWO, "certificate_pem": null, "private_key_pem": null, "mac_algorithm": alg,
			"secret_encoding": encoding})
	}
	providerOnly := types.ObjectValueMust(enrollmentAttrTypes, map[string]attr.Value{"reference": null, "secret": null,
		"secret_wo": null, "certificate_pem": null, "private_key_pem": null, "mac_algorithm": str("pbmac1"),
		"secret_encoding": null})
	const ir = "An IR is sent."
	cases := []struct {
		name       string
		enrollment types.Object
		sendsIR    string
		wantAlg    cmpclient.MACAlgorithm
		wantSecret string // the secret's bytes, hex
		wantErrAt  string // attribute of the error; "" for none
	}{
		{"defaults: PBM with HMAC-SHA256, text", obj(str("s3"), null, null, null), ir, cmpclient.PBMHMACSHA256, "7333", ""},
		{"pbm-hmac-sha1", obj(str("s3"), null, str("pbm-hmac-sha1"), null), ir, cmpclient.PBMHMACSHA1, "7333", ""},
		{"pbmac1, explicit text", obj(str("s3"), null, str("pbmac1"), str("text")), ir, cmpclient.PBMAC1, "7333", ""},
		{"hex secret", obj(str("00FF10"), null, null, str("hex")), ir, cmpclient.PBMHMACSHA256, "00ff10", ""},
		{"hex secret_wo", obj(null, str("0a0b"), str("pbmac1"), str("hex")), ir, cmpclient.PBMAC1, "0a0b", ""},
		{"provider's secret under the enrollment's MAC", providerOnly, ir, cmpclient.PBMAC1, "70732d736563726574", ""},
		{"odd hex digits", obj(str("abc"), null, null, str("hex")), ir, 0, "", "secret"},
		{"not hex, no IR", obj(str("not-hex-zz"), null, null, str("hex")), "", 0, "", "secret"},
		{"secret_wo not hex", obj(null, str("zz"), null, str("hex")), ir, 0, "", "secret_wo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defaults := &Defaults{Reference: "provider-ref", Secret: "ps-secret"}
			creds, _, diags := irCredentials(context.Background(), tc.enrollment, defaults, tc.sendsIR)
			if tc.wantErrAt != "" {
				errs := diags.Errors()
				if len(errs) != 1 || creds != nil {
					t.Fatalf("errors %v, credentials %v: want one error and none", diags, creds != nil)
				}
				at, ok := errs[0].(interface{ Path() path.Path })
				if !ok || !at.Path().Equal(path.Root("enrollment").AtName(tc.wantErrAt)) {
					t.Errorf("error %v, want it on enrollment.%s", errs[0], tc.wantErrAt)
				}
				if text := diagText(errs); strings.Contains(text, "not-hex-zz") || strings.Contains(text, "abc") {
					t.Errorf("the error quotes the secret: %s", text)
				}
				return
			}
			if diags.HasError() {
				t.Fatalf("errors %v", diags)
			}
			mac, ok := creds.(cmpclient.MACCredentials)
			if !ok {
				t.Fatalf("credentials %T, want MAC", creds)
			}
			if mac.Algorithm != tc.wantAlg || hex.EncodeToString(mac.Secret) != tc.wantSecret {
				t.Errorf("algorithm %d secret %x, want %d %s", mac.Algorithm, mac.Secret, tc.wantAlg, tc.wantSecret)
			}
		})
	}
}

// TestAccCertificateMACAlgorithmAndHexSecret: the development CA accepts an
// IR under each enrollment.mac_algorithm, with the secret given as text or
// as hex (secret_encoding = "hex").
func TestAccCertificateMACAlgorithmAndHexSecret(t *testing.T) {
	cases := []struct{ algorithm, encoding string }{
		{"pbm-hmac-sha1", "text"},
		{"pbm-hmac-sha256", "hex"},
		{"pbmac1", "hex"},
	}
	for _, tc := range cases {
		t.Run(tc.algorithm+" "+tc.encoding, func(t *testing.T) {
			const cn = "mac-choice.example"
			f := newWindowRun(t, devca.Config{}, cn)
			secret := f.e.secret
			if tc.encoding == "hex" {
				secret = strings.ToUpper(hex.EncodeToString([]byte(secret)))
			}
			body := fmt.Sprintf("subject = { common_name = %q }\nenrollment = { reference = %q, secret = %q, "+
				"mac_algorithm = %q, secret_encoding = %q }", cn, f.e.reference, secret, tc.algorithm, tc.encoding)
			cfg := f.e.providerBlock(false) + "resource \"cmpv2_certificate\" \"test\" {\n" + body + "\n}\n"
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
				Steps: []resource.TestStep{{
					PreConfig: func() { f.mark = f.e.mark() }, Config: cfg, ConfigPlanChecks: emptyPlanAfterApply,
					Check: f.saw(sentIR),
				}},
				CheckDestroy: f.allRevoked(1),
			})
		})
	}
}

// TestRefusedRevocation: an RR the CA answered with a refusal names the
// setting that sends it none; a failure that is not the CA's verified
// answer names nothing.
func TestRefusedRevocation(t *testing.T) {
	refusal := &cmpclient.Error{Op: "rr", Request: "rr", Status: cmp.StatusRejection, FailInfo: cmp.FailBadRequest}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"rejection", refusal, true},
		{"wrapped rejection", fmt.Errorf("revoke: %w", refusal), true},
		{"transport failure", errors.New("connection refused"), false},
		{"unverified answer", &cmpclient.UnverifiedResponseError{Status: cmp.PKIStatusInfo{Status: cmp.StatusRejection}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, setting := range []string{"revoke_on_destroy", "revoke_superseded"} {
				got := refusedRevocation(tc.err, setting)
				if named := strings.Contains(got, setting+" = false"); named != tc.want {
					t.Errorf("refusedRevocation(%v, %s) = %q, naming it: %t, want %t", tc.err, setting, got, named, tc.want)
				}
			}
		})
	}
}

// TestResolveMACSettings: the provider's mac_algorithm and secret_encoding
// (or CMPV2_MAC_ALGORITHM and CMPV2_SECRET_ENCODING) choose the MAC and
// decode the provider's secret, which IR credentials then use; invalid
// values are errors on the attribute, naming the variable they came from
// and never quoting the secret.
func TestResolveMACSettings(t *testing.T) {
	cases := []struct {
		name           string
		alg, encoding  string
		env            map[string]string
		wantAlg        cmpclient.MACAlgorithm
		wantSecret     string // hex
		wantErrAt      string
		wantErrMention string
	}{
		{name: "defaults", wantAlg: cmpclient.PBMHMACSHA256, wantSecret: hex.EncodeToString([]byte("0a0b"))},
		{name: "attributes", alg: "pbmac1", encoding: "hex", wantAlg: cmpclient.PBMAC1, wantSecret: "0a0b"},
		{name: "environment", env: map[string]string{envMACAlgorithm: "pbm-hmac-sha1", envSecretEncoding: "hex"},
			wantAlg: cmpclient.PBMHMACSHA1, wantSecret: "0a0b"},
		{name: "bad algorithm from the environment", env: map[string]string{envMACAlgorithm: "hmac-md5"},
			wantErrAt: "mac_algorithm", wantErrMention: envMACAlgorithm},
		{name: "bad encoding from the environment", env: map[string]string{envSecretEncoding: "base64"},
			wantErrAt: "secret_encoding", wantErrMention: envSecretEncoding},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := nullProviderModel()
			m.Reference, m.Secret = types.StringValue("ref"), types.StringValue("0a0b")
			m.MACAlgorithm, m.SecretEncoding = types.StringNull(), types.StringNull()
			if tc.alg != "" {
				m.MACAlgorithm = types.StringValue(tc.alg)
			}
			if tc.encoding != "" {
				m.SecretEncoding = types.StringValue(tc.encoding)
			}
			d, diags := resolveDefaults(context.Background(), m, func(k string) string { return tc.env[k] })
			if tc.wantErrAt != "" {
				errs := diags.Errors()
				if len(errs) != 1 {
					t.Fatalf("errors %v, want one", diags)
				}
				at, ok := errs[0].(interface{ Path() path.Path })
				text := diagText(errs)
				if !ok || !at.Path().Equal(path.Root(tc.wantErrAt)) || !strings.Contains(text, tc.wantErrMention) ||
					strings.Contains(text, "0a0b") {
					t.Errorf("error %q on %v, want it on %s naming %s without the secret", text, errs[0], tc.wantErrAt, tc.wantErrMention)
				}
				return
			}
			if diags.HasError() {
				t.Fatalf("errors %v", diags)
			}
			creds, _, diags := irCredentials(context.Background(), types.ObjectNull(enrollmentAttrTypes), d, "An IR is sent.")
			mac, ok := creds.(cmpclient.MACCredentials)
			if diags.HasError() || !ok {
				t.Fatalf("credentials %T, %v", creds, diags)
			}
			if mac.Algorithm != tc.wantAlg || hex.EncodeToString(mac.Secret) != tc.wantSecret {
				t.Errorf("algorithm %d secret %x, want %d %s", mac.Algorithm, mac.Secret, tc.wantAlg, tc.wantSecret)
			}
		})
	}
}

package provider

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const certAddr = "cmpv2_certificate.test"

// emptyPlanAfterApply: the plan after each apply is a no-op.
var emptyPlanAfterApply = resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}

// certOf parses the certificate_pem of the resource under test.
func certOf(s *terraform.State) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(stateAttr(s, certAddr, "certificate_pem")))
	if block == nil {
		return nil, fmt.Errorf("no certificate_pem in state")
	}
	return x509.ParseCertificate(block.Bytes)
}

// infoOf is one string of certificate_info (the provider function) on the
// certificate_pem of the resource under test; "" when it does not decode.
func infoOf(s *terraform.State, name string) string {
	info, err := certificateInfo(stateAttr(s, certAddr, "certificate_pem"))
	if err != nil {
		return ""
	}
	v, _ := info[name].(types.String)
	return v.ValueString()
}

// checkIssued checks what the state says about the certificate against
// the certificate itself and the CA: op produced it, it carries cn, the CA
// issued it and has not revoked it.
func checkIssued(t *testing.T, e *caEnv, op, cn string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		c, err := certOf(s)
		if err != nil {
			return err
		}
		if c.Subject.CommonName != cn {
			return fmt.Errorf("subject CN %q, want %q", c.Subject.CommonName, cn)
		}
		for name, want := range map[string]string{
			"serial_number":  c.SerialNumber.String(),
			"last_operation": op,
		} {
			if got := stateAttr(s, certAddr, name); got != want {
				return fmt.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		// What the resource no longer stores, certificate_info gives.
		if got := infoOf(s, "issuer"); got != c.Issuer.String() {
			return fmt.Errorf("certificate_info issuer = %q, want %q", got, c.Issuer)
		}
		key, err := parsePrivateKeyPEM(stateAttr(s, certAddr, "private_key_pem"))
		if err != nil {
			return fmt.Errorf("private_key_pem: %w", err)
		}
		if pub, err := pemkey.MarshalPublicKey(key.Public()); err != nil || infoOf(s, "public_key_pem") != string(pub) {
			return fmt.Errorf("certificate_info public_key_pem is not that of private_key_pem (%v)", err)
		}
		if stateAttr(s, certAddr, "not_after") == "" || stateAttr(s, certAddr, "renewal_time") == "" ||
			len(infoOf(s, "fingerprint_sha256")) != 64 {
			return fmt.Errorf("computed attributes missing: %v", s.RootModule().Resources[certAddr].Primary.Attributes)
		}
		chain := stateAttr(s, certAddr, "ca_chain_pem")
		if strings.Contains(chain, strings.TrimSpace(stateAttr(s, certAddr, "certificate_pem"))) {
			return fmt.Errorf("ca_chain_pem holds the leaf")
		}
		if !strings.Contains(chain, strings.TrimSpace(e.caPEM)) {
			return fmt.Errorf("ca_chain_pem does not hold the CA certificate")
		}
		if op == "ir" && stateAttr(s, certAddr, "previous_certificate_pem") != "" {
			return fmt.Errorf("previous_certificate_pem set after an IR")
		}
		if e.revoked(t, c.SerialNumber.String()) {
			return fmt.Errorf("serial %s is revoked at the CA", c.SerialNumber)
		}
		return nil
	}
}

// revokedOnDestroy checks at the CA that every serial in *serials was
// revoked by the destroy.
func revokedOnDestroy(t *testing.T, e *caEnv, serials *[]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if len(*serials) == 0 {
			return fmt.Errorf("no serial recorded")
		}
		for _, serial := range *serials {
			if !e.revoked(t, serial) {
				return fmt.Errorf("certificate %s not revoked after destroy", serial)
			}
		}
		return nil
	}
}

// record appends the state's serial to *serials.
func record(serials *[]string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		*serials = append(*serials, stateAttr(s, certAddr, "serial_number"))
		return nil
	}
}

// TestAccCertificateIR enrolls with each kind of IR credential and
// revokes on destroy.
func TestAccCertificateIR(t *testing.T) {
	deviceCA, deviceCert, deviceKey := testExternalCredential(t)
	cases := []struct {
		name       string
		cfg        devca.Config
		provider   bool // IR credentials in the provider block
		enrollment func(e *caEnv) string
		wantProt   string
	}{
		{name: "provider defaults", provider: true, wantProt: "mac"},
		{name: "reference and secret", wantProt: "mac", enrollment: func(e *caEnv) string {
			return fmt.Sprintf("enrollment = {\n reference = %q\n secret = %q\n}", e.reference, e.secret)
		}},
		{name: "write-only secret", wantProt: "mac", enrollment: func(e *caEnv) string {
			return fmt.Sprintf("enrollment = {\n reference = %q\n secret_wo = %q\n}", e.reference, e.secret)
		}},
		{name: "external certificate", cfg: devca.Config{Trusted: []*x509.Certificate{deviceCA}}, wantProt: "signature",
			enrollment: func(*caEnv) string {
				return "enrollment = {\ncertificate_pem = <<EOT\n" + deviceCert + "EOT\nprivate_key_pem = <<EOT\n" +
					deviceKey + "EOT\n}"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearProviderEnv(t)
			e := startCA(t, tc.cfg)
			body := `subject = { common_name = "ir.example" }
dns_names = ["ir.example"]
key_usages = ["digital_signature"]
extended_key_usages = ["server_auth"]`
			if tc.enrollment != nil {
				body += "\n" + tc.enrollment(e)
			}
			var serials []string
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config:           e.providerBlock(tc.provider) + "resource \"cmpv2_certificate\" \"test\" {\n" + body + "\n}",
					ConfigPlanChecks: emptyPlanAfterApply,
					Check: resource.ComposeTestCheckFunc(
						checkIssued(t, e, "ir", "ir.example"),
						record(&serials),
						func(*terraform.State) error {
							for _, ev := range e.events {
								if ev.Op == "ir" && ev.Protection != tc.wantProt {
									return fmt.Errorf("ir protected by %q, want %q", ev.Protection, tc.wantProt)
								}
							}
							if ops := e.ops(0); !slices.Contains(ops, "certConf:confirmed") {
								return fmt.Errorf("no certConf confirmed the certificate: %v", ops)
							}
							return nil
						},
					),
				}},
				CheckDestroy: revokedOnDestroy(t, e, &serials),
			})
		})
	}
}

// updateCase is one in-place update of a certificate: the configuration
// before and after, the operation the CA must see, and whether the key
// must change.
type updateCase struct {
	name         string
	before       string
	after        string
	clock        func(c *testClock) // moves the provider's clock before the update
	wantOp       string
	wantNewKey   bool
	wantCN       string
	wantKeyInCfg string // the private_key_pem the state must hold afterwards
}

// TestAccCertificateUpdate: CR on SAN and subject change, KUR by window,
// by trigger and by a new user key; every update is in place, replaces the
// certificate (previous_certificate_pem holds the old one), and the plan
// after it is empty.
func TestAccCertificateUpdate(t *testing.T) {
	_, keyA := testCertificate(t, "a")
	_, keyB := testCertificate(t, "b")
	base := `subject = { common_name = "upd.example" }
dns_names = ["upd.example"]
validity_period_hours = 24`
	byok := func(key string) string { return base + "\nprivate_key_pem = <<EOT\n" + key + "EOT" }
	cases := []updateCase{
		{name: "CR on SAN change", before: base, after: strings.Replace(base, `["upd.example"]`, `["upd.example", "www.upd.example"]`, 1),
			wantOp: "cr", wantCN: "upd.example"},
		{name: "CR on subject change", before: base, after: strings.Replace(base, `common_name = "upd.example"`, `common_name = "upd.example", organization = "Example"`, 1),
			wantOp: "cr", wantCN: "upd.example"},
		{name: "KUR by trigger", before: base + "\nrotation_triggers = { epoch = \"1\" }", after: base + "\nrotation_triggers = { epoch = \"2\" }",
			wantOp: "kur", wantNewKey: true, wantCN: "upd.example"},
		// 10h of 24h: the window opens at 14h, before the default one (16h).
		{name: "KUR by renew_before_expiry", before: base + "\nrenew_before_expiry = \"10h\"", after: base + "\nrenew_before_expiry = \"10h\"",
			clock: func(c *testClock) { c.Add(15 * time.Hour) }, wantOp: "kur", wantNewKey: true, wantCN: "upd.example"},
		{name: "KUR by default window", before: base, after: base,
			clock: func(c *testClock) { c.Add(17 * time.Hour) }, wantOp: "kur", wantNewKey: true, wantCN: "upd.example"},
		{name: "KUR by new external key", before: byok(keyA), after: byok(keyB), wantOp: "kur", wantNewKey: true,
			wantCN: "upd.example", wantKeyInCfg: keyB},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearProviderEnv(t)
			now := newTestClock()
			e := startCA(t, devca.Config{})
			cfg := func(body string) string {
				return e.providerBlock(true) + "resource \"cmpv2_certificate\" \"test\" {\n" + body + "\n}"
			}
			var first struct{ serial, cert, key, pub string }
			var serials []string
			var mark int
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: providersAt(clock{Now: now.Now}),
				Steps: []resource.TestStep{
					{
						Config:           cfg(tc.before),
						ConfigPlanChecks: emptyPlanAfterApply,
						Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "ir", tc.wantCN), record(&serials),
							func(s *terraform.State) error {
								first.serial, first.cert = stateAttr(s, certAddr, "serial_number"), stateAttr(s, certAddr, "certificate_pem")
								first.key, first.pub = stateAttr(s, certAddr, "private_key_pem"), infoOf(s, "public_key_pem")
								return nil
							}),
					},
					{
						PreConfig: func() {
							mark = e.mark()
							if tc.clock != nil {
								tc.clock(now)
							}
						},
						Config: cfg(tc.after),
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionUpdate)},
							PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
						},
						Check: resource.ComposeTestCheckFunc(
							func(*terraform.State) error {
								now.Set(time.Now()) // the new certificate's window is not open yet
								return nil
							},
							checkIssued(t, e, tc.wantOp, tc.wantCN), record(&serials),
							func(s *terraform.State) error {
								if got := stateAttr(s, certAddr, "serial_number"); got == first.serial {
									return fmt.Errorf("serial unchanged (%s)", got)
								}
								if stateAttr(s, certAddr, "previous_certificate_pem") != first.cert {
									return fmt.Errorf("previous_certificate_pem is not the replaced certificate")
								}
								if stateAttr(s, certAddr, "id") != first.serial {
									return fmt.Errorf("id changed to %q", stateAttr(s, certAddr, "id"))
								}
								newKey := infoOf(s, "public_key_pem") != first.pub
								if newKey != tc.wantNewKey {
									return fmt.Errorf("new public key: %v, want %v", newKey, tc.wantNewKey)
								}
								if !tc.wantNewKey && stateAttr(s, certAddr, "private_key_pem") != first.key {
									return fmt.Errorf("private key changed by a %s", tc.wantOp)
								}
								if tc.wantKeyInCfg != "" && stateAttr(s, certAddr, "private_key_pem") != tc.wantKeyInCfg {
									return fmt.Errorf("private_key_pem is not the configured key")
								}
								ops := e.ops(mark)
								if !slices.Contains(ops, tc.wantOp+":accepted") || slices.Contains(ops, "ir:accepted") {
									return fmt.Errorf("the CA saw %v, want one %s", ops, tc.wantOp)
								}
								return nil
							}),
					},
				},
				// Destroy revokes the current certificate and the one it replaced.
				CheckDestroy: revokedOnDestroy(t, e, &serials),
			})
		})
	}
}

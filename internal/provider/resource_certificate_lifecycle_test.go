package provider

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
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
			"issuer":         c.Issuer.String(),
		} {
			if got := stateAttr(s, certAddr, name); got != want {
				return fmt.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if stateAttr(s, certAddr, "not_after") == "" || stateAttr(s, certAddr, "renewal_time") == "" ||
			!strings.Contains(stateAttr(s, certAddr, "public_key_pem"), "PUBLIC KEY") ||
			len(stateAttr(s, certAddr, "fingerprint_sha256")) != 64 {
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

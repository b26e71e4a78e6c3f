package provider

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// clearProviderEnv keeps the machine's CMPV2_* variables out of a test.
func clearProviderEnv(t *testing.T) {
	for _, name := range []string{envURL, envReference, envSecret, envTrustedCAPEM, envUsername, envPassword,
		envMessageTimeout, envImplicitConfirm, envMACAlgorithm, envSecretEncoding} {
		t.Setenv(name, "")
	}
}

// accProvider has IR credentials and a CA URL nobody needs to reach: the
// tests that use it only plan.
var accProvider = hclConfig{url: "http://127.0.0.1:8829/.well-known/cmp", reference: "ref", secret: "pass"}

// accCertificate is a cmpv2_certificate with body inside.
func accCertificate(body string) string {
	c := accProvider
	c.body = body
	return c.String()
}

// Plan-time validation: every invalid input fails the plan with an error
// at its attribute (Terraform prints the offending configuration line,
// which the patterns match).
func TestAccCertificatePlanValidation(t *testing.T) {
	certPEM, keyPEM := testCertificate(t, "device")
	_, otherKeyPEM := testCertificate(t, "other")
	subject := `subject = { common_name = "web.example" }`

	cases := []struct {
		name    string
		config  string
		wantErr string
	}{
		{"invalid private key PEM", accCertificate(subject + "\nprivate_key_pem = \"not a key\""),
			`(?s)Invalid private key PEM.*private_key_pem = "not a key"`},
		{"unknown key usage", accCertificate(subject + "\nkey_usages = [\"digital_signatures\"]"),
			`(?s)key_usages.*value must be one of.*digital_signature`},
		{"unknown extended key usage", accCertificate(subject + "\nextended_key_usages = [\"serverAuth\"]"),
			`(?s)extended_key_usages.*value must be one of`},
		{"RSA size out of range", accCertificate(subject + "\nkey_algorithm = \"RSA\"\nrsa_bits = 1024"),
			`(?s)rsa_bits.*value must be one of.*2048`},
		{"unknown curve", accCertificate(subject + "\necdsa_curve = \"P224\""),
			`(?s)ecdsa_curve.*value must be one of`},
		{"unknown key algorithm", accCertificate(subject + "\nkey_algorithm = \"DSA\""),
			`(?s)key_algorithm.*value must be one of`},
		{"IP that is not an IP", accCertificate(subject + "\nip_addresses = [\"300.1.1.1\"]"),
			`(?s)Invalid IP address.*ip_addresses`},
		{"URI without scheme", accCertificate(subject + "\nuris = [\"web.example/path\"]"),
			`(?s)Invalid URI.*uris`},
		{"email with display name", accCertificate(subject + "\nemail_addresses = [\"Ops <ops@example.org>\"]"),
			`(?s)Invalid email address.*email_addresses`},
		{"DNS name with a space", accCertificate(subject + "\ndns_names = [\"web example\"]"),
			`(?s)Invalid DNS name.*dns_names`},
		{"country of three letters", accCertificate(`subject = { common_name = "x", country = "FIN" }`),
			`(?s)Invalid country code.*country`},
		{"duration that does not parse", accCertificate(subject + "\nrenew_before_expiry = \"ten days\""),
			`(?s)Invalid duration.*renew_before_expiry`},
		{"renewal window longer than the validity",
			accCertificate(subject + "\nvalidity_period_hours = 240\nrenew_before_expiry = \"720h\""),
			`(?s)Renewal window longer than the validity.*renew_before_expiry`},
		{"renew_after_issue past the validity",
			accCertificate(subject + "\nvalidity_period_hours = 24\nrenew_after_issue = \"48h\""),
			`(?s)Renewal window longer than the validity.*renew_after_issue`},
		{"revocation reason in camelCase", accCertificate(subject + "\nrevocation_reason = \"keyCompromise\""),
			`(?s)revocation_reason.*value must be one of.*key_compromise`},
		{"rsa_bits with an ECDSA key", accCertificate(subject + "\nrsa_bits = 4096"),
			`(?s)rsa_bits without an RSA key.*rsa_bits = 4096`},
		{"key_algorithm disagreeing with the user key",
			accCertificate(subject + "\nkey_algorithm = \"RSA\"\nprivate_key_pem = <<EOT\n" + keyPEM + "EOT"),
			`(?s)Key algorithm does not match private_key_pem.*key_algorithm`},
		{"conflicting credential kinds",
			accCertificate(subject + "\nenrollment = {\nreference = \"r\"\nsecret = \"s\"\ncertificate_pem = <<EOT\n" +
				certPEM + "EOT\nprivate_key_pem = <<EOT\n" + keyPEM + "EOT\n}"),
			`(?s)Conflicting enrollment credentials.*enrollment`},
		{"secret and secret_wo together",
			accCertificate(subject + "\nenrollment = {\nreference = \"r\"\nsecret = \"s\"\nsecret_wo = \"s\"\n}"),
			`(?s)secret_wo.*cannot be specified when.*secret`},
		{"reference without a secret", accCertificate(subject + "\nenrollment = { reference = \"r\" }"),
			`(?s)Missing enrollment secret`},
		{"external certificate with another key",
			accCertificate(subject + "\nenrollment = {\ncertificate_pem = <<EOT\n" + certPEM +
				"EOT\nprivate_key_pem = <<EOT\n" + otherKeyPEM + "EOT\n}"),
			`(?s)Enrollment key does not match the certificate`},
		{"bad server URL", accCertificate(subject + "\nserver = { url = \"ftp://ca.example/\" }"),
			`(?s)Invalid CMP server URL.*got "ftp"`},
		{"nothing to certify", accCertificate(""), `(?s)Nothing to certify`},
		{"IR credentials missing",
			hclConfig{url: "http://127.0.0.1:8829/", body: subject}.String(),
			`(?s)No credentials for the initialization request.*CMPV2_REFERENCE`},
		{"no server at all",
			`resource "cmpv2_certificate" "test" {` + "\n" + subject + "\n" +
				`enrollment = { reference = "r", secret_wo = "s" }` + "\n}",
			`(?s)No CMP server.*server\.url`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearProviderEnv(t)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config:             tc.config,
					PlanOnly:           true,
					ExpectNonEmptyPlan: true,
					ExpectError:        regexp.MustCompile(tc.wantErr),
				}},
			})
		})
	}
}

// Valid configurations plan a create, with the documented defaults: an ECDSA P-256
// key, revoke_on_destroy true, revocation reason unspecified.
func TestAccCertificatePlan(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	addr := "cmpv2_certificate.test"

	cases := []struct {
		name   string
		config string
		checks []plancheck.PlanCheck
	}{
		{
			name: "defaults",
			config: accCertificate(`subject = { common_name = "web.example" }
dns_names = ["web.example"]
key_usages = ["digital_signature"]
extended_key_usages = ["server_auth"]
renew_before_expiry = "720h"`),
			checks: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("key_algorithm"), knownvalue.StringExact("ECDSA")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("ecdsa_curve"), knownvalue.StringExact("P256")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("revoke_on_destroy"), knownvalue.Bool(true)),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("revocation_reason"), knownvalue.StringExact("unspecified")),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("certificate_pem")),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("private_key_pem")),
			},
		},
		{
			name: "user-supplied RSA key shows its algorithm and size",
			config: accCertificate(`subject = { common_name = "web.example" }
private_key_pem = <<EOT
` + rsaPEM + `EOT`),
			checks: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("key_algorithm"), knownvalue.StringExact("RSA")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("rsa_bits"), knownvalue.Int64Exact(3072)),
			},
		},
		{
			name: "write-only enrollment secret and a server endpoint object",
			config: `
resource "cmpv2_certificate" "test" {
  subject = { common_name = "device-1" }
  server = {
    url            = "https://ca.example/.well-known/cmp/p/devices"
    recipient      = "CN=Issuing CA,O=Example"
    message_timeout = "20s"
  }
  enrollment = {
    reference = "device-1"
    secret_wo = "one-time-password"
  }
  revoke_on_destroy = false
  revocation_reason = "cessation_of_operation"
  rotation_triggers = { epoch = "1" }
}`,
			checks: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("enrollment").AtMapKey("secret_wo"), knownvalue.Null()),
			},
		},
		{
			name: "certificate planned against a cmpv2_server endpoint",
			config: accProvider.provider() + `
resource "cmpv2_server" "ca" {
  url       = "http://127.0.0.1:8829/.well-known/cmp/p/devices"
  recipient = "CN=Issuing CA"
}
resource "cmpv2_certificate" "test" {
  subject = { common_name = "device-2" }
  server  = cmpv2_server.ca.endpoint
}`,
			checks: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue("cmpv2_server.ca", tfjsonpath.New("endpoint").AtMapKey("url"),
					knownvalue.StringExact("http://127.0.0.1:8829/.well-known/cmp/p/devices")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("server").AtMapKey("recipient"),
					knownvalue.StringExact("CN=Issuing CA")),
				plancheck.ExpectUnknownValue("cmpv2_server.ca", tfjsonpath.New("ca_certificates_pem")),
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearProviderEnv(t)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config:             tc.config,
					PlanOnly:           true,
					ExpectNonEmptyPlan: true,
					ConfigPlanChecks:   resource.ConfigPlanChecks{PostApplyPreRefresh: tc.checks},
				}},
			})
		})
	}
}

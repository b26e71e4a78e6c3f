package provider

import (
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// watchedCA is an in-process development CA on 127.0.0.1 that records
// every message it handles, so a test can prove that none arrived.
type watchedCA struct {
	url, reference, secret string
	mu                     sync.Mutex
	events                 []devca.Event
}

func startWatchedCA(t *testing.T) *watchedCA {
	t.Helper()
	w := &watchedCA{}
	ca, err := devca.New(devca.Config{Dir: t.TempDir(), Events: func(ev devca.Event) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.events = append(w.events, ev)
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ca)
	t.Cleanup(func() {
		srv.Close()
		ca.Close()
	})
	w.url, w.reference, w.secret = srv.URL+"/.well-known/cmp", ca.Reference(), ca.Secret()
	return w
}

// handled returns how many messages the CA has handled.
func (w *watchedCA) handled() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// TestAccCertificateBadInput plans invalid configurations against a live
// development CA whose IR credentials are configured: every one must fail
// at plan time with an error that names the attribute, and the CA must not
// have received a single message.
func TestAccCertificateBadInput(t *testing.T) {
	// Cleared once here: the cases run in parallel.
	clearProviderEnv(t)
	ca := startWatchedCA(t)
	certPEM, keyPEM := testCertificate(t, "device")
	_, otherKeyPEM := testCertificate(t, "other")
	res := func(body string) string {
		return hclConfig{url: ca.url, reference: ca.reference, secret: ca.secret, name: "bad", body: body}.String()
	}
	cn := `subject = { common_name = "bad.example" }` + "\n"
	heredoc := func(attr, pem string) string { return attr + " = <<EOT\n" + pem + "EOT\n" }
	truncatedKey := keyPEM[:len(keyPEM)/2] + "\n"

	cases := []struct {
		name, config, want string
	}{
		// PEM
		{"private_key_pem not PEM", res(cn + `private_key_pem = "not a key"`), `Invalid private key PEM.*private_key_pem`},
		{"private_key_pem holding a certificate", res(cn + heredoc("private_key_pem", certPEM)), `Invalid private key PEM.*private_key_pem`},
		{"private_key_pem truncated", res(cn + heredoc("private_key_pem", truncatedKey)), `Invalid private key PEM.*private_key_pem`},
		{"enrollment certificate not PEM", res(cn + "enrollment = {\ncertificate_pem = \"garbage\"\n" + heredoc("private_key_pem", keyPEM) + "}"), `Invalid certificate PEM.*enrollment\.certificate_pem`},
		{"enrollment certificate_pem holding a key", res(cn + "enrollment = {\n" + heredoc("certificate_pem", keyPEM) + heredoc("private_key_pem", keyPEM) + "}"), `Invalid certificate PEM.*enrollment\.certificate_pem`},
		{"enrollment key of another certificate", res(cn + "enrollment = {\n" + heredoc("certificate_pem", certPEM) + heredoc("private_key_pem", otherKeyPEM) + "}"), `Enrollment key does not match the certificate.*enrollment`},
		{"server trusted_ca_pem garbage", res(cn + `server = { url = "` + ca.url + `", trusted_ca_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }`), `Invalid certificate PEM.*server\.trusted_ca_pem`},
		{"server pinned certificate garbage", res(cn + `server = { url = "` + ca.url + `", server_certificate_pem = "pinned" }`), `Invalid certificate PEM.*server\.server_certificate_pem`},
		{"server TLS CA garbage", res(cn + `server = { url = "` + ca.url + `", tls = { ca_pem = "ca" } }`), `Invalid certificate PEM.*server\.tls\.ca_pem`},
		// names
		{"DNS name with a space", res(cn + `dns_names = ["web example"]`), `Invalid DNS name.*dns_names`},
		{"DNS name with an empty label", res(cn + `dns_names = ["web..example"]`), `Invalid DNS name.*dns_names`},
		{"DNS name empty", res(cn + `dns_names = [""]`), `dns_names`},
		{"email with a display name", res(cn + `email_addresses = ["Ops <ops@example.org>"]`), `Invalid email address.*email_addresses`},
		{"email without @", res(cn + `email_addresses = ["ops.example.org"]`), `Invalid email address.*email_addresses`},
		{"country of three letters", res(`subject = { common_name = "x", country = "FIN" }`), `Invalid country code.*country`},
		{"country with a digit", res(`subject = { common_name = "x", country = "D1" }`), `Invalid country code.*country`},
		{"recipient that is no DN", res(cn + `server = { url = "` + ca.url + `", recipient = "Issuing CA" }`), `Invalid distinguished name.*server\.recipient`},
		{"nothing to certify", res(`key_algorithm = "ECDSA"`), `Nothing to certify.*subject`},
		// IPs and URIs
		{"IP out of range", res(cn + `ip_addresses = ["300.1.1.1"]`), `Invalid IP address.*ip_addresses`},
		{"IP with a prefix length", res(cn + `ip_addresses = ["10.0.0.1/24"]`), `Invalid IP address.*ip_addresses`},
		{"IPv6 with a bad digit", res(cn + `ip_addresses = ["fe80::g"]`), `Invalid IP address.*ip_addresses`},
		{"URI without a scheme", res(cn + `uris = ["web.example/path"]`), `Invalid URI.*uris`},
		{"URI that does not parse", res(cn + `uris = ["http://[::1"]`), `Invalid URI.*uris`},
		// durations and validity
		{"duration that does not parse", res(cn + `renew_before_expiry = "ten days"`), `Invalid duration.*renew_before_expiry`},
		{"negative duration", res(cn + `renew_before_expiry = "-1h"`), `Invalid duration.*renew_before_expiry`},
		{"zero renew_after_issue", res(cn + `renew_after_issue = "0s"`), `Invalid duration.*renew_after_issue`},
		{"message_timeout that does not parse", res(cn + `server = { url = "` + ca.url + `", message_timeout = "forever" }`), `Invalid duration.*server\.message_timeout`},
		{"validity of zero hours", res(cn + `validity_period_hours = 0`), `validity_period_hours`},
		{"negative validity", res(cn + `validity_period_hours = -5`), `validity_period_hours`},
		{"renewal window longer than the validity", res(cn + "validity_period_hours = 240\nrenew_before_expiry = \"720h\""), `Renewal window longer than the validity.*renew_before_expiry`},
		{"renew_after_issue past the validity", res(cn + "validity_period_hours = 24\nrenew_after_issue = \"48h\""), `Renewal window longer than the validity.*renew_after_issue`},
		// keys
		{"unknown key algorithm", res(cn + `key_algorithm = "DSA"`), `key_algorithm.*value must be one of`},
		{"key algorithm in lower case", res(cn + `key_algorithm = "ecdsa"`), `key_algorithm.*value must be one of`},
		{"RSA key too small", res(cn + "key_algorithm = \"RSA\"\nrsa_bits = 1024"), `rsa_bits.*value must be one of`},
		{"RSA size not offered", res(cn + "key_algorithm = \"RSA\"\nrsa_bits = 3000"), `rsa_bits.*value must be one of`},
		{"rsa_bits with an Ed25519 key", res(cn + "key_algorithm = \"ED25519\"\nrsa_bits = 2048"), `rsa_bits without an RSA key.*rsa_bits`},
		{"unknown curve", res(cn + `ecdsa_curve = "P224"`), `ecdsa_curve.*value must be one of`},
		{"curve with an RSA key", res(cn + "key_algorithm = \"RSA\"\necdsa_curve = \"P256\""), `ecdsa_curve without an ECDSA key.*ecdsa_curve`},
		{"key_algorithm disagreeing with the user key", res(cn + "key_algorithm = \"RSA\"\n" + heredoc("private_key_pem", keyPEM)), `Key algorithm does not match private_key_pem.*key_algorithm`},
		{"unknown key usage", res(cn + `key_usages = ["digital_signatures"]`), `key_usages.*value must be one of`},
		{"extended key usage in OpenSSL spelling", res(cn + `extended_key_usages = ["serverAuth"]`), `extended_key_usages.*value must be one of`},
		// revocation
		{"revocation reason in camelCase", res(cn + `revocation_reason = "keyCompromise"`), `revocation_reason.*value must be one of`},
		{"unknown revocation reason", res(cn + `revocation_reason = "because"`), `revocation_reason.*value must be one of`},
		// credentials
		{"conflicting credential kinds", res(cn + "enrollment = {\nreference = \"r\"\nsecret = \"s\"\n" + heredoc("certificate_pem", certPEM) + heredoc("private_key_pem", keyPEM) + "}"), `Conflicting enrollment credentials.*enrollment`},
		{"secret and secret_wo together", res(cn + "enrollment = {\nreference = \"r\"\nsecret = \"s\"\nsecret_wo = \"s\"\n}"), `secret_wo.*cannot be specified when.*secret`},
		{"reference without a secret", res(cn + `enrollment = { reference = "r" }`), `Missing enrollment secret.*enrollment`},
		// With no reference in the provider either: a provider reference
		// would go with the secret.
		{"secret without a reference", hclConfig{url: ca.url, name: "bad", body: cn + `enrollment = { secret_wo = "s" }`}.String(),
			`Missing enrollment reference.*enrollment\.reference.*CMPV2_REFERENCE`},
		{"external certificate without its key", res(cn + "enrollment = {\n" + heredoc("certificate_pem", certPEM) + "}"), `Missing enrollment key.*enrollment`},
		{"TLS client certificate without its key", res(cn + "server = {\nurl = \"" + ca.url + "\"\ntls = {\n" + heredoc("client_certificate_pem", certPEM) + "}\n}"), `client_private_key_pem`},
		{"basic auth user without password", res(cn + `server = { url = "` + ca.url + `", basic_auth = { username = "u" } }`), `password`},
		// URLs
		{"server URL with another scheme", res(cn + `server = { url = "ftp://ca.example/" }`), `Invalid CMP server URL.*server\.url.*got "ftp"`},
		{"server URL without a host", res(cn + `server = { url = "http:///.well-known/cmp" }`), `Invalid CMP server URL.*server\.url.*no host`},
		{"server URL with a password in it", res(cn + `server = { url = "http://user:pw@127.0.0.1/" }`), `Invalid CMP server URL.*server\.url.*basic_auth`},
		{"server URL with a fragment", res(cn + `server = { url = "http://127.0.0.1/#cmp" }`), `Invalid CMP server URL.*server\.url.*fragment`},
		{"server URL that does not parse", res(cn + `server = { url = "http://127.0.0.1:port/" }`), `Invalid CMP server URL.*server\.url`},
		{"provider URL relative", hclConfig{url: "/.well-known/cmp", name: "bad", body: cn}.String(), `Invalid CMP server URL`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			expectPlanRefused(t, ca, tc.config, tc.want)
		})
	}

	// Configurations that need the environment cleared: missing IR
	// credentials and no server at all.
	bare := []struct{ name, config, want string }{
		{"IR credentials missing", hclConfig{url: ca.url, name: "bad", body: cn}.String(),
			`No credentials for the initialization request`},
		{"no server at all", "resource \"cmpv2_certificate\" \"bad\" {\n" + cn + "enrollment = { reference = \"r\", secret_wo = \"s\" }\n}\n",
			`No CMP server.*server\.url`},
	}
	for _, tc := range bare {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			expectPlanRefused(t, ca, tc.config, tc.want)
		})
	}
	// After the parallel cases: the CA must not have seen any of them.
	t.Cleanup(func() {
		t.Logf("bad input: %d invalid configurations planned, the CA handled %d messages", len(cases)+len(bare), ca.handled())
		if n := ca.handled(); n != 0 {
			t.Errorf("the CA handled %d messages during plans that failed validation", n)
		}
	})
}

// expectPlanRefused plans config, expects an error matching want and checks
// that the CA handled no message: validation happens before any request.
func expectPlanRefused(t *testing.T, ca *watchedCA, config, want string) {
	t.Helper()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:             config,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ExpectError:        regexp.MustCompile(`(?s)` + want),
		}},
	})
	if n := ca.handled(); n != 0 {
		t.Fatalf("the CA handled %d messages during a plan that failed validation", n)
	}
}

package provider

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/faultproxy"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccServer: cmpv2_server asks the CA for its certificates (genm,
// protection verified) and its endpoint object is a certificate's server
// as is, for one server and several certificates.
func TestAccServer(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	// The provider names no url: the certificates reach the CA only
	// through the server's endpoint.
	provider := hclConfig{reference: e.reference, secret: e.secret}.provider()
	server := fmt.Sprintf(`
resource "cmpv2_server" "ca" {
  url             = %q
  message_timeout = "5s"
  trusted_ca_pem  = <<EOT
%sEOT
}
`, e.url, e.caPEM)
	certs := `
resource "cmpv2_certificate" "a" {
  server  = cmpv2_server.ca.endpoint
  subject = { common_name = "a.example" }
}
resource "cmpv2_certificate" "b" {
  server  = cmpv2_server.ca.endpoint
  subject = { common_name = "b.example" }
}
`
	var mark int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:           provider + server + certs,
				ConfigPlanChecks: emptyPlanAfterApply,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("cmpv2_server.ca", "id", e.url),
					resource.TestCheckResourceAttr("cmpv2_server.ca", "endpoint.url", e.url),
					resource.TestCheckResourceAttr("cmpv2_certificate.a", "last_operation", "ir"),
					resource.TestCheckResourceAttr("cmpv2_certificate.b", "last_operation", "ir"),
					func(s *terraform.State) error {
						got := stateAttr(s, "cmpv2_server.ca", "ca_certificates_pem")
						if !strings.Contains(got, strings.TrimSpace(e.caPEM)) {
							return fmt.Errorf("ca_certificates_pem does not hold the CA certificate: %q", got)
						}
						for _, ev := range e.events {
							if ev.Op == "genm" && ev.Status == "error" {
								return fmt.Errorf("genm refused: %+v", ev)
							}
						}
						return nil
					},
				),
			},
			{
				// A refresh asks again; the certificates stay offline.
				PreConfig:    func() { mark = e.mark() },
				RefreshState: true,
				Check: func(*terraform.State) error {
					for _, op := range e.ops(mark) {
						if !strings.HasPrefix(op, "genm:") {
							return fmt.Errorf("refresh sent %s", op)
						}
					}
					if len(e.ops(mark)) == 0 {
						return fmt.Errorf("refresh did not ask the server")
					}
					return nil
				},
			},
			{
				// Import by URL; settings the URL does not carry come from
				// the configuration at the next apply.
				ResourceName:            "cmpv2_server.ca",
				ImportState:             true,
				ImportStateId:           e.url,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"trusted_ca_pem", "message_timeout", "endpoint"},
			},
		},
	})
}

// TestAccServerUntrusted: a server whose responses are signed by a CA the
// configuration does not trust fails create with a diagnostic saying so.
func TestAccServerUntrusted(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	other, _ := testCertificate(t, "Some Other Root")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: hclConfig{reference: e.reference, secret: "wrong secret", resourceType: "cmpv2_server", name: "ca",
				body: fmt.Sprintf("url            = %q\ntrusted_ca_pem = <<EOT\n%sEOT", e.url, other)}.String(),
			ExpectError: regexp.MustCompile(`(?s)genm caCerts\) failed.*transaction`),
		}},
	})
}

// TestAccServerWithoutCredentials: without the provider's reference and
// secret the genm cannot be protected; the server is still registered (its
// endpoint serves certificates with their own IR credentials), with empty
// ca_certificates_pem and nothing sent.
func TestAccServerWithoutCredentials(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "cmpv2_server" "ca" {
  url            = %q
  trusted_ca_pem = <<EOT
%sEOT
}
resource "cmpv2_certificate" "test" {
  server     = cmpv2_server.ca.endpoint
  subject    = { common_name = "own-creds.example" }
  enrollment = { reference = %q, secret_wo = %q }
}`, e.url, e.caPEM, e.reference, e.secret),
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr("cmpv2_server.ca", "ca_certificates_pem", ""),
				checkIssued(t, e, "ir", "own-creds.example"),
				func(*terraform.State) error {
					for _, op := range e.ops(0) {
						if strings.HasPrefix(op, "genm") {
							return fmt.Errorf("a genm was sent without credentials: %v", e.ops(0))
						}
					}
					return nil
				},
			),
		}},
	})
}

// TestAccServerOwnCredentials: a cmpv2_server with credentials of its own
// (reference and the write-only secret_wo) asks for the CA certificates
// with no provider credentials; the secret is in no state, and a refresh,
// which Terraform gives no write-only value, keeps the answer and sends
// nothing.
func TestAccServerOwnCredentials(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	config := fmt.Sprintf(`
resource "cmpv2_server" "ca" {
  url             = %q
  message_timeout = "5s"
  trusted_ca_pem  = <<EOT
%sEOT
  credentials = { reference = %q, secret_wo = %q }
}`, e.url, e.caPEM, e.reference, e.secret)
	var mark int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:           config,
				ConfigPlanChecks: emptyPlanAfterApply,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("cmpv2_server.ca", "credentials.reference", e.reference),
					resource.TestCheckNoResourceAttr("cmpv2_server.ca", "credentials.secret_wo"),
					func(s *terraform.State) error {
						if got := stateAttr(s, "cmpv2_server.ca", "ca_certificates_pem"); !strings.Contains(got, strings.TrimSpace(e.caPEM)) {
							return fmt.Errorf("ca_certificates_pem does not hold the CA certificate: %q", got)
						}
						return e.sawSince(0, []string{"genm:accepted", "genm:accepted", "genm:accepted"})
					},
				),
				ConfigStateChecks: []statecheck.StateCheck{stateHoldsNo{e.secret}},
			},
			{
				PreConfig:    func() { mark = e.mark() },
				RefreshState: true,
				Check: func(s *terraform.State) error {
					if ops := e.ops(mark); len(ops) != 0 {
						return fmt.Errorf("a refresh without the write-only secret sent %v", ops)
					}
					if got := stateAttr(s, "cmpv2_server.ca", "ca_certificates_pem"); got == "" {
						return fmt.Errorf("the refresh dropped ca_certificates_pem")
					}
					return nil
				},
			},
		},
	})
}

// stateHoldsNo checks that none of its strings is anywhere in the state
// Terraform holds (its JSON, sensitive values included).
type stateHoldsNo []string

func (c stateHoldsNo) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	b, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	if !strings.Contains(string(b), "cmpv2_") {
		resp.Error = fmt.Errorf("the state holds no cmpv2 resource")
		return
	}
	for i, secret := range c {
		if strings.Contains(string(b), secret) {
			resp.Error = fmt.Errorf("secret %d of the check is in the state", i)
			return
		}
	}
}

// TestAccServerGenmRefused: a CA that answers no genm (as Vault Enterprise
// and MTG CLM) still gets its cmpv2_server, after one refused genm, with
// empty ca_certificates_pem; then ca_certificates_pem from the
// configuration is what it reports (and a refresh keeps it), and it is
// checked against trusted_ca_pem.
func TestAccServerGenmRefused(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	proxy := faultproxy.New(e.ca)
	proxy.Set(faultproxy.Rule{On: "genm", Fault: faultproxy.HTTPStatus(http.StatusNotImplemented, "", true)})
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	url := srv.URL + "/.well-known/cmp"
	other, _ := testCertificate(t, "Some Other Root")
	server := func(caCerts string) string {
		c := fmt.Sprintf(`
resource "cmpv2_server" "ca" {
  url             = %q
  message_timeout = "5s"
  trusted_ca_pem  = <<EOT
%sEOT
  credentials = { reference = %q, secret = %q }
`, url, e.caPEM, e.reference, e.secret)
		if caCerts != "" {
			c += "  ca_certificates_pem = <<EOT\n" + caCerts + "EOT\n"
		}
		return c + "}\n"
	}
	noGenmReachedCA := func(*terraform.State) error {
		for _, op := range e.ops(0) {
			if strings.HasPrefix(op, "genm") {
				return fmt.Errorf("a genm reached the CA: %v", e.ops(0))
			}
		}
		if proxy.Applied() == 0 {
			return fmt.Errorf("no genm was refused")
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: server(""),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("cmpv2_server.ca", "ca_certificates_pem", ""),
					resource.TestCheckResourceAttr("cmpv2_server.ca", "endpoint.url", url),
					func(*terraform.State) error { return e.sawSince(0, nil) },
				),
			},
			{
				Config: server(e.caPEM) + `
resource "cmpv2_certificate" "test" {
  server     = cmpv2_server.ca.endpoint
  subject    = { common_name = "a.example" }
  enrollment = { reference = "` + e.reference + `", secret = "` + e.secret + `" }
}`,
				ConfigPlanChecks: emptyPlanAfterApply,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("cmpv2_server.ca", "ca_certificates_pem", e.caPEM),
					checkIssued(t, e, "ir", "a.example"),
				),
			},
			{
				RefreshState: true,
				Check:        resource.TestCheckResourceAttr("cmpv2_server.ca", "ca_certificates_pem", e.caPEM),
			},
			{
				Config:      server(other),
				ExpectError: regexp.MustCompile(`(?s)trusted_ca_pem is not this CA's.*ca_certificates_pem in the configuration`),
			},
			{
				// Back to the working configuration, so that destroy runs.
				Config: server(e.caPEM) + `
resource "cmpv2_certificate" "test" {
  server     = cmpv2_server.ca.endpoint
  subject    = { common_name = "a.example" }
  enrollment = { reference = "` + e.reference + `", secret = "` + e.secret + `" }
}`,
				Check: noGenmReachedCA,
			},
			{
				// Taken out of the configuration, the value is not kept.
				Config: server("") + `
resource "cmpv2_certificate" "test" {
  server     = cmpv2_server.ca.endpoint
  subject    = { common_name = "a.example" }
  enrollment = { reference = "` + e.reference + `", secret = "` + e.secret + `" }
}`,
				ConfigPlanChecks: emptyPlanAfterApply,
				Check:            resource.TestCheckResourceAttr("cmpv2_server.ca", "ca_certificates_pem", ""),
			},
		},
	})
}

// TestAccServerSignedDiscovery: with a certificate and key as credentials
// the genm is signature-protected (for a CA that verifies no MAC), again
// with no provider credentials.
func TestAccServerSignedDiscovery(t *testing.T) {
	clearProviderEnv(t)
	deviceCA, certPEM, keyPEM := testExternalCredential(t)
	e := startCA(t, devca.Config{Trusted: []*x509.Certificate{deviceCA}})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "cmpv2_server" "ca" {
  url             = %q
  message_timeout = "5s"
  trusted_ca_pem  = <<EOT
%sEOT
  credentials = {
    certificate_pem = <<EOT
%sEOT
    private_key_pem = <<EOT
%sEOT
  }
}`, e.url, e.caPEM, certPEM, keyPEM),
			ConfigPlanChecks: emptyPlanAfterApply,
			Check: func(s *terraform.State) error {
				if got := stateAttr(s, "cmpv2_server.ca", "ca_certificates_pem"); !strings.Contains(got, strings.TrimSpace(e.caPEM)) {
					return fmt.Errorf("ca_certificates_pem does not hold the CA certificate: %q", got)
				}
				e.mu.Lock()
				defer e.mu.Unlock()
				for _, ev := range e.events {
					if ev.Op != "genm" || ev.Status != "accepted" || ev.Protection != "signature" {
						return fmt.Errorf("the CA saw %+v, want signed genm accepted", ev)
					}
				}
				return nil
			},
		}},
	})
}

// TestAccServerBasicAuthWriteOnly: basic_auth.password_wo authenticates
// cmpv2_server's own genm and is in no state; the endpoint carries the
// user name alone, and the certificate's IR, KUR and RR take the password
// for that user from the environment (CMPV2_USERNAME, CMPV2_PASSWORD) at
// apply time.
func TestAccServerBasicAuthWriteOnly(t *testing.T) {
	clearProviderEnv(t)
	const user, password = "ee-4711", "basic¤wo-9c8d"
	e := startCA(t, devca.Config{Username: user, Password: password})
	server := fmt.Sprintf(`
resource "cmpv2_server" "ca" {
  url             = %q
  message_timeout = "5s"
  trusted_ca_pem  = <<EOT
%sEOT
  credentials = { reference = %q, secret_wo = %q }
  basic_auth  = { username = %q, password_wo = %q }
}
`, e.url, e.caPEM, e.reference, e.secret, user, password)
	certificate := func(trigger string) string {
		return fmt.Sprintf(`
resource "cmpv2_certificate" "test" {
  server            = cmpv2_server.ca.endpoint
  subject           = { common_name = "basic.example" }
  enrollment        = { reference = %q, secret_wo = %q }
  rotation_triggers = { n = %q }
}
`, e.reference, e.secret, trigger)
	}
	noSecrets := []statecheck.StateCheck{stateHoldsNo{password, e.secret}}
	var mark int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy: func(*terraform.State) error {
			// Destroy revokes the certificate and the one its KUR replaced,
			// authenticated with the password from the environment.
			var rr []string
			for _, op := range e.ops(mark) {
				if !strings.HasPrefix(op, "genm") {
					rr = append(rr, op)
				}
			}
			if !slices.Equal(rr, []string{"rr:accepted", "rr:accepted"}) {
				return fmt.Errorf("destroy: the CA saw %v, want two accepted rr", e.ops(mark))
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				// No password anywhere but password_wo: the genm gets through.
				Config:            server,
				ConfigPlanChecks:  emptyPlanAfterApply,
				ConfigStateChecks: noSecrets,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("cmpv2_server.ca", "endpoint.basic_auth.username", user),
					resource.TestCheckNoResourceAttr("cmpv2_server.ca", "endpoint.basic_auth.password"),
					func(s *terraform.State) error {
						if got := stateAttr(s, "cmpv2_server.ca", "ca_certificates_pem"); !strings.Contains(got, strings.TrimSpace(e.caPEM)) {
							return fmt.Errorf("ca_certificates_pem does not hold the CA certificate: %q", got)
						}
						return e.sawSince(0, []string{"genm:accepted", "genm:accepted", "genm:accepted"})
					},
				),
			},
			{
				PreConfig: func() {
					t.Setenv(envUsername, user)
					t.Setenv(envPassword, password)
					mark = e.mark()
				},
				Config:            server + certificate("1"),
				ConfigPlanChecks:  emptyPlanAfterApply,
				ConfigStateChecks: noSecrets,
				Check: resource.ComposeTestCheckFunc(
					checkIssued(t, e, "ir", "basic.example"),
					resource.TestCheckResourceAttr("cmpv2_certificate.test", "server.basic_auth.username", user),
					resource.TestCheckNoResourceAttr("cmpv2_certificate.test", "server.basic_auth.password"),
				),
			},
			{
				PreConfig:         func() { mark = e.mark() },
				Config:            server + certificate("2"),
				ConfigPlanChecks:  emptyPlanAfterApply,
				ConfigStateChecks: noSecrets,
				Check: resource.ComposeTestCheckFunc(
					checkIssued(t, e, "kur", "basic.example"),
					func(s *terraform.State) error {
						var kur []string
						for _, op := range e.ops(mark) {
							if !strings.HasPrefix(op, "genm") {
								kur = append(kur, op)
							}
						}
						if len(kur) != 2 || kur[0] != "kur:accepted" {
							return fmt.Errorf("the CA saw %v, want a KUR and its confirmation", e.ops(mark))
						}
						mark = e.mark()
						return e.accountedFor(t, s)
					},
				),
			},
		},
	})
}

// TestAccServerTLSKeyWriteOnly: tls.client_private_key_wo is in no state;
// the endpoint carries the client certificate alone and the certificate
// that uses it takes the provider's key for that certificate at apply
// time. (The in-process CA speaks plain HTTP, so this shows the state and
// the resolution, not a TLS handshake.)
func TestAccServerTLSKeyWriteOnly(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	certPEM, keyPEM := testCertificate(t, "tls client")
	keyLines := strings.Split(strings.TrimSpace(keyPEM), "\n")
	keyLine := keyLines[len(keyLines)/2]
	config := fmt.Sprintf(`
provider "cmpv2" {
  tls = {
    client_certificate_pem = <<EOT
%[1]sEOT
    client_private_key_pem = <<EOT
%[2]sEOT
  }
}
resource "cmpv2_server" "ca" {
  url             = %[3]q
  message_timeout = "5s"
  trusted_ca_pem  = <<EOT
%[4]sEOT
  credentials = { reference = %[5]q, secret_wo = %[6]q }
  tls = {
    client_certificate_pem = <<EOT
%[1]sEOT
    client_private_key_wo = <<EOT
%[2]sEOT
  }
}
resource "cmpv2_certificate" "test" {
  server     = cmpv2_server.ca.endpoint
  subject    = { common_name = "tls.example" }
  enrollment = { reference = %[5]q, secret_wo = %[6]q }
}
`, certPEM, keyPEM, e.url, e.caPEM, e.reference, e.secret)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:            config,
			ConfigPlanChecks:  emptyPlanAfterApply,
			ConfigStateChecks: []statecheck.StateCheck{stateHoldsNo{keyLine, e.secret}},
			Check: resource.ComposeTestCheckFunc(
				checkIssued(t, e, "ir", "tls.example"),
				resource.TestCheckResourceAttr("cmpv2_certificate.test", "server.tls.client_certificate_pem", certPEM),
				resource.TestCheckNoResourceAttr("cmpv2_certificate.test", "server.tls.client_private_key_pem"),
				resource.TestCheckNoResourceAttr("cmpv2_server.ca", "tls.client_private_key_wo"),
			),
		}},
	})
}

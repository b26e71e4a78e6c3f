package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// testAccProviders runs the provider in-process for terraform-plugin-testing,
// behind the same protocol server as main.go.
var testAccProviders = providersAt(clock{})

// A provider is configured only when a resource uses it, so these configs
// plan one cmpv2_server (plan only: creating it needs a CA).
const accServerConfig = `
resource "cmpv2_server" "ca" {
  url = "http://127.0.0.1:8829/.well-known/cmp"
}
`

func TestAccProviderConfigure(t *testing.T) {
	cases := []struct {
		name    string
		config  string
		env     map[string]string
		wantErr *regexp.Regexp
	}{
		{
			name:   "valid provider block plans",
			config: hclConfig{url: "https://ca.example/.well-known/cmp/p/tls", messageTimeout: "30s"}.provider() + accServerConfig,
		},
		{
			name:    "bad url in the provider block fails validation",
			config:  hclConfig{url: "ftp://ca.example/cmp"}.provider() + accServerConfig,
			wantErr: regexp.MustCompile(`(?s)Invalid CMP server URL.*scheme must be http or https`),
		},
		{
			// Validators never see environment variables: this error can only
			// come from Configure.
			name:    "bad url from CMPV2_URL fails configure",
			config:  accServerConfig,
			env:     map[string]string{envURL: "ca.example/cmp"},
			wantErr: regexp.MustCompile(`(?s)Invalid CMP server URL.*from the CMPV2_URL\s+environment\s+variable`),
		},
		{
			name:    "secret without reference fails configure",
			config:  accServerConfig,
			env:     map[string]string{envSecret: "s3cret"},
			wantErr: regexp.MustCompile(`(?s)Missing reference`),
		},
		{
			name:    "bad message_timeout from the environment fails configure",
			config:  accServerConfig,
			env:     map[string]string{envMessageTimeout: "10 minutes"},
			wantErr: regexp.MustCompile(`(?s)Invalid duration.*CMPV2_MESSAGE_TIMEOUT`),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearProviderEnv(t)
			for name, value := range tc.env {
				t.Setenv(name, value)
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config:             tc.config,
					PlanOnly:           true,
					ExpectNonEmptyPlan: true,
					ExpectError:        tc.wantErr,
				}},
			})
		})
	}
}

// tlsCA serves a development CA over HTTPS that requires a client
// certificate and basic authentication, and returns it with its https URL
// and a client certificate with its key for mutual TLS.
func tlsCA(t *testing.T, user, password string) (e *caEnv, url, clientPEM, clientKeyPEM string) {
	t.Helper()
	e = startCA(t, devca.Config{Username: user, Password: password})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := &cmpclient.Client{URL: e.url, Credentials: cmpclient.MACCredentials{Reference: e.reference, Secret: []byte(e.secret)},
		TrustAnchors: []*x509.Certificate{e.ca.CACertificate()}, Username: user, Password: password}
	enr, err := c.Enroll(context.Background(), &cmpclient.CertRequest{Key: key, Subject: pkix.Name{CommonName: "tls client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	if clientKeyPEM, err = marshalPrivateKeyPEM(key); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(e.ca)
	if srv.TLS, err = e.ca.ServerTLSConfig(true, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return e, srv.URL + "/.well-known/cmp", certificatePEM(enr.Certificate), clientKeyPEM
}

// TestAccConnectionOverTLS enrolls over HTTPS with mutual TLS and basic
// authentication: the provider block's tls with basic auth from the
// environment, and a server object whose tls and basic_auth replace the
// provider's as a whole.
func TestAccConnectionOverTLS(t *testing.T) {
	ca, url, clientPEM, clientKeyPEM := tlsCA(t, "ops", "s3cret")
	caPEM := ca.caPEM
	otherCA, _ := testCertificate(t, "Another Root")
	tlsBlock := func(ca string, withClient bool) string {
		s := "tls = {\n  ca_pem = <<EOT\n" + ca + "EOT\n"
		if withClient {
			s += "  client_certificate_pem = <<EOT\n" + clientPEM + "EOT\n  client_private_key_pem = <<EOT\n" + clientKeyPEM + "EOT\n"
		}
		return s + "}\n"
	}
	cases := []struct {
		name     string
		provider string            // the provider block's tls and basic_auth
		env      map[string]string // CMPV2_* variables
		server   string            // the server object's tls and basic_auth; empty: no server object
		wantErr  *regexp.Regexp
	}{
		{name: "provider tls, basic auth from the environment", provider: tlsBlock(caPEM, true),
			env: map[string]string{envUsername: "ops", envPassword: "s3cret"}},
		{name: "no client certificate is refused", provider: tlsBlock(caPEM, false),
			env: map[string]string{envUsername: "ops", envPassword: "s3cret"}, wantErr: regexp.MustCompile(`tls`)},
		{name: "untrusted server certificate is refused", provider: tlsBlock(otherCA, true),
			env: map[string]string{envUsername: "ops", envPassword: "s3cret"}, wantErr: regexp.MustCompile(`unknown authority`)},
		{name: "wrong basic auth is refused", provider: tlsBlock(caPEM, true),
			env: map[string]string{envUsername: "ops", envPassword: "wrong"}, wantErr: regexp.MustCompile(`HTTP 401`)},
		{name: "server tls and basic_auth replace the provider's",
			provider: tlsBlock(otherCA, false) + "basic_auth = { username = \"ops\", password = \"wrong\" }\n",
			server:   tlsBlock(caPEM, true) + "basic_auth = { username = \"ops\", password = \"s3cret\" }\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearProviderEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			server := ""
			if tc.server != "" {
				server = fmt.Sprintf("server = {\nurl = %q\n%s}\n", url, tc.server)
			}
			config := fmt.Sprintf(`
provider "cmpv2" {
  url             = %q
  reference       = %q
  secret          = %q
  message_timeout = "5s"
  trusted_ca_pem  = <<EOT
%sEOT
  %s
}
resource "cmpv2_certificate" "test" {
  subject = { common_name = "tls.example" }
  %s
}`, url, ca.reference, ca.secret, caPEM, tc.provider, server)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps:                    []resource.TestStep{{Config: config, ExpectError: tc.wantErr}},
			})
		})
	}
}

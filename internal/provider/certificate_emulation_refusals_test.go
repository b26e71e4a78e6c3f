package provider

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// vaultWithRevocation is the Vault guide's configuration with
// revoke_on_destroy and revoke_superseded taken from variables, to show
// what the guide's settings avoid.
func vaultWithRevocation(t *testing.T) string {
	t.Helper()
	c := guideExample(t, "vault")
	for _, setting := range []string{"revoke_superseded", "revoke_on_destroy"} {
		line := setting + " = false"
		if !strings.Contains(c, line) {
			t.Fatalf("the Vault guide's configuration has no %q", line)
		}
		c = strings.Replace(c, line, setting+" = var."+setting, 1)
		c += fmt.Sprintf("\nvariable %q {\n  type = bool\n}\n", setting)
	}
	return c
}

// TestAccCertificateRevocationRefused: a CA that refuses the RR of a
// destroy (Vault Enterprise offers no revocation over CMP; its emulation
// answers badRequest) makes the error name revoke_on_destroy; with it
// false the destroy sends nothing.
func TestAccCertificateRevocationRefused(t *testing.T) {
	clearProviderEnv(t)
	e, base := vaultCA(t)
	vars := func(revokeOnDestroy bool) config.Variables {
		v := withVars(base)("refused-rr.example")
		v["revoke_on_destroy"] = config.BoolVariable(revokeOnDestroy)
		v["revoke_superseded"] = config.BoolVariable(false)
		return v
	}
	cfg := vaultWithRevocation(t)
	var mark int
	setMark := func() { mark = e.mark() }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{PreConfig: setMark, Config: cfg, ConfigVariables: vars(true), Check: func(*terraform.State) error {
				return e.sawSince(mark, sentIR)
			}},
			{
				PreConfig: setMark, Config: cfg, ConfigVariables: vars(true), Destroy: true,
				ExpectError: regexp.MustCompile(`(?s)revocation request \(RR\) failed.*refused the revocation.*revoke_on_destroy = false`),
			},
			{
				PreConfig: func() {
					if err := e.sawSince(mark, []string{"rr:error"}); err != nil {
						t.Error(err)
					}
					setMark()
				},
				Config: cfg, ConfigVariables: vars(false),
			},
		},
		CheckDestroy: func(*terraform.State) error { return e.sawSince(mark, nil) },
	})
}

// TestAccSupersededRevocationRefused: with revoke_superseded left true,
// the second CR against Vault's emulation revokes the certificate it
// pushes out of the state; the CA refuses the rr, and the CR still
// completes (the replaced certificate stays valid, with a warning that
// names revoke_superseded, see TestRefusedRevocation).
func TestAccSupersededRevocationRefused(t *testing.T) {
	clearProviderEnv(t)
	e, base := vaultCA(t)
	vars := func(dns ...string) config.Variables {
		v := withVars(base)(dns...)
		v["revoke_on_destroy"] = config.BoolVariable(false)
		v["revoke_superseded"] = config.BoolVariable(true)
		return v
	}
	cfg := vaultWithRevocation(t)
	var mark int
	setMark := func() { mark = e.mark() }
	saw := func(want ...[]string) resource.TestCheckFunc {
		return func(*terraform.State) error { return e.sawSince(mark, slices.Concat(want...)) }
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{PreConfig: setMark, Config: cfg, ConfigVariables: vars("superseded.example"), Check: saw(sentIR)},
			{PreConfig: setMark, Config: cfg, ConfigVariables: vars("superseded.example", "a.superseded.example"), Check: saw(sentCR)},
			{
				PreConfig: setMark, Config: cfg, ConfigVariables: vars("superseded.example", "b.superseded.example"),
				Check: resource.ComposeTestCheckFunc(saw(sentCR, []string{"rr:error"}), func(*terraform.State) error {
					setMark() // destroy sends nothing: revoke_on_destroy = false
					return nil
				}),
			},
		},
		CheckDestroy: func(*terraform.State) error { return e.sawSince(mark, nil) },
	})
}

// TestEmulationGenmRefusals: the refusal of a genm by each emulated CA is
// one that cmpv2_server registers with a warning naming
// ca_certificates_pem (genmRefused), not an error.
func TestEmulationGenmRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("mtg", func(t *testing.T) {
		e, _ := mtgCA(t)
		cl := &cmpclient.Client{URL: e.url, Username: mtgEndEntity, Password: "end-entity-password",
			Credentials: cmpclient.MACCredentials{Reference: e.reference, Secret: []byte(e.secret)}}
		_, err := cl.CACerts(ctx)
		if err == nil || !genmRefused(err) {
			t.Errorf("CACerts: %v, want a refusal genmRefused takes", err)
		}
	})
	t.Run("vault", func(t *testing.T) {
		e, certPEM, keyPEM := vaultServer(t)
		tlsConfig, err := cmpclient.TLSConfig(cmpclient.TLSOptions{CAPEM: []byte(e.caPEM),
			ClientCertificatePEM: []byte(certPEM), ClientKeyPEM: []byte(keyPEM)})
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := parseCertificatePEM(certPEM)
		key, _ := parsePrivateKeyPEM(keyPEM)
		cl := &cmpclient.Client{URL: e.url, HTTPClient: &http.Client{Transport: cmpclient.NewTransport(tlsConfig)},
			TrustAnchors: e.trustAnchors(t), Credentials: cmpclient.SignatureCredentials{Key: key, Chain: []*x509.Certificate{cert}}}
		_, err = cl.CACerts(ctx)
		if err == nil || !genmRefused(err) {
			t.Errorf("CACerts: %v, want a refusal genmRefused takes", err)
		}
	})
}

// TestAccServerGenmRefusedByMTG: cmpv2_server against the MTG CLM
// emulation, which answers genm with an error message (badRequest),
// registers with empty ca_certificates_pem, or with the CA certificates
// the configuration gives.
func TestAccServerGenmRefusedByMTG(t *testing.T) {
	clearProviderEnv(t)
	e, _ := mtgCA(t)
	server := func(caCerts string) string {
		c := fmt.Sprintf(`
provider "cmpv2" {
  reference  = %q
  secret     = %q
  basic_auth = { username = %q, password = "end-entity-password" }
}
resource "cmpv2_server" "ca" {
  url             = %q
  message_timeout = "5s"
`, e.reference, e.secret, mtgEndEntity, e.url)
		if caCerts != "" {
			c += "  ca_certificates_pem = <<EOT\n" + caCerts + "EOT\n"
		}
		return c + "}\n"
	}
	genmRefusedOnly := func(*terraform.State) error {
		ops := e.ops(0)
		if len(ops) == 0 {
			return fmt.Errorf("no genm reached the CA")
		}
		for _, op := range ops {
			if op != "genm:error" {
				return fmt.Errorf("the CA saw %v, want refused genm only", ops)
			}
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: server(""),
				Check: resource.ComposeTestCheckFunc(genmRefusedOnly,
					resource.TestCheckResourceAttr("cmpv2_server.ca", "ca_certificates_pem", "")),
			},
			{
				Config: server(e.caPEM),
				Check: resource.ComposeTestCheckFunc(genmRefusedOnly,
					resource.TestCheckResourceAttr("cmpv2_server.ca", "ca_certificates_pem", e.caPEM)),
			},
		},
	})
}

package provider

import (
	"crypto/x509"
	"io"
	"log"
	"net/http/httptest"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/config"
)

// vaultCA serves the development CA's Vault Enterprise emulation over
// HTTPS with a required client certificate, and returns it with the
// files and variables of the Vault guide's configuration: the role
// web-server's endpoint, the CA for TLS and for the CMP answers, and a
// client certificate of a manufacturer CA the emulation trusts (-trust),
// as the cert auth mount would.
func vaultCA(t *testing.T) (*caEnv, config.Variables) {
	t.Helper()
	e, certPEM, keyPEM := vaultServer(t)
	files := writeFiles(t, map[string]string{"ca.pem": e.caPEM, "client.pem": certPEM, "client.key": keyPEM})
	return e, config.Variables{
		"cmp_url":                 config.StringVariable(e.url),
		"issuing_ca_file":         config.StringVariable(files["ca.pem"]),
		"tls_ca_file":             config.StringVariable(files["ca.pem"]),
		"client_certificate_file": config.StringVariable(files["client.pem"]),
		"client_key_file":         config.StringVariable(files["client.key"]),
	}
}

// vaultServer serves the Vault emulation over HTTPS at the role
// web-server's endpoint (e.url) and returns the client certificate and
// key, of a manufacturer CA the emulation trusts.
func vaultServer(t *testing.T) (e *caEnv, certPEM, keyPEM string) {
	t.Helper()
	manufacturer, certPEM, keyPEM := testExternalCredential(t)
	e = startCA(t, devca.Config{Emulate: devca.EmulateVault, Trusted: []*x509.Certificate{manufacturer}})
	srv := httptest.NewUnstartedServer(e.ca)
	tlsConfig, err := e.ca.ServerTLSConfig(true, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = tlsConfig
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.url = srv.URL + "/v1/pki/roles/web-server/cmp"
	return e, certPEM, keyPEM
}

// TestAccGuideVault: the Vault guide's configuration through create, CR,
// KUR and destroy against `devca -emulate vault`. Every message is signed;
// Vault sees no rr (revoke_superseded and revoke_on_destroy are false) and
// no genm, and the certificates it issued all reached the state and stay
// live (Vault revokes nothing over CMP).
func TestAccGuideVault(t *testing.T) {
	e, vars := vaultCA(t)
	g := &guideLifecycle{
		e: e, config: guideExample(t, "vault"), vars: withVars(vars),
		create:  []string{"ir:accepted:signature", "certConf:confirmed:signature"},
		cr:      []string{"cr:accepted:signature", "certConf:confirmed:signature"},
		kur:     []string{"kur:accepted:signature", "certConf:confirmed:signature"},
		profile: "web-server",
	}
	g.run(t)
}

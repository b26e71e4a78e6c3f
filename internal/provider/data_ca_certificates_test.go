package provider

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/faultproxy"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// dataCA is the data source's address in these tests.
const dataCA = "data.cmpv2_ca_certificates.ca"

// TestAccCACertificates: the data source asks the CA (genm caCerts and
// rootCaCert, protection verified) and gives its certificates; a CA that
// announces a new root gives it with its link certificates, checked
// against the root it published.
func TestAccCACertificates(t *testing.T) {
	clearProviderEnv(t)
	tests := []struct {
		name string
		cfg  devca.Config
		// ownCredentials: the data source's credentials object protects the
		// genm, and the provider has neither credentials nor trust anchors.
		ownCredentials bool
		// noCredentials: nothing protects the genm (RFC 9810 5.1.3.4); the
		// provider has trusted_ca_pem, which the CA's signed genp chains to.
		noCredentials bool
	}{
		{name: "provider credentials and trust anchor"},
		{name: "own credentials, no trust anchor", ownCredentials: true},
		{name: "new root announced", cfg: devca.Config{AnnounceNewRoot: true}, ownCredentials: true},
		{name: "new root announced, trust anchor", cfg: devca.Config{AnnounceNewRoot: true}},
		{name: "no credentials, trust anchor", noCredentials: true},
		{name: "new root announced, no credentials", cfg: devca.Config{AnnounceNewRoot: true}, noCredentials: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startCA(t, tc.cfg)
			config := e.providerBlock(true) + "data \"cmpv2_ca_certificates\" \"ca\" {}\n"
			if tc.ownCredentials {
				config = hclConfig{url: e.url, messageTimeout: "5s"}.provider() + fmt.Sprintf(`
data "cmpv2_ca_certificates" "ca" {
  credentials = { reference = %q, secret = %q }
}
`, e.reference, e.secret)
			}
			if tc.noCredentials {
				config = hclConfig{url: e.url, messageTimeout: "5s", trustedCAPEM: e.caPEM}.provider() +
					"data \"cmpv2_ca_certificates\" \"ca\" {}\n"
			}
			caCert := e.ca.CACertificate()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config: config,
					Check: resource.ComposeTestCheckFunc(
						resource.TestCheckResourceAttr(dataCA, "certificates_pem.#", "1"),
						resource.TestCheckResourceAttr(dataCA, "certificates_pem.0", e.caPEM),
						resource.TestCheckResourceAttr(dataCA, "bundle_pem", e.caPEM),
						resource.TestCheckResourceAttr(dataCA, "root_pem", e.caPEM),
						func(s *terraform.State) error {
							// Every read asks for both, and nothing else.
							ops := e.ops(0)
							if len(ops) == 0 || len(ops)%2 != 0 {
								return fmt.Errorf("the CA saw %v, want pairs of genm", ops)
							}
							for _, op := range ops {
								if op != "genm:accepted" {
									return fmt.Errorf("the CA saw %v, want genm:accepted only", ops)
								}
							}
							if got := e.protections(0); tc.noCredentials != (len(got) == 1 && got[0] == "none") {
								return fmt.Errorf("the genm came with protection %v (no credentials: %v)", got, tc.noCredentials)
							}
							if !tc.cfg.AnnounceNewRoot {
								for _, a := range []string{"new_root_pem", "new_with_old_pem", "old_with_new_pem"} {
									if _, set := s.RootModule().Resources[dataCA].Primary.Attributes[a]; set && stateAttr(s, dataCA, a) != "" {
										return fmt.Errorf("%s is set without a root update: %q", a, stateAttr(s, dataCA, a))
									}
								}
								return nil
							}
							newRoot, err := parseCertificatePEM(stateAttr(s, dataCA, "new_root_pem"))
							if err != nil {
								return fmt.Errorf("new_root_pem: %w", err)
							}
							newWithOld, err := parseCertificatePEM(stateAttr(s, dataCA, "new_with_old_pem"))
							if err != nil {
								return fmt.Errorf("new_with_old_pem: %w", err)
							}
							oldWithNew, err := parseCertificatePEM(stateAttr(s, dataCA, "old_with_new_pem"))
							if err != nil {
								return fmt.Errorf("old_with_new_pem: %w", err)
							}
							switch {
							case bytes.Equal(newRoot.RawSubjectPublicKeyInfo, caCert.RawSubjectPublicKeyInfo):
								return fmt.Errorf("the new root has the old root's key")
							case newRoot.CheckSignatureFrom(newRoot) != nil:
								return fmt.Errorf("the new root is not self-signed")
							case newWithOld.CheckSignatureFrom(caCert) != nil ||
								!bytes.Equal(newWithOld.RawSubjectPublicKeyInfo, newRoot.RawSubjectPublicKeyInfo):
								return fmt.Errorf("newWithOld does not certify the new key under the old root")
							case oldWithNew.CheckSignatureFrom(newRoot) != nil ||
								!bytes.Equal(oldWithNew.RawSubjectPublicKeyInfo, caCert.RawSubjectPublicKeyInfo):
								return fmt.Errorf("oldWithNew does not certify the old key under the new root")
							}
							return nil
						},
					),
				}},
			})
		})
	}
}

// TestAccCACertificatesRefused: what the data source cannot vouch for is
// an error at plan time, with nothing read: published certificates that do
// not chain to trusted_ca_pem, a genm nothing protects, a CA that answers
// no genm.
func TestAccCACertificatesRefused(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	other, _ := testCertificate(t, "Some Other Root")
	proxy := faultproxy.New(e.ca)
	proxy.Set(faultproxy.Rule{On: "genm", Fault: faultproxy.HTTPStatus(http.StatusNotImplemented, "", true)})
	refusing := httptest.NewServer(proxy)
	t.Cleanup(refusing.Close)
	tests := []struct {
		name, config string
		want         string
	}{
		{
			name:   "published certificates not under trusted_ca_pem",
			config: hclConfig{url: e.url, reference: e.reference, secret: e.secret, trustedCAPEM: other}.provider(),
			want:   `(?s)trusted_ca_pem is not this CA's.*None of the 1 CA certificates`,
		},
		{
			// Unprotected, the answer could be verified by nothing: no
			// genm is sent.
			name:   "no credentials and no trusted_ca_pem",
			config: hclConfig{url: e.url}.provider(),
			want:   `(?s)nothing to verify the answer with.*set trusted_ca_pem`,
		},
		{
			// The CA's signed genp does not chain to trusted_ca_pem.
			name:   "no credentials and another trusted_ca_pem",
			config: hclConfig{url: e.url, trustedCAPEM: other}.provider(),
			want:   `(?s)asking for the CA certificates \(genm caCerts\) failed.*response signer is not\s+trusted`,
		},
		{
			name:   "no genm",
			config: hclConfig{url: refusing.URL + "/.well-known/cmp", reference: e.reference, secret: e.secret}.provider(),
			want:   `(?s)answers no general message`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mark := e.mark()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config:      tc.config + "data \"cmpv2_ca_certificates\" \"ca\" {}\n",
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
			for _, op := range e.ops(mark) {
				if !strings.HasPrefix(op, "genm") {
					t.Errorf("the CA saw %v, want genm only", e.ops(mark))
				}
			}
		})
	}
}

// TestAccCACertificatesOpenSSLMock: the data source against OpenSSL 3.0's
// mock CMP server, which answers a genm by echoing its items: caCerts
// without a value (no CA certificates, RFC 9483 4.3.1, an empty list) and
// rootCaCert instead of rootCaKeyUpdate (no root update offered, a
// warning). Its genp is verified under PBM and, for a signed or an
// unprotected genm, by its signature chaining to trusted_ca_pem. The mock binds every interface, so
// the test runs inside a private network namespace.
func TestAccCACertificatesOpenSSLMock(t *testing.T) {
	creds, ok := openSSLMockAcc(t)
	if !ok {
		return
	}
	rootPEM := certificatePEM(creds.Root.Cert)
	clientKeyPEM, err := marshalPrivateKeyPEM(creds.Client1.Key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []opensslpeer.MockOption
		// data is the data source's body; the provider block has the url,
		// trusted_ca_pem, and the mock's reference and secret when pbm.
		data string
		pbm  bool
	}{
		{name: "PBM", pbm: true},
		// No credentials: the genm goes unprotected (RFC 9810 5.1.3.4),
		// which the mock takes under -accept_unprotected and answers signed.
		{name: "unprotected", opts: []opensslpeer.MockOption{opensslpeer.Args("-accept_unprotected")}},
		{name: "signed", opts: []opensslpeer.MockOption{opensslpeer.SignatureOnly()}, data: fmt.Sprintf(`
  credentials = {
    certificate_pem = <<EOT
%sEOT
    private_key_pem = <<EOT
%sEOT
  }
`, certificatePEM(creds.Client1.Cert), clientKeyPEM)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mock := opensslpeer.StartMock(t, creds, tc.opts...)
			provider := hclConfig{url: mock.URL, messageTimeout: "10s", trustedCAPEM: rootPEM}
			if tc.pbm {
				provider.reference, provider.secret = opensslpeer.MockReference, opensslpeer.MockSecret
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config: provider.provider() + "data \"cmpv2_ca_certificates\" \"ca\" {" + tc.data + "}\n",
					Check: resource.ComposeTestCheckFunc(
						resource.TestCheckResourceAttr(dataCA, "certificates_pem.#", "0"),
						resource.TestCheckResourceAttr(dataCA, "bundle_pem", ""),
						resource.TestCheckResourceAttr(dataCA, "root_pem", rootPEM),
						resource.TestCheckNoResourceAttr(dataCA, "new_root_pem"),
						func(*terraform.State) error {
							// Each read sends two genm, both answered.
							if n := strings.Count(mock.Output(), "Received request"); n == 0 || n%2 != 0 {
								return fmt.Errorf("the mock received %d requests, want pairs of genm:\n%s", n, mock.Output())
							}
							if strings.Contains(mock.Output(), "error") {
								return fmt.Errorf("the mock reports an error:\n%s", mock.Output())
							}
							return nil
						},
					),
				}},
			})
		})
	}
}

// protections lists the distinct protections ("mac", "signature", "none")
// of the messages the CA handled since mark n, in order of first use.
func (e *caEnv) protections(n int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events[n:] {
		if !slices.Contains(out, ev.Protection) {
			out = append(out, ev.Protection)
		}
	}
	return out
}

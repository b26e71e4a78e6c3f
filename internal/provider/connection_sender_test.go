package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// impostorCA runs the development CA whose state is in dir with another
// end entity of the same CA as its CMP signer: its responses are signed by
// a certificate that chains to the CA, allows digitalSignature, and is
// not the CA's signer. It returns the URL and the real signer.
func impostorCA(t *testing.T, dir string, trusted []*x509.Certificate) (url string, realSigner *x509.Certificate) {
	t.Helper()
	honest, err := devca.New(devca.Config{Dir: dir, Trusted: trusted})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(honest)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := &cmpclient.Client{URL: srv.URL, Credentials: cmpclient.MACCredentials{Reference: honest.Reference(),
		Secret: []byte(honest.Secret())}, TrustAnchors: []*x509.Certificate{honest.CACertificate()}}
	enr, err := c.Enroll(context.Background(), &cmpclient.CertRequest{Key: key,
		Subject: pkix.Name{CommonName: "Another End Entity"}, KeyUsage: x509.KeyUsageDigitalSignature})
	srv.Close()
	realSigner = honest.SignerCertificate()
	if cerr := honest.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := marshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	// The CA keeps a signer it finds in its directory when its CA issued it.
	for name, data := range map[string]string{"signer.key": keyPEM, "signer.crt": certificatePEM(enr.Certificate)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	impostor, err := devca.New(devca.Config{Dir: dir, Trusted: trusted})
	if err != nil {
		t.Fatal(err)
	}
	if got := impostor.SignerCertificate(); !got.Equal(enr.Certificate) {
		t.Fatalf("the CA signs with %q, want the end entity's certificate", got.Subject)
	}
	srv = httptest.NewServer(impostor)
	t.Cleanup(func() {
		srv.Close()
		impostor.Close()
	})
	return srv.URL + "/.well-known/cmp", realSigner
}

// TestAccCertificateResponseSigner: with only trusted_ca_pem, a response
// signed by another end entity of the CA passes for the CA's; with
// `recipient` naming the CA's CMP signer it is refused (the recipient is
// the expected sender, as OpenSSL's -expect_sender), while the CA's own
// signer is still accepted. The IR is signed with an external
// certificate, so its response is signed too.
func TestAccCertificateResponseSigner(t *testing.T) {
	deviceCA, deviceCert, deviceKey := testExternalCredential(t)
	trusted := []*x509.Certificate{deviceCA}
	cases := []struct {
		name         string
		impostor     bool
		setRecipient bool
		wantErr      *regexp.Regexp // nil: the IR succeeds
	}{
		{name: "impostor without recipient is accepted (trusted_ca_pem alone)", impostor: true},
		{name: "impostor with recipient is refused", impostor: true, setRecipient: true,
			wantErr: regexp.MustCompile(`sender does not match the protection`)},
		{name: "CA signer with recipient is accepted", setRecipient: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearProviderEnv(t)
			var url, caPEM string
			var signer *x509.Certificate
			if tc.impostor {
				dir := t.TempDir()
				url, signer = impostorCA(t, dir, trusted)
				b, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
				if err != nil {
					t.Fatal(err)
				}
				caPEM = string(b)
			} else {
				e := startCA(t, devca.Config{Trusted: trusted})
				url, signer, caPEM = e.url, e.ca.SignerCertificate(), e.caPEM
			}
			recipient := ""
			if tc.setRecipient {
				recipient = fmt.Sprintf("recipient = %q", signer.Subject.String())
			}
			config := fmt.Sprintf(`
resource "cmpv2_certificate" "test" {
  server = {
    url             = %q
    message_timeout = "5s"
    trusted_ca_pem  = <<EOT
%sEOT
    %s
  }
  enrollment = {
    certificate_pem = <<EOT
%sEOT
    private_key_pem = <<EOT
%sEOT
  }
  subject = { common_name = "sender.example" }
}`, url, caPEM, recipient, deviceCert, deviceKey)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps:                    []resource.TestStep{{Config: config, ExpectError: tc.wantErr}},
			})
		})
	}
}

package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccCertificateImport: a certificate is imported from a PEM file with
// its key; the state matches the one the provider built when it enrolled
// the certificate, and an imported certificate enrolled by another client
// is then renewed by KUR (signed with it), never by a new IR.
func TestAccCertificateImport(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	body := `subject = { common_name = "imp.example", organization = "Example" }
dns_names = ["imp.example"]
ip_addresses = ["192.0.2.7"]
key_usages = ["digital_signature"]
extended_key_usages = ["server_auth", "client_auth"]
ecdsa_curve = "P384"`
	cfg := func(epoch string) string {
		return e.providerBlock(true) + "resource \"cmpv2_certificate\" \"test\" {\n" + body +
			"\nrotation_triggers = { epoch = \"" + epoch + "\" }\n}"
	}
	pemFile := filepath.Join(t.TempDir(), "imported.pem")
	writeFromState := func(s *terraform.State) (string, error) {
		pemText := stateAttr(s, certAddr, "certificate_pem") + stateAttr(s, certAddr, "ca_chain_pem") +
			stateAttr(s, certAddr, "private_key_pem")
		return pemFile, os.WriteFile(pemFile, []byte(pemText), 0o600)
	}

	t.Run("same state as enrolled", func(t *testing.T) {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []resource.TestStep{
				{Config: cfg("1")},
				{
					Config: cfg("1"), ResourceName: certAddr, ImportState: true, ImportStateVerify: true,
					ImportStateIdFunc: writeFromState,
					// Not carried by the certificate: they come from the configuration.
					ImportStateVerifyIgnore: []string{"rotation_triggers", "last_operation", "timeouts"},
				},
			},
		})
	})

	t.Run("adopted and renewed by KUR", func(t *testing.T) {
		// Another client enrolled it.
		key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		c := &cmpclient.Client{URL: e.url, Credentials: cmpclient.MACCredentials{Reference: e.reference, Secret: []byte(e.secret)},
			TrustAnchors: e.trustAnchors(t)}
		enr, err := c.Enroll(context.Background(), &cmpclient.CertRequest{Key: key,
			Subject: pkix.Name{CommonName: "imp.example", Organization: []string{"Example"}}, DNSNames: []string{"imp.example"}})
		if err != nil {
			t.Fatal(err)
		}
		keyPEM, err := marshalPrivateKeyPEM(key)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pemFile, []byte(certificatePEM(enr.Certificate)+keyPEM), 0o600); err != nil {
			t.Fatal(err)
		}
		adopted := e.providerBlock(true) + `resource "cmpv2_certificate" "test" {
  subject     = { common_name = "imp.example", organization = "Example" }
  dns_names   = ["imp.example"]
  ecdsa_curve = "P384"
  rotation_triggers = { epoch = "%s" }
  %s
}`
		var mark int
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []resource.TestStep{
				{Config: fmt.Sprintf(adopted, "1", ""), ResourceName: certAddr, ImportState: true, ImportStateId: pemFile,
					ImportStatePersist: true},
				{
					// Adopting takes the configured validity as the certificate's.
					PreConfig: func() { mark = e.mark() },
					Config:    fmt.Sprintf(adopted, "1", "validity_period_hours = 24"),
					Check: func(s *terraform.State) error {
						if ops := e.ops(mark); len(ops) != 0 {
							return fmt.Errorf("adopting the imported certificate sent %v", ops)
						}
						if stateAttr(s, certAddr, "serial_number") != enr.Certificate.SerialNumber.String() {
							return fmt.Errorf("the imported certificate was replaced")
						}
						return nil
					},
				},
				{
					// Once adopted, a changed validity is a CR as for any certificate.
					PreConfig: func() { mark = e.mark() },
					Config:    fmt.Sprintf(adopted, "1", "validity_period_hours = 48"),
					Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "cr", "imp.example"), func(*terraform.State) error {
						if ops := e.ops(mark); !slices.Contains(ops, "cr:accepted") {
							return fmt.Errorf("the CA saw %v, want a CR", ops)
						}
						return nil
					}),
				},
				{
					PreConfig: func() { mark = e.mark() },
					Config:    fmt.Sprintf(adopted, "2", "validity_period_hours = 48"),
					Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "kur", "imp.example"), func(*terraform.State) error {
						if ops := e.ops(mark); !slices.Contains(ops, "kur:accepted") || slices.Contains(ops, "ir:accepted") {
							return fmt.Errorf("the CA saw %v, want a KUR", ops)
						}
						// The imported certificate, replaced by the CR, now leaves the state: revoked.
						if !e.revoked(t, enr.Certificate.SerialNumber.String()) {
							return fmt.Errorf("the imported certificate left the state unrevoked")
						}
						return nil
					}),
				},
			},
		})
	})
}

// TestImportedModel: what an import id may hold. The bundle is read as
// strictly as a configuration value, the key must be the first
// certificate's and one the provider can enroll with, and it is kept in the
// form it was given.
func TestImportedModel(t *testing.T) {
	certPEM, keyPEM := testCertificate(t, "imp.example")
	otherCert, _ := testCertificate(t, "other.example")
	sec1Key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1DER, err := x509.MarshalECPrivateKey(sec1Key)
	if err != nil {
		t.Fatal(err)
	}
	sec1PEM := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER}))
	sec1Cert := selfSignedPEM(t, sec1Key)
	rsaSmall, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaSmallPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaSmall)}))

	cases := []struct {
		name    string
		in      string
		wantKey string
		wantErr string
	}{
		{name: "certificate, chain and key", in: certPEM + otherCert + keyPEM, wantKey: keyPEM},
		{name: "key first", in: keyPEM + certPEM, wantKey: keyPEM},
		{name: "SEC 1 key kept as given", in: sec1Cert + sec1PEM, wantKey: sec1PEM},
		{name: "key of another certificate", in: otherCert + keyPEM, wantErr: "does not belong to the first certificate"},
		{name: "key of the second certificate", in: otherCert + certPEM + keyPEM, wantErr: "does not belong to the first certificate"},
		{name: "no key", in: certPEM, wantErr: "a certificate and its private key are both needed"},
		{name: "two keys", in: certPEM + keyPEM + keyPEM, wantErr: "second private key"},
		{name: "trailing garbage", in: certPEM + keyPEM + "garbage", wantErr: "unexpected data after PEM block 2"},
		{name: "RSA key too small", in: selfSignedPEM(t, rsaSmall) + rsaSmallPEM, wantErr: "1024 bits is too small"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := importedModel(context.Background(), tc.in, time.Now())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "BEGIN") {
					t.Errorf("error quotes PEM: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.PrivateKeyPEM.ValueString(); got != tc.wantKey {
				t.Errorf("private_key_pem is not the key as given")
			}
			if m.KeyAlgorithm.ValueString() != keyAlgorithmECDSA || m.ID.ValueString() == "" {
				t.Errorf("key_algorithm %s, id %q", m.KeyAlgorithm.ValueString(), m.ID.ValueString())
			}
		})
	}
}

func selfSignedPEM(t *testing.T, key crypto.Signer) string {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "imp.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	return string(testpki.Issue(t, tmpl, key, nil).CertPEM())
}

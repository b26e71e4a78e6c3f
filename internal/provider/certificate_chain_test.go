package provider

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// testCA makes a CA certificate named cn valid for ten years, issued by
// issuer (self-signed when nil).
func testCA(t *testing.T, cn string, serial int64, issuer *testpki.Cert) *testpki.Cert {
	t.Helper()
	now := time.Now()
	return testpki.Issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil, issuer)
}

// TestServedChain: the served chain is the certificate and its issuers,
// nearest first, without a self-signed root at the end.
func TestServedChain(t *testing.T) {
	root := testCA(t, "Root", 1, nil)
	inter := testCA(t, "Issuing CA", 2, root)
	leaf := testpki.Leaf(t, inter, testpki.LeafOptions{CommonName: "leaf"}).Cert
	rootLeaf := testpki.Leaf(t, root, testpki.LeafOptions{CommonName: "leaf of the root"}).Cert
	cases := []struct {
		name  string
		cert  *x509.Certificate
		chain []*x509.Certificate
		want  []*x509.Certificate
	}{
		{"no chain", leaf, nil, []*x509.Certificate{leaf}},
		{"intermediate and root", leaf, []*x509.Certificate{inter.Cert, root.Cert}, []*x509.Certificate{leaf, inter.Cert}},
		{"anchored at the intermediate", leaf, []*x509.Certificate{inter.Cert}, []*x509.Certificate{leaf, inter.Cert}},
		{"issued by the root", rootLeaf, []*x509.Certificate{root.Cert}, []*x509.Certificate{rootLeaf}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := servedChain(tc.cert, tc.chain)
			if !slices.EqualFunc(got, tc.want, func(a, b *x509.Certificate) bool { return a.Equal(b) }) {
				t.Errorf("served chain %v, want %v", commonNames(got), commonNames(tc.want))
			}
		})
	}
}

func commonNames(certs []*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		out = append(out, c.Subject.CommonName)
	}
	return out
}

// TestLastOperationNamesWhatTheProviderSends: last_operation documents the
// operations the resource sends: ir, cr, kur, and p10cr for a CSR.
func TestLastOperationNamesWhatTheProviderSends(t *testing.T) {
	var resp resource.SchemaResponse
	(&certificateResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	desc := resp.Schema.Attributes["last_operation"].GetDescription()
	// p10cr: every enrollment of certificate_request_pem.
	for _, op := range []string{"`ir`", "`cr`", "`kur`", "`p10cr`", "imported"} {
		if !strings.Contains(desc, op) {
			t.Errorf("last_operation description %q does not name %s", desc, op)
		}
	}
}

// TestAccCertificateChainWithIntermediate: with a CA that issues from an
// intermediate under a root, certificate_chain (the function, on
// certificate_pem and ca_chain_pem) is certificate_pem and the
// intermediate, without the root; ca_chain_pem is the intermediate and
// then the root (the trust anchor), nearest issuer first.
func TestAccCertificateChainWithIntermediate(t *testing.T) {
	clearProviderEnv(t)
	root := testCA(t, "Chain Test Root", 1, nil)
	inter := testCA(t, "Chain Test Issuing CA", 2, root)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), append(inter.CertPEM(), root.CertPEM()...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.key"), inter.KeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startCA(t, devca.Config{Dir: dir})
	interPEM, rootPEM := string(inter.CertPEM()), string(root.CertPEM())
	var serials []string
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []tfresource.TestStep{{
			Config: hclConfig{url: e.url, reference: e.reference, secret: e.secret, messageTimeout: "5s",
				trustedCAPEM: rootPEM, body: `subject = { common_name = "chain.example" }
dns_names = ["chain.example"]`}.String() + `
output "served_chain" {
  value = provider::cmpv2::certificate_chain(cmpv2_certificate.test.certificate_pem, cmpv2_certificate.test.ca_chain_pem)
}`,
			ConfigPlanChecks: emptyPlanAfterApply,
			Check: tfresource.ComposeTestCheckFunc(
				checkIssued(t, e, "ir", "chain.example"),
				record(&serials),
				func(s *terraform.State) error {
					cert := stateAttr(s, certAddr, "certificate_pem")
					if o := s.RootModule().Outputs["served_chain"]; o == nil || o.Value != cert+interPEM {
						return fmt.Errorf("certificate_chain:\n%v\nwant certificate_pem and the intermediate:\n%s", o, cert+interPEM)
					}
					if got, want := stateAttr(s, certAddr, "ca_chain_pem"), interPEM+rootPEM; got != want {
						return fmt.Errorf("ca_chain_pem:\n%s\nwant the intermediate, then the root:\n%s", got, want)
					}
					if ops := e.ops(0); !slices.Equal(ops, []string{"ir:accepted", "certConf:confirmed"}) {
						return fmt.Errorf("CA saw %v, want one IR and its certConf", ops)
					}
					return nil
				},
			),
		}},
		CheckDestroy: revokedOnDestroy(t, e, &serials),
	})
}

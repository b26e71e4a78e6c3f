package cmpclient

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/url"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestExtensionsMatchCryptoX509 compares our encoding of SANs, key usage
// and extended key usage with what crypto/x509 (an independent encoder)
// puts into a CSR for the same request.
func TestExtensionsMatchCryptoX509(t *testing.T) {
	u, _ := url.Parse("spiffe://example.org/workload")
	tests := []struct {
		name string
		req  CertRequest
	}{
		{name: "dns", req: CertRequest{Subject: pkix.Name{CommonName: "a"}, DNSNames: []string{"a.example", "b.example"}}},
		{name: "all_san_types", req: CertRequest{Subject: pkix.Name{CommonName: "a"}, DNSNames: []string{"a.example"},
			EmailAddresses: []string{"ops@example.org"}, IPAddresses: []net.IP{net.ParseIP("192.0.2.1"), net.ParseIP("2001:db8::1")}, URIs: []*url.URL{u}}},
		{name: "san_without_subject", req: CertRequest{DNSNames: []string{"only.example"}}},
		{name: "key_usage_one_byte", req: CertRequest{Subject: pkix.Name{CommonName: "a"}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}},
		{name: "key_usage_decipher_only", req: CertRequest{Subject: pkix.Name{CommonName: "a"}, KeyUsage: x509.KeyUsageKeyAgreement | x509.KeyUsageDecipherOnly}},
		{name: "ext_key_usage", req: CertRequest{Subject: pkix.Name{CommonName: "a"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}},
	}
	key := newKey(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Key = key
			ours, err := req.extensions()
			if err != nil {
				t.Fatal(err)
			}
			cert := issue(t, &x509.Certificate{Subject: req.Subject, DNSNames: req.DNSNames, EmailAddresses: req.EmailAddresses,
				IPAddresses: req.IPAddresses, URIs: req.URIs, KeyUsage: req.KeyUsage, ExtKeyUsage: req.ExtKeyUsage}, key.Public(), nil, key)
			theirs := cert.Extensions
			for _, e := range ours {
				var found bool
				for _, x := range theirs {
					if x.Id.Equal(e.Id) {
						found = true
						if !bytes.Equal(x.Value, e.Value) || x.Critical != e.Critical {
							t.Errorf("extension %v: ours %x critical=%v, crypto/x509 %x critical=%v", e.Id, e.Value, e.Critical, x.Value, x.Critical)
						}
					}
				}
				if !found {
					t.Errorf("crypto/x509 wrote no extension %v", e.Id)
				}
			}
		})
	}
}

func TestRequestRefused(t *testing.T) {
	tests := []struct {
		name string
		req  CertRequest
	}{
		{name: "non_ascii_dns", req: CertRequest{DNSNames: []string{"bücher.example"}}},
		{name: "undefined_key_usage_bit", req: CertRequest{KeyUsage: 1 << 12}},
		{name: "duplicate_extension", req: CertRequest{DNSNames: []string{"a"}, ExtraExtensions: []pkix.Extension{{Id: cmp.OIDExtSubjectAltName, Value: []byte{0x30, 0}}}}},
		{name: "unknown_eku", req: CertRequest{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsage(999)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.req.extensions(); err == nil {
				t.Error("encoded without error")
			}
		})
	}
	if _, err := (&CertRequest{}).template(); err == nil {
		t.Error("template without key accepted")
	}
}

func pkixName(cn string) pkix.Name { return pkix.Name{CommonName: cn} }

// TestTemplatePOP: every template holds public key and subject (the empty
// Name when only subjectAltName entries are requested), so the POP
// signature over certReq without poposkInput is the form RFC 4211 section
// 4.1 allows; cmp.VerifyPOP, which insists on it, accepts each.
func TestTemplatePOP(t *testing.T) {
	tests := []struct {
		name        string
		req         CertRequest
		wantSubject []byte
	}{
		{name: "subject", req: CertRequest{Subject: pkix.Name{CommonName: "a"}}},
		{name: "subjectAltName only", req: CertRequest{DNSNames: []string{"only.example"}}, wantSubject: []byte{0x30, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Key = newKey(t)
			tmpl, err := req.template()
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSubject != nil && !bytes.Equal(tmpl.Subject, tt.wantSubject) {
				t.Errorf("template subject %x, want %x", tmpl.Subject, tt.wantSubject)
			}
			msg := cmp.CertReqMsg{Template: tmpl}
			if err := cmp.SignPOP(&msg, req.Key, cmp.SignatureOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := cmp.VerifyPOP(&msg); err != nil {
				t.Fatalf("VerifyPOP: %v", err)
			}
		})
	}
}

package devca

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// signPOP (re)computes the signature POP of r with key, after its template
// was changed.
func signPOP(t *testing.T, r *cmp.CertReqMsg, key crypto.Signer) {
	t.Helper()
	der, err := r.CertRequestDER()
	if err != nil {
		t.Fatal(err)
	}
	alg, err := cmp.SignatureAlgorithmFor(key.Public(), false)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := cmp.SignatureProtection(key, alg, der)
	if err != nil {
		t.Fatal(err)
	}
	r.POP = &cmp.ProofOfPossession{Type: cmp.POPSignature, Signature: &cmp.POPOSigningKey{Algorithm: alg, Signature: sig}}
}

// TestCraftedTemplates: template fields a requester may not fill in are
// refused with badCertTemplate (RFC 4211 section 5, RFC 9483 4.1.1), with a
// valid POP over the template as sent.
func TestCraftedTemplates(t *testing.T) {
	c := startCA(t, Config{})
	v := func(n int) *int { return &n }
	later := time.Now().Add(24 * time.Hour)
	tests := []struct {
		name    string
		mod     func(tmpl *cmp.CertTemplate)
		refused bool
	}{
		{"plain template", func(*cmp.CertTemplate) {}, false},
		{"version 2 (v3)", func(tmpl *cmp.CertTemplate) { tmpl.Version = v(2) }, false},
		{"version 1 (v2)", func(tmpl *cmp.CertTemplate) { tmpl.Version = v(1) }, true},
		{"version 0 (v1)", func(tmpl *cmp.CertTemplate) { tmpl.Version = v(0) }, true},
		{"serialNumber", func(tmpl *cmp.CertTemplate) { tmpl.SerialNumber = big.NewInt(42) }, true},
		{"signingAlg", func(tmpl *cmp.CertTemplate) {
			tmpl.SigningAlg = &pkix.AlgorithmIdentifier{Algorithm: cmp.OIDECDSAWithSHA256}
		}, true},
		{"issuerUID", func(tmpl *cmp.CertTemplate) { tmpl.IssuerUID = []byte{0x87, 0x02, 0x00, 0x01} }, true},
		{"subjectUID", func(tmpl *cmp.CertTemplate) { tmpl.SubjectUID = []byte{0x88, 0x02, 0x00, 0x01} }, true},
		{"empty validity", func(tmpl *cmp.CertTemplate) { tmpl.Validity = &cmp.OptionalValidity{} }, true},
		{"validity with notAfter", func(tmpl *cmp.CertTemplate) { tmpl.Validity = &cmp.OptionalValidity{NotAfter: &later} }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := newKey(t)
			r := certReq(t, "template", k, k)
			tc.mod(&r.Template)
			signPOP(t, &r, k)
			m := &cmp.Message{Header: header(rawName(t, "template")), Body: cmp.Body{Type: cmp.BodyIR, CertReq: []cmp.CertReqMsg{r}}}
			ans := c.exchange(t, macProtect(t, m, c.ca.Reference(), c.ca.Secret()))
			body, status, fi := outcome(t, ans)
			if body != cmp.BodyIP {
				t.Fatalf("answer %s", body)
			}
			if refused := status == cmp.StatusRejection; refused != tc.refused || refused && !fi.Has(cmp.FailBadCertTemplate) {
				t.Fatalf("answer %v %v, want refused (badCertTemplate): %v", status, fi, tc.refused)
			}
		})
	}
}

// TestCraftedRevocation: an rr is signed by the certificate it revokes
// and names it by issuer and serial number only (RFC 9483 4.2).
func TestCraftedRevocation(t *testing.T) {
	c := startCA(t, Config{})
	cl := c.client(cmpclient.PBMHMACSHA256)
	ctx := context.Background()
	enroll := func(cn string) (*x509.Certificate, crypto.Signer) {
		key := newKey(t)
		e, err := cl.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: cn}, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return e.Certificate, key
	}
	rr := func(t *testing.T, target, signer *x509.Certificate, key crypto.Signer, mod func(d *cmp.RevDetails)) []byte {
		ext, err := cmp.ReasonExtension(cmp.ReasonSuperseded)
		if err != nil {
			t.Fatal(err)
		}
		d := cmp.RevDetails{CertDetails: cmp.CertTemplate{Issuer: target.RawIssuer, SerialNumber: target.SerialNumber}, Extensions: []pkix.Extension{ext}}
		if mod != nil {
			mod(&d)
		}
		m := &cmp.Message{Header: header(signer.RawSubject), Body: cmp.Body{Type: cmp.BodyRR, RevReq: []cmp.RevDetails{d}}}
		return sigProtect(t, m, signer, key)
	}
	tests := []struct {
		name     string
		der      func(t *testing.T) []byte
		failInfo cmp.FailureInfo // 0: accepted
	}{
		{"signed by the certificate itself", func(t *testing.T) []byte {
			cert, key := enroll("same")
			return rr(t, cert, cert, key, nil)
		}, 0},
		{"signed by another certificate of the same subject", func(t *testing.T) []byte {
			target, _ := enroll("same")
			other, key := enroll("same")
			return rr(t, target, other, key, nil)
		}, cmp.FailNotAuthorized},
		{"certDetails with a subject", func(t *testing.T) []byte {
			cert, key := enroll("subject")
			return rr(t, cert, cert, key, func(d *cmp.RevDetails) { d.CertDetails.Subject = cert.RawSubject })
		}, cmp.FailBadRequest},
		{"crlEntryDetails with an unknown critical extension", func(t *testing.T) []byte {
			cert, key := enroll("critical")
			return rr(t, cert, cert, key, func(d *cmp.RevDetails) {
				d.Extensions = append(d.Extensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{0x05, 0x00}})
			})
		}, cmp.FailUnacceptedExtension},
		{"crlEntryDetails with an unknown non-critical extension", func(t *testing.T) []byte {
			cert, key := enroll("noncritical")
			return rr(t, cert, cert, key, func(d *cmp.RevDetails) {
				d.Extensions = append(d.Extensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte{0x05, 0x00}})
			})
		}, 0},
		{"reason removeFromCRL for a live certificate", func(t *testing.T) []byte {
			cert, key := enroll("remove")
			return rr(t, cert, cert, key, func(d *cmp.RevDetails) {
				ext, err := cmp.ReasonExtension(cmp.ReasonRemoveFromCRL)
				if err != nil {
					t.Fatal(err)
				}
				d.Extensions = []pkix.Extension{ext}
			})
		}, cmp.FailBadRequest},
		{"certDetails with a public key", func(t *testing.T) []byte {
			cert, key := enroll("key")
			return rr(t, cert, cert, key, func(d *cmp.RevDetails) { d.CertDetails.PublicKey = cert.RawSubjectPublicKeyInfo })
		}, cmp.FailBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ans := c.exchange(t, tc.der(t))
			body, status, fi := outcome(t, ans)
			if body != cmp.BodyRP {
				t.Fatalf("answer %s %v", body, fi)
			}
			accepted := status == cmp.StatusAccepted
			if accepted != (tc.failInfo == 0) || !fi.Has(tc.failInfo) {
				t.Fatalf("answer %v %v, want failInfo %v", status, fi, tc.failInfo)
			}
		})
	}
}

// TestExpiredSigner: a cr, kur or rr signed by a certificate of this CA
// that has expired is refused with signerNotTrusted (RFC 9483 sections
// 4.1.2, 4.1.3, 4.2: signed with a current certificate).
func TestExpiredSigner(t *testing.T) {
	tests := []struct {
		name string
		do   func(cl *cmpclient.Client, cert *x509.Certificate, key crypto.Signer) error
	}{
		{"cr", func(cl *cmpclient.Client, cert *x509.Certificate, key crypto.Signer) error {
			_, err := cl.Certify(context.Background(), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "old"}, Key: newKey(t)}, cert, key)
			return err
		}},
		{"kur", func(cl *cmpclient.Client, cert *x509.Certificate, key crypto.Signer) error {
			_, err := cl.UpdateKey(context.Background(), &cmpclient.CertRequest{Key: newKey(t)}, cert, key)
			return err
		}},
		{"rr", func(cl *cmpclient.Client, cert *x509.Certificate, key crypto.Signer) error {
			return cl.Revoke(context.Background(), cert, key, cmpclient.ReasonSuperseded)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &movableClock{now: time.Now()}
			// The client's messageTime is real time; the CA's clock moves.
			c := startCA(t, Config{Now: clock.Now, DefaultValidity: time.Hour, MaxTimeSkew: -1})
			cl := c.client(cmpclient.PBMHMACSHA256)
			key := newKey(t)
			e, err := cl.Enroll(context.Background(), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "old"}, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			clock.advance(2 * time.Hour)
			wantCMPError(t, tc.do(cl, e.Certificate, key), cmp.FailSignerNotTrusted)
		})
	}
}

// TestSignerFirstInExtraCerts: the protection certificate of a signed
// request is the first of extraCerts (RFC 9483 section 3.3) and names the
// sender; a request whose first certificate is another one is refused.
func TestSignerFirstInExtraCerts(t *testing.T) {
	c := startCA(t, Config{})
	cl := c.client(cmpclient.PBMHMACSHA256)
	key := newKey(t)
	e, err := cl.Enroll(context.Background(), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "first"}, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := func() (*x509.Certificate, crypto.Signer) {
		k := newKey(t)
		o, err := cl.Enroll(context.Background(), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "other"}, Key: k})
		if err != nil {
			t.Fatal(err)
		}
		return o.Certificate, k
	}()
	tests := []struct {
		name  string
		extra []*x509.Certificate
		ok    bool
	}{
		{"signer alone", []*x509.Certificate{e.Certificate}, true},
		{"signer, then its CA", []*x509.Certificate{e.Certificate, c.ca.CACertificate()}, true},
		{"CA first, then the signer", []*x509.Certificate{c.ca.CACertificate(), e.Certificate}, false},
		{"another certificate first", []*x509.Certificate{other, e.Certificate}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &cmp.Message{Header: header(e.Certificate.RawSubject), Body: cmp.Body{Type: cmp.BodyGenM}}
			// extraCerts exactly as the case lists them, so no chain is
			// given to ProtectSignature, which would put the signer first.
			m.Header.SenderKID = e.Certificate.SubjectKeyId
			for _, x := range tc.extra {
				m.ExtraCerts = append(m.ExtraCerts, x.Raw)
			}
			if err := cmp.ProtectSignature(m, key, nil, cmp.SignatureOptions{}); err != nil {
				t.Fatal(err)
			}
			der, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			body, _, fi := outcome(t, c.exchange(t, der))
			if got := body == cmp.BodyGenP; got != tc.ok {
				t.Fatalf("answer %s %v, want accepted: %v", body, fi, tc.ok)
			}
			if !tc.ok && !fi.Has(cmp.FailSignerNotTrusted) {
				t.Errorf("failInfo %v, want signerNotTrusted", fi)
			}
		})
	}
}

// TestEndEntityKeyUsage: keyUsage bits only a CA certificate may carry are
// refused (RFC 5280 section 4.2.1.3: keyCertSign needs the cA bit, which
// this CA never sets); the usual end-entity bits are granted.
func TestEndEntityKeyUsage(t *testing.T) {
	c := startCA(t, Config{})
	tests := []struct {
		name    string
		ku      x509.KeyUsage
		refused bool
	}{
		{"digitalSignature and keyEncipherment", x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, false},
		{"keyAgreement", x509.KeyUsageKeyAgreement, false},
		{"keyCertSign", x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, true},
		{"cRLSign", x509.KeyUsageCRLSign, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := c.client(0).Enroll(context.Background(), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "ku"}, Key: newKey(t), KeyUsage: tc.ku})
			if tc.refused {
				wantCMPError(t, err, cmp.FailBadCertTemplate)
				return
			}
			if err != nil {
				t.Fatalf("enroll: %v", err)
			}
			if e.Certificate.KeyUsage != tc.ku {
				t.Fatalf("key usage %v, want %v", e.Certificate.KeyUsage, tc.ku)
			}
		})
	}
}

package cmpclient

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestAdoptTrustAnchor: an ir answered under the shared secret adopts the
// caPubs root its certificate chains to (RFC 9810 section 5.3.2), and
// nothing else: not extraCerts, not a root that anchors nothing, not when
// anchors are configured.
func TestAdoptTrustAnchor(t *testing.T) {
	pki := newTestPKI(t)
	other := newTestPKI(t)
	tests := []struct {
		name       string
		configured bool
		mutate     func(n int, req, resp *cmp.Message)
		wantAnchor bool
	}{
		{name: "caPubs_root_adopted", wantAnchor: true},
		{name: "configured_anchors_win", configured: true},
		{name: "no_caPubs_extraCerts_not_adopted", mutate: func(_ int, _, resp *cmp.Message) {
			resp.Body.CertRep.CAPubs = nil
			resp.ExtraCerts = [][]byte{pki.root.Raw} // outside the MAC
		}},
		{name: "caPubs_root_of_another_CA_not_adopted", mutate: func(_ int, _, resp *cmp.Message) {
			resp.Body.CertRep.CAPubs = [][]byte{other.root.Raw}
		}},
		{name: "caPubs_not_a_CA_not_adopted", mutate: func(_ int, _, resp *cmp.Message) {
			resp.Body.CertRep.CAPubs = [][]byte{pki.signer.Raw}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &responder{pki: pki, mutate: func(n int, req, resp *cmp.Message) {
				if tt.mutate != nil && resp.Body.CertRep != nil {
					tt.mutate(n, req, resp)
				}
			}}
			c := startResponder(t, r)
			if !tt.configured {
				c.TrustAnchors = nil
			}
			req := certRequest(t, "adopt")
			enr, err := c.Enroll(testContext(t), req)
			if err != nil {
				t.Fatal(err)
			}
			if got := enr.AdoptedTrustAnchor != nil; got != tt.wantAnchor {
				t.Fatalf("adopted %v, want %v", enr.AdoptedTrustAnchor != nil, tt.wantAnchor)
			}
			if !tt.wantAnchor {
				return
			}
			if !enr.AdoptedTrustAnchor.Equal(pki.root) || len(enr.Chain) == 0 || !enr.Chain[len(enr.Chain)-1].Equal(pki.root) {
				t.Fatalf("adopted %v with chain %d long, want the root at the end of the chain", enr.AdoptedTrustAnchor.Subject, len(enr.Chain))
			}
			// The adopted root verifies the CA's signed answer to a cr.
			c.TrustAnchors = []*x509.Certificate{enr.AdoptedTrustAnchor}
			if _, err := c.Certify(testContext(t), req, enr.Certificate, req.Key); err != nil {
				t.Fatalf("cr with the adopted anchor: %v", err)
			}
		})
	}
}

// TestNoTrustSendsNothing: a request the CA answers with a signature is
// not sent when that signature could not be verified.
func TestNoTrustSendsNothing(t *testing.T) {
	pki := newTestPKI(t)
	r := &responder{pki: pki}
	c := startResponder(t, r)
	req := certRequest(t, "no-trust")
	enr, err := c.Enroll(testContext(t), req)
	if err != nil {
		t.Fatal(err)
	}
	c.TrustAnchors = nil
	before := len(r.requests())
	ops := map[string]func() error{
		"cr": func() error {
			_, err := c.Certify(testContext(t), certRequest(t, "no-trust"), enr.Certificate, req.Key)
			return err
		},
		"kur": func() error {
			_, err := c.UpdateKey(testContext(t), certRequest(t, "no-trust"), enr.Certificate, req.Key)
			return err
		},
		"rr": func() error { return c.Revoke(testContext(t), enr.Certificate, req.Key, ReasonSuperseded) },
	}
	for op, run := range ops {
		if err := run(); !errors.Is(err, ErrNoTrust) || !strings.HasPrefix(err.Error(), "cmp "+op+": ") {
			t.Errorf("%s: %v, want ErrNoTrust", op, err)
		}
	}
	if n := len(r.requests()) - before; n != 0 {
		t.Errorf("%d requests sent without trust anchors", n)
	}
	// An rr protected by the shared secret is answered under it.
	if err := c.Revoke(testContext(t), enr.Certificate, nil, ReasonSuperseded); err != nil {
		t.Errorf("MAC-protected rr: %v", err)
	}
}

// TestUnverifiedAnswers: a signed answer that does not verify to the trust
// anchors is reported as what it claims, never as a fact; a certificate it
// claims to carry is rejected with a certConf (RFC 9483 section 4.1).
func TestUnverifiedAnswers(t *testing.T) {
	pki := newTestPKI(t)
	other := newTestPKI(t)
	r := &responder{pki: pki}
	c := startResponder(t, r)
	req := certRequest(t, "unverified")
	enr, err := c.Enroll(testContext(t), req)
	if err != nil {
		t.Fatal(err)
	}
	c.TrustAnchors = []*x509.Certificate{other.root}

	t.Run("cr", func(t *testing.T) {
		before := len(r.requests())
		got, err := c.Certify(testContext(t), &CertRequest{Subject: pkix.Name{CommonName: "unverified"},
			DNSNames: []string{"unverified.example", "new.example"}, Key: req.Key}, enr.Certificate, req.Key)
		var u *UnverifiedResponseError
		if got != nil || !errors.As(err, &u) || !errors.Is(err, ErrUntrustedSigner) {
			t.Fatalf("Certify: %v, %v; want *UnverifiedResponseError wrapping ErrUntrustedSigner", got, err)
		}
		if u.Certificate == nil || u.Serial.Cmp(u.Certificate.SerialNumber) != 0 || !u.Rejected || u.Body != "cp" {
			t.Fatalf("error fields %+v", u)
		}
		msg := err.Error()
		for _, want := range []string{"unverified answer", "the cp claims accepted", "serial " + u.Serial.String(),
			"rejected with a certConf"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
		}
		reqs := r.requests()[before:]
		if len(reqs) != 2 || reqs[1].Body.Type != cmp.BodyCertConf {
			t.Fatalf("requests %d, want cr and certConf", len(reqs))
		}
		cs := reqs[1].Body.CertConf
		if len(cs) != 1 || cs[0].StatusInfo == nil || cs[0].StatusInfo.Status != cmp.StatusRejection ||
			!cs[0].StatusInfo.FailInfo.Has(cmp.FailSignerNotTrusted) {
			t.Errorf("certConf %+v, want a rejection with signerNotTrusted", cs)
		}
	})
	t.Run("rr", func(t *testing.T) {
		err := c.Revoke(testContext(t), enr.Certificate, req.Key, ReasonSuperseded)
		var u *UnverifiedResponseError
		if !errors.As(err, &u) || u.Body != "rp" || u.Status.Status != cmp.StatusAccepted ||
			u.Serial.Cmp(enr.Certificate.SerialNumber) != 0 || u.Certificate != nil {
			t.Fatalf("Revoke: %v, want *UnverifiedResponseError for the rp", err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "the rp claims accepted for serial "+enr.Certificate.SerialNumber.String()) ||
			!strings.Contains(msg, "whether the certificate is revoked is not known") || strings.Contains(msg, "not revoked") {
			t.Errorf("error %q: want the claim and that the outcome is unknown", msg)
		}
	})
}

// TestTrustedAmong: CA certificates from an answer are checked against
// TrustAnchors, each with the others as intermediates.
func TestTrustedAmong(t *testing.T) {
	pki := newTestPKI(t)
	other := newTestPKI(t)
	tests := []struct {
		name    string
		anchors []*x509.Certificate
		certs   []*x509.Certificate
		want    int
	}{
		{name: "the anchor itself", anchors: []*x509.Certificate{pki.root}, certs: []*x509.Certificate{pki.root}, want: 1},
		{name: "issued under the anchor", anchors: []*x509.Certificate{pki.root}, certs: []*x509.Certificate{pki.signer, pki.root}, want: 2},
		{name: "another CA's anchor", anchors: []*x509.Certificate{other.root}, certs: []*x509.Certificate{pki.signer, pki.root}},
		{name: "no anchors", certs: []*x509.Certificate{pki.root}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{TrustAnchors: tt.anchors}
			if got := c.TrustedAmong(tt.certs); len(got) != tt.want {
				t.Errorf("%d trusted, want %d", len(got), tt.want)
			}
		})
	}
}

package cmpclient

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestUnprotectedSupportMessages: a Client without Credentials sends a genm
// unprotected only when UnprotectedSupportMessages is set and it can verify
// the answer (RFC 9810 5.1.3.4, RFC 9483 3.5); a signed genp verifies as
// any signed answer, and an unprotected genp is accepted only where its
// content chains to TrustAnchors.
func TestUnprotectedSupportMessages(t *testing.T) {
	pki := newTestPKI(t)
	stranger := newTestPKI(t)
	caCerts := func(certs ...*x509.Certificate) func([]cmp.InfoTypeAndValue) []cmp.InfoTypeAndValue {
		return func(req []cmp.InfoTypeAndValue) []cmp.InfoTypeAndValue {
			if !req[0].Type.Equal(cmp.OIDCACerts) {
				return req // echo: rootCaCert and certReqTemplate without a value
			}
			ders := make([][]byte, len(certs))
			for i, c := range certs {
				ders[i] = c.Raw
			}
			v, err := cmp.CACertsValue(ders)
			if err != nil {
				t.Error(err)
			}
			return []cmp.InfoTypeAndValue{{Type: cmp.OIDCACerts, Value: v}}
		}
	}
	noUpdate := func([]cmp.InfoTypeAndValue) []cmp.InfoTypeAndValue {
		return []cmp.InfoTypeAndValue{{Type: cmp.OIDRootCAKeyUpdate}} // RFC 9483 4.3.2: no update
	}
	unprotectedAnswer := func(*cmp.Message) error { return nil }
	signedByStranger := func(m *cmp.Message) error {
		return signProtect(m, stranger.signerKey, []*x509.Certificate{stranger.signer})
	}
	cacerts := func(c *Client) error { _, err := c.CACerts(testContext(t)); return err }
	for _, tc := range []struct {
		name     string
		genp     func([]cmp.InfoTypeAndValue) []cmp.InfoTypeAndValue
		protect  func(*cmp.Message) error
		client   func(c *Client)
		call     func(c *Client) error
		wantSent int
		wantIs   error  // nil: success
		wantText string // in the error
	}{
		{name: "no credentials and the option unset: nothing is sent",
			client: func(c *Client) { c.UnprotectedSupportMessages = false }, call: cacerts,
			wantText: "UnprotectedSupportMessages"},
		{name: "no trust anchors: nothing is sent",
			client: func(c *Client) { c.TrustAnchors = nil }, call: cacerts, wantIs: ErrNoTrust},
		{name: "signed answer verified", genp: caCerts(pki.root), call: cacerts, wantSent: 1},
		{name: "signed answer pinned", genp: caCerts(pki.root),
			client: func(c *Client) { c.TrustAnchors, c.ServerCertificate = nil, pki.signer }, call: cacerts, wantSent: 1},
		{name: "signed by an untrusted signer", genp: caCerts(pki.root), protect: signedByStranger,
			call: cacerts, wantSent: 1, wantIs: ErrUntrustedSigner},
		{name: "unprotected answer whose certificates chain to the anchors",
			genp: caCerts(pki.signer, pki.root), protect: unprotectedAnswer, call: cacerts, wantSent: 1},
		{name: "unprotected answer with a certificate of another CA",
			genp: caCerts(pki.root, stranger.root), protect: unprotectedAnswer, call: cacerts,
			wantSent: 1, wantIs: ErrUnprotected, wantText: `"CN=Scaffold Root" does not chain to TrustAnchors`},
		{name: "unprotected answer without certificates",
			genp: caCerts(), protect: unprotectedAnswer, call: cacerts,
			wantSent: 1, wantIs: ErrUnprotected, wantText: "lists no certificate"},
		{name: "unprotected answer with only a pinned signer",
			genp: caCerts(pki.root), protect: unprotectedAnswer,
			client: func(c *Client) { c.TrustAnchors, c.ServerCertificate = nil, pki.signer }, call: cacerts,
			wantSent: 1, wantIs: ErrUnprotected, wantText: "no TrustAnchors"},
		{name: "unprotected root CA update checked against a trusted old root",
			genp: noUpdate, protect: unprotectedAnswer,
			call: func(c *Client) error { _, err := c.RootCAUpdate(testContext(t), pki.root); return err }, wantSent: 1},
		{name: "unprotected root CA update without an old root",
			genp: noUpdate, protect: unprotectedAnswer,
			call:     func(c *Client) error { _, err := c.RootCAUpdate(testContext(t), nil); return err },
			wantSent: 1, wantIs: ErrUnprotected, wantText: "no old root"},
		{name: "unprotected root CA update with an untrusted old root",
			genp: noUpdate, protect: unprotectedAnswer,
			call:     func(c *Client) error { _, err := c.RootCAUpdate(testContext(t), stranger.root); return err },
			wantSent: 1, wantIs: ErrUnprotected, wantText: "does not chain"},
		{name: "unprotected request template",
			protect:  unprotectedAnswer,
			call:     func(c *Client) error { _, err := c.CertReqTemplate(testContext(t)); return err },
			wantSent: 1, wantIs: ErrUnprotected, wantText: "request template"},
		{name: "unprotected answer to a raw general message",
			protect: unprotectedAnswer,
			call: func(c *Client) error {
				_, err := c.GeneralMessage(testContext(t), []InfoTypeAndValue{{Type: cmp.OIDSignKeyPairTypes}})
				return err
			},
			wantSent: 1, wantIs: ErrUnprotected, wantText: "its items cannot be checked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &responder{pki: pki, genp: tc.genp, protect: tc.protect}
			c := startResponder(t, r)
			c.Credentials, c.UnprotectedSupportMessages = nil, true
			if tc.client != nil {
				tc.client(c)
			}
			err := tc.call(c)
			switch {
			case tc.wantIs == nil && tc.wantText == "" && err != nil:
				t.Fatalf("got %v, want success", err)
			case tc.wantIs != nil && !errors.Is(err, tc.wantIs):
				t.Fatalf("got %v, want an error wrapping %v", err, tc.wantIs)
			case tc.wantText != "" && (err == nil || !strings.Contains(err.Error(), tc.wantText)):
				t.Fatalf("got %v, want an error containing %q", err, tc.wantText)
			}
			reqs := r.requests()
			if len(reqs) != tc.wantSent {
				t.Fatalf("%d requests sent, want %d", len(reqs), tc.wantSent)
			}
			for _, req := range reqs {
				if req.Header.ProtectionAlg != nil || req.Protection != nil || len(req.ExtraCerts) > 0 || !req.Header.Sender.IsNullDN() {
					t.Errorf("genm sent with protection %v, %d extraCerts, sender %q; want unprotected from NULL-DN",
						req.Header.ProtectionAlg, len(req.ExtraCerts), req.Header.Sender.String())
				}
			}
		})
	}

	// With Credentials the option changes nothing: the genm is protected.
	r := &responder{pki: pki}
	c := startResponder(t, r)
	c.UnprotectedSupportMessages = true
	if _, err := c.CACerts(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if reqs := r.requests(); len(reqs) != 1 || !cmp.IsMACProtected(reqs[0].Header.ProtectionAlg) {
		t.Errorf("with Credentials the genm must be MAC-protected")
	}
}

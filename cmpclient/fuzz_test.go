package cmpclient

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// FuzzCheckResponse feeds arbitrary bytes through everything the client
// does with a response before it acts on it: parse, header and protection
// checks, and for a certificate response the CertResponse, certificate and
// chain checks. It must never panic, and whatever it accepts must belong
// to the request.
//
// Seeds: every golden OpenSSL message, and a valid signed answer of the
// scaffolding responder (so the fuzzer starts from a message that passes).
func FuzzCheckResponse(f *testing.F) {
	pki := newTestPKI(f)
	key := newKey(f)
	// Signature credentials: a MAC-protected input is refused before any
	// key derivation, which would otherwise let the fuzzer spend its time
	// on iteration counts (the MAC parameters have their own fuzz targets
	// in internal/cmp); signed inputs exercise signer and chain checks.
	devKey := newKey(f)
	dev := issue(f, &x509.Certificate{Subject: pkixName("device"), KeyUsage: x509.KeyUsageDigitalSignature}, devKey.Public(), pki.root, pki.rootKey)
	c := &Client{URL: "http://127.0.0.1:1/", TrustAnchors: []*x509.Certificate{pki.root},
		Credentials: SignatureCredentials{Key: devKey, Chain: []*x509.Certificate{dev}}}
	tx, err := c.newTransaction("ir", c.Credentials, nil)
	if err != nil {
		f.Fatal(err)
	}
	creq := &CertRequest{Subject: pkixName("fuzz"), DNSNames: []string{"fuzz.example"}, Key: key}
	tmpl, err := creq.template()
	if err != nil {
		f.Fatal(err)
	}
	msg := cmp.CertReqMsg{Template: tmpl}
	if err := cmp.SignPOP(&msg, key, cmp.SignatureOptions{}); err != nil {
		f.Fatal(err)
	}
	req, err := tx.buildRequest(request{body: cmp.Body{Type: cmp.BodyIR, CertReq: []cmp.CertReqMsg{msg}}})
	if err != nil {
		f.Fatal(err)
	}
	want := wantCert{spki: tmpl.PublicKey, subject: tmpl.Subject, hasSubject: true, dnsNames: creq.DNSNames}

	// A valid ip for req.
	r := &responder{pki: pki}
	resp, err := r.answer(req)
	if err != nil {
		f.Fatal(err)
	}
	if err := signProtect(resp, pki.signerKey, []*x509.Certificate{pki.signer, pki.root}); err != nil {
		f.Fatal(err)
	}
	valid, err := resp.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	if _, err := tx.checkResponse(req, valid, 200, []cmp.BodyType{cmp.BodyIP}); err != nil {
		f.Fatalf("the valid seed does not pass: %v", err)
	}
	f.Add(valid)
	golden, _ := filepath.Glob(filepath.Join(goldenDir, "golden", "*.der"))
	for _, g := range golden {
		if data, err := os.ReadFile(g); err == nil {
			f.Add(data)
		}
	}

	expect := []cmp.BodyType{cmp.BodyIP, cmp.BodyPollRep}
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := tx.checkResponse(req, data, 200, expect)
		if err != nil {
			return
		}
		if !bytes.Equal(resp.Header.TransactionID, req.Header.TransactionID) || !bytes.Equal(resp.Header.RecipNonce, req.Header.SenderNonce) {
			t.Fatal("accepted a response of another transaction")
		}
		if resp.Body.Type != cmp.BodyIP && resp.Body.Type != cmp.BodyPollRep {
			t.Fatalf("accepted body %s", resp.Body.Type)
		}
		if resp.Body.Type != cmp.BodyIP {
			return
		}
		cr, err := tx.certResponse(resp, false)
		if err != nil || cr.Certificate == nil {
			return
		}
		enr, err := tx.enrollment(resp, cr)
		if err != nil {
			return
		}
		if c.checkIssued(enr, want, true) == "" && !bytes.Equal(enr.Certificate.RawSubjectPublicKeyInfo, want.spki) {
			t.Fatal("accepted a certificate for another key")
		}
	})
}

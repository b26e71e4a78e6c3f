package cmpclient

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// goldenDir holds request/response pairs that OpenSSL 3.0 (client and
// mock server) put on the wire; see internal/cmp/testdata/README.md.
const goldenDir = "../internal/cmp/testdata"

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenDir, "golden", name))
	if err != nil {
		t.Skipf("SKIPPED: golden OpenSSL message %s not available: %v", name, err)
	}
	return data
}

func readGoldenCert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenDir, "creds", name))
	if err != nil {
		t.Skipf("SKIPPED: golden credential %s not available: %v", name, err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM", name)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestOpenSSLGoldenResponses checks each response OpenSSL's mock sent
// against the request OpenSSL's client sent, with the same code that
// checks live responses: nonces, transactionID, MAC and signature
// protection, body types, and for certificates the checks done before
// confirming, plus our certHash against the one OpenSSL put in certConf.
func TestOpenSSLGoldenResponses(t *testing.T) {
	root := readGoldenCert(t, "root.crt")
	pbm := MACCredentials{Reference: "1234", Secret: []byte("test")}
	tests := []struct {
		name       string
		req, resp  string
		expect     []cmp.BodyType
		signed     bool   // client used signature protection (responses are signed)
		certConf   string // OpenSSL's certConf for the issued certificate, if any
		wantStatus cmp.PKIStatus
		wantErr    error // for error bodies: *Error
		implicit   bool
	}{
		{name: "ip_pbm_sha1", req: "ir_pbm_sha1.der", resp: "ip_pbm_sha1.der", expect: []cmp.BodyType{cmp.BodyIP}, certConf: "certConf_pbm_sha1.der"},
		{name: "ip_pbm_sha256", req: "ir_pbm_sha256.der", resp: "ip_pbm_sha256.der", expect: []cmp.BodyType{cmp.BodyIP}, certConf: "certConf_pbm_sha256.der"},
		{name: "ip_signed", req: "ir_sig_rsa.der", resp: "ip_sig_rsa.der", expect: []cmp.BodyType{cmp.BodyIP}, signed: true, certConf: "certConf_sig_rsa.der"},
		{name: "ip_ed25519_pop", req: "ir_pop_ed25519.der", resp: "ip_ed25519.der", expect: []cmp.BodyType{cmp.BodyIP}, certConf: "certConf_ed25519.der"},
		{name: "cp", req: "cr.der", resp: "cp.der", expect: []cmp.BodyType{cmp.BodyCP}, signed: true, certConf: "certConf_cr.der"},
		{name: "kup", req: "kur.der", resp: "kup.der", expect: []cmp.BodyType{cmp.BodyKUP}, signed: true, certConf: "certConf_kur.der"},
		{name: "cp_p10cr", req: "p10cr.der", resp: "cp_p10cr.der", expect: []cmp.BodyType{cmp.BodyCP}, certConf: "certConf_p10cr.der"},
		{name: "pkiConf_pbm", req: "certConf_pbm_sha1.der", resp: "pkiConf_pbm_sha1.der", expect: []cmp.BodyType{cmp.BodyPKIConf}},
		{name: "pkiConf_signed", req: "certConf_sig_rsa.der", resp: "pkiConf_sig_rsa.der", expect: []cmp.BodyType{cmp.BodyPKIConf}, signed: true},
		{name: "rp_pbm", req: "rr_pbm.der", resp: "rp_pbm.der", expect: []cmp.BodyType{cmp.BodyRP}},
		{name: "rp_signed", req: "rr_sig.der", resp: "rp_sig.der", expect: []cmp.BodyType{cmp.BodyRP}, signed: true},
		{name: "genp", req: "genm_caCerts.der", resp: "genp_caCerts.der", expect: []cmp.BodyType{cmp.BodyGenP}},
		{name: "ip_waiting", req: "ir_poll.der", resp: "ip_waiting.der", expect: []cmp.BodyType{cmp.BodyIP}, wantStatus: cmp.StatusWaiting},
		{name: "pollRep", req: "pollReq_1.der", resp: "pollRep_1.der", expect: []cmp.BodyType{cmp.BodyPollRep, cmp.BodyIP}},
		{name: "ip_after_poll", req: "pollReq_2.der", resp: "ip_after_poll.der", expect: []cmp.BodyType{cmp.BodyPollRep, cmp.BodyIP}, certConf: "certConf_poll.der"},
		{name: "ip_implicit_confirm", req: "ir_implicit.der", resp: "ip_implicit.der", expect: []cmp.BodyType{cmp.BodyIP}, implicit: true},
		{name: "ip_rejection", req: "ir_rejected.der", resp: "ip_rejection.der", expect: []cmp.BodyType{cmp.BodyIP}, wantStatus: cmp.StatusRejection},
		{name: "error", req: "ir_error.der", resp: "error.der", expect: []cmp.BodyType{cmp.BodyIP}, wantErr: &Error{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := cmp.Parse(readGolden(t, tt.req))
			if err != nil {
				t.Fatal(err)
			}
			c := &Client{TrustAnchors: []*x509.Certificate{root}}
			var cred Credentials = pbm
			if tt.signed {
				cred = SignatureCredentials{}
			}
			tx := &transaction{c: c, op: "golden", id: req.Header.TransactionID, cred: cred}
			resp, err := tx.checkResponse(req, readGolden(t, tt.resp), 200, tt.expect)
			if tt.wantErr != nil {
				var e *Error
				if !errors.As(err, &e) || e.Body != "error" {
					t.Fatalf("got %v, want a CMP error *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Header.ImplicitConfirm() != tt.implicit {
				t.Errorf("implicitConfirm %v, want %v", resp.Header.ImplicitConfirm(), tt.implicit)
			}
			if resp.Body.CertRep == nil {
				return
			}
			cr, err := tx.certResponse(resp, req.Body.Type == cmp.BodyP10CR)
			if err != nil {
				t.Fatal(err)
			}
			if cr.Status.Status != tt.wantStatus {
				t.Fatalf("status %v, want %v", cr.Status, tt.wantStatus)
			}
			if cr.Certificate == nil {
				return
			}
			enr, err := tx.enrollment(resp, cr)
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := goldenWant(t, req); ok {
				if reason := c.checkIssued(enr, want, cmp.IsMACProtected(resp.Header.ProtectionAlg)); reason != "" {
					t.Errorf("issued certificate refused: %s", reason)
				}
			}
			if tt.certConf != "" {
				conf, err := cmp.Parse(readGolden(t, tt.certConf))
				if err != nil {
					t.Fatal(err)
				}
				ours, err := cmp.CertHash(enr.Certificate)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(ours, conf.Body.CertConf[0].CertHash) {
					t.Errorf("certHash %x, OpenSSL sent %x", ours, conf.Body.CertConf[0].CertHash)
				}
			}
		})
	}
}

// goldenWant derives the certificate checks from a golden request.
func goldenWant(t *testing.T, req *cmp.Message) (wantCert, bool) {
	switch {
	case len(req.Body.CertReq) == 1:
		tmpl := req.Body.CertReq[0].Template
		return wantCert{spki: tmpl.PublicKey, subject: tmpl.Subject, hasSubject: tmpl.Subject != nil}, true
	case req.Body.P10CR != nil:
		csr, err := x509.ParseCertificateRequest(req.Body.P10CR)
		if err != nil {
			t.Fatal(err)
		}
		return wantCert{spki: csr.RawSubjectPublicKeyInfo, subject: csr.RawSubject, hasSubject: true, p10: true}, true
	}
	return wantCert{}, false
}

// TestOpenSSLGoldenRefused checks that golden responses fail the checks
// when paired with the wrong request or credentials.
func TestOpenSSLGoldenRefused(t *testing.T) {
	root := readGoldenCert(t, "root.crt")
	tests := []struct {
		name      string
		req, resp string
		cred      Credentials
		anchors   bool
		wantIs    error
	}{
		{name: "other_transaction", req: "ir_pbm_sha256.der", resp: "ip_pbm_sha1.der", cred: MACCredentials{Secret: []byte("test")}, wantIs: ErrTransactionID},
		{name: "wrong_secret", req: "ir_pbm_sha1.der", resp: "ip_pbm_sha1.der", cred: MACCredentials{Secret: []byte("tesT")}, wantIs: ErrProtection},
		{name: "signed_without_anchors", req: "ir_sig_rsa.der", resp: "ip_sig_rsa.der", cred: SignatureCredentials{}, wantIs: ErrUntrustedSigner},
		{name: "mac_when_signing", req: "ir_pbm_sha1.der", resp: "ip_pbm_sha1.der", cred: SignatureCredentials{}, anchors: true, wantIs: ErrProtection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := cmp.Parse(readGolden(t, tt.req))
			if err != nil {
				t.Fatal(err)
			}
			c := &Client{}
			if tt.anchors {
				c.TrustAnchors = []*x509.Certificate{root}
			}
			tx := &transaction{c: c, op: "golden", id: req.Header.TransactionID, cred: tt.cred}
			if _, err := tx.checkResponse(req, readGolden(t, tt.resp), 200, []cmp.BodyType{cmp.BodyIP}); !errors.Is(err, tt.wantIs) {
				t.Fatalf("got %v, want %v", err, tt.wantIs)
			}
		})
	}
}

// TestInstaVectors runs responses made by Insta Certifier
// (internal/cmp/testdata/vectors, from OpenSSL's test data) through the
// response checks. The
// requests they answer are not available, so the request is reconstructed
// from what the response echoes (transactionID, recipNonce).
func TestInstaVectors(t *testing.T) {
	dir := filepath.Join("..", "internal", "cmp", "testdata", "vectors")
	tests := []struct {
		file, secret string
		wantStatus   cmp.PKIStatus
		wantIs       error
	}{
		{file: "IP_PBM.der", secret: "insta", wantStatus: cmp.StatusAccepted},
		{file: "IP_PBM.der", secret: "not-insta", wantIs: ErrProtection},
		{file: "IP_waitingStatus_PBM.der", secret: "9pp8-b35i-Xd3Q-udNR", wantStatus: cmp.StatusWaiting},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.secret, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			echo, err := cmp.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			req := &cmp.Message{Header: cmp.Header{TransactionID: echo.Header.TransactionID, SenderNonce: echo.Header.RecipNonce},
				Body: cmp.Body{Type: cmp.BodyIR}}
			tx := &transaction{c: &Client{}, op: "ir", id: req.Header.TransactionID, cred: MACCredentials{Secret: []byte(tt.secret)}}
			resp, err := tx.checkResponse(req, raw, 200, []cmp.BodyType{cmp.BodyIP})
			if tt.wantIs != nil {
				if !errors.Is(err, tt.wantIs) {
					t.Fatalf("got %v, want %v", err, tt.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cr, err := tx.certResponse(resp, false)
			if err != nil {
				t.Fatal(err)
			}
			if cr.Status.Status != tt.wantStatus {
				t.Errorf("status %v, want %v", cr.Status.Status, tt.wantStatus)
			}
			if tt.wantStatus == cmp.StatusAccepted {
				if _, err := tx.enrollment(resp, cr); err != nil {
					t.Errorf("enrollment: %v", err)
				}
			}
		})
	}
}

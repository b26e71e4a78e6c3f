package cmpclient

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// logRecorder collects the Log calls of a Client.
type logRecorder struct {
	mu   sync.Mutex
	msgs []MessageLog
}

func (r *logRecorder) log(m MessageLog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
}

// types lists "send ir", "receive ip", ... in order.
func (r *logRecorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		out = append(out, m.Direction+" "+m.Type)
	}
	return out
}

func (r *logRecorder) count(direction, typ string) int {
	n := 0
	for _, s := range r.types() {
		if s == direction+" "+typ {
			n++
		}
	}
	return n
}

// TestInteropOpenSSLMock runs the client against OpenSSL 3.0's mock CMP server
// (`openssl cmp -port 0`) in a private network namespace: every operation,
// and every fault the mock can inject.
func TestInteropOpenSSLMock(t *testing.T) {
	if !opensslpeer.InNetNS(t) {
		return
	}
	creds := opensslpeer.NewCreds(t)
	pbm := func(alg MACAlgorithm) MACCredentials {
		return MACCredentials{Reference: opensslpeer.MockReference, Secret: []byte(opensslpeer.MockSecret), Algorithm: alg}
	}
	client1Req := func() *CertRequest {
		return &CertRequest{Subject: creds.Client1.Cert.Subject, Key: creds.Client1.Key}
	}
	anchors := []*x509.Certificate{creds.Root.Cert}
	// client1CSR is a CSR for the key of the mock's -rsp_cert.
	client1CSR := func(t *testing.T) []byte {
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: creds.Client1.Cert.Subject}, creds.Client1.Key)
		if err != nil {
			t.Fatal(err)
		}
		return csr
	}
	// Certificates for new keys of other types, for the mock to return.
	rsaCred := creds.Issue(t, "rsa", pkix.Name{CommonName: "rsa key"}, rsaKey(t))
	edCred := creds.Issue(t, "ed25519", pkix.Name{CommonName: "ed25519 key"}, ed25519Key(t))

	// enrollOK checks a successful enrollment of the mock's -rsp_cert.
	enrollOK := func(t *testing.T, enr *Enrollment, err error, want *x509.Certificate, op string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if !bytes.Equal(enr.Certificate.Raw, want.Raw) {
			t.Fatalf("%s: got certificate %q serial %x, want the mock's -rsp_cert", op, enr.Certificate.Subject, enr.Certificate.SerialNumber)
		}
		if enr.Operation != op || len(enr.TransactionID) != 16 {
			t.Errorf("Operation %q, transactionID %x", enr.Operation, enr.TransactionID)
		}
		if len(enr.Chain) == 0 || !bytes.Equal(enr.Chain[len(enr.Chain)-1].Raw, creds.Root.Cert.Raw) {
			t.Errorf("chain %v does not end at the root", enr.Chain)
		}
	}

	tests := []struct {
		name     string
		mockOpts []opensslpeer.MockOption
		client   func(c *Client)
		run      func(t *testing.T, c *Client, rec *logRecorder)
	}{
		{
			name:   "ir_pbm_hmac_sha1",
			client: func(c *Client) { c.Credentials = pbm(PBMHMACSHA1) },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), client1Req())
				enrollOK(t, enr, err, creds.Client1.Cert, "ir")
				if len(enr.CACerts) != 1 || !enr.CACerts[0].Equal(creds.Root.Cert) {
					t.Errorf("caPubs %v, want the root", enr.CACerts)
				}
				want := []string{"send ir", "receive ip", "send certConf", "receive pkiconf"}
				if got := rec.types(); strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("messages %v, want %v", got, want)
				}
			},
		},
		{
			name:   "ir_pbm_hmac_sha256",
			client: func(c *Client) { c.Credentials = pbm(PBMHMACSHA256); c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), client1Req())
				enrollOK(t, enr, err, creds.Client1.Cert, "ir")
			},
		},
		{
			name: "ir_signed_by_external_certificate",
			client: func(c *Client) {
				c.Credentials = SignatureCredentials{Key: creds.Device.Key, Chain: []*x509.Certificate{creds.Device.Cert}}
				c.TrustAnchors = anchors
			},
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), client1Req())
				enrollOK(t, enr, err, creds.Client1.Cert, "ir")
				if rec.count("send", "certConf") != 1 {
					t.Errorf("messages %v: want one certConf", rec.types())
				}
			},
		},
		{
			name:   "ir_signed_rsa_pkcs1",
			client: func(c *Client) { c.Credentials = foreignSigner(t, creds, rsaKey(t), false); c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), client1Req())
				enrollOK(t, enr, err, creds.Client1.Cert, "ir")
			},
		},
		{
			name:   "ir_signed_rsa_pss",
			client: func(c *Client) { c.Credentials = foreignSigner(t, creds, rsaKey(t), true); c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), client1Req())
				enrollOK(t, enr, err, creds.Client1.Cert, "ir")
			},
		},
		{
			name: "ir_signed_ed25519",
			client: func(c *Client) {
				c.Credentials = foreignSigner(t, creds, ed25519Key(t), false)
				c.TrustAnchors = anchors
			},
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), client1Req())
				enrollOK(t, enr, err, creds.Client1.Cert, "ir")
			},
		},
		{
			name:     "ir_new_rsa_key",
			mockOpts: []opensslpeer.MockOption{opensslpeer.RspCert(rsaCred)},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA256); c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), &CertRequest{Subject: rsaCred.Cert.Subject, Key: rsaCred.Key})
				enrollOK(t, enr, err, rsaCred.Cert, "ir")
			},
		},
		{
			name:     "ir_new_ed25519_key",
			mockOpts: []opensslpeer.MockOption{opensslpeer.RspCert(edCred)},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA256); c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), &CertRequest{Subject: edCred.Cert.Subject, Key: edCred.Key})
				enrollOK(t, enr, err, edCred.Cert, "ir")
			},
		},
		{
			name: "ir_signed_response_with_pinned_server_certificate",
			client: func(c *Client) {
				c.Credentials = SignatureCredentials{Key: creds.Device.Key, Chain: []*x509.Certificate{creds.Device.Cert}}
				c.ServerCertificate = creds.Server.Cert
			},
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), client1Req())
				if err != nil {
					t.Fatal(err)
				}
				if !enr.Certificate.Equal(creds.Client1.Cert) {
					t.Errorf("wrong certificate")
				}
			},
		},
		{
			name: "signed_response_without_trust_anchors",
			client: func(c *Client) {
				c.Credentials = SignatureCredentials{Key: creds.Device.Key, Chain: []*x509.Certificate{creds.Device.Cert}}
			},
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				// RFC 9483 3.5: the signed answer could not be verified,
				// so the request is not sent at all.
				_, err := c.Enroll(testContext(t), client1Req())
				if !errors.Is(err, ErrNoTrust) || !strings.Contains(err.Error(), "no TrustAnchors") {
					t.Fatalf("got %v, want ErrNoTrust naming the missing trust anchors", err)
				}
				if sent := rec.types(); len(sent) != 0 {
					t.Errorf("messages exchanged without trust anchors: %v", sent)
				}
			},
		},
		{
			name: "signed_response_wrong_trust_anchors",
			client: func(c *Client) {
				c.Credentials = SignatureCredentials{Key: creds.Device.Key, Chain: []*x509.Certificate{creds.Device.Cert}}
				c.TrustAnchors = []*x509.Certificate{creds.Device.Cert}
			},
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				// The ip claims a certificate its signature cannot prove:
				// it is rejected with a certConf, and the error names it.
				enr, err := c.Enroll(testContext(t), client1Req())
				var u *UnverifiedResponseError
				if enr != nil || !errors.As(err, &u) || !errors.Is(err, ErrUntrustedSigner) {
					t.Fatalf("got %v, %v; want an *UnverifiedResponseError wrapping ErrUntrustedSigner", enr, err)
				}
				if u.Certificate == nil || !u.Certificate.Equal(creds.Client1.Cert) || !u.Rejected ||
					!strings.Contains(err.Error(), "serial "+creds.Client1.Cert.SerialNumber.String()) {
					t.Errorf("error %q: want the claimed certificate rejected and its serial named", err)
				}
				if got := rec.types(); !slices.Equal(got, []string{"send ir", "receive ip", "send certConf", "receive pkiconf"}) {
					t.Errorf("messages %v, want the certConf rejection after the ip", got)
				}
			},
		},
		{
			name:   "cr_signed_with_current_certificate",
			client: func(c *Client) { c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Certify(testContext(t), client1Req(), creds.Client1.Cert, creds.Client1.Key)
				enrollOK(t, enr, err, creds.Client1.Cert, "cr")
			},
		},
		{
			// OpenSSL 3.0's mock accepts kur only for oldCertID = its
			// -rsp_cert, so enroll that certificate first, then update it.
			name:     "kur_signed_after_ir",
			mockOpts: []opensslpeer.MockOption{opensslpeer.RspCert(creds.Client2)},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA256); c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				ir, err := c.Enroll(testContext(t), &CertRequest{Subject: creds.Client2.Cert.Subject, Key: creds.Client2.Key})
				enrollOK(t, ir, err, creds.Client2.Cert, "ir")
				kur, err := c.UpdateKey(testContext(t), &CertRequest{Key: creds.Client2.Key}, ir.Certificate, creds.Client2.Key)
				enrollOK(t, kur, err, creds.Client2.Cert, "kur")
			},
		},
		{
			name:     "kur_wrong_old_certificate",
			mockOpts: []opensslpeer.MockOption{opensslpeer.SignatureOnly(), opensslpeer.RspCert(creds.Client2)},
			client:   func(c *Client) { c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				_, err := c.UpdateKey(testContext(t), &CertRequest{Key: creds.Client2.Key}, creds.Client1.Cert, creds.Client1.Key)
				var e *Error
				if !errors.As(err, &e) || !e.FailInfo.Has(FailBadRequest) || !strings.Contains(err.Error(), "wrong certid") {
					t.Fatalf("got %v, want a badRequest *Error about the certid", err)
				}
			},
		},
		{
			name:   "p10cr_pbm",
			client: func(c *Client) { c.Credentials = pbm(PBMHMACSHA256) },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.EnrollCSR(testContext(t), client1CSR(t))
				enrollOK(t, enr, err, creds.Client1.Cert, "p10cr")
			},
		},
		{
			// RFC 9483 4.1.4: a p10cr signed with an externally issued
			// certificate, answered with a signature (signature-only mock),
			// and its certConf as for an ir.
			name:     "p10cr_signed_by_external_certificate",
			mockOpts: []opensslpeer.MockOption{opensslpeer.SignatureOnly()},
			client: func(c *Client) {
				c.Credentials = SignatureCredentials{Key: creds.Device.Key, Chain: []*x509.Certificate{creds.Device.Cert}}
				c.TrustAnchors = anchors
			},
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.EnrollCSR(testContext(t), client1CSR(t))
				enrollOK(t, enr, err, creds.Client1.Cert, "p10cr")
				if got := rec.types(); !slices.Equal(got, []string{"send p10cr", "receive cp", "send certConf", "receive pkiconf"}) {
					t.Errorf("messages %v", got)
				}
			},
		},
		{
			name:   "rr_signed",
			client: func(c *Client) { c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				if err := c.Revoke(testContext(t), creds.Client1.Cert, creds.Client1.Key, ReasonKeyCompromise); err != nil {
					t.Fatal(err)
				}
				if got := rec.types(); len(got) != 2 || got[0] != "send rr" || got[1] != "receive rp" {
					t.Errorf("messages %v", got)
				}
			},
		},
		{
			name:   "rr_pbm",
			client: func(c *Client) { c.Credentials = pbm(PBMHMACSHA1) },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				if err := c.Revoke(testContext(t), creds.Client1.Cert, nil, ReasonSuperseded); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:   "rr_other_certificate_rejected",
			client: func(c *Client) { c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				err := c.Revoke(testContext(t), creds.Device.Cert, creds.Device.Key, ReasonUnspecified)
				var e *Error
				if !errors.As(err, &e) || e.Status != StatusRejection {
					t.Fatalf("got %v, want a rejection *Error", err)
				}
			},
		},
		{
			// The 3.0 mock echoes the genm item: caCerts without a value
			// (no certificates), and rootCaCert instead of rootCaKeyUpdate.
			name:   "genm",
			client: func(c *Client) { c.Credentials = pbm(PBMHMACSHA256) },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				certs, err := c.CACerts(testContext(t))
				if err != nil || len(certs) != 0 {
					t.Errorf("CACerts: %v, %v; want no certificates", certs, err)
				}
				if _, err := c.RootCAUpdate(testContext(t), creds.Root.Cert); !errors.Is(err, ErrNotSupported) {
					t.Errorf("RootCAUpdate: %v, want ErrNotSupported", err)
				}
				if tmpl, err := c.CertReqTemplate(testContext(t)); err != nil || tmpl != nil {
					t.Errorf("CertReqTemplate: %v, %v; want none", tmpl, err)
				}
				if n := rec.count("send", "genm"); n != 3 {
					t.Errorf("%d genm sent, want 3", n)
				}
			},
		},
		{
			// RFC 9810 5.1.3.4: a genm without protection, which the mock
			// takes under -accept_unprotected and answers signed.
			name:     "genm_unprotected",
			mockOpts: []opensslpeer.MockOption{opensslpeer.Args("-accept_unprotected")},
			client:   func(c *Client) { c.UnprotectedSupportMessages = true; c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				certs, err := c.CACerts(testContext(t))
				if err != nil || len(certs) != 0 {
					t.Errorf("CACerts: %v, %v; want no certificates from the signed echo", certs, err)
				}
			},
		},
		{
			name:     "genm_unprotected_not_accepted",
			mockOpts: []opensslpeer.MockOption{opensslpeer.SignatureOnly()},
			client:   func(c *Client) { c.UnprotectedSupportMessages = true; c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				_, err := c.CACerts(testContext(t))
				var e *Error
				if !errors.As(err, &e) || e.Status != StatusRejection {
					t.Fatalf("got %v, want the mock's rejection of an unprotected genm", err)
				}
			},
		},
		{
			// An unprotected genp whose caCerts (the echo: none) cannot
			// prove themselves against the anchors is refused.
			name:     "genm_unprotected_answer",
			mockOpts: []opensslpeer.MockOption{opensslpeer.Args("-accept_unprotected", "-send_unprotected")},
			client:   func(c *Client) { c.UnprotectedSupportMessages = true; c.TrustAnchors = anchors },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				_, err := c.CACerts(testContext(t))
				if !errors.Is(err, ErrUnprotected) || !strings.Contains(err.Error(), "lists no certificate") {
					t.Fatalf("got %v, want ErrUnprotected: no certificate proves the unprotected genp", err)
				}
			},
		},
		{
			name:     "polling",
			mockOpts: []opensslpeer.MockOption{opensslpeer.Args("-poll_count", "2", "-check_after", "1")},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA1) },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				start := time.Now()
				enr, err := c.Enroll(testContext(t), client1Req())
				enrollOK(t, enr, err, creds.Client1.Cert, "ir")
				if n := rec.count("send", "pollReq"); n != 2 {
					t.Errorf("%d pollReq, want 2: %v", n, rec.types())
				}
				if time.Since(start) < time.Second {
					t.Errorf("did not wait checkAfter")
				}
			},
		},
		{
			name:     "implicit_confirm_granted",
			mockOpts: []opensslpeer.MockOption{opensslpeer.Args("-grant_implicitconf")},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA1); c.ImplicitConfirm = true },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), client1Req())
				enrollOK(t, enr, err, creds.Client1.Cert, "ir")
				if !enr.ImplicitlyConfirmed || rec.count("send", "certConf") != 0 {
					t.Errorf("ImplicitlyConfirmed %v, messages %v", enr.ImplicitlyConfirmed, rec.types())
				}
			},
		},
		{
			name:   "implicit_confirm_not_granted",
			client: func(c *Client) { c.Credentials = pbm(PBMHMACSHA1); c.ImplicitConfirm = true },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), client1Req())
				enrollOK(t, enr, err, creds.Client1.Cert, "ir")
				if enr.ImplicitlyConfirmed || rec.count("send", "certConf") != 1 {
					t.Errorf("ImplicitlyConfirmed %v, messages %v", enr.ImplicitlyConfirmed, rec.types())
				}
			},
		},
		{
			name:     "rejection_status",
			mockOpts: []opensslpeer.MockOption{opensslpeer.Args("-pkistatus", "2", "-failure", "2", "-statusstring", "mock says no")},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA1) },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				enr, err := c.Enroll(testContext(t), client1Req())
				var e *Error
				if enr != nil || !errors.As(err, &e) {
					t.Fatalf("got %v, %v; want *Error", enr, err)
				}
				if e.Status != StatusRejection || e.FailInfo != FailBadRequest || e.Body != "ip" {
					t.Errorf("status %v failInfo %v body %q", e.Status, e.FailInfo, e.Body)
				}
				if want := `: rejection: badRequest: "mock says no"`; !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "cmp ir (transaction ") {
					t.Errorf("error %q does not contain %q", err, want)
				}
			},
		},
		{
			name:     "send_error",
			mockOpts: []opensslpeer.MockOption{opensslpeer.Args("-send_error")},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA1) },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				_, err := c.Enroll(testContext(t), client1Req())
				var e *Error
				if !errors.As(err, &e) || e.Body != "error" || e.Unprotected {
					t.Fatalf("got %v, want a protected CMP error message", err)
				}
				if !strings.Contains(err.Error(), "error message: rejection") || !strings.Contains(err.Error(), "badRequest") {
					t.Errorf("error %q does not name the rejection and badRequest", err)
				}
			},
		},
		{
			name:     "send_unprotected",
			mockOpts: []opensslpeer.MockOption{opensslpeer.Args("-send_unprotected")},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA1) },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				_, err := c.Enroll(testContext(t), client1Req())
				var pe *ProtocolError
				if !errors.As(err, &pe) || !errors.Is(err, ErrUnprotected) || !strings.Contains(err.Error(), "missing protection") {
					t.Fatalf("got %v, want ProtocolError missing protection", err)
				}
			},
		},
		{
			name:     "send_unprotected_ip_with_allow_unprotected_errors",
			mockOpts: []opensslpeer.MockOption{opensslpeer.Args("-send_unprotected")},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA1); c.AllowUnprotectedErrors = true },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				// A positive ip is never accepted without protection.
				if _, err := c.Enroll(testContext(t), client1Req()); !errors.Is(err, ErrUnprotected) {
					t.Fatalf("got %v, want ErrUnprotected", err)
				}
			},
		},
		{
			name:     "send_unprot_err_refused",
			mockOpts: []opensslpeer.MockOption{opensslpeer.Args("-send_error", "-send_unprot_err")},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA1) },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				_, err := c.Enroll(testContext(t), client1Req())
				if !errors.Is(err, ErrUnprotected) || !strings.Contains(err.Error(), "unauthenticated error message") {
					t.Fatalf("got %v, want ErrUnprotected quoting the unauthenticated error", err)
				}
			},
		},
		{
			name:     "send_unprot_err_allowed",
			mockOpts: []opensslpeer.MockOption{opensslpeer.Args("-send_error", "-send_unprot_err")},
			client:   func(c *Client) { c.Credentials = pbm(PBMHMACSHA1); c.AllowUnprotectedErrors = true },
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				_, err := c.Enroll(testContext(t), client1Req())
				var e *Error
				if !errors.As(err, &e) || !e.Unprotected || !strings.Contains(err.Error(), "[unprotected: not authenticated]") {
					t.Fatalf("got %v, want an *Error marked unprotected", err)
				}
			},
		},
		{
			name: "wrong_secret",
			client: func(c *Client) {
				c.Credentials = MACCredentials{Reference: opensslpeer.MockReference, Secret: []byte("WRONG"), Algorithm: PBMHMACSHA1}
			},
			run: func(t *testing.T, c *Client, rec *logRecorder) {
				_, err := c.Enroll(testContext(t), client1Req())
				if !errors.Is(err, ErrProtection) || !strings.Contains(err.Error(), "secret") {
					t.Fatalf("got %v, want ErrProtection mentioning the secret", err)
				}
				if !strings.Contains(err.Error(), "badMessageCheck") && !strings.Contains(err.Error(), "badRequest") {
					t.Errorf("error %q does not quote the server's (unauthenticated) failure", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mock := opensslpeer.StartMock(t, creds, tt.mockOpts...)
			rec := &logRecorder{}
			c := &Client{URL: mock.URL, Log: rec.log, MessageTimeout: 10 * time.Second}
			tt.client(c)
			tt.run(t, c, rec)
		})
	}
}

// foreignSigner issues a certificate for key under the mock's root, as a
// device manufacturer would, and returns it as signature credentials.
func foreignSigner(t *testing.T, creds *opensslpeer.Creds, key crypto.Signer, pss bool) SignatureCredentials {
	t.Helper()
	cert := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "device"}, KeyUsage: x509.KeyUsageDigitalSignature},
		key.Public(), creds.Root.Cert, creds.Root.Key)
	return SignatureCredentials{Key: key, Chain: []*x509.Certificate{cert}, RSAPSS: pss}
}

func rsaKey(t *testing.T) crypto.Signer {
	t.Helper()
	return testpki.NewKey(t, testpki.RSA2048)
}

func ed25519Key(t *testing.T) crypto.Signer {
	t.Helper()
	return testpki.NewKey(t, testpki.Ed25519)
}

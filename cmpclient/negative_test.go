package cmpclient

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestResponseRejected feeds the client answers that are wrong in one way
// each and checks that the enrollment fails with the right error, whose
// text names the cause.
func TestResponseRejected(t *testing.T) {
	pki := newTestPKI(t)
	otherRoot := newTestPKI(t) // a signer that chains to an untrusted root

	// noDigitalSignature is a signer under the trusted root whose key usage
	// does not allow signing CMP messages.
	ndsKey := newKey(t)
	noDigitalSignature := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Encipher Only"}, KeyUsage: x509.KeyUsageKeyEncipherment},
		ndsKey.Public(), pki.root, pki.rootKey)
	// signed makes the client use signature protection, so that the
	// responder signs its answers.
	signed := func(c *Client) {
		key := newKey(t)
		dev := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "device"}, KeyUsage: x509.KeyUsageDigitalSignature}, key.Public(), pki.root, pki.rootKey)
		c.Credentials = SignatureCredentials{Key: key, Chain: []*x509.Certificate{dev}}
	}
	// signedBy protects the answer with key as chain[0].
	signedBy := func(key crypto.Signer, chain ...*x509.Certificate) func(*responder, *cmp.Message) error {
		return func(_ *responder, resp *cmp.Message) error { return signProtect(resp, key, chain) }
	}
	// signedAs has the CA's CMP signer sign an answer that names sender.
	signedAs := func(sender cmp.GeneralName) func(*responder, *cmp.Message) error {
		return func(r *responder, resp *cmp.Message) error {
			resp.Header.Sender = sender
			resp.ExtraCerts = nil
			return cmp.ProtectSignature(resp, r.pki.signerKey, []*x509.Certificate{r.pki.signer}, cmp.SignatureOptions{})
		}
	}
	otherEEKey := newKey(t)
	otherEE := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Another End Entity"}, KeyUsage: x509.KeyUsageDigitalSignature},
		otherEEKey.Public(), pki.root, pki.rootKey)
	first := func(f func(req, resp *cmp.Message)) func(n int, req, resp *cmp.Message) {
		return func(n int, req, resp *cmp.Message) {
			if n == 0 {
				f(req, resp)
			}
		}
	}

	tests := []struct {
		name      string
		responder func(r *responder)
		client    func(c *Client)
		// signedAnswer, when set, makes the client sign its request
		// and protects the answer in place of the responder.
		signedAnswer func(r *responder, resp *cmp.Message) error
		wantIs       error  // errors.Is target, if any
		wantAs       any    // pointer to an error type for errors.As, if any
		wantText     string // substring of Error()
	}{
		{
			name: "wrong_transaction_id",
			responder: func(r *responder) {
				r.mutate = first(func(_, resp *cmp.Message) { resp.Header.TransactionID = bytes.Repeat([]byte{7}, 16) })
			},
			wantIs:   ErrTransactionID,
			wantText: "transactionID does not match",
		},
		{
			name:      "missing_transaction_id",
			responder: func(r *responder) { r.mutate = first(func(_, resp *cmp.Message) { resp.Header.TransactionID = nil }) },
			wantIs:    ErrTransactionID,
		},
		{
			name: "wrong_recip_nonce",
			responder: func(r *responder) {
				r.mutate = first(func(_, resp *cmp.Message) { resp.Header.RecipNonce = bytes.Repeat([]byte{1}, 16) })
			},
			wantIs:   ErrRecipNonce,
			wantText: "recipNonce does not match",
		},
		{
			name:      "missing_sender_nonce",
			responder: func(r *responder) { r.mutate = first(func(_, resp *cmp.Message) { resp.Header.SenderNonce = nil }) },
			wantIs:    ErrSenderNonce,
		},
		{
			name:      "pvno_1",
			responder: func(r *responder) { r.mutate = first(func(_, resp *cmp.Message) { resp.Header.PVNO = 1 }) },
			wantIs:    ErrPVNO,
		},
		{
			name: "unprotected_response",
			responder: func(r *responder) {
				r.protect = func(resp *cmp.Message) error { return nil }
			},
			wantIs:   ErrUnprotected,
			wantText: "missing protection",
		},
		{
			name: "bad_mac",
			responder: func(r *responder) {
				r.rewrite = func(n int, der []byte) []byte { return flipProtection(t, der) }
			},
			wantIs:   ErrProtection,
			wantText: "MAC does not verify",
		},
		{
			name: "mac_with_other_secret",
			responder: func(r *responder) {
				r.protect = func(resp *cmp.Message) error { return macProtect(resp, []byte("not the secret"), nil) }
			},
			wantIs:   ErrProtection,
			wantText: "is the secret right?",
		},
		{
			name:   "bad_signature",
			client: signed,
			responder: func(r *responder) {
				r.rewrite = func(n int, der []byte) []byte { return flipProtection(t, der) }
			},
			wantIs:   ErrProtection,
			wantText: "signature does not verify",
		},
		// The client signs its request, so the answer must be signed too;
		// each of these protects it in one wrong way.
		{
			name:         "untrusted_signer",
			signedAnswer: signedBy(otherRoot.signerKey, otherRoot.signer, otherRoot.root),
			wantIs:       ErrUntrustedSigner,
			wantText:     "response signer is not trusted",
		},
		{
			name:         "signer_without_digital_signature",
			signedAnswer: signedBy(ndsKey, noDigitalSignature),
			wantIs:       ErrUntrustedSigner,
			wantText:     "digitalSignature",
		},
		{
			name:         "sender_not_signer",
			signedAnswer: signedAs(cmp.NameFromDER(pki.root.RawSubject)),
			wantIs:       ErrSender,
			wantText:     "sender",
		},
		{
			// Another certificate under the trusted root, with
			// digitalSignature, signs for the CA: only ExpectedSender
			// tells it from the CA's CMP signer.
			name:         "signed_by_an_unexpected_sender",
			client:       func(c *Client) { c.ExpectedSender = pkix.Name{CommonName: "The CA's CMP signer"} },
			signedAnswer: signedBy(otherEEKey, otherEE),
			wantIs:       ErrSender,
			wantText:     `expected "CN=The CA's CMP signer"`,
		},
		{
			name:         "signed_with_null_dn_sender",
			signedAnswer: signedAs(cmp.NullDN()),
			wantIs:       ErrSender,
			wantText:     "sender",
		},
		{
			name:         "mac_response_to_signed_request",
			signedAnswer: func(r *responder, resp *cmp.Message) error { return macProtect(resp, r.pki.secret, nil) },
			wantIs:       ErrProtection,
			wantText:     "MAC-protected response to a request not protected by a shared secret",
		},
		{
			name: "message_time_skew",
			responder: func(r *responder) {
				r.mutate = first(func(_, resp *cmp.Message) { resp.Header.MessageTime = time.Now().Add(-time.Hour) })
			},
			client:   func(c *Client) { c.MaxTimeSkew = 5 * time.Minute },
			wantIs:   ErrMessageTime,
			wantText: "at most 5m0s accepted",
		},
		{
			name:      "truncated_der",
			responder: func(r *responder) { r.rewrite = func(n int, der []byte) []byte { return der[:len(der)-10] } },
			wantIs:    ErrMalformedResponse,
		},
		{
			name:      "trailing_garbage",
			responder: func(r *responder) { r.rewrite = func(n int, der []byte) []byte { return append(der, 0, 0) } },
			wantIs:    ErrMalformedResponse,
			wantText:  "malformed CMP message",
		},
		{
			name: "oversize_body",
			responder: func(r *responder) {
				r.http = func(n int, w http.ResponseWriter, _ *http.Request) bool {
					w.Header().Set("Content-Type", contentType)
					w.Write(make([]byte, cmp.MaxMessageSize+1))
					return true
				}
			},
			wantIs:   ErrResponseTooLarge,
			wantText: "response too large: larger than 1048576 bytes",
		},
		{
			name: "wrong_content_type",
			responder: func(r *responder) {
				r.http = func(n int, w http.ResponseWriter, _ *http.Request) bool {
					w.Header().Set("Content-Type", "text/html")
					w.Write([]byte("<html>login</html>"))
					return true
				}
			},
			wantIs:   ErrContentType,
			wantText: `Content-Type "text/html"`,
		},
		{
			name: "http_500",
			responder: func(r *responder) {
				r.http = func(n int, w http.ResponseWriter, _ *http.Request) bool {
					http.Error(w, "database on fire", http.StatusInternalServerError)
					return true
				}
			},
			wantAs:   new(*Error),
			wantText: "HTTP 500 Internal Server Error: database on fire",
		},
		{
			name: "http_503_without_retry_after",
			responder: func(r *responder) {
				r.http = func(n int, w http.ResponseWriter, _ *http.Request) bool {
					w.WriteHeader(http.StatusServiceUnavailable)
					return true
				}
			},
			wantAs:   new(*Error),
			wantText: "HTTP 503",
		},
		{
			name: "cmp_error_with_http_400",
			responder: func(r *responder) {
				r.mutate = first(func(_, resp *cmp.Message) {
					resp.Body = cmp.Body{Type: cmp.BodyError, Error: &cmp.ErrorMsgContent{Status: cmp.PKIStatusInfo{
						Status: cmp.StatusRejection, FailInfo: cmp.FailBadPOP | cmp.FailBadRequest, HasFailInfo: true,
						StatusString: []string{"signature does not verify"}}}}
				})
				r.httpCode = http.StatusBadRequest
			},
			wantAs:   new(*Error),
			wantText: `error message: rejection: badRequest, badPOP: "signature does not verify" (HTTP 400 Bad Request)`,
		},
		{
			name: "unexpected_body_type",
			responder: func(r *responder) {
				r.mutate = first(func(_, resp *cmp.Message) { resp.Body.Type = cmp.BodyKUP })
			},
			wantIs:   ErrUnexpectedBody,
			wantText: "unexpected body type kup in answer to ir (want ip)",
		},
		{
			name: "wrong_cert_req_id",
			responder: func(r *responder) {
				r.mutate = first(func(_, resp *cmp.Message) { resp.Body.CertRep.Response[0].CertReqID = 5 })
			},
			wantIs:   ErrCertReqID,
			wantText: "certReqId does not match",
		},
		{
			name: "rejection_in_ip",
			responder: func(r *responder) {
				r.status = cmp.PKIStatusInfo{Status: cmp.StatusRejection, FailInfo: cmp.FailBadCertTemplate | cmp.FailNotAuthorized,
					HasFailInfo: true, StatusString: []string{"subject not allowed"}}
			},
			wantAs:   new(*Error),
			wantText: `: rejection: badCertTemplate, notAuthorized: "subject not allowed"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &responder{pki: pki}
			if tt.responder != nil {
				tt.responder(r)
			}
			if tt.signedAnswer != nil {
				r.protect = func(resp *cmp.Message) error { return tt.signedAnswer(r, resp) }
			}
			c := startResponder(t, r)
			if tt.signedAnswer != nil {
				signed(c)
			}
			if tt.client != nil {
				tt.client(c)
			}
			enr, err := c.Enroll(testContext(t), certRequest(t, "leaf"))
			if err == nil {
				t.Fatalf("enrollment succeeded (%v), want an error", enr.Certificate.Subject)
			}
			if enr != nil {
				t.Errorf("got an enrollment with the error %v", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %q", err, tt.wantIs)
			}
			if tt.wantAs != nil && !errors.As(err, tt.wantAs) {
				t.Errorf("error %q (%T) is not a %T", err, err, tt.wantAs)
			}
			if tt.wantIs != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Errorf("error %q (%T) is not a *ProtocolError", err, err)
				}
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if !strings.HasPrefix(err.Error(), "cmp ir (transaction ") {
				t.Errorf("error %q does not name the operation and transaction", err)
			}
		})
	}
}

// flipProtection flips the last bit of a DER PKIMessage whose last element
// is the protection (no extraCerts) or flips a bit inside the protection
// found by re-parsing.
func flipProtection(t *testing.T, der []byte) []byte {
	t.Helper()
	m, err := cmp.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(der, m.Protection)
	if i < 0 {
		t.Fatal("protection not found in DER")
	}
	out := bytes.Clone(der)
	out[i+len(m.Protection)/2] ^= 0x01
	return out
}

// TestAllowUnprotectedErrors: with the option, negative answers without
// valid protection are reported (marked unauthenticated); positive ones are
// still refused.
func TestAllowUnprotectedErrors(t *testing.T) {
	pki := newTestPKI(t)
	errorBody := func(_, resp *cmp.Message) {
		resp.Body = cmp.Body{Type: cmp.BodyError, Error: &cmp.ErrorMsgContent{Status: cmp.PKIStatusInfo{
			Status: cmp.StatusRejection, FailInfo: cmp.FailNotAuthorized, HasFailInfo: true}}}
	}
	rejection := func(_, resp *cmp.Message) {
		resp.Body.CertRep.Response[0] = cmp.CertResponse{Status: cmp.PKIStatusInfo{
			Status: cmp.StatusRejection, FailInfo: cmp.FailBadCertTemplate, HasFailInfo: true}}
	}
	unprotected := func(resp *cmp.Message) error { return nil }
	badMAC := func(resp *cmp.Message) error { return macProtect(resp, []byte("someone else's secret"), nil) }
	tests := []struct {
		name    string
		mutate  func(req, resp *cmp.Message)
		protect func(resp *cmp.Message) error
		allow   bool
		want    string // *Error text, or "" for ErrUnprotected/ErrProtection
	}{
		{name: "unprotected_error_refused", mutate: errorBody, protect: unprotected},
		{name: "unprotected_error_allowed", mutate: errorBody, protect: unprotected, allow: true, want: "error message: rejection: notAuthorized [unprotected: not authenticated]"},
		{name: "bad_mac_error_allowed", mutate: errorBody, protect: badMAC, allow: true, want: "notAuthorized [unprotected: not authenticated]"},
		{name: "unprotected_rejection_allowed", mutate: rejection, protect: unprotected, allow: true, want: "rejection: badCertTemplate [unprotected: not authenticated]"},
		{name: "unprotected_rejection_refused", mutate: rejection, protect: unprotected},
		{name: "unprotected_certificate_refused_even_if_allowed", protect: unprotected, allow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &responder{pki: pki, protect: tt.protect}
			if tt.mutate != nil {
				r.mutate = func(n int, req, resp *cmp.Message) {
					if n == 0 {
						tt.mutate(req, resp)
					}
				}
			}
			c := startResponder(t, r)
			c.AllowUnprotectedErrors = tt.allow
			_, err := c.Enroll(testContext(t), certRequest(t, "leaf"))
			var e *Error
			switch {
			case tt.want == "":
				if !errors.Is(err, ErrUnprotected) && !errors.Is(err, ErrProtection) {
					t.Fatalf("got %v, want the protection refused", err)
				}
			case !errors.As(err, &e) || !e.Unprotected || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("got %v, want an unprotected *Error containing %q", err, tt.want)
			}
		})
	}
}

// TestMessageTimeTolerance: a response's messageTime is checked only when
// Client.MaxTimeSkew asks for it.
func TestMessageTimeTolerance(t *testing.T) {
	tests := []struct {
		name    string
		skew    time.Duration
		offset  time.Duration
		wantErr bool
	}{
		{"not checked by default", 0, -time.Hour, false},
		{"within the tolerance", 5 * time.Minute, -4 * time.Minute, false},
		{"beyond the tolerance, ahead", 5 * time.Minute, 6 * time.Minute, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &responder{pki: newTestPKI(t)}
			r.mutate = func(_ int, _, resp *cmp.Message) { resp.Header.MessageTime = time.Now().Add(tc.offset) }
			c := startResponder(t, r)
			c.MaxTimeSkew = tc.skew
			_, err := c.Enroll(testContext(t), certRequest(t, "clock"))
			if got := errors.Is(err, ErrMessageTime); got != tc.wantErr || !tc.wantErr && err != nil {
				t.Fatalf("enroll: %v; want ErrMessageTime: %v", err, tc.wantErr)
			}
		})
	}
}

// TestExpectedSender: with ExpectedSender set, responses from that sender
// are accepted, with MAC and with signature protection.
func TestExpectedSender(t *testing.T) {
	pki := newTestPKI(t)
	// The test responder names its root as sender of MAC-protected answers
	// and its CMP signer as sender of signed ones.
	for _, tc := range []struct {
		name      string
		signedReq bool
		sender    pkix.Name
	}{{"mac", false, pki.root.Subject}, {"signature", true, pki.signer.Subject}} {
		r := &responder{pki: pki}
		c := startResponder(t, r)
		if tc.signedReq {
			key := newKey(t)
			dev := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "device"}, KeyUsage: x509.KeyUsageDigitalSignature}, key.Public(), pki.root, pki.rootKey)
			c.Credentials = SignatureCredentials{Key: key, Chain: []*x509.Certificate{dev}}
		}
		c.ExpectedSender = tc.sender
		if _, err := c.Enroll(testContext(t), certRequest(t, "expected")); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

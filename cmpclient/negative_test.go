package cmpclient

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
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
		wantIs    error  // errors.Is target, if any
		wantAs    any    // pointer to an error type for errors.As, if any
		wantText  string // substring of Error()
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
		{
			name:   "untrusted_signer",
			client: signed,
			responder: func(r *responder) {
				r.protect = func(resp *cmp.Message) error {
					return signProtect(resp, otherRoot.signerKey, []*x509.Certificate{otherRoot.signer, otherRoot.root})
				}
			},
			wantIs:   ErrUntrustedSigner,
			wantText: "response signer is not trusted",
		},
		{
			name:   "signer_without_digital_signature",
			client: signed,
			responder: func(r *responder) {
				r.protect = func(resp *cmp.Message) error {
					return signProtect(resp, ndsKey, []*x509.Certificate{noDigitalSignature})
				}
			},
			wantIs:   ErrUntrustedSigner,
			wantText: "digitalSignature",
		},
		{
			name:   "sender_not_signer",
			client: signed,
			responder: func(r *responder) {
				r.protect = func(resp *cmp.Message) error {
					if err := signProtect(resp, r.pki.signerKey, []*x509.Certificate{r.pki.signer}); err != nil {
						return err
					}
					// Re-sign with a different sender in the header.
					resp.Header.Sender = cmp.NameFromDER(r.pki.root.RawSubject)
					pp, _ := resp.ProtectedPart()
					var err error
					resp.Protection, err = cmp.SignatureProtection(r.pki.signerKey, *resp.Header.ProtectionAlg, pp)
					return err
				}
			},
			wantIs:   ErrSender,
			wantText: "sender",
		},
		{
			name:   "mac_response_to_signed_request",
			client: signed,
			responder: func(r *responder) {
				r.protect = func(resp *cmp.Message) error { return macProtect(resp, r.pki.secret, nil) }
			},
			wantIs:   ErrProtection,
			wantText: "MAC-protected response to a request not protected by a shared secret",
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
			c := startResponder(t, r)
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

// TestHTTPBehaviour covers the transport: Retry-After, timeouts, basic
// auth.
func TestHTTPBehaviour(t *testing.T) {
	pki := newTestPKI(t)

	t.Run("503_retry_after_then_success", func(t *testing.T) {
		var busy atomic.Int32
		r := &responder{pki: pki}
		r.http = func(n int, w http.ResponseWriter, _ *http.Request) bool {
			if n == 0 {
				busy.Add(1)
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			}
			return false
		}
		c := startResponder(t, r)
		start := time.Now()
		if _, err := c.Enroll(testContext(t), certRequest(t, "leaf")); err != nil {
			t.Fatal(err)
		}
		if busy.Load() != 1 || len(r.requests()) != 2 {
			t.Errorf("503 answered %d times, %d CMP requests served; want 1 and 2 (ir again, certConf)", busy.Load(), len(r.requests()))
		}
		if time.Since(start) < time.Second {
			t.Errorf("did not wait for Retry-After")
		}
	})

	t.Run("503_retry_after_past_deadline", func(t *testing.T) {
		r := &responder{pki: pki}
		r.http = func(n int, w http.ResponseWriter, _ *http.Request) bool {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		c := startResponder(t, r)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Enroll(ctx, certRequest(t, "leaf"))
		var e *Error
		if !errors.As(err, &e) || e.HTTPStatus != 503 || !strings.Contains(err.Error(), "past the deadline") {
			t.Fatalf("got %v, want a 503 *Error saying the wait is past the deadline", err)
		}
		if time.Since(start) > time.Second {
			t.Errorf("waited %v although the wait could not succeed", time.Since(start))
		}
	})

	t.Run("503_retries_bounded", func(t *testing.T) {
		r := &responder{pki: pki}
		var calls atomic.Int32
		r.http = func(n int, w http.ResponseWriter, _ *http.Request) bool {
			calls.Add(1)
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		c := startResponder(t, r)
		_, err := c.Enroll(testContext(t), certRequest(t, "leaf"))
		var e *Error
		if !errors.As(err, &e) || e.HTTPStatus != 503 || !strings.Contains(err.Error(), "HTTP 503 Service Unavailable: server still busy after 5 retries") {
			t.Fatalf("got %v, want a 503 *Error after bounded retries", err)
		}
		if n := calls.Load(); n != maxBusyRetries+1 {
			t.Errorf("%d attempts, want %d", n, maxBusyRetries+1)
		}
	})

	t.Run("slow_server_past_message_timeout", func(t *testing.T) {
		r := &responder{pki: pki}
		r.http = func(n int, w http.ResponseWriter, hr *http.Request) bool {
			// Read the request so the server notices the client leaving.
			io.Copy(io.Discard, hr.Body)
			select {
			case <-hr.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return true
		}
		c := startResponder(t, r)
		c.MessageTimeout = 200 * time.Millisecond
		start := time.Now()
		_, err := c.Enroll(testContext(t), certRequest(t, "leaf"))
		if err == nil || !strings.Contains(err.Error(), "message timeout 200ms") {
			t.Fatalf("got %v, want a message timeout error", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v", d)
		}
	})

	t.Run("basic_auth", func(t *testing.T) {
		r := &responder{pki: pki}
		var user, pass atomic.Value
		r.http = func(n int, w http.ResponseWriter, hr *http.Request) bool {
			u, p, _ := hr.BasicAuth()
			user.Store(u)
			pass.Store(p)
			return false
		}
		c := startResponder(t, r)
		c.Username, c.Password = "alice", "open sesame"
		if _, err := c.Enroll(testContext(t), certRequest(t, "leaf")); err != nil {
			t.Fatal(err)
		}
		if user.Load() != "alice" || pass.Load() != "open sesame" {
			t.Errorf("basic auth %v:%v", user.Load(), pass.Load())
		}
	})
}

// TestNoCertificateLost checks the contract: once the CA issued a
// certificate, a later failure returns it with the error.
func TestNoCertificateLost(t *testing.T) {
	pki := newTestPKI(t)

	t.Run("ctx_cancelled_after_ip", func(t *testing.T) {
		r := &responder{pki: pki}
		c := startResponder(t, r)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c.Log = func(m MessageLog) {
			if m.Direction == "receive" && m.Type == "ip" {
				cancel()
			}
		}
		enr, err := c.Enroll(ctx, certRequest(t, "leaf"))
		var u *UnconfirmedError
		if !errors.As(err, &u) || !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want UnconfirmedError wrapping context.Canceled", err)
		}
		if enr == nil || enr.Certificate == nil || !enr.Certificate.Equal(u.Certificate) {
			t.Fatalf("enrollment %v not returned with the error", enr)
		}
		if !strings.Contains(err.Error(), "was issued but not confirmed") {
			t.Errorf("error %q", err)
		}
	})

	t.Run("certconf_answered_with_error", func(t *testing.T) {
		r := &responder{pki: pki}
		r.mutate = func(n int, req, resp *cmp.Message) {
			if req.Body.Type == cmp.BodyCertConf {
				resp.Body = cmp.Body{Type: cmp.BodyError, Error: &cmp.ErrorMsgContent{Status: cmp.PKIStatusInfo{
					Status: cmp.StatusRejection, FailInfo: cmp.FailSystemUnavail, HasFailInfo: true}}}
			}
		}
		c := startResponder(t, r)
		enr, err := c.Enroll(testContext(t), certRequest(t, "leaf"))
		var u *UnconfirmedError
		var e *Error
		if !errors.As(err, &u) || !errors.As(err, &e) || !e.FailInfo.Has(cmp.FailSystemUnavail) {
			t.Fatalf("got %v, want UnconfirmedError wrapping a systemUnavail *Error", err)
		}
		if enr == nil || enr.Certificate == nil {
			t.Fatal("enrollment not returned with the error")
		}
	})

	t.Run("pkiconf_lost", func(t *testing.T) {
		r := &responder{pki: pki}
		r.http = func(n int, w http.ResponseWriter, _ *http.Request) bool {
			if n == 1 {
				http.Error(w, "gateway gone", http.StatusBadGateway)
				return true
			}
			return false
		}
		c := startResponder(t, r)
		enr, err := c.Enroll(testContext(t), certRequest(t, "leaf"))
		var u *UnconfirmedError
		if !errors.As(err, &u) || enr == nil || enr.Certificate == nil || !strings.Contains(err.Error(), "HTTP 502") {
			t.Fatalf("got %v, %v; want the enrollment and an UnconfirmedError naming HTTP 502", enr, err)
		}
	})
}

// TestIssuedCertificateChecked checks that a certificate that is not what
// was asked for is rejected with a certConf the server receives.
func TestIssuedCertificateChecked(t *testing.T) {
	pki := newTestPKI(t)
	otherKey := newKey(t)
	tests := []struct {
		name       string
		responder  func(r *responder)
		client     func(c *Client)
		wantReason string // "" = accepted
	}{
		{
			name:       "other_public_key",
			responder:  func(r *responder) { r.issueKey = otherKey.Public() },
			wantReason: "public key differs from the requested key",
		},
		{
			name: "other_subject",
			responder: func(r *responder) {
				r.mutate = func(n int, req, resp *cmp.Message) {
					if req.Body.Type == cmp.BodyIR {
						reissue(t, r, resp, func(c *x509.Certificate) { c.Subject = pkix.Name{CommonName: "someone else"} })
					}
				}
			},
			wantReason: `subject "CN=someone else" is not the requested one`,
		},
		{
			name: "other_subject_granted_with_mods",
			responder: func(r *responder) {
				r.status = cmp.PKIStatusInfo{Status: cmp.StatusGrantedWithMods}
				r.mutate = func(n int, req, resp *cmp.Message) {
					if req.Body.Type == cmp.BodyIR {
						reissue(t, r, resp, func(c *x509.Certificate) { c.Subject = pkix.Name{CommonName: "someone else"} })
					}
				}
			},
		},
		{
			name: "missing_san",
			responder: func(r *responder) {
				r.mutate = func(n int, req, resp *cmp.Message) {
					if req.Body.Type == cmp.BodyIR {
						reissue(t, r, resp, func(c *x509.Certificate) { c.ExtraExtensions = nil })
					}
				}
			},
			wantReason: "DNS names [] differ from the requested",
		},
		{
			name: "chain_not_to_trust_anchor",
			client: func(c *Client) {
				c.TrustAnchors = []*x509.Certificate{newTestPKI(t).root}
				c.ServerCertificate = nil
			},
			wantReason: "certificate does not verify to the trust anchors",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &responder{pki: pki}
			if tt.responder != nil {
				tt.responder(r)
			}
			c := startResponder(t, r)
			if tt.client != nil {
				tt.client(c)
			}
			enr, err := c.Enroll(testContext(t), certRequest(t, "leaf"))
			reqs := r.requests()
			if tt.wantReason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if enr.Status.Status != cmp.StatusGrantedWithMods {
					t.Errorf("status %v not reported", enr.Status)
				}
				return
			}
			var rej *CertificateRejectedError
			if !errors.As(err, &rej) || enr != nil {
				t.Fatalf("got %v, %v; want only a CertificateRejectedError", enr, err)
			}
			if !strings.Contains(err.Error(), tt.wantReason) {
				t.Errorf("error %q does not contain %q", err, tt.wantReason)
			}
			if rej.ConfirmErr != nil {
				t.Errorf("sending the rejection failed: %v", rej.ConfirmErr)
			}
			// RFC 9483 4.1.1: the rejection is sent as certConf.
			if len(reqs) != 2 || reqs[1].Body.Type != cmp.BodyCertConf {
				t.Fatalf("server received %d messages, want ir and certConf", len(reqs))
			}
			cs := reqs[1].Body.CertConf[0]
			if cs.StatusInfo == nil || cs.StatusInfo.Status != cmp.StatusRejection || !cs.StatusInfo.FailInfo.Has(cmp.FailIncorrectData) {
				t.Errorf("certConf status %v, want rejection with incorrectData", cs.StatusInfo)
			}
			if err := cmp.VerifyCertHash(rej.Certificate, cs.CertHash); err != nil {
				t.Errorf("certConf certHash: %v", err)
			}
		})
	}
}

// reissue replaces the certificate of an ip with one changed by edit.
func reissue(t *testing.T, r *responder, resp *cmp.Message, edit func(*x509.Certificate)) {
	cr := &resp.Body.CertRep.Response[0]
	orig, err := x509.ParseCertificate(cr.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{Subject: orig.Subject, ExtraExtensions: orig.Extensions}
	for i, e := range tmpl.ExtraExtensions {
		// Drop the key identifiers crypto/x509 adds itself.
		if e.Id.Equal([]int{2, 5, 29, 14}) || e.Id.Equal([]int{2, 5, 29, 35}) {
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions[:i:i], tmpl.ExtraExtensions[i+1:]...)
		}
	}
	edit(tmpl)
	cert := issue(t, tmpl, orig.PublicKey, r.pki.root, r.pki.rootKey)
	cr.Certificate = cert.Raw
}

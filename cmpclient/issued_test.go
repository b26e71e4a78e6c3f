package cmpclient

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

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
		want := "was issued but not confirmed: certConf: error message: rejection: systemUnavail"
		if !strings.Contains(err.Error(), want) || strings.Count(err.Error(), "(transaction ") != 1 {
			t.Errorf("error %q does not read %q naming the transaction once", err, want)
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
		if !errors.As(err, &u) || enr == nil || enr.Certificate == nil || !strings.Contains(err.Error(), "not confirmed: certConf: HTTP 502 Bad Gateway: gateway gone") {
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

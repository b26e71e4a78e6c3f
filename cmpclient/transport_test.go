package cmpclient

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

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

	// RFC 6712 section 3.3: redirects are not followed unless the
	// caller's HTTPClient.CheckRedirect says so.
	for _, tc := range []struct {
		name   string
		status int
		follow bool
	}{
		{"redirect_307_not_followed", http.StatusTemporaryRedirect, false},
		{"redirect_301_not_followed", http.StatusMovedPermanently, false},
		{"redirect_307_followed_by_caller_choice", http.StatusTemporaryRedirect, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := &responder{pki: pki}
			to := startResponder(t, target)
			r := &responder{pki: pki}
			r.http = func(n int, w http.ResponseWriter, _ *http.Request) bool {
				w.Header().Set("Location", strings.Replace(to.URL, "://", "://user:hunter2@", 1))
				w.WriteHeader(tc.status)
				return true
			}
			c := startResponder(t, r)
			if tc.follow {
				c.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
			}
			_, err := c.Enroll(testContext(t), certRequest(t, "leaf"))
			if tc.follow {
				if err != nil || len(target.requests()) == 0 {
					t.Fatalf("enroll through a followed redirect: %v, %d requests at the target", err, len(target.requests()))
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.HTTPStatus != tc.status || !strings.Contains(err.Error(), "not followed") {
				t.Fatalf("got %v, want a %d *Error saying the redirect was not followed", err, tc.status)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the password of the Location URL: %v", err)
			}
			if n := len(target.requests()); n != 0 {
				t.Errorf("the redirect target got %d requests", n)
			}
		})
	}

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

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", -1},
		{"0", 0},
		{"120", 2 * time.Minute},
		{"-5", -1},
		{"soon", -1},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// pemOf encodes DER as one PEM block.
func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// keyPEM is key as a PKCS#8 PEM block.
func keyPEM(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PRIVATE KEY", der)
}

// TestTLSConfig covers the one TLS builder: CA bundle, client certificate
// and key (with its chain), server name, and the errors for unusable PEM,
// which name the option and never quote the key.
func TestTLSConfig(t *testing.T) {
	pki := newTestPKI(t)
	rootPEM, signerPEM := pemOf("CERTIFICATE", pki.root.Raw), pemOf("CERTIFICATE", pki.signer.Raw)
	clientKey := newKey(t)
	client := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "tls client"}}, clientKey.Public(), pki.root, pki.rootKey)
	clientPEM, clientKeyPEM := pemOf("CERTIFICATE", client.Raw), keyPEM(t, clientKey)
	otherKeyPEM := keyPEM(t, newKey(t))
	leaf := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "server"}}, newKey(t).Public(), pki.root, pki.rootKey)

	tests := []struct {
		name       string
		opts       TLSOptions
		wantOption string // the failing option; empty: no error
		wantErr    string
		check      func(t *testing.T, cfg *tls.Config)
	}{
		{name: "zero_options_verify_with_system_roots", check: func(t *testing.T, cfg *tls.Config) {
			if cfg.RootCAs != nil || len(cfg.Certificates) != 0 || cfg.InsecureSkipVerify || cfg.ServerName != "" ||
				cfg.MinVersion != tls.VersionTLS12 {
				t.Errorf("zero options: roots %v, %d client certificates, skip verify %v, server name %q, min version %x",
					cfg.RootCAs != nil, len(cfg.Certificates), cfg.InsecureSkipVerify, cfg.ServerName, cfg.MinVersion)
			}
		}},
		{name: "ca_bundle", opts: TLSOptions{CAPEM: append(append([]byte{}, signerPEM...), rootPEM...)},
			check: func(t *testing.T, cfg *tls.Config) {
				if _, err := leaf.Verify(x509.VerifyOptions{Roots: cfg.RootCAs}); err != nil {
					t.Errorf("a certificate under the bundle's root does not verify: %v", err)
				}
				if _, err := client.Verify(x509.VerifyOptions{Roots: x509.NewCertPool()}); err == nil {
					t.Error("the check itself is broken: an empty pool verified a certificate")
				}
			}},
		{name: "client_certificate_with_chain_and_key",
			opts: TLSOptions{ClientCertificatePEM: append(append([]byte{}, clientPEM...), rootPEM...), ClientKeyPEM: clientKeyPEM},
			check: func(t *testing.T, cfg *tls.Config) {
				if len(cfg.Certificates) != 1 || len(cfg.Certificates[0].Certificate) != 2 ||
					!bytes.Equal(cfg.Certificates[0].Certificate[0], client.Raw) {
					t.Errorf("client certificates %d, want the client certificate then its chain", len(cfg.Certificates))
				}
			}},
		{name: "server_name_and_insecure_skip_verify", opts: TLSOptions{ServerName: "ca.internal", InsecureSkipVerify: true},
			check: func(t *testing.T, cfg *tls.Config) {
				if cfg.ServerName != "ca.internal" || !cfg.InsecureSkipVerify {
					t.Errorf("server name %q, skip verify %v", cfg.ServerName, cfg.InsecureSkipVerify)
				}
			}},
		{name: "ca_not_pem", opts: TLSOptions{CAPEM: []byte("not PEM")}, wantOption: "CAPEM", wantErr: "no PEM certificate"},
		{name: "ca_holding_a_key", opts: TLSOptions{CAPEM: clientKeyPEM}, wantOption: "CAPEM", wantErr: "no PEM certificate"},
		{name: "client_certificate_without_key", opts: TLSOptions{ClientCertificatePEM: clientPEM},
			wantOption: "ClientKeyPEM", wantErr: "missing"},
		{name: "client_key_without_certificate", opts: TLSOptions{ClientKeyPEM: clientKeyPEM},
			wantOption: "ClientCertificatePEM", wantErr: "missing"},
		{name: "client_certificate_holding_a_key", opts: TLSOptions{ClientCertificatePEM: clientKeyPEM, ClientKeyPEM: clientKeyPEM},
			wantOption: "ClientCertificatePEM", wantErr: "no PEM certificate"},
		{name: "client_certificate_bad_der",
			opts:       TLSOptions{ClientCertificatePEM: pemOf("CERTIFICATE", []byte{0x30, 0x03, 1, 2, 3}), ClientKeyPEM: clientKeyPEM},
			wantOption: "ClientCertificatePEM", wantErr: "x509"},
		{name: "client_key_not_pem", opts: TLSOptions{ClientCertificatePEM: clientPEM, ClientKeyPEM: []byte("not PEM")},
			wantOption: "ClientKeyPEM", wantErr: "PEM"},
		{name: "client_key_of_another_certificate", opts: TLSOptions{ClientCertificatePEM: clientPEM, ClientKeyPEM: otherKeyPEM},
			wantOption: "ClientKeyPEM", wantErr: "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := TLSConfig(tt.opts)
			if tt.wantOption == "" {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, cfg)
				return
			}
			var oerr *TLSOptionError
			if !errors.As(err, &oerr) || oerr.Option != tt.wantOption || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want a *TLSOptionError for %s containing %q", err, tt.wantOption, tt.wantErr)
			}
			for _, k := range [][]byte{clientKeyPEM, otherKeyPEM} {
				if body := strings.Split(string(k), "\n")[1]; strings.Contains(err.Error(), body) {
					t.Errorf("the error quotes a key: %v", err)
				}
			}
		})
	}
}

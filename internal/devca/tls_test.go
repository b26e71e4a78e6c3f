package devca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
)

// startTLSCA serves the CA over HTTPS on 127.0.0.1.
func startTLSCA(t *testing.T, cfg Config, requireClientCert bool) *testCA {
	t.Helper()
	cfg.Dir = t.TempDir()
	log := &eventLog{}
	cfg.Events = log.add
	ca, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(ca)
	if srv.TLS, err = ca.ServerTLSConfig(requireClientCert, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	srv.StartTLS()
	t.Cleanup(func() {
		srv.Close()
		ca.Close()
	})
	return &testCA{ca: ca, srv: srv, log: log, dir: cfg.Dir}
}

// tlsClient is a cmpclient that trusts the CA for TLS, presenting the
// client certificate and key of opts when set.
func (c *testCA) tlsClient(t *testing.T, opts cmpclient.TLSOptions) *cmpclient.Client {
	cl := c.client(0)
	cl.HTTPClient = tlsHTTPClient(t, c.ca.CACertificate(), opts)
	return cl
}

// tlsHTTPClient trusts root for TLS, with the client certificate of opts.
func tlsHTTPClient(t *testing.T, root *x509.Certificate, opts cmpclient.TLSOptions) *http.Client {
	t.Helper()
	opts.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw})
	cfg, err := cmpclient.TLSConfig(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: cmpclient.NewTransport(cfg)}
}

func TestTLSAndBasicAuth(t *testing.T) {
	t.Run("https", func(t *testing.T) {
		c := startTLSCA(t, Config{}, false)
		if _, err := c.tlsClient(t, cmpclient.TLSOptions{}).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "tls"}, Key: newKey(t)}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("mutual TLS", func(t *testing.T) {
		c := startTLSCA(t, Config{}, true)
		if _, err := c.tlsClient(t, cmpclient.TLSOptions{}).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "anon"}, Key: newKey(t)}); err == nil {
			t.Fatal("a client without certificate got through")
		}
		// A certificate of this CA (enrolled over a plain listener on the
		// same state) opens the door.
		plain := httptest.NewServer(c.ca)
		defer plain.Close()
		key := newKey(t)
		cl := c.client(0)
		cl.URL = plain.URL
		e, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "client"}, Key: key,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		clientCert := cmpclient.TLSOptions{ClientCertificatePEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Certificate.Raw}),
			ClientKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}
		if _, err := c.tlsClient(t, clientCert).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "mtls"}, Key: newKey(t)}); err != nil {
			t.Fatalf("with a client certificate: %v", err)
		}
	})
	t.Run("basic auth", func(t *testing.T) {
		c := startCA(t, Config{Username: "user", Password: "pw"})
		cl := c.client(0)
		_, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "b"}, Key: newKey(t)})
		var ce *cmpclient.Error
		if !errors.As(err, &ce) || ce.HTTPStatus != http.StatusUnauthorized {
			t.Fatalf("without credentials: %v, want HTTP 401", err)
		}
		cl.Username, cl.Password = "user", "wrong"
		if _, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "b"}, Key: newKey(t)}); err == nil {
			t.Fatal("a wrong password got through")
		}
		cl.Password = "pw"
		if _, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "b"}, Key: newKey(t)}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCommandTLS runs the command with -tls and -basic-auth.
func TestCommandTLS(t *testing.T) {
	rc := startCommand(t, "", "-listen", "127.0.0.1:0", "-dir", filepath.Join(t.TempDir(), "state"), "-tls", "-basic-auth", "ops:s3cret")
	if got := rc.ready.URL; len(got) < 8 || got[:8] != "https://" {
		t.Fatalf("ready URL %q is not https", got)
	}
	ca := readCert(t, rc.ready.CACertificateFile)
	cl := &cmpclient.Client{
		URL:          rc.ready.URL,
		Credentials:  cmpclient.MACCredentials{Reference: rc.ready.Reference, Secret: []byte(rc.ready.Secret)},
		TrustAnchors: []*x509.Certificate{ca},
		HTTPClient:   tlsHTTPClient(t, ca, cmpclient.TLSOptions{}),
		Username:     "ops",
		Password:     "s3cret",
	}
	if _, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "cmd-tls"}, Key: newKey(t)}); err != nil {
		t.Fatal(err)
	}
	if ev := rc.nextEvent(t); ev.Op != "ir" || ev.Status != "accepted" {
		t.Errorf("event %+v", ev)
	}
	if code := rc.stop(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

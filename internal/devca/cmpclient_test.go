package devca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// client returns a cmpclient for the CA with its PBM credential.
func (c *testCA) client(alg cmpclient.MACAlgorithm) *cmpclient.Client {
	return &cmpclient.Client{
		URL:          c.url(),
		Credentials:  cmpclient.MACCredentials{Reference: c.ca.Reference(), Secret: []byte(c.ca.Secret()), Algorithm: alg, Iterations: 1000},
		TrustAnchors: []*x509.Certificate{c.ca.CACertificate()},
	}
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	return testpki.NewKey(t, testpki.P256)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantCMPError checks that err is a CMP refusal with the failure bit.
func wantCMPError(t *testing.T, err error, bit cmp.FailureInfo) *cmpclient.Error {
	t.Helper()
	var ce *cmpclient.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T), want a *cmpclient.Error with %v", err, err, bit)
	}
	if !ce.FailInfo.Has(bit) {
		t.Fatalf("failInfo %v, want %v; error: %v", ce.FailInfo, bit, err)
	}
	if len(ce.StatusString) == 0 {
		t.Errorf("refusal without statusString: %v", err)
	}
	return ce
}

func TestClientEnrollment(t *testing.T) {
	tests := []struct {
		name  string
		alg   cmpclient.MACAlgorithm
		key   func(t testing.TB) crypto.Signer
		check func(t *testing.T, e *cmpclient.Enrollment)
	}{
		{name: "PBM hmacWithSHA256, ECDSA", alg: cmpclient.PBMHMACSHA256, key: newKey},
		{name: "PBM hmac-sha1, RSA", alg: cmpclient.PBMHMACSHA1, key: func(t testing.TB) crypto.Signer { return testpki.NewKey(t, testpki.RSA2048) }},
		{name: "PBMAC1, Ed25519", alg: cmpclient.PBMAC1, key: func(t testing.TB) crypto.Signer { return testpki.NewKey(t, testpki.Ed25519) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := startCA(t, Config{})
			key := tc.key(t)
			e, err := c.client(tc.alg).Enroll(ctxT(t), &cmpclient.CertRequest{
				Subject:     pkix.Name{CommonName: "svc.example", Organization: []string{"Example"}},
				DNSNames:    []string{"svc.example", "www.svc.example"},
				KeyUsage:    x509.KeyUsageDigitalSignature,
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
				Key:         key,
			})
			if err != nil {
				t.Fatal(err)
			}
			cert := e.Certificate
			if e.Status.Status != cmp.StatusAccepted || cert.Subject.CommonName != "svc.example" ||
				len(cert.DNSNames) != 2 || cert.KeyUsage != x509.KeyUsageDigitalSignature ||
				len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("certificate: status %v subject %s SANs %v KU %v EKU %v", e.Status, cert.Subject, cert.DNSNames, cert.KeyUsage, cert.ExtKeyUsage)
			}
			if !cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Error("the certificate holds another key")
			}
			if cert.IsCA || cert.CheckSignatureFrom(c.ca.CACertificate()) != nil {
				t.Error("certificate is a CA or not issued by the CA")
			}
			// notBefore is backdated; the validity counts from the moment of issue.
			if got := cert.NotAfter.Sub(cert.NotBefore); got != defaultDefaultValidity+notBeforeBackdate {
				t.Errorf("notBefore to notAfter %v, want the default %v and the backdating %v", got, defaultDefaultValidity, notBeforeBackdate)
			}
			if ev, _ := c.log.last("certConf"); ev.Status != "confirmed" || ev.Serial != cert.SerialNumber.String() {
				t.Errorf("certConf event %+v", ev)
			}
		})
	}
}

// TestClientLifecycle runs ir, cr, kur, rr and the refusals that follow,
// and restarts the CA on the same directory in the middle.
func TestClientLifecycle(t *testing.T) {
	dir := t.TempDir()
	c := startCA(t, Config{Dir: dir})
	cl := c.client(cmpclient.PBMHMACSHA256)
	key1, key2, key3 := newKey(t), newKey(t), newKey(t)
	ctx := ctxT(t)

	ir, err := cl.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "life"}, Key: key1})
	if err != nil {
		t.Fatalf("ir: %v", err)
	}
	cr, err := cl.Certify(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "life"}, DNSNames: []string{"life.example"}, Key: key2}, ir.Certificate, key1)
	if err != nil {
		t.Fatalf("cr: %v", err)
	}
	if len(cr.Certificate.DNSNames) != 1 || cr.Operation != "cr" {
		t.Errorf("cr certificate SANs %v, operation %q", cr.Certificate.DNSNames, cr.Operation)
	}

	// Restart: a new CA on the same state directory, under another
	// reference: the certificates issued so far still belong to the first.
	c.srv.Close()
	c.ca.Close()
	firstReference := c.ca.Reference()
	c = startCA(t, Config{Dir: dir, Reference: "life-second-reference"})
	cl = c.client(cmpclient.PBMHMACSHA256)

	kur, err := cl.UpdateKey(ctx, &cmpclient.CertRequest{Key: key3}, ir.Certificate, key1)
	if err != nil {
		t.Fatalf("kur after restart: %v", err)
	}
	if kur.Certificate.Subject.String() != "CN=life" || kur.Operation != "kur" {
		t.Errorf("kur certificate subject %s, operation %q", kur.Certificate.Subject, kur.Operation)
	}
	if err := cl.Revoke(ctx, ir.Certificate, key1, cmpclient.ReasonSuperseded); err != nil {
		t.Fatalf("rr after restart: %v", err)
	}
	if rec, _ := c.ca.store.lookup(ir.Certificate.SerialNumber); !rec.revoked || rec.reason != int(cmpclient.ReasonSuperseded) {
		t.Errorf("store after rr: revoked %v reason %d", rec.revoked, rec.reason)
	}

	creds := opensslpeer.NewCreds(t)
	refusals := []struct {
		name string
		do   func() error
		want cmp.FailureInfo
	}{
		{"kur after rr", func() error {
			_, err := cl.UpdateKey(ctx, &cmpclient.CertRequest{Key: newKey(t)}, ir.Certificate, key1)
			return err
		}, cmp.FailCertRevoked},
		{"cr signed by a revoked certificate", func() error {
			_, err := cl.Certify(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "x"}, Key: newKey(t)}, ir.Certificate, key1)
			return err
		}, cmp.FailCertRevoked},
		{"rr of a revoked certificate", func() error {
			return cl.Revoke(ctx, ir.Certificate, key1, cmpclient.ReasonKeyCompromise)
		}, cmp.FailCertRevoked},
		{"kur signed by a foreign certificate", func() error {
			_, err := cl.UpdateKey(ctx, &cmpclient.CertRequest{Key: newKey(t)}, creds.Device.Cert, creds.Device.Key)
			return err
		}, cmp.FailSignerNotTrusted},
		{"rr protected by MAC under another reference", func() error {
			if c.ca.Reference() == firstReference {
				t.Fatal("the restart kept the reference")
			}
			return cl.Revoke(ctx, kur.Certificate, nil, cmpclient.ReasonUnspecified)
		}, cmp.FailNotAuthorized},
		{"rr signed by another subject's certificate", func() error {
			other, err := cl.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "other"}, Key: key2})
			if err != nil {
				return err
			}
			return (&cmpclient.Client{URL: c.url(), TrustAnchors: cl.TrustAnchors,
				Credentials: cmpclient.SignatureCredentials{Key: key2, Chain: []*x509.Certificate{other.Certificate}}}).
				Revoke(ctx, kur.Certificate, nil, cmpclient.ReasonUnspecified)
		}, cmp.FailNotAuthorized},
		{"wrong secret", func() error {
			bad := c.client(cmpclient.PBMHMACSHA256)
			bad.Credentials = cmpclient.MACCredentials{Reference: c.ca.Reference(), Secret: []byte("wrong")}
			bad.AllowUnprotectedErrors = true
			_, err := bad.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "w"}, Key: newKey(t)})
			return err
		}, cmp.FailBadMessageCheck},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			wantCMPError(t, r.do(), r.want)
		})
	}
	if rec, _ := c.ca.store.lookup(kur.Certificate.SerialNumber); rec.revoked {
		t.Error("a refused rr revoked the certificate")
	}
}

func TestClientOperations(t *testing.T) {
	creds := opensslpeer.NewCreds(t)
	tests := []struct {
		name string
		cfg  Config
		run  func(t *testing.T, c *testCA)
	}{
		{"ir signed by a trusted external certificate", Config{Trusted: []*x509.Certificate{creds.Root.Cert}}, func(t *testing.T, c *testCA) {
			cl := c.client(0)
			cl.Credentials = cmpclient.SignatureCredentials{Key: creds.Device.Key, Chain: []*x509.Certificate{creds.Device.Cert}}
			e, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "device"}, Key: newKey(t)})
			if err != nil {
				t.Fatal(err)
			}
			if e.Certificate.Subject.CommonName != "device" {
				t.Errorf("subject %s", e.Certificate.Subject)
			}
		}},
		{"p10cr signed by a trusted external certificate", Config{Trusted: []*x509.Certificate{creds.Root.Cert}}, func(t *testing.T, c *testCA) {
			cl := c.client(0)
			cl.Credentials = cmpclient.SignatureCredentials{Key: creds.Device.Key, Chain: []*x509.Certificate{creds.Device.Cert}}
			csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "device-csr"}}, newKey(t))
			if err != nil {
				t.Fatal(err)
			}
			e, err := cl.EnrollCSR(ctxT(t), csr)
			if err != nil {
				t.Fatal(err)
			}
			if ev, _ := c.log.last("p10cr"); e.Certificate.Subject.CommonName != "device-csr" || ev.Protection != "signature" {
				t.Errorf("subject %s, protection %q", e.Certificate.Subject, ev.Protection)
			}
			if ev, _ := c.log.last("certConf"); ev.Status != "confirmed" {
				t.Errorf("certConf %q, want confirmed", ev.Status)
			}
		}},
		{"ir signed by an untrusted certificate", Config{}, func(t *testing.T, c *testCA) {
			cl := c.client(0)
			cl.Credentials = cmpclient.SignatureCredentials{Key: creds.Device.Key, Chain: []*x509.Certificate{creds.Device.Cert}}
			_, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "device"}, Key: newKey(t)})
			wantCMPError(t, err, cmp.FailSignerNotTrusted)
		}},
		{"profile path and root path", Config{}, func(t *testing.T, c *testCA) {
			for _, tc := range []struct{ path, profile string }{{"/.well-known/cmp/p/tls", "tls"}, {"/", ""}} {
				cl := c.client(0)
				cl.URL = c.srv.URL + tc.path
				if _, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "profile"}, Key: newKey(t)}); err != nil {
					t.Fatalf("%s: %v", tc.path, err)
				}
				if ev, _ := c.log.last("ir"); ev.Profile != tc.profile {
					t.Errorf("%s: event profile %q, want %q", tc.path, ev.Profile, tc.profile)
				}
			}
		}},
		{"p10cr", Config{}, func(t *testing.T, c *testCA) {
			key := newKey(t)
			csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "p10"}, DNSNames: []string{"p10.example"}}, key)
			if err != nil {
				t.Fatal(err)
			}
			e, err := c.client(0).EnrollCSR(ctxT(t), csr)
			if err != nil {
				t.Fatal(err)
			}
			if e.Certificate.Subject.CommonName != "p10" || len(e.Certificate.DNSNames) != 1 || e.Operation != "p10cr" {
				t.Errorf("p10cr certificate %s %v %q", e.Certificate.Subject, e.Certificate.DNSNames, e.Operation)
			}
		}},
		{"genm rootCaCert with a new root announced", Config{AnnounceNewRoot: true}, func(t *testing.T, c *testCA) {
			// RFC 9483 4.3.2: the update certifies the new root's key with
			// the old root and the old root's key with the new one; the
			// client checks both (cmpclient.RootCAUpdate).
			cl, old := c.client(0), c.ca.CACertificate()
			upd, err := cl.RootCAUpdate(ctxT(t), old)
			if err != nil || upd == nil || upd.NewWithOld == nil || upd.OldWithNew == nil {
				t.Fatalf("rootCaCert: update %+v, %v; want newWithNew, newWithOld and oldWithNew", upd, err)
			}
			if certificateEqual(upd.NewWithNew, old) || string(upd.NewWithNew.RawSubject) != string(old.RawSubject) {
				t.Errorf("new root %s is the old one or renamed", upd.NewWithNew.Subject)
			}
			// Asked about a root that is not the CA's: no update.
			other := testpki.Root(t, "another root").Cert
			if upd, err := cl.RootCAUpdate(ctxT(t), other); err != nil || upd != nil {
				t.Errorf("rootCaCert for another root: update %+v, %v; want none", upd, err)
			}
			// The CA still issues under its current root.
			e, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Key: newKey(t), Subject: pkix.Name{CommonName: "after"}})
			if err != nil || e.Certificate.CheckSignatureFrom(old) != nil {
				t.Errorf("enrolment after the announcement: %v; want a certificate under the current root", err)
			}
		}},
		{"genm caCerts, rootCaCert, certReqTemplate", Config{}, func(t *testing.T, c *testCA) {
			cl := c.client(0)
			certs, err := cl.CACerts(ctxT(t))
			if err != nil || len(certs) != 1 || !certificateEqual(certs[0], c.ca.CACertificate()) {
				t.Fatalf("caCerts: %d, %v", len(certs), err)
			}
			upd, err := cl.RootCAUpdate(ctxT(t), c.ca.CACertificate())
			if err != nil || upd != nil {
				t.Errorf("rootCaCert: update %+v, %v; want no update", upd, err)
			}
			// RFC 9483 4.3.3: a template with a subject to fill in, no
			// publicKey, and one keySpec control per accepted key type.
			tmpl, err := cl.CertReqTemplate(ctxT(t))
			if err != nil || tmpl == nil {
				t.Fatalf("certReqTemplate: %+v, %v; want a template", tmpl, err)
			}
			if tmpl.Subject == nil || len(tmpl.Subject.Names) != 1 || tmpl.Subject.CommonName != "" || tmpl.PublicKeyAlgorithm != nil {
				t.Errorf("certReqTemplate subject %+v, public key algorithm %v; want an empty common name to fill in, no key", tmpl.Subject, tmpl.PublicKeyAlgorithm)
			}
			var algs []string
			for _, a := range tmpl.KeyAlgorithms {
				algs = append(algs, a.Algorithm.String())
			}
			if want := []string{cmp.OIDECPublicKey.String(), cmp.OIDECPublicKey.String(), cmp.OIDECPublicKey.String(), cmp.OIDEd25519.String()}; !slices.Equal(algs, want) {
				t.Errorf("certReqTemplate key algorithms %v, want %v", algs, want)
			}
			if want := []int{2048, 3072, 4096}; !slices.Equal(tmpl.RSAKeyLengths, want) {
				t.Errorf("certReqTemplate RSA key lengths %v, want %v", tmpl.RSAKeyLengths, want)
			}
			// Every key type the template names is one the CA certifies.
			for _, a := range tmpl.KeyAlgorithms[:3] {
				var curve asn1.ObjectIdentifier
				if _, err := asn1.Unmarshal(a.Parameters.FullBytes, &curve); err != nil {
					t.Fatalf("curve of %v: %v", a.Algorithm, err)
				}
				key := map[string]elliptic.Curve{cmp.OIDCurveP256.String(): elliptic.P256(), cmp.OIDCurveP384.String(): elliptic.P384(), cmp.OIDCurveP521.String(): elliptic.P521()}[curve.String()]
				if key == nil {
					t.Fatalf("unknown curve %v", curve)
				}
				k, err := ecdsa.GenerateKey(key, rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "templated"}, Key: k}); err != nil {
					t.Errorf("enroll a %v key: %v", curve, err)
				}
			}
			if ev, _ := c.log.last("genm"); ev.Status != "accepted" || len(ev.InfoTypes) != 1 || ev.InfoTypes[0] != cmp.OIDCertReqTemplate.String() {
				t.Errorf("genm event %+v", ev)
			}
		}},
		{"implicit confirm granted", Config{ImplicitConfirm: true}, func(t *testing.T, c *testCA) {
			cl := c.client(0)
			cl.ImplicitConfirm = true
			e, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "ic"}, Key: newKey(t)})
			if err != nil || !e.ImplicitlyConfirmed {
				t.Fatalf("implicitly confirmed %v, %v", e != nil && e.ImplicitlyConfirmed, err)
			}
			if _, ok := c.log.last("certConf"); ok {
				t.Error("a certConf was sent despite implicit confirmation")
			}
		}},
		{"implicit confirm not enabled", Config{}, func(t *testing.T, c *testCA) {
			cl := c.client(0)
			cl.ImplicitConfirm = true
			e, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "ic"}, Key: newKey(t)})
			if err != nil || e.ImplicitlyConfirmed {
				t.Fatalf("implicitly confirmed %v, %v", e != nil && e.ImplicitlyConfirmed, err)
			}
		}},
		{"polling", Config{Polls: 2, CheckAfter: time.Second}, func(t *testing.T, c *testCA) {
			_, err := c.client(0).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "poll"}, Key: newKey(t)})
			if err != nil {
				t.Fatal(err)
			}
			expectEvents(t, c.log, 0, "ir:waiting", "pollReq:waiting", "pollReq:accepted", "certConf:confirmed")
		}},
		{"validity capped by policy", Config{MaxValidity: time.Hour, DefaultValidity: 90 * time.Second}, func(t *testing.T, c *testCA) {
			cl := c.client(0)
			e, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "short"}, Key: newKey(t)})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Certificate.NotAfter.Sub(e.Certificate.NotBefore); got != 90*time.Second+notBeforeBackdate {
				t.Errorf("notBefore to notAfter %v, want 90s and the backdating %v", got, notBeforeBackdate)
			}
			e, err = cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "long"}, Key: newKey(t), NotAfter: time.Now().Add(48 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Certificate.NotAfter.Sub(e.Certificate.NotBefore); got != time.Hour+notBeforeBackdate || e.Status.Status != cmp.StatusGrantedWithMods {
				t.Errorf("notBefore to notAfter %v status %v, want 1h and the backdating %v, grantedWithMods", got, e.Status, notBeforeBackdate)
			}
		}},
		{"duplicate ir refused by policy", Config{RejectDuplicateIR: true}, func(t *testing.T, c *testCA) {
			cl := c.client(0)
			req := &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "dup"}, Key: newKey(t)}
			first, err := cl.Enroll(ctxT(t), req)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.Enroll(ctxT(t), req)
			wantCMPError(t, err, cmp.FailDuplicateCertReq)
			// Once the first is revoked the subject may enroll again.
			if err := cl.Revoke(ctxT(t), first.Certificate, req.Key, cmpclient.ReasonCessationOfOperation); err != nil {
				t.Fatal(err)
			}
			if _, err := cl.Enroll(ctxT(t), req); err != nil {
				t.Fatalf("ir after revocation: %v", err)
			}
		}},
		{"CA template with a CA request is refused", Config{}, func(t *testing.T, c *testCA) {
			bc, err := asn1.Marshal(struct{ IsCA bool }{true})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.client(0).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "sub-ca"}, Key: newKey(t),
				ExtraExtensions: []pkix.Extension{{Id: cmp.OIDExtBasicConstraints, Critical: true, Value: bc}}})
			wantCMPError(t, err, cmp.FailBadCertTemplate)
		}},
		{"fault wrong-certificate: the client rejects, the CA revokes", Config{Faults: []Fault{FaultWrongCertificate}}, func(t *testing.T, c *testCA) {
			_, err := c.client(0).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "wrong"}, Key: newKey(t)})
			if err == nil {
				t.Fatal("the client accepted a certificate for another key")
			}
			ev, _ := c.log.last("certConf")
			if ev.Status != "rejected" {
				t.Fatalf("certConf event %+v, want rejected", ev)
			}
			if _, revoked, ok := c.ca.Certificate(ev.Serial); !ok || !revoked {
				t.Error("the rejected certificate is not revoked")
			}
		}},
		{"fault certconf-error", Config{Faults: []Fault{FaultCertConfError}}, func(t *testing.T, c *testCA) {
			_, err := c.client(0).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "cc"}, Key: newKey(t)})
			if err == nil {
				t.Fatal("the client did not report the failed certConf")
			}
			wantCMPError(t, err, cmp.FailSystemFailure)
		}},
		{"fault drop-after-issue", Config{Faults: []Fault{FaultDropAfterIssue}}, func(t *testing.T, c *testCA) {
			_, err := c.client(0).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "lost"}, Key: newKey(t)})
			if err == nil {
				t.Fatal("the client did not notice the lost answer")
			}
			ev, _ := c.log.last("ir")
			if _, revoked, ok := c.ca.Certificate(ev.Serial); !ok || revoked {
				t.Errorf("the dropped certificate: recorded %v, revoked %v; want recorded and awaiting certConf", ok, revoked)
			}
			// No certConf can come: a CA that stops revokes it.
			c.srv.Close()
			c.ca.Close()
			serial, _ := new(big.Int).SetString(ev.Serial, 10)
			if rec, _ := c.ca.store.lookup(serial); !rec.revoked {
				t.Error("the dropped certificate stayed valid after the CA stopped")
			}
		}},
		{"fault wrong-recip-nonce", Config{Faults: []Fault{FaultWrongRecipNonce}}, func(t *testing.T, c *testCA) {
			if _, err := c.client(0).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "n"}, Key: newKey(t)}); err == nil {
				t.Fatal("the client accepted a wrong recipNonce")
			}
		}},
		{"fault reject-enrollment", Config{Faults: []Fault{FaultRejectAll}}, func(t *testing.T, c *testCA) {
			_, err := c.client(0).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "r"}, Key: newKey(t)})
			wantCMPError(t, err, cmp.FailBadRequest)
		}},
		{"fault unprotected-error", Config{Faults: []Fault{FaultUnprotectedError}}, func(t *testing.T, c *testCA) {
			cl := c.client(0)
			_, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "u"}, Key: newKey(t)})
			var ce *cmpclient.Error
			if err == nil || (errors.As(err, &ce) && !ce.Unprotected) {
				t.Fatalf("the client accepted an unprotected error as protected: %v", err)
			}
			cl.AllowUnprotectedErrors = true
			_, err = cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "u"}, Key: newKey(t)})
			if ce := wantCMPError(t, err, cmp.FailSystemUnavail); !ce.Unprotected {
				t.Error("error not marked unprotected")
			}
		}},
		{"fault wrong-transaction-id", Config{Faults: []Fault{FaultWrongTransactionID}}, func(t *testing.T, c *testCA) {
			if _, err := c.client(0).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "tx"}, Key: newKey(t)}); err == nil {
				t.Fatal("the client accepted a wrong transactionID")
			}
		}},
		{"fault slow", Config{Faults: []Fault{FaultSlow}}, func(t *testing.T, c *testCA) {
			cl := c.client(0)
			cl.MessageTimeout = 300 * time.Millisecond
			start := time.Now()
			if _, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "slow"}, Key: newKey(t)}); err == nil {
				t.Fatal("the client did not time out")
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("timing out took %v", d)
			}
		}},
		{"fault bad-protection", Config{Faults: []Fault{FaultBadProtection}}, func(t *testing.T, c *testCA) {
			if _, err := c.client(0).Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "p"}, Key: newKey(t)}); err == nil {
				t.Fatal("the client accepted a broken MAC")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, startCA(t, tc.cfg))
		})
	}
}

// TestClientConcurrentEnrollments runs parallel transactions: none may fail
// and every certificate must be in the record, also after a reload.
func TestClientConcurrentEnrollments(t *testing.T) {
	const n = 60
	dir := t.TempDir()
	c := startCA(t, Config{Dir: dir})
	cl := c.client(cmpclient.PBMHMACSHA256)
	keys := make([]crypto.Signer, n)
	for i := range keys {
		keys[i] = newKey(t)
	}
	serials := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "parallel"}, Key: keys[i]})
			if err != nil {
				errs <- err
				return
			}
			serials[i] = e.Certificate.SerialNumber.String()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	s, err := openStoreReadOnly(t, filepath.Join(dir, recordFile))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, serial := range serials {
		if seen[serial] {
			t.Errorf("serial %s issued twice", serial)
		}
		seen[serial] = true
		if !s[serial] {
			t.Errorf("serial %s is missing from the record", serial)
		}
	}
	confirmed := 0
	for _, e := range c.log.all() {
		if e.Op == "certConf" && e.Status == "confirmed" {
			confirmed++
		}
	}
	if confirmed != n {
		t.Errorf("%d confirmations, want %d", confirmed, n)
	}
}

// openStoreReadOnly replays a record file into the set of issued serials.
func openStoreReadOnly(t *testing.T, path string) (map[string]bool, error) {
	t.Helper()
	s := &store{bySerial: map[string]*storedCert{}, bySubject: map[string][]*storedCert{}}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := s.replay(f); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for serial := range s.bySerial {
		out[serial] = true
	}
	return out, nil
}

// BenchmarkEnroll measures complete enrollments (ir + certConf, PBM)
// through HTTP on loopback from 8*GOMAXPROCS concurrent clients; the
// reported enrollments/s is the figure for performance work.
func BenchmarkEnroll(b *testing.B) {
	for _, implicit := range []bool{false, true} {
		name := "with-certConf"
		if implicit {
			name = "implicit-confirm"
		}
		b.Run(name, func(b *testing.B) {
			c := startCA(b, Config{ImplicitConfirm: implicit, Events: func(Event) {}})
			cl := c.client(cmpclient.PBMHMACSHA256)
			cl.ImplicitConfirm = implicit
			key := newKey(b)
			b.ResetTimer()
			start := time.Now()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := cl.Enroll(context.Background(), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "bench"}, Key: key}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "enrollments/s")
		})
	}
}

// TestClientUserIntermediateCA runs the CA with a user-supplied
// intermediate CA whose ca.crt also holds its root: clients that trust only
// the root can verify answers and chains, and caPubs is the root.
func TestClientUserIntermediateCA(t *testing.T) {
	now := time.Now()
	rootCA := testpki.Issue(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "User Root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	root := rootCA.Cert
	inter := testpki.Issue(t, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "User Issuing CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, rootCA)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, caCertFile), append(inter.CertPEM(), rootCA.CertPEM()...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, caKeyFile), inter.KeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startCA(t, Config{Dir: dir})
	cl := c.client(0)
	cl.TrustAnchors = []*x509.Certificate{root}
	key := newKey(t)
	e, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "leaf"}, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.CACerts) != 1 || !certificateEqual(e.CACerts[0], root) {
		t.Errorf("caPubs %d certificates, want the user's root", len(e.CACerts))
	}
	if e.Certificate.Issuer.CommonName != "User Issuing CA" {
		t.Errorf("issuer %s", e.Certificate.Issuer)
	}
	// A signed request (cr) gets a signed answer the root-only client verifies.
	if _, err := cl.Certify(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "leaf2"}, Key: newKey(t)}, e.Certificate, key); err != nil {
		t.Fatalf("cr: %v", err)
	}
	certs, err := cl.CACerts(ctxT(t))
	if err != nil || len(certs) != 2 {
		t.Fatalf("caCerts: %d, %v; want issuing CA and root", len(certs), err)
	}
}

// TestClientUnprotectedSupportMessages: the CA answers an unprotected genm
// (RFC 9810 5.1.3.4) with a genp signed by its CMP signer, which a client
// without credentials verifies against the CA certificate; without a
// trust anchor the client sends nothing.
func TestClientUnprotectedSupportMessages(t *testing.T) {
	var mu sync.Mutex
	var events []Event
	c := startCA(t, Config{Events: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	cl := &cmpclient.Client{URL: c.url(), UnprotectedSupportMessages: true, TrustAnchors: []*x509.Certificate{c.ca.CACertificate()}}
	certs, err := cl.CACerts(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) == 0 || !certs[len(certs)-1].Equal(c.ca.CACertificate()) {
		t.Fatalf("caCerts %v do not end with the CA certificate", certs)
	}
	if upd, err := cl.RootCAUpdate(ctxT(t), c.ca.CACertificate()); err != nil || upd != nil {
		t.Fatalf("RootCAUpdate: %v, %v; want no update", upd, err)
	}
	if _, err := cl.Enroll(ctxT(t), &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "x"}, Key: newKey(t)}); err == nil {
		t.Fatal("an ir without credentials was sent")
	}
	untrusting := *cl
	untrusting.TrustAnchors = nil
	if _, err := untrusting.CACerts(ctxT(t)); !errors.Is(err, cmpclient.ErrNoTrust) {
		t.Fatalf("got %v, want ErrNoTrust", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 {
		t.Fatalf("%d messages reached the CA, want the 2 genm", len(events))
	}
	for _, e := range events {
		if e.Op != "genm" || e.Protection != protectionNone || e.Status != cmp.StatusAccepted.String() {
			t.Errorf("event %+v, want an accepted unprotected genm", e)
		}
	}
}

package devca

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
)

// expectProtection checks the protection of every event since from.
func expectProtection(t *testing.T, log *eventLog, from int, want string) {
	t.Helper()
	for _, e := range log.all()[from:] {
		if e.Protection != want {
			t.Errorf("event %s:%s protected by %q, want %q", e.Op, e.Status, e.Protection, want)
		}
	}
}

// TestInteropOpenSSLMACUpdates drives cr, kur and rr protected by the
// shared secret with OpenSSL's client (RFC 9810 5.1.3.1), and the
// refusals of the ownership rule: a MAC-protected kur or rr may name only a
// certificate enrolled under the same reference.
func TestInteropOpenSSLMACUpdates(t *testing.T) {
	creds := opensslpeer.NewCreds(t)
	c := startCA(t, Config{Trusted: []*x509.Certificate{creds.Root.Cert}})
	dir := t.TempDir()
	key1, _ := writeKey(t, dir, "k1.pem")
	key2, _ := writeKey(t, dir, "k2.pem")
	key3, _ := writeKey(t, dir, "k3.pem")
	irCert := filepath.Join(dir, "ir.crt")
	kurCert := filepath.Join(dir, "kur.crt")
	deviceCert := filepath.Join(dir, "device.crt")

	steps := []opensslStep{
		{
			name:   "ir with PBM",
			args:   append(c.pbm(), "-cmd", "ir", "-newkey", key1, "-subject", "/CN=mac-updates", "-certout", irCert),
			texts:  []string{"received IP", "received PKICONF"},
			events: []string{"ir:accepted", "certConf:confirmed"}, protection: protectionMAC,
		},
		{
			name:   "cr with PBM",
			args:   append(c.pbm(), "-cmd", "cr", "-newkey", key2, "-subject", "/CN=mac-updates-cr", "-certout", filepath.Join(dir, "cr.crt")),
			texts:  []string{"received CP", "received PKICONF"},
			events: []string{"cr:accepted", "certConf:confirmed"}, protection: protectionMAC,
		},
		{
			name:   "kur with PBM naming the ir certificate",
			args:   append(c.pbm(), "-cmd", "kur", "-oldcert", irCert, "-newkey", key3, "-certout", kurCert),
			texts:  []string{"received KUP", "received PKICONF"},
			events: []string{"kur:accepted", "certConf:confirmed"}, protection: protectionMAC,
		},
		{
			name:   "rr with PBM of the kur certificate",
			args:   append(c.pbm(), "-cmd", "rr", "-oldcert", kurCert, "-revreason", "4"),
			texts:  []string{"received RP", "revocation accepted"},
			events: []string{"rr:accepted"}, protection: protectionMAC,
		},
		{
			name:   "kur with PBM of a revoked certificate is refused",
			args:   append(c.pbm(), "-cmd", "kur", "-oldcert", kurCert, "-newkey", key1, "-certout", filepath.Join(dir, "never.crt")),
			code:   1,
			texts:  []string{"PKIFailureInfo: certRevoked", "is revoked"},
			events: []string{"kur:rejection"}, protection: protectionMAC,
		},
		{
			name:  "ir signed with an externally issued certificate",
			args:  append(c.signed(creds.Device.CertFile, creds.Device.KeyFile), "-cmd", "ir", "-newkey", key2, "-subject", "/CN=device", "-certout", deviceCert),
			texts: []string{"received IP", "received PKICONF"},
			// OpenSSL names the device's issuer in the template: modified.
			events: []string{"ir:grantedWithMods", "certConf:confirmed"}, protection: protectionSignature,
		},
		{
			name:   "kur with PBM of a certificate enrolled with another credential is refused",
			args:   append(c.pbm(), "-cmd", "kur", "-oldcert", deviceCert, "-newkey", key3, "-certout", filepath.Join(dir, "never.crt")),
			code:   1,
			texts:  []string{"PKIFailureInfo: notAuthorized", "does not belong to reference"},
			events: []string{"kur:rejection"}, protection: protectionMAC,
		},
		{
			name:   "rr with PBM of a certificate enrolled with another credential is refused",
			args:   append(c.pbm(), "-cmd", "rr", "-oldcert", deviceCert),
			code:   1,
			texts:  []string{"PKIFailureInfo: notAuthorized"},
			events: []string{"rr:rejection"}, protection: protectionMAC,
		},
	}
	runOpenSSLSteps(t, c, steps)
	if _, revoked, _ := c.ca.Certificate(readCert(t, deviceCert).SerialNumber.String()); revoked {
		t.Error("a refused rr revoked the device's certificate")
	}
}

// TestMACUpdateOwnership: which certificates a kur or rr protected by the
// shared secret may name (ownedBy), with cmpclient. A certificate belongs
// to the reference that enrolled it, also when later updated by a signed
// request, and keeps it across a restart; a restart under another
// reference, an externally signed enrollment or an expired certificate
// stop a MAC-protected update. Vault (no shared secrets) refuses them all.
func TestMACUpdateOwnership(t *testing.T) {
	creds := opensslpeer.NewCreds(t)
	ctx := ctxT(t)
	enroll := func(t *testing.T, cl *cmpclient.Client, cn string) (*x509.Certificate, crypto.Signer) {
		t.Helper()
		key := newKey(t)
		e, err := cl.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: cn}, Key: key})
		if err != nil {
			t.Fatalf("ir: %v", err)
		}
		return e.Certificate, key
	}
	kur := func(cl *cmpclient.Client, old *x509.Certificate) error {
		_, err := cl.UpdateKey(ctx, &cmpclient.CertRequest{Key: newKey(t)}, old, nil)
		return err
	}
	rr := func(cl *cmpclient.Client, cert *x509.Certificate) error {
		return cl.Revoke(ctx, cert, nil, cmpclient.ReasonSuperseded)
	}

	t.Run("cr, kur and rr of the reference's certificates", func(t *testing.T) {
		c := startCA(t, Config{})
		cl := c.client(cmpclient.PBMHMACSHA256)
		cert, key := enroll(t, cl, "owned")
		cr, err := cl.Certify(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "owned"}, DNSNames: []string{"owned.example"}, Key: newKey(t)}, nil, nil)
		if err != nil {
			t.Fatalf("cr: %v", err)
		}
		// A signed kur of the MAC-enrolled certificate: the new one
		// belongs to the same reference.
		signedKUR, err := cl.UpdateKey(ctx, &cmpclient.CertRequest{Key: newKey(t)}, cert, key)
		if err != nil {
			t.Fatalf("signed kur: %v", err)
		}
		from := len(c.log.all())
		macKUR, err := cl.UpdateKey(ctx, &cmpclient.CertRequest{Key: newKey(t)}, signedKUR.Certificate, nil)
		if err != nil {
			t.Fatalf("MAC kur of a certificate issued by a signed kur: %v", err)
		}
		if macKUR.Certificate.Subject.CommonName != "owned" {
			t.Errorf("MAC kur subject %s, want the old certificate's", macKUR.Certificate.Subject)
		}
		for _, victim := range []*x509.Certificate{cr.Certificate, macKUR.Certificate} {
			if err := rr(cl, victim); err != nil {
				t.Fatalf("MAC rr: %v", err)
			}
			if _, revoked, _ := c.ca.Certificate(victim.SerialNumber.String()); !revoked {
				t.Errorf("serial %s not revoked", victim.SerialNumber)
			}
		}
		expectEvents(t, c.log, from, "kur:accepted", "certConf:confirmed", "rr:accepted", "rr:accepted")
		expectProtection(t, c.log, from, protectionMAC)
	})

	t.Run("a restart under another reference", func(t *testing.T) {
		dir := t.TempDir()
		c := startCA(t, Config{Dir: dir})
		cert, _ := enroll(t, c.client(cmpclient.PBMHMACSHA256), "first-owner")
		c.srv.Close()
		c.ca.Close()
		// Under the first reference again the certificate is still its
		// (certs.jsonl records the owner)...
		again := startCA(t, Config{Dir: dir})
		if err := kur(again.client(cmpclient.PBMHMACSHA256), cert); err != nil {
			t.Fatalf("MAC kur after a restart: %v", err)
		}
		again.srv.Close()
		again.ca.Close()
		// ...but not another reference's, which the same secret protects.
		other := startCA(t, Config{Dir: dir, Reference: "second-owner"})
		cl := other.client(cmpclient.PBMHMACSHA256)
		wantCMPError(t, kur(cl, cert), cmp.FailNotAuthorized)
		wantCMPError(t, rr(cl, cert), cmp.FailNotAuthorized)
		expectEvents(t, other.log, 0, "kur:rejection", "rr:rejection")
	})

	t.Run("a certificate enrolled with an external certificate", func(t *testing.T) {
		c := startCA(t, Config{Trusted: []*x509.Certificate{creds.Root.Cert}})
		ext := c.client(cmpclient.PBMHMACSHA256)
		ext.Credentials = cmpclient.SignatureCredentials{Key: creds.Device.Key, Chain: []*x509.Certificate{creds.Device.Cert}}
		cert, _ := enroll(t, ext, "device")
		cl := c.client(cmpclient.PBMHMACSHA256)
		wantCMPError(t, kur(cl, cert), cmp.FailNotAuthorized)
		wantCMPError(t, rr(cl, cert), cmp.FailNotAuthorized)
	})

	t.Run("an expired certificate", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		c := startCA(t, Config{Now: clock, DefaultValidity: time.Hour, MaxTimeSkew: -1})
		cl := c.client(cmpclient.PBMHMACSHA256)
		cert, _ := enroll(t, cl, "expiring")
		mu.Lock()
		now = now.Add(2 * time.Hour)
		mu.Unlock()
		ce := wantCMPError(t, kur(cl, cert), cmp.FailBadCertID)
		if !strings.Contains(strings.Join(ce.StatusString, " "), "expired") {
			t.Errorf("statusString %q does not say it expired", ce.StatusString)
		}
	})

	t.Run("vault refuses MAC-protected cr and kur", func(t *testing.T) {
		c := startCA(t, Config{Emulate: EmulateVault})
		for _, body := range []cmp.BodyType{cmp.BodyCR, cmp.BodyKUR} {
			key := newKey(t)
			m := &cmp.Message{Header: header(rawName(t, "v")), Body: cmp.Body{Type: body, CertReq: []cmp.CertReqMsg{certReq(t, "v", key, key)}}}
			rec := postAs(c.ca, "/v1/pki/cmp", macProtect(t, m, c.ca.Reference(), c.ca.Secret()), creds.Device.Cert, "", "")
			if _, fi := cmpError(t, rec); fi != cmp.FailWrongIntegrity {
				t.Errorf("%s: failInfo %v, want wrongIntegrity", body, fi)
			}
		}
	})

	t.Run("mtg accepts MAC-protected kur and rr", func(t *testing.T) {
		c := startCA(t, Config{Emulate: EmulateMTG})
		cl := c.client(cmpclient.PBMHMACSHA256)
		cl.URL = c.srv.URL + "/cmp"
		cert, _ := enroll(t, cl, "mtg-mac")
		next, err := cl.UpdateKey(ctx, &cmpclient.CertRequest{Key: newKey(t)}, cert, nil)
		if err != nil {
			t.Fatalf("MAC kur: %v", err)
		}
		if err := rr(cl, next.Certificate); err != nil {
			t.Fatalf("MAC rr: %v", err)
		}
		expectEvents(t, c.log, 0, "ir:accepted", "certConf:confirmed", "kur:accepted", "certConf:confirmed", "rr:accepted")
		expectProtection(t, c.log, 0, protectionMAC)
	})
}

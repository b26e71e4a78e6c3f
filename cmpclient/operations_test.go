package cmpclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

func TestRevoke(t *testing.T) {
	pki := newTestPKI(t)
	tests := []struct {
		name     string
		status   cmp.PKIStatusInfo
		withKey  bool
		wantErr  string
		wantKind string // "signature" or "mac"
	}{
		{name: "accepted_signed", withKey: true, wantKind: "signature"},
		{name: "accepted_mac", wantKind: "mac"},
		{name: "already_revoked_counts_as_done", withKey: true, wantKind: "signature",
			status: cmp.PKIStatusInfo{Status: cmp.StatusRejection, FailInfo: cmp.FailCertRevoked, HasFailInfo: true}},
		{name: "rejected", withKey: true, wantKind: "signature",
			status:  cmp.PKIStatusInfo{Status: cmp.StatusRejection, FailInfo: cmp.FailBadCertID, HasFailInfo: true, StatusString: []string{"unknown certificate"}},
			wantErr: `cmp rr (transaction `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &responder{pki: pki, revStatus: tt.status}
			c := startResponder(t, r)
			req := certRequest(t, "to-revoke")
			enr, err := c.Enroll(testContext(t), req)
			if err != nil {
				t.Fatal(err)
			}
			key := req.Key
			if !tt.withKey {
				key = nil
			}
			err = c.Revoke(testContext(t), enr.Certificate, key, ReasonKeyCompromise)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if tt.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `rejection: badCertId: "unknown certificate"`) {
					t.Fatalf("Revoke: %v, want *Error naming badCertId", err)
				}
			}
			reqs := r.requests()
			rr := reqs[len(reqs)-1]
			if rr.Body.Type != cmp.BodyRR || len(rr.Body.RevReq) != 1 {
				t.Fatalf("last request %s", rr.Body.Type)
			}
			d := rr.Body.RevReq[0]
			if d.CertDetails.SerialNumber.Cmp(enr.Certificate.SerialNumber) != 0 || string(d.CertDetails.Issuer) != string(enr.Certificate.RawIssuer) {
				t.Errorf("rr names serial %v issuer %x", d.CertDetails.SerialNumber, d.CertDetails.Issuer)
			}
			if reason, ok, err := d.Reason(); !ok || err != nil || reason != cmp.ReasonKeyCompromise {
				t.Errorf("reason %v %v %v", reason, ok, err)
			}
			if kind := map[bool]string{true: "mac", false: "signature"}[cmp.IsMACProtected(rr.Header.ProtectionAlg)]; kind != tt.wantKind {
				t.Errorf("rr protected by %s, want %s", kind, tt.wantKind)
			}
		})
	}
}

func TestParseReason(t *testing.T) {
	tests := []struct {
		in   string
		want Reason
		ok   bool
	}{
		{"key_compromise", ReasonKeyCompromise, true},
		{"keyCompromise", ReasonKeyCompromise, true},
		{"ca_compromise", ReasonCACompromise, true},
		{"cessation_of_operation", ReasonCessationOfOperation, true},
		{"aa_compromise", ReasonAACompromise, true},
		{"superseded", ReasonSuperseded, true},
		{"remove_from_crl", ReasonRemoveFromCRL, true},
		{"bogus", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseReason(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseReason(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func TestGeneralMessages(t *testing.T) {
	pki := newTestPKI(t)
	newRoot := newTestPKI(t)
	newWithOld := issue(t, &x509.Certificate{Subject: newRoot.root.Subject, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, newRoot.rootKey.Public(), pki.root, pki.rootKey)
	oldWithNew := issue(t, &x509.Certificate{Subject: pki.root.Subject, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, pki.rootKey.Public(), newRoot.root, newRoot.rootKey)
	update, err := (&cmp.RootCAKeyUpdate{NewWithNew: newRoot.root.Raw, NewWithOld: newWithOld.Raw, OldWithNew: oldWithNew.Raw}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	caCerts, err := cmp.CACertsValue([][]byte{pki.root.Raw, pki.signer.Raw})
	if err != nil {
		t.Fatal(err)
	}
	tmplSubject, _ := asn1.Marshal(pkix.Name{CommonName: "template", Organization: []string{"Org"}}.ToRDNSequence())
	crt, err := (&cmp.CertReqTemplate{Template: cmp.CertTemplate{Subject: tmplSubject,
		Extensions: []pkix.Extension{{Id: cmp.OIDExtKeyUsage, Critical: true, Value: []byte{3, 2, 7, 0x80}}}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string][]cmp.InfoTypeAndValue{
		cmp.OIDCACerts.String():         {{Type: cmp.OIDCACerts, Value: caCerts}},
		cmp.OIDRootCACert.String():      {{Type: cmp.OIDRootCAKeyUpdate, Value: update}},
		cmp.OIDCertReqTemplate.String(): {{Type: cmp.OIDCertReqTemplate, Value: crt}},
	}
	r := &responder{pki: pki, genp: func(req []cmp.InfoTypeAndValue) []cmp.InfoTypeAndValue { return answers[req[0].Type.String()] }}
	c := startResponder(t, r)

	certs, err := c.CACerts(testContext(t))
	if err != nil || len(certs) != 2 || !certs[0].Equal(pki.root) || !certs[1].Equal(pki.signer) {
		t.Errorf("CACerts = %v, %v", certs, err)
	}

	u, err := c.RootCAUpdate(testContext(t), pki.root)
	if err != nil || !u.NewWithNew.Equal(newRoot.root) || !u.NewWithOld.Equal(newWithOld) || !u.OldWithNew.Equal(oldWithNew) {
		t.Errorf("RootCAUpdate = %+v, %v", u, err)
	}
	if req := r.requests(); !reflect.DeepEqual(req[len(req)-1].Body.GenMsg[0].Value, pki.root.Raw) {
		t.Errorf("rootCaCert genm does not carry the old root")
	}
	// newWithOld must verify with the old root the caller holds.
	if _, err := c.RootCAUpdate(testContext(t), newTestPKI(t).root); err == nil || !strings.Contains(err.Error(), "newWithOld is not signed by the old root") {
		t.Errorf("RootCAUpdate with another old root: %v", err)
	}

	// oldWithNew must be signed by the new root.
	stranger := newTestPKI(t)
	badOldWithNew := issue(t, &x509.Certificate{Subject: pki.root.Subject, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, pki.rootKey.Public(), stranger.root, stranger.rootKey)
	badUpdate, err := (&cmp.RootCAKeyUpdate{NewWithNew: newRoot.root.Raw, NewWithOld: newWithOld.Raw, OldWithNew: badOldWithNew.Raw}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	answers[cmp.OIDRootCACert.String()] = []cmp.InfoTypeAndValue{{Type: cmp.OIDRootCAKeyUpdate, Value: badUpdate}}
	if _, err := c.RootCAUpdate(testContext(t), pki.root); err == nil || !strings.Contains(err.Error(), "oldWithNew is not signed by the new root") {
		t.Errorf("RootCAUpdate with a foreign oldWithNew: %v", err)
	}

	// RFC 9483 4.3.2: with the old root given, newWithOld must be there,
	// signed by it, and certify the new root's name and key; oldWithNew
	// must certify the old root's key.
	otherKey := newTestPKI(t)
	for _, tc := range []struct {
		name    string
		update  cmp.RootCAKeyUpdate
		wantErr string
	}{
		{"newWithOld missing", cmp.RootCAKeyUpdate{NewWithNew: newRoot.root.Raw, OldWithNew: oldWithNew.Raw}, "newWithOld missing"},
		{"newWithOld certifies another key", cmp.RootCAKeyUpdate{NewWithNew: newRoot.root.Raw, OldWithNew: oldWithNew.Raw,
			NewWithOld: issue(t, &x509.Certificate{Subject: newRoot.root.Subject, IsCA: true, BasicConstraintsValid: true,
				KeyUsage: x509.KeyUsageCertSign}, otherKey.rootKey.Public(), pki.root, pki.rootKey).Raw}, "newWithOld does not certify the new root's name and key"},
		{"newWithOld certifies another name", cmp.RootCAKeyUpdate{NewWithNew: newRoot.root.Raw,
			NewWithOld: issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "someone else"}, IsCA: true, BasicConstraintsValid: true,
				KeyUsage: x509.KeyUsageCertSign}, newRoot.rootKey.Public(), pki.root, pki.rootKey).Raw}, "newWithOld does not certify the new root's name and key"},
		{"oldWithNew certifies another key", cmp.RootCAKeyUpdate{NewWithNew: newRoot.root.Raw, NewWithOld: newWithOld.Raw,
			OldWithNew: issue(t, &x509.Certificate{Subject: pki.root.Subject, IsCA: true, BasicConstraintsValid: true,
				KeyUsage: x509.KeyUsageCertSign}, otherKey.rootKey.Public(), newRoot.root, newRoot.rootKey).Raw}, "oldWithNew does not certify the old root's key"},
		{"newWithOld alone", cmp.RootCAKeyUpdate{NewWithNew: newRoot.root.Raw, NewWithOld: newWithOld.Raw}, ""},
	} {
		der, err := tc.update.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		answers[cmp.OIDRootCACert.String()] = []cmp.InfoTypeAndValue{{Type: cmp.OIDRootCAKeyUpdate, Value: der}}
		u, err := c.RootCAUpdate(testContext(t), pki.root)
		switch {
		case tc.wantErr == "" && (err != nil || u == nil || !u.NewWithNew.Equal(newRoot.root)):
			t.Errorf("%s: RootCAUpdate = %+v, %v", tc.name, u, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: RootCAUpdate = %+v, %v; want an error saying %q", tc.name, u, err, tc.wantErr)
		}
	}

	tmpl, err := c.CertReqTemplate(testContext(t))
	if err != nil || tmpl.Subject == nil || tmpl.Subject.CommonName != "template" || len(tmpl.Extensions) != 1 {
		t.Errorf("CertReqTemplate = %+v, %v", tmpl, err)
	}

	// A genp that does not answer the question.
	answers[cmp.OIDCACerts.String()] = []cmp.InfoTypeAndValue{{Type: cmp.OIDSignKeyPairTypes}}
	if _, err := c.CACerts(testContext(t)); !errors.Is(err, ErrNotSupported) {
		t.Errorf("CACerts with unrelated genp: %v, want ErrNotSupported", err)
	}
	// No update and no template are not errors.
	answers[cmp.OIDRootCACert.String()] = []cmp.InfoTypeAndValue{{Type: cmp.OIDRootCAKeyUpdate}}
	answers[cmp.OIDCertReqTemplate.String()] = []cmp.InfoTypeAndValue{{Type: cmp.OIDCertReqTemplate}}
	if u, err := c.RootCAUpdate(testContext(t), nil); u != nil || err != nil {
		t.Errorf("RootCAUpdate without update = %v, %v", u, err)
	}
	if tmpl, err := c.CertReqTemplate(testContext(t)); tmpl != nil || err != nil {
		t.Errorf("CertReqTemplate without template = %v, %v", tmpl, err)
	}
}

// TestPollingDeadline: a checkAfter beyond the caller's deadline ends the
// operation at once with an error that says so.
func TestPollingDeadline(t *testing.T) {
	pki := newTestPKI(t)
	r := &responder{pki: pki}
	r.mutate = func(n int, req, resp *cmp.Message) {
		if req.Body.Type == cmp.BodyIR {
			resp.Body.CertRep.Response[0] = cmp.CertResponse{Status: cmp.PKIStatusInfo{Status: cmp.StatusWaiting}}
		}
	}
	r.pollRep = func(req *cmp.Message) []cmp.PollRepEntry {
		return []cmp.PollRepEntry{{CertReqID: 0, CheckAfter: 3600, Reason: []string{"operator approval"}}}
	}
	c := startResponder(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Enroll(ctx, certRequest(t, "leaf"))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "poll again in 3600s") || !strings.Contains(err.Error(), "operator approval") {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("waited %v", time.Since(start))
	}
}

// TestLogHookNeverSeesSecrets runs operations with MAC credentials and
// basic auth and checks that no logged value and no error holds a secret.
func TestLogHookNeverSeesSecrets(t *testing.T) {
	pki := newTestPKI(t)
	r := &responder{pki: pki}
	c := startResponder(t, r)
	c.Password = "basic-auth-password-91"
	var logged []MessageLog
	c.Log = func(m MessageLog) { logged = append(logged, m) }

	enr, err := c.Enroll(testContext(t), certRequest(t, "leaf"))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Revoke(testContext(t), enr.Certificate, nil, ReasonSuperseded)
	// A failing operation too: its error must not carry the secret either.
	c.Credentials = MACCredentials{Reference: pki.reference, Secret: []byte("wrong-secret-5521")}
	_, failErr := c.Enroll(testContext(t), certRequest(t, "leaf"))
	if failErr == nil {
		t.Fatal("enrollment with a wrong secret succeeded")
	}

	if len(logged) < 6 {
		t.Fatalf("%d messages logged, want ir, ip, certConf, pkiconf, rr, rp, ...", len(logged))
	}
	dump := fmt.Sprintf("%+v %#v %v", logged, logged, failErr)
	for _, secret := range []string{string(pki.secret), "wrong-secret-5521", "basic-auth-password-91"} {
		if strings.Contains(dump, secret) {
			t.Errorf("secret %q appears in logs or errors", secret)
		}
	}
	for i, m := range logged {
		if m.Type == "" || (m.Direction != "send" && m.Direction != "receive") || len(m.TransactionID) != 16 || m.Size <= 0 {
			t.Errorf("log entry %d incomplete: %+v", i, m)
		}
	}
	if logged[1].Type != "ip" || logged[1].Status != "accepted" {
		t.Errorf("ip logged as %+v", logged[1])
	}
}

// TestTLS checks TLSConfig and NewTransport against a TLS server that
// requires a client certificate (mutual TLS).
func TestTLS(t *testing.T) {
	pki := newTestPKI(t)
	r := &responder{pki: pki}
	srv := httptest.NewUnstartedServer(r)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: x509.NewCertPool()}
	srv.TLS.ClientCAs.AddCert(pki.root)
	srv.StartTLS()
	defer srv.Close()

	clientKey := newKey(t)
	clientCert := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "tls client"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		clientKey.Public(), pki.root, pki.rootKey)
	mtls := TLSOptions{ClientCertificatePEM: pemOf("CERTIFICATE", clientCert.Raw), ClientKeyPEM: keyPEM(t, clientKey)}
	serverRoots := pemOf("CERTIFICATE", srv.Certificate().Raw)
	tests := []struct {
		name       string
		roots      []byte
		clientCert TLSOptions // its client certificate and key
		serverName string
		wantErr    string
	}{
		{name: "trusted_with_client_certificate", roots: serverRoots, clientCert: mtls},
		{name: "server_name_override", roots: serverRoots, clientCert: mtls, serverName: "example.com"},
		{name: "wrong_server_name", roots: serverRoots, clientCert: mtls, serverName: "other.example", wantErr: "other.example"},
		{name: "untrusted_server", roots: pemOf("CERTIFICATE", pki.root.Raw), clientCert: mtls, wantErr: "certificate"},
		{name: "no_client_certificate", roots: serverRoots, wantErr: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startResponder(t, r)
			c.URL = srv.URL
			opts := tt.clientCert
			opts.CAPEM, opts.ServerName = tt.roots, tt.serverName
			cfg, err := TLSConfig(opts)
			if err != nil {
				t.Fatal(err)
			}
			c.HTTPClient = &http.Client{Transport: NewTransport(cfg)}
			_, err = c.Enroll(testContext(t), certRequest(t, "leaf"))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// TestMACKeyDerivedOnce: enrollments with one MACCredentials derive the
// PBM key once per client (our salt) plus once per server salt, not once
// per message.
func TestMACKeyDerivedOnce(t *testing.T) {
	pki := newTestPKI(t)
	c := startResponder(t, &responder{pki: pki})
	for i := 0; i < 3; i++ {
		if _, err := c.Enroll(testContext(t), certRequest(t, "leaf")); err != nil {
			t.Fatal(err)
		}
	}
	// 12 messages were protected or verified; the responder uses one
	// fixed salt, so two keys: ours and the responder's.
	if n := c.mac.keys.Len(); n != 2 {
		t.Errorf("%d derived keys cached, want 2", n)
	}
}

// TestCertConfHashAlg: a certificate whose signature algorithm names no
// hash is confirmed with SHA-256 named in hashAlg, which makes the
// certConf version 3 (RFC 9810 section 5.3.18); all other messages stay at
// version 2.
func TestCertConfHashAlg(t *testing.T) {
	pki := newTestPKI(t)
	r := &responder{pki: pki}
	ecdsaWithSHA256 := []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}
	r.mutate = func(n int, req, resp *cmp.Message) {
		if req.Body.Type != cmp.BodyIR {
			return
		}
		// Rename ecdsa-with-SHA256 to the unassigned 1.2.840.10045.4.3.9
		// (same length) in the TBS and outer signature algorithm.
		cr := &resp.Body.CertRep.Response[0]
		cr.Certificate = bytes.ReplaceAll(cr.Certificate, ecdsaWithSHA256, append(ecdsaWithSHA256[:9:9], 0x09))
	}
	c := startResponder(t, r)
	c.TrustAnchors = nil // the renamed signature cannot verify
	enr, err := c.Enroll(testContext(t), certRequest(t, "leaf"))
	if err != nil {
		t.Fatal(err)
	}
	reqs := r.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	ir, conf := reqs[0], reqs[1]
	cs := conf.Body.CertConf[0]
	want := sha256.Sum256(enr.Certificate.Raw)
	if ir.Header.PVNO != cmp.PVNO2 || conf.Header.PVNO != cmp.PVNO3 {
		t.Errorf("pvno ir %d certConf %d, want 2 and 3", ir.Header.PVNO, conf.Header.PVNO)
	}
	if cs.HashAlg == nil || !cs.HashAlg.Algorithm.Equal(cmp.OIDSHA256) || !bytes.Equal(cs.CertHash, want[:]) {
		t.Errorf("certConf hashAlg %v certHash %x, want SHA-256 %x", cs.HashAlg, cs.CertHash, want)
	}
}

// TestConcurrentEnrollments: one Client serves concurrent operations, each
// in its own transaction.
func TestConcurrentEnrollments(t *testing.T) {
	pki := newTestPKI(t)
	r := &responder{pki: pki}
	c := startResponder(t, r)
	const workers, each = 4, 3
	errs := make(chan error, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := c.Enroll(testContext(t), certRequest(t, fmt.Sprintf("w%d-%d", w, i)))
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	ids := map[string]bool{}
	for _, m := range r.requests() {
		if m.Body.Type == cmp.BodyIR {
			ids[string(m.Header.TransactionID)] = true
		}
	}
	if len(ids) != workers*each {
		t.Errorf("%d distinct transactionIDs for %d enrollments", len(ids), workers*each)
	}
}

// TestDelayedGeneralMessage: a genm answered with an error message
// "waiting" is polled for with certReqId -1 until the genp arrives
// (RFC 9810 section 5.3.22, RFC 9483 section 4.4).
func TestDelayedGeneralMessage(t *testing.T) {
	pki := newTestPKI(t)
	caCerts, err := cmp.CACertsValue([][]byte{pki.root.Raw})
	if err != nil {
		t.Fatal(err)
	}
	r := &responder{pki: pki}
	r.pollRep = func(req *cmp.Message) []cmp.PollRepEntry {
		return []cmp.PollRepEntry{{CertReqID: -1, CheckAfter: 0}}
	}
	r.mutate = func(n int, req, resp *cmp.Message) {
		switch n {
		case 0:
			resp.Body = cmp.Body{Type: cmp.BodyError, Error: &cmp.ErrorMsgContent{Status: cmp.PKIStatusInfo{Status: cmp.StatusWaiting}}}
		case 2:
			resp.Body = cmp.Body{Type: cmp.BodyGenP, GenMsg: []cmp.InfoTypeAndValue{{Type: cmp.OIDCACerts, Value: caCerts}}}
		}
	}
	c := startResponder(t, r)
	rec := &logRecorder{}
	c.Log = rec.log
	certs, err := c.CACerts(testContext(t))
	if err != nil || len(certs) != 1 || !certs[0].Equal(pki.root) {
		t.Fatalf("CACerts = %v, %v", certs, err)
	}
	want := "send genm,receive error,send pollReq,receive pollRep,send pollReq,receive genp"
	var got []string
	for _, m := range rec.msgs {
		got = append(got, m.Direction+" "+m.Type)
	}
	if strings.Join(got, ",") != want {
		t.Errorf("messages %v, want %s", got, want)
	}
	for _, m := range r.requests()[1:] {
		if len(m.Body.PollReq) != 1 || m.Body.PollReq[0] != -1 {
			t.Errorf("pollReq %v, want certReqId -1", m.Body.PollReq)
		}
	}
}

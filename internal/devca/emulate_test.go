package devca

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cryptobyte_asn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// postAs posts a CMP request to path, as an HTTPS request whose client
// certificate chain the server verified when client is set, with basic
// authentication when user is set.
func postAs(h http.Handler, path string, body []byte, client *x509.Certificate, user, password string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if client != nil {
		req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{client}, VerifiedChains: [][]*x509.Certificate{{client}}}
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestEmulationPaths: each emulation serves its product's paths, with the
// role or policy id in the event's profile, and its authentication.
func TestEmulationPaths(t *testing.T) {
	device := opensslpeer.NewCreds(t).Device.Cert
	tests := []struct {
		name       string
		emulate    Emulation
		path       string
		client     *x509.Certificate
		user       string
		status     int
		profile    string
		bodyPrefix string
	}{
		{name: "default profile path", path: "/.well-known/cmp/p/tls", status: 200, profile: "tls"},
		{name: "default refuses a Vault path", path: "/v1/pki/cmp", status: 404},
		{name: "vault mount", emulate: EmulateVault, path: "/v1/pki/cmp", client: device, status: 200},
		{name: "vault role", emulate: EmulateVault, path: "/v1/pki/roles/web/cmp", client: device, status: 200, profile: "web"},
		{name: "vault nested mount and role", emulate: EmulateVault, path: "/v1/pki/issuing/roles/web-2/cmp", client: device, status: 200, profile: "web-2"},
		{name: "vault without a client certificate", emulate: EmulateVault, path: "/v1/pki/cmp", status: 403, bodyPrefix: "permission denied"},
		{name: "vault well-known path", emulate: EmulateVault, path: "/.well-known/cmp", client: device, status: 404},
		{name: "vault empty role", emulate: EmulateVault, path: "/v1/pki/roles//cmp", client: device, status: 404},
		{name: "vault without mount", emulate: EmulateVault, path: "/v1/cmp", client: device, status: 404},
		{name: "mtg default policy", emulate: EmulateMTG, path: "/cmp", status: 200},
		{name: "mtg policy before cmp", emulate: EmulateMTG, path: "/policy-1/cmp", status: 200, profile: "policy-1"},
		{name: "mtg policy after cmp", emulate: EmulateMTG, path: "/cmp/policy-2", status: 200, profile: "policy-2"},
		{name: "mtg well-known path", emulate: EmulateMTG, path: "/.well-known/cmp", status: 404, bodyPrefix: "invalid identifier"},
		{name: "mtg two policies", emulate: EmulateMTG, path: "/a/cmp/b", status: 404, bodyPrefix: "invalid identifier"},
		{name: "mtg root", emulate: EmulateMTG, path: "/", status: 404, bodyPrefix: "invalid identifier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := startCA(t, Config{Emulate: tc.emulate})
			rec := postAs(c.ca, tc.path, []byte{0x30, 0x00}, tc.client, "", "")
			if rec.Code != tc.status || !strings.HasPrefix(rec.Body.String(), tc.bodyPrefix) {
				t.Fatalf("HTTP %d %q, want %d %q", rec.Code, rec.Body.String(), tc.status, tc.bodyPrefix)
			}
			ev, ok := c.log.last("invalid")
			if ok != (tc.status == 200) {
				t.Fatalf("event %+v (found %v) for HTTP %d", ev, ok, rec.Code)
			}
			if ev.Profile != tc.profile {
				t.Errorf("event profile %q, want %q", ev.Profile, tc.profile)
			}
		})
	}
	t.Run("mtg basic auth", func(t *testing.T) {
		c := startCA(t, Config{Emulate: EmulateMTG, Username: "ee-1", Password: "pw"})
		if rec := postAs(c.ca, "/cmp", []byte{0x30, 0x00}, nil, "", ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("without credentials: HTTP %d, want 401", rec.Code)
		}
		if rec := postAs(c.ca, "/cmp", []byte{0x30, 0x00}, nil, "ee-1", "wrong"); rec.Code != http.StatusUnauthorized {
			t.Errorf("wrong password: HTTP %d, want 401", rec.Code)
		}
		if rec := postAs(c.ca, "/cmp", []byte{0x30, 0x00}, nil, "ee-1", "pw"); rec.Code != http.StatusOK {
			t.Errorf("with credentials: HTTP %d, want 200", rec.Code)
		}
	})
}

// TestEmulationRefusals: what each emulated CA does not offer is answered
// with a protected error message naming why.
func TestEmulationRefusals(t *testing.T) {
	creds := opensslpeer.NewCreds(t)
	edKey := testpki.NewKey(t, testpki.Ed25519)
	edCred := creds.Issue(t, "ed", pkix.Name{CommonName: "ed"}, edKey)
	ir := func(t *testing.T, subject string, key, popKey crypto.Signer) *cmp.Message {
		return &cmp.Message{Header: header(rawName(t, subject)), Body: cmp.Body{Type: cmp.BodyIR, CertReq: []cmp.CertReqMsg{certReq(t, subject, key, popKey)}}}
	}
	macWith := func(t *testing.T, c *testCA, m *cmp.Message, alg cmp.MACAlgorithm) []byte {
		m.Header.SenderKID = []byte(c.ca.Reference())
		if err := cmp.ProtectMAC(m, cmp.MACParams{Algorithm: alg, Iterations: 500}, []byte(c.ca.Secret())); err != nil {
			t.Fatal(err)
		}
		der, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	p10cr := func(t *testing.T) *cmp.Message {
		key := newKey(t)
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "p10"}}, key)
		if err != nil {
			t.Fatal(err)
		}
		return &cmp.Message{Header: header(rawName(t, "p10")), Body: cmp.Body{Type: cmp.BodyP10CR, P10CR: csr}}
	}
	device := func(t *testing.T, m *cmp.Message) []byte {
		m.Header.Sender = cmp.NameFromDER(creds.Device.Cert.RawSubject)
		return sigProtect(t, m, creds.Device.Cert, creds.Device.Key)
	}
	tests := []struct {
		name     string
		emulate  Emulation
		path     string
		der      func(t *testing.T, c *testCA) []byte
		failInfo cmp.FailureInfo
		text     string
	}{
		{"vault: MAC-protected ir", EmulateVault, "/v1/pki/cmp", func(t *testing.T, c *testCA) []byte {
			key := newKey(t)
			return macProtect(t, ir(t, "mac", key, key), c.ca.Reference(), c.ca.Secret())
		}, cmp.FailWrongIntegrity, "MAC-based protection is not supported"},
		{"vault: rr", EmulateVault, "/v1/pki/cmp", func(t *testing.T, c *testCA) []byte {
			d := cmp.RevDetails{CertDetails: cmp.CertTemplate{Issuer: creds.Device.Cert.RawIssuer, SerialNumber: creds.Device.Cert.SerialNumber}}
			return device(t, &cmp.Message{Header: header(nil), Body: cmp.Body{Type: cmp.BodyRR, RevReq: []cmp.RevDetails{d}}})
		}, cmp.FailBadRequest, "rr is not supported"},
		{"vault: genm", EmulateVault, "/v1/pki/cmp", func(t *testing.T, c *testCA) []byte {
			return device(t, &cmp.Message{Header: header(nil), Body: cmp.Body{Type: cmp.BodyGenM}})
		}, cmp.FailBadRequest, "genm is not supported"},
		{"vault: p10cr", EmulateVault, "/v1/pki/cmp", func(t *testing.T, c *testCA) []byte {
			return device(t, p10cr(t))
		}, cmp.FailBadRequest, "p10cr is not supported"},
		{"mtg: genm", EmulateMTG, "/cmp", func(t *testing.T, c *testCA) []byte {
			return macProtect(t, &cmp.Message{Header: header(rawName(t, "g")), Body: cmp.Body{Type: cmp.BodyGenM}}, c.ca.Reference(), c.ca.Secret())
		}, cmp.FailBadRequest, "genm is not supported"},
		{"mtg: p10cr", EmulateMTG, "/cmp", func(t *testing.T, c *testCA) []byte {
			return macProtect(t, p10cr(t), c.ca.Reference(), c.ca.Secret())
		}, cmp.FailBadRequest, "p10cr is not supported"},
		{"mtg: PBMAC1", EmulateMTG, "/cmp", func(t *testing.T, c *testCA) []byte {
			key := newKey(t)
			return macWith(t, c, ir(t, "pbmac1", key, key), cmp.PBMAC1HMACSHA256)
		}, cmp.FailBadAlg, "PasswordBasedMac (1.2.840.113533.7.66.13) only"},
		{"mtg: ir signed with Ed25519", EmulateMTG, "/cmp", func(t *testing.T, c *testCA) []byte {
			key := newKey(t)
			m := ir(t, "ed", key, key)
			m.Header.Sender = cmp.NameFromDER(edCred.Cert.RawSubject)
			return sigProtect(t, m, edCred.Cert, edKey)
		}, cmp.FailBadAlg, "signature algorithm 1.3.101.112 is not supported"},
		{"mtg: ir with an Ed25519 POP", EmulateMTG, "/cmp", func(t *testing.T, c *testCA) []byte {
			return macWith(t, c, ir(t, "edpop", edKey, edKey), cmp.PBMHMACSHA1)
		}, cmp.FailBadAlg | cmp.FailBadPOP, "POP signature algorithm 1.3.101.112 is not supported"},
		{"mtg: senderKID other than the UUID", EmulateMTG, "/cmp", func(t *testing.T, c *testCA) []byte {
			key := newKey(t)
			return macProtect(t, ir(t, "old", key, key), "devca-1234", c.ca.Secret())
		}, cmp.FailBadMessageCheck | cmp.FailSignerNotTrusted, "unknown reference"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := startCA(t, Config{Emulate: tc.emulate, Trusted: []*x509.Certificate{creds.Root.Cert}})
			rec := postAs(c.ca, tc.path, tc.der(t, c), creds.Device.Cert, "", "")
			msg, fi := cmpError(t, rec)
			if fi != tc.failInfo {
				t.Errorf("failInfo %v, want %v", fi, tc.failInfo)
			}
			if text := strings.Join(msg.Body.Error.Status.StatusString, " "); !strings.Contains(text, tc.text) {
				t.Errorf("statusString %q lacks %q", text, tc.text)
			}
			if tc.emulate == EmulateVault {
				// Vault signs every answer with the issuing CA's key.
				if !bytes.Equal(msg.Header.Sender.DirectoryName, c.ca.CACertificate().RawSubject) || len(msg.ExtraCerts) == 0 ||
					!bytes.Equal(msg.ExtraCerts[0], c.ca.CACertificate().Raw) {
					t.Fatalf("answer sender %v, extraCerts %d: not the CA", msg.Header.Sender, len(msg.ExtraCerts))
				}
				if err := cmp.VerifySignature(msg, c.ca.CACertificate()); err != nil {
					t.Errorf("answer not signed by the CA: %v", err)
				}
			}
		})
	}
}

// TestEmulateVaultLifecycle drives ir, cr and kur over mutual TLS with a
// certificate chaining to a -trust anchor, as against Vault Enterprise,
// and the refusals of rr and genm.
func TestEmulateVaultLifecycle(t *testing.T) {
	creds := opensslpeer.NewCreds(t)
	c := startTLSCA(t, Config{Emulate: EmulateVault, Trusted: []*x509.Certificate{creds.Root.Cert}}, false)
	tlsOpts := cmpclient.TLSOptions{ClientCertificatePEM: pemkey.EncodeCertificates(creds.Device.Cert.Raw)}
	keyPEM, err := os.ReadFile(creds.Device.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	tlsOpts.ClientKeyPEM = keyPEM
	cl := c.tlsClient(t, tlsOpts)
	cl.URL = c.srv.URL + "/v1/pki/roles/web/cmp"
	cl.Credentials = cmpclient.SignatureCredentials{Key: creds.Device.Key, Chain: []*x509.Certificate{creds.Device.Cert}}
	ctx := ctxT(t)

	key := newKey(t)
	ir, err := cl.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "device"}, Key: key})
	if err != nil {
		t.Fatalf("ir: %v", err)
	}
	cr, err := cl.Certify(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "device-cr"}, Key: newKey(t)}, ir.Certificate, key)
	if err != nil {
		t.Fatalf("cr: %v", err)
	}
	if _, err := cl.UpdateKey(ctx, &cmpclient.CertRequest{Key: newKey(t)}, ir.Certificate, key); err != nil {
		t.Fatalf("kur: %v", err)
	}
	wantCMPError(t, cl.Revoke(ctx, cr.Certificate, nil, cmpclient.ReasonSuperseded), cmp.FailBadRequest)
	_, err = cl.CACerts(ctx)
	wantCMPError(t, err, cmp.FailBadRequest)
	for _, e := range c.log.all() {
		if e.Profile != "web" {
			t.Errorf("event %s %s: profile %q, want the role", e.Op, e.Status, e.Profile)
		}
	}
	expectEvents(t, c.log, 0, "ir:accepted", "certConf:confirmed", "cr:accepted", "certConf:confirmed",
		"kur:accepted", "certConf:confirmed", "rr:error", "genm:error")

	// Without a client certificate the TLS handshake fails.
	anon := c.tlsClient(t, cmpclient.TLSOptions{})
	anon.URL = cl.URL
	anon.Credentials = cl.Credentials
	if _, err := anon.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "anon"}, Key: newKey(t)}); err == nil {
		t.Fatal("a client without certificate got through")
	}
}

// TestEmulateMTGLifecycle drives ir (both PasswordBasedMac MACs), cr, kur
// and rr with basic authentication and a policy path, as against MTG CLM.
func TestEmulateMTGLifecycle(t *testing.T) {
	c := startCA(t, Config{Emulate: EmulateMTG, Username: "ee-1", Password: "pw"})
	if !uuidPattern.MatchString(c.ca.Reference()) {
		t.Fatalf("reference %q is not a UUID", c.ca.Reference())
	}
	ctx := ctxT(t)
	for _, alg := range []cmpclient.MACAlgorithm{cmpclient.PBMHMACSHA1, cmpclient.PBMHMACSHA256} {
		cl := c.client(alg)
		cl.URL = c.srv.URL + "/cmp/policy-7"
		cl.Username, cl.Password = "ee-1", "pw"
		key := newKey(t)
		ir, err := cl.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "mtg"}, Key: key})
		if err != nil {
			t.Fatalf("ir: %v", err)
		}
		if _, err := cl.Certify(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "mtg-cr"}, Key: newKey(t)}, ir.Certificate, key); err != nil {
			t.Fatalf("cr: %v", err)
		}
		kurKey := newKey(t)
		kur, err := cl.UpdateKey(ctx, &cmpclient.CertRequest{Key: kurKey}, ir.Certificate, key)
		if err != nil {
			t.Fatalf("kur: %v", err)
		}
		if err := cl.Revoke(ctx, kur.Certificate, kurKey, cmpclient.ReasonSuperseded); err != nil {
			t.Fatalf("rr: %v", err)
		}
	}
	for _, e := range c.log.all() {
		if e.Profile != "policy-7" {
			t.Errorf("event %s %s: profile %q, want the policy id", e.Op, e.Status, e.Profile)
		}
	}
	cl := c.client(cmpclient.PBMAC1)
	cl.URL = c.srv.URL + "/cmp"
	cl.Username, cl.Password = "ee-1", "pw"
	_, err := cl.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "pbmac1"}, Key: newKey(t)})
	wantCMPError(t, err, cmp.FailBadAlg)
	cl = c.client(cmpclient.PBMHMACSHA256)
	cl.URL = c.srv.URL + "/cmp"
	if _, err := cl.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "no-auth"}, Key: newKey(t)}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without basic auth: %v, want HTTP 401", err)
	}
}

// TestEmulationSetup: what an emulation needs of the CA's state.
func TestEmulationSetup(t *testing.T) {
	t.Run("vault wants a CA certificate with digitalSignature", func(t *testing.T) {
		dir := t.TempDir()
		ca := testpki.Issue(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "No Signing CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
		if err := os.WriteFile(filepath.Join(dir, caCertFile), ca.CertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, caKeyFile), ca.KeyPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := New(Config{Dir: dir, Emulate: EmulateVault}); err == nil || !strings.Contains(err.Error(), "digitalSignature") {
			t.Fatalf("New: %v, want a refusal naming digitalSignature", err)
		}
		c, err := New(Config{Dir: dir})
		if err != nil {
			t.Fatalf("the default CA takes it: %v", err)
		}
		c.Close()
	})
	t.Run("mtg keeps its UUID reference across restarts", func(t *testing.T) {
		dir := t.TempDir()
		first, err := New(Config{Dir: dir, Emulate: EmulateMTG})
		if err != nil {
			t.Fatal(err)
		}
		ref := first.Reference()
		first.Close()
		second, err := New(Config{Dir: dir, Emulate: EmulateMTG})
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close()
		if !uuidPattern.MatchString(ref) || second.Reference() != ref {
			t.Errorf("references %q then %q, want one UUID", ref, second.Reference())
		}
		plain, err := New(Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		if uuidPattern.MatchString(plain.Reference()) {
			t.Errorf("the default CA's reference %q changed form", plain.Reference())
		}
	})
	t.Run("unknown emulation", func(t *testing.T) {
		if _, err := New(Config{Dir: t.TempDir(), Emulate: "ejbca"}); err == nil {
			t.Fatal("New took an unknown emulation")
		}
	})
}

// TestCertProfileEvent: the default CA names a request's certProfile
// (RFC 9483 section 3.1) in the event's profile; a profile path wins.
func TestCertProfileEvent(t *testing.T) {
	var b cryptobyte.Builder
	b.AddASN1(cryptobyte_asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cryptobyte_asn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("tls-server")) })
	})
	value := b.BytesOrPanic()
	tests := []struct {
		name    string
		path    string
		info    []cmp.InfoTypeAndValue
		profile string
	}{
		{"certProfile", "/.well-known/cmp", []cmp.InfoTypeAndValue{{Type: cmp.OIDCertProfile, Value: value}}, "tls-server"},
		{"no certProfile", "/.well-known/cmp", nil, ""},
		{"malformed certProfile", "/.well-known/cmp", []cmp.InfoTypeAndValue{{Type: cmp.OIDCertProfile, Value: []byte{0x0c, 0x01, 'x'}}}, ""},
		{"profile path wins", "/.well-known/cmp/p/path", []cmp.InfoTypeAndValue{{Type: cmp.OIDCertProfile, Value: value}}, "path"},
	}
	c := startCA(t, Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := header(rawName(t, "g"))
			h.GeneralInfo = tc.info
			der := macProtect(t, &cmp.Message{Header: h, Body: cmp.Body{Type: cmp.BodyGenM}}, c.ca.Reference(), c.ca.Secret())
			if rec := postAs(c.ca, tc.path, der, nil, "", ""); rec.Code != http.StatusOK {
				t.Fatalf("HTTP %d", rec.Code)
			}
			ev, _ := c.log.last("genm")
			if ev.Status != "accepted" || ev.Profile != tc.profile {
				t.Errorf("event %s profile %q, want accepted %q", ev.Status, ev.Profile, tc.profile)
			}
		})
	}
}

// TestInteropEmulationCommand runs the command under each emulation: the
// ready line names it and its endpoint, and OpenSSL's client enrolls as the
// emulated CA wants (Vault: mutual TLS and a signed ir; MTG: PBM with the
// UUID reference, basic authentication and a policy path).
func TestInteropEmulationCommand(t *testing.T) {
	creds := opensslpeer.NewCreds(t)
	work := t.TempDir()
	key, _ := writeKey(t, work, "k.pem")
	tests := []struct {
		name    string
		args    []string
		scheme  string
		path    string
		client  func(rc *runningCommand) []string
		profile string // "": refused with HTTP 401
	}{
		{
			name:   "vault",
			args:   []string{"-emulate", "vault", "-trust", creds.Root.CertFile},
			scheme: "https", path: "/v1/pki/cmp",
			client: func(rc *runningCommand) []string {
				return []string{"-path", "v1/pki/roles/web/cmp", "-tls_used", "-tls_cert", creds.Device.CertFile, "-tls_key", creds.Device.KeyFile,
					"-tls_trusted", rc.ready.CACertificateFile, "-cert", creds.Device.CertFile, "-key", creds.Device.KeyFile,
					"-trusted", rc.ready.CACertificateFile, "-cmd", "ir", "-newkey", key, "-subject", "/CN=vault", "-certout", filepath.Join(work, "vault.crt")}
			},
			profile: "web",
		},
		{
			name:   "mtg",
			args:   []string{"-emulate", "mtg"},
			scheme: "http", path: "/cmp",
			client: func(rc *runningCommand) []string {
				return []string{"-path", "cmp/policy-7", "-ref", rc.ready.Reference, "-secret", "pass:" + rc.ready.Secret,
					"-recipient", opensslName(caSubject), "-cmd", "ir", "-newkey", key, "-subject", "/CN=mtg", "-certout", filepath.Join(work, "mtg.crt")}
			},
			profile: "policy-7",
		},
		{
			name:   "mtg with basic auth",
			args:   []string{"-emulate", "mtg", "-basic-auth", "ee-1:pw"},
			scheme: "http", path: "/cmp",
			client: func(rc *runningCommand) []string {
				// OpenSSL's client sends no basic authentication: the CA
				// answers HTTP 401.
				return []string{"-path", "policy-7/cmp", "-ref", rc.ready.Reference, "-secret", "pass:" + rc.ready.Secret,
					"-recipient", opensslName(caSubject), "-cmd", "ir", "-newkey", key, "-subject", "/CN=mtg", "-certout", filepath.Join(work, "mtg.crt")}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := startCommand(t, "", append([]string{"-listen", "127.0.0.1:0", "-dir", t.TempDir()}, tc.args...)...)
			r := rc.ready
			emulation := strings.Fields(tc.name)[0]
			if r.Emulate != emulation || !strings.HasPrefix(r.URL, tc.scheme+"://127.0.0.1:") || !strings.HasSuffix(r.URL, tc.path) {
				t.Fatalf("ready line: emulate %q url %q", r.Emulate, r.URL)
			}
			if emulation == "mtg" && !uuidPattern.MatchString(r.Reference) {
				t.Errorf("reference %q is not a UUID", r.Reference)
			}
			res := rc.openssl(t, tc.client(rc)...)
			if tc.profile == "" {
				expect(t, res, 1, "401")
			} else {
				expect(t, res, 0, "received IP", "received PKICONF")
				for _, want := range []string{"ir", "certConf"} {
					if ev := rc.nextEvent(t); ev.Op != want || ev.Profile != tc.profile {
						t.Errorf("event %+v, want %s with profile %q", ev, want, tc.profile)
					}
				}
			}
			if code := rc.stop(t); code != 0 {
				t.Errorf("exit %d", code)
			}
		})
	}
}

// TestInteropOpenSSLEmulationRefusals: OpenSSL's client reads each
// emulation's refusals as the failInfo and statusString given.
func TestInteropOpenSSLEmulationRefusals(t *testing.T) {
	creds := opensslpeer.NewCreds(t)
	dir := t.TempDir()
	key, _ := writeKey(t, dir, "k.pem")
	csr := filepath.Join(dir, "c.csr")
	if out, err := exec.Command("openssl", "req", "-new", "-key", key, "-subj", "/CN=p10", "-out", csr).CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	vaultTLS := []string{"-tls_used", "-tls_cert", creds.Device.CertFile, "-tls_key", creds.Device.KeyFile}
	device := []string{"-cert", creds.Device.CertFile, "-key", creds.Device.KeyFile}
	tests := []struct {
		name    string
		emulate Emulation
		path    string
		args    func(c *testCA) []string
		texts   []string
		events  []string
	}{
		{"vault: ir with PBM", EmulateVault, "v1/pki/cmp", func(c *testCA) []string {
			return append(append(c.pbm(), vaultTLS...), "-trusted", c.ca.CACertificateFile(), "-cmd", "ir", "-newkey", key, "-subject", "/CN=mac", "-certout", filepath.Join(dir, "never.crt"))
		}, []string{"PKIFailureInfo: wrongIntegrity", "MAC-based protection is not supported"}, []string{"ir:error"}},
		{"vault: rr", EmulateVault, "v1/pki/roles/web/cmp", func(c *testCA) []string {
			return append(append(append(device, vaultTLS...), "-trusted", c.ca.CACertificateFile()), "-cmd", "rr", "-oldcert", creds.Device.CertFile)
		}, []string{"PKIFailureInfo: badRequest", "rr is not supported"}, []string{"rr:error"}},
		{"vault: genm", EmulateVault, "v1/pki/cmp", func(c *testCA) []string {
			return append(append(append(device, vaultTLS...), "-trusted", c.ca.CACertificateFile()), "-cmd", "genm", "-infotype", "caCerts")
		}, []string{"PKIFailureInfo: badRequest", "genm is not supported"}, []string{"genm:error"}},
		{"mtg: genm", EmulateMTG, "cmp", func(c *testCA) []string {
			return append(c.pbm(), "-cmd", "genm", "-infotype", "caCerts")
		}, []string{"PKIFailureInfo: badRequest", "genm is not supported"}, []string{"genm:error"}},
		{"mtg: p10cr", EmulateMTG, "policy-1/cmp", func(c *testCA) []string {
			return append(c.pbm(), "-cmd", "p10cr", "-csr", csr)
		}, []string{"PKIFailureInfo: badRequest", "p10cr is not supported"}, []string{"p10cr:error"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Emulate: tc.emulate, Trusted: []*x509.Certificate{creds.Root.Cert}}
			var c *testCA
			var base []string
			if tc.emulate == EmulateVault {
				c = startTLSCA(t, cfg, true)
				base = []string{"-server", strings.TrimPrefix(c.srv.URL, "https://"), "-tls_trusted", c.ca.CACertificateFile()}
			} else {
				c = startCA(t, cfg)
				base = []string{"-server", c.hostPort()}
			}
			base = append(base, "-path", tc.path, "-msg_timeout", "20", "-total_timeout", "50", "-batch")
			res := opensslpeer.RunClient(t, append(base, tc.args(c)...)...)
			expect(t, res, 1, tc.texts...)
			expectEvents(t, c.log, 0, tc.events...)
		})
	}
}

package devca

import (
	"crypto"
	"crypto/x509"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
)

// openssl runs `openssl cmp` against the CA with the common options.
func (c *testCA) openssl(t *testing.T, args ...string) opensslpeer.ClientResult {
	t.Helper()
	base := []string{"-server", c.hostPort(), "-path", ".well-known/cmp",
		"-msg_timeout", "20", "-total_timeout", "50", "-batch"}
	res := opensslpeer.RunClient(t, append(base, args...)...)
	if testing.Verbose() {
		t.Logf("openssl cmp %v\nexit %d\nstdout:\n%s\nstderr:\n%s", args, res.ExitCode, res.Stdout, res.Stderr)
	}
	return res
}

// pbm is the PBM credential options.
func (c *testCA) pbm() []string {
	return []string{"-ref", c.ca.Reference(), "-secret", "pass:" + c.ca.Secret(), "-recipient", opensslName(caSubject)}
}

// signed is the options of a request signed with cert and key, trusting
// the CA for the answer.
func (c *testCA) signed(cert, key string) []string {
	return []string{"-cert", cert, "-key", key, "-trusted", c.ca.CACertificateFile()}
}

// expect checks an openssl run's exit code and that its output holds
// every text.
func expect(t *testing.T, res opensslpeer.ClientResult, code int, texts ...string) {
	t.Helper()
	all := res.Stdout + res.Stderr
	if res.ExitCode != code {
		t.Fatalf("openssl cmp exit code %d, want %d; output:\n%s", res.ExitCode, code, all)
	}
	for _, text := range texts {
		if !strings.Contains(all, text) {
			t.Errorf("openssl cmp output lacks %q; output:\n%s", text, all)
		}
	}
}

// expectEvents checks the op/status sequence the CA reported since from.
func expectEvents(t *testing.T, log *eventLog, from int, want ...string) {
	t.Helper()
	events := log.all()[from:]
	var got []string
	for _, e := range events {
		got = append(got, e.Op+":"+e.Status)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// TestInteropOpenSSLLifecycle drives the whole life of a certificate with the
// OpenSSL 3.0 client: ir, cr, kur with a new key, rr, and the refusals that
// follow from the state each step leaves.
func TestInteropOpenSSLLifecycle(t *testing.T) {
	c := startCA(t, Config{})
	dir := t.TempDir()
	key1, _ := writeKey(t, dir, "k1.pem")
	key2, _ := writeKey(t, dir, "k2.pem")
	key3, _ := writeKey(t, dir, "k3.pem")
	irCert := filepath.Join(dir, "ir.crt")
	crCert := filepath.Join(dir, "cr.crt")
	kurCert := filepath.Join(dir, "kur.crt")

	steps := []opensslStep{
		{
			name:   "ir with PBM hmac-sha1",
			args:   append(c.pbm(), "-cmd", "ir", "-newkey", key1, "-subject", "/CN=lifecycle", "-certout", irCert, "-cacertsout", filepath.Join(dir, "capubs.pem")),
			texts:  []string{"received IP", "received PKICONF"},
			events: []string{"ir:accepted", "certConf:confirmed"},
			check: func(t *testing.T) {
				cert := readCert(t, irCert)
				if cert.Subject.CommonName != "lifecycle" || cert.CheckSignatureFrom(c.ca.CACertificate()) != nil {
					t.Errorf("ir certificate: subject %s, issued by CA: %v", cert.Subject, cert.CheckSignatureFrom(c.ca.CACertificate()))
				}
				if capubs := readCert(t, filepath.Join(dir, "capubs.pem")); !certificateEqual(capubs, c.ca.CACertificate()) {
					t.Error("caPubs is not the CA certificate")
				}
			},
		},
		{
			name:   "cr signed by the ir certificate",
			args:   append(c.signed(irCert, key1), "-cmd", "cr", "-newkey", key2, "-subject", "/CN=lifecycle-cr", "-certout", crCert),
			texts:  []string{"received CP", "received PKICONF"},
			events: []string{"cr:accepted", "certConf:confirmed"},
			check: func(t *testing.T) {
				if cert := readCert(t, crCert); cert.Subject.CommonName != "lifecycle-cr" {
					t.Errorf("cr certificate subject %s", cert.Subject)
				}
			},
		},
		{
			name:   "kur with a new key",
			args:   append(c.signed(irCert, key1), "-cmd", "kur", "-newkey", key3, "-certout", kurCert),
			texts:  []string{"received KUP", "received PKICONF"},
			events: []string{"kur:accepted", "certConf:confirmed"},
			check: func(t *testing.T) {
				old, cert := readCert(t, irCert), readCert(t, kurCert)
				if cert.Subject.String() != old.Subject.String() || cert.SerialNumber.Cmp(old.SerialNumber) == 0 {
					t.Errorf("kur certificate: subject %s serial %s; old %s %s", cert.Subject, cert.SerialNumber, old.Subject, old.SerialNumber)
				}
				if cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(old.PublicKey) {
					t.Error("kur certificate kept the old key")
				}
			},
		},
		{
			name:   "rr with reason superseded",
			args:   append(c.signed(kurCert, key3), "-cmd", "rr", "-oldcert", kurCert, "-revreason", "4"),
			texts:  []string{"received RP", "revocation accepted"},
			events: []string{"rr:accepted"},
			check: func(t *testing.T) {
				serial := readCert(t, kurCert).SerialNumber
				rec, ok := c.ca.store.lookup(serial)
				if !ok || !rec.revoked || rec.reason != 4 {
					t.Errorf("store after rr: %+v found=%v", rec, ok)
				}
			},
		},
		{
			name:   "kur after rr is refused",
			args:   append(c.signed(kurCert, key3), "-cmd", "kur", "-newkey", key2, "-certout", filepath.Join(dir, "never.crt")),
			code:   1,
			texts:  []string{"PKIFailureInfo: certRevoked", "was revoked on"},
			events: []string{"kur:error"},
		},
		{
			name:   "rr of a revoked certificate is refused",
			args:   append(c.signed(kurCert, key3), "-cmd", "rr", "-oldcert", kurCert, "-revreason", "1"),
			code:   1,
			texts:  []string{"PKIFailureInfo: certRevoked"},
			events: []string{"rr:error"},
		},
		{
			name:   "rr with reason removeFromCRL is refused",
			args:   append(c.signed(crCert, key2), "-cmd", "rr", "-oldcert", crCert, "-revreason", "8"),
			code:   1,
			texts:  []string{"PKIFailureInfo: badRequest", "removeFromCRL (8) is for delta CRLs only"},
			events: []string{"rr:rejection"},
		},
		{
			name:   "rr with the cr certificate revokes it",
			args:   append(c.signed(crCert, key2), "-cmd", "rr", "-oldcert", crCert),
			texts:  []string{"revocation accepted"},
			events: []string{"rr:accepted"},
		},
	}
	runOpenSSLSteps(t, c, steps)
}

// opensslStep is one run of OpenSSL's client in a sequence against one CA:
// the exit code, texts of its output, the events the CA printed and, when
// protection is set, how each of those requests was protected.
type opensslStep struct {
	name       string
	args       []string
	code       int
	texts      []string
	events     []string
	protection string
	check      func(t *testing.T)
}

// runOpenSSLSteps runs steps in order against c, stopping at the first that
// fails: each depends on the state the ones before left.
func runOpenSSLSteps(t *testing.T, c *testCA, steps []opensslStep) {
	t.Helper()
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) {
			from := len(c.log.all())
			res := c.openssl(t, s.args...)
			expect(t, res, s.code, s.texts...)
			expectEvents(t, c.log, from, s.events...)
			if s.protection != "" {
				expectProtection(t, c.log, from, s.protection)
			}
			if s.check != nil {
				s.check(t)
			}
		}) {
			t.FailNow()
		}
	}
}

// TestInteropOpenSSLOperations covers the other operations and refusals, each from
// a fresh start.
func TestInteropOpenSSLOperations(t *testing.T) {
	creds := opensslpeer.NewCreds(t)
	tests := []struct {
		name   string
		cfg    Config
		run    func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult
		code   int
		texts  []string
		events []string
	}{
		{
			name: "ir with PBM hmacWithSHA256",
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				return c.openssl(t, append(c.pbm(), "-cmd", "ir", "-mac", "hmacWithSHA256", "-digest", "sha256", "-newkey", key, "-subject", "/CN=sha256", "-certout", filepath.Join(dir, "c.crt"))...)
			},
			texts:  []string{"received IP", "received PKICONF"},
			events: []string{"ir:accepted", "certConf:confirmed"},
		},
		{
			name: "ir signed by an externally issued certificate",
			cfg:  Config{Trusted: []*x509.Certificate{creds.Root.Cert}},
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				return c.openssl(t, append(c.signed(creds.Device.CertFile, creds.Device.KeyFile), "-cmd", "ir", "-newkey", key, "-subject", "/CN=device", "-certout", filepath.Join(dir, "c.crt"))...)
			},
			// OpenSSL names the device certificate's issuer in the template;
			// the CA issues under its own name and says so.
			texts:  []string{"received IP", "grantedWithMods", "received PKICONF"},
			events: []string{"ir:grantedWithMods", "certConf:confirmed"},
		},
		{
			name: "ir signed by an untrusted external certificate is refused",
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				return c.openssl(t, append(c.signed(creds.Device.CertFile, creds.Device.KeyFile), "-cmd", "ir", "-newkey", key, "-subject", "/CN=device", "-certout", filepath.Join(dir, "c.crt"))...)
			},
			code:   1,
			texts:  []string{"PKIFailureInfo: signerNotTrusted", "is not trusted"},
			events: []string{"ir:error"},
		},
		{
			name: "p10cr",
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				csr := filepath.Join(dir, "c.csr")
				if out, err := exec.Command("openssl", "req", "-new", "-key", key, "-subj", "/CN=p10", "-out", csr).CombinedOutput(); err != nil {
					t.Fatalf("openssl req: %v\n%s", err, out)
				}
				return c.openssl(t, append(c.pbm(), "-cmd", "p10cr", "-csr", csr, "-certout", filepath.Join(dir, "c.crt"))...)
			},
			texts:  []string{"received CP", "received PKICONF"},
			events: []string{"p10cr:accepted", "certConf:confirmed"},
		},
		{
			name: "genm caCerts",
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				return c.openssl(t, append(c.pbm(), "-cmd", "genm", "-infotype", "caCerts")...)
			},
			texts:  []string{"received GENP", "genp contains ITAV of type: id-it-caCerts"},
			events: []string{"genm:accepted"},
		},
		{
			name: "genm signKeyPairTypes",
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				return c.openssl(t, append(c.pbm(), "-cmd", "genm", "-infotype", "signKeyPairTypes")...)
			},
			texts:  []string{"received GENP", "genp contains ITAV of type: id-it-signKeyPairTypes"},
			events: []string{"genm:accepted"},
		},
		{
			name: "implicit confirm granted",
			cfg:  Config{ImplicitConfirm: true},
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				return c.openssl(t, append(c.pbm(), "-cmd", "ir", "-implicit_confirm", "-newkey", key, "-subject", "/CN=implicit", "-certout", filepath.Join(dir, "c.crt"))...)
			},
			texts:  []string{"received IP"},
			events: []string{"ir:accepted"},
		},
		{
			name: "implicit confirm asked but not enabled",
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				return c.openssl(t, append(c.pbm(), "-cmd", "ir", "-implicit_confirm", "-newkey", key, "-subject", "/CN=implicit", "-certout", filepath.Join(dir, "c.crt"))...)
			},
			texts:  []string{"received IP", "received PKICONF"},
			events: []string{"ir:accepted", "certConf:confirmed"},
		},
		{
			name: "polling",
			cfg:  Config{Polls: 2, CheckAfter: time.Second},
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				return c.openssl(t, append(c.pbm(), "-cmd", "ir", "-newkey", key, "-subject", "/CN=polled", "-certout", filepath.Join(dir, "c.crt"))...)
			},
			texts:  []string{"received POLLREP", "received IP", "received PKICONF"},
			events: []string{"ir:waiting", "pollReq:waiting", "pollReq:accepted", "certConf:confirmed"},
		},
		{
			name: "wrong secret is refused",
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				return c.openssl(t, "-cmd", "ir", "-ref", c.ca.Reference(), "-secret", "pass:wrong", "-recipient", opensslName(caSubject),
					"-newkey", key, "-subject", "/CN=wrong", "-certout", filepath.Join(dir, "c.crt"))
			},
			code:   1,
			texts:  []string{"wrong pbm value", "error validating protection"},
			events: []string{"ir:error"},
		},
		{
			name: "cr protected by MAC is accepted",
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				return c.openssl(t, append(c.pbm(), "-cmd", "cr", "-newkey", key, "-subject", "/CN=mac-cr", "-certout", filepath.Join(dir, "c.crt"))...)
			},
			texts:  []string{"received CP", "received PKICONF"},
			events: []string{"cr:accepted", "certConf:confirmed"},
		},
		{
			name: "kur signed by a foreign certificate is refused",
			cfg:  Config{Trusted: []*x509.Certificate{creds.Root.Cert}},
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				return c.openssl(t, append(c.signed(creds.Device.CertFile, creds.Device.KeyFile), "-cmd", "kur", "-newkey", key, "-certout", filepath.Join(dir, "c.crt"))...)
			},
			code:   1,
			texts:  []string{"PKIFailureInfo: signerNotTrusted", "a kur must be signed with a certificate of this CA"},
			events: []string{"kur:error"},
		},
		{
			name: "second ir for a subject is refused when the policy forbids it",
			cfg:  Config{RejectDuplicateIR: true},
			run: func(t *testing.T, c *testCA, dir string) opensslpeer.ClientResult {
				key, _ := writeKey(t, dir, "k.pem")
				res := c.openssl(t, append(c.pbm(), "-cmd", "ir", "-newkey", key, "-subject", "/CN=once", "-certout", filepath.Join(dir, "c1.crt"))...)
				expect(t, res, 0)
				return c.openssl(t, append(c.pbm(), "-cmd", "ir", "-newkey", key, "-subject", "/CN=once", "-certout", filepath.Join(dir, "c2.crt"))...)
			},
			code:   1,
			texts:  []string{"PKIFailureInfo: duplicateCertReq", "already holds certificate"},
			events: []string{"ir:accepted", "certConf:confirmed", "ir:rejection"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := startCA(t, tc.cfg)
			res := tc.run(t, c, t.TempDir())
			expect(t, res, tc.code, tc.texts...)
			expectEvents(t, c.log, 0, tc.events...)
		})
	}
}

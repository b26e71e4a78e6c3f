package opensslpeer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cryptobyte_asn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/serialnumber"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// Cred is one key pair with its certificate, in memory and as PEM files.
type Cred struct {
	Cert     *x509.Certificate
	Key      crypto.Signer // P-256 *ecdsa.PrivateKey unless made by Issue
	CertFile string        // PEM certificate
	KeyFile  string        // PEM PKCS#8 private key, unencrypted
}

// Creds is the set of credentials the mock server and its clients use (see
// openssl-cmp-peer.md section 1). All certificates are issued by Root.
type Creds struct {
	Dir string

	// Root is the self-signed trust anchor (CN=Test CMP Root CA).
	Root Cred
	// Server signs the mock's responses to signature-protected requests
	// (CN=Mock CMP Server, keyUsage digitalSignature).
	Server Cred
	// Client1 (CN=client1) is what the mock returns by default for
	// ir/cr/p10cr, so clients enroll Client1.Key.
	Client1 Cred
	// Client2 (CN=client1, a second key) is the certificate to return for a
	// key update.
	Client2 Cred
	// Device (CN=device) is an externally issued certificate, like a
	// manufacturer's device certificate, for signature-protected IR.
	Device Cred
}

// NewCreds creates fresh credentials in a temporary directory that is
// removed when the test ends.
func NewCreds(t testing.TB) *Creds {
	t.Helper()
	c := &Creds{Dir: t.TempDir()}
	c.Root = newCred(t, c.Dir, "root", pkix.Name{CommonName: "Test CMP Root CA"}, nil, 0, p256Key(t))
	c.Server = c.Issue(t, "server", pkix.Name{CommonName: "Mock CMP Server"}, p256Key(t))
	c.Client1 = c.Issue(t, "client1", pkix.Name{CommonName: "client1"}, p256Key(t))
	c.Client2 = c.Issue(t, "client2", pkix.Name{CommonName: "client1"}, p256Key(t))
	c.Device = c.Issue(t, "device", pkix.Name{CommonName: "device"}, p256Key(t))
	return c
}

// Issue makes a certificate under Root for key (any crypto/x509 key type:
// ECDSA, RSA, Ed25519) with keyUsage digitalSignature, and writes it and
// the key as name.crt and name.key in Dir, for example as a -rsp_cert of
// another key type.
func (c *Creds) Issue(t testing.TB, name string, subject pkix.Name, key crypto.Signer) Cred {
	t.Helper()
	return newCred(t, c.Dir, name, subject, &c.Root, x509.KeyUsageDigitalSignature, key)
}

func p256Key(t testing.TB) crypto.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("opensslpeer: generate key: %v", err)
	}
	return key
}

// newCred makes a certificate for key, self-signed when issuer is nil
// (then a CA certificate), and writes both as PEM files.
func newCred(t testing.TB, dir, name string, subject pkix.Name, issuer *Cred, ku x509.KeyUsage, key crypto.Signer) Cred {
	t.Helper()
	serial, err := serialnumber.Random()
	if err != nil {
		t.Fatalf("opensslpeer: serial: %v", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatalf("opensslpeer: marshal public key %s: %v", name, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(48 * time.Hour),
		KeyUsage:     ku,
		SubjectKeyId: subjectKeyID(t, pub),
	}
	var parent *testpki.Cert
	if issuer == nil {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		parent = &testpki.Cert{Cert: issuer.Cert, Key: issuer.Key}
	}
	issued := testpki.Issue(t, tmpl, key, parent)
	c := Cred{
		Cert:     issued.Cert,
		Key:      key,
		CertFile: filepath.Join(dir, name+".crt"),
		KeyFile:  filepath.Join(dir, name+".key"),
	}
	writeFile(t, c.CertFile, issued.CertPEM())
	writeFile(t, c.KeyFile, issued.KeyPEM())
	return c
}

// subjectKeyID is RFC 5280 4.2.1.2 method (1): the SHA-1 hash of the
// subjectPublicKey BIT STRING contents of a SubjectPublicKeyInfo.
func subjectKeyID(t testing.TB, spki []byte) []byte {
	t.Helper()
	input := cryptobyte.String(spki)
	var info, bits cryptobyte.String
	if !input.ReadASN1(&info, cryptobyte_asn1.SEQUENCE) ||
		!info.SkipASN1(cryptobyte_asn1.SEQUENCE) ||
		!info.ReadASN1(&bits, cryptobyte_asn1.BIT_STRING) ||
		len(bits) < 1 || bits[0] != 0 {
		t.Fatalf("opensslpeer: malformed SubjectPublicKeyInfo")
	}
	sum := sha1.Sum(bits[1:])
	return sum[:]
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("opensslpeer: write %s: %v", filepath.Base(path), err)
	}
}

// WritePEM writes certificates as one PEM file in the credentials
// directory (for options such as -extracerts or -trusted) and returns its path.
func (c *Creds) WritePEM(t testing.TB, name string, certs ...*x509.Certificate) string {
	t.Helper()
	ders := make([][]byte, len(certs))
	for i, cert := range certs {
		ders[i] = cert.Raw
	}
	path := filepath.Join(c.Dir, name)
	writeFile(t, path, pemkey.EncodeCertificates(ders...))
	return path
}

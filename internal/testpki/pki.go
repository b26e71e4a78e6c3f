package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
)

// KeyType names the kind of key a test certificate gets.
type KeyType string

const (
	P256    KeyType = "P-256" // the default
	P384    KeyType = "P-384"
	RSA2048 KeyType = "RSA-2048"
	Ed25519 KeyType = "Ed25519"
)

// Cert is a certificate with its private key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// CertPEM is the certificate as a PEM CERTIFICATE block.
func (c *Cert) CertPEM() []byte {
	return pemkey.EncodeCertificates(c.Cert.Raw)
}

// KeyPEM is the private key as a PKCS #8 PEM PRIVATE KEY block.
func (c *Cert) KeyPEM() []byte {
	out, err := pemkey.MarshalPrivateKey(c.Key)
	if err != nil {
		// Every key this package makes or reads marshals.
		panic(fmt.Sprintf("testpki: PKCS #8 of a %T: %v", c.Key, err))
	}
	return out
}

// NewKey makes a key of type kt (P-256 when empty).
func NewKey(t testing.TB, kt KeyType) crypto.Signer {
	t.Helper()
	k, err := GenerateKey(kt)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// GenerateKey makes a key of type kt (P-256 when empty), for callers
// without a testing.TB.
func GenerateKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case P256, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("testpki: unknown key type %q", kt)
}

// Issue signs tmpl for key (a new P-256 key when nil) with issuer
// (self-signed when nil). Fields tmpl leaves empty are filled in: a random
// serial number, a validity from an hour ago to a day from now, and a
// subject key identifier (SHA-1 of the public key). tmpl is not changed.
func Issue(t testing.TB, tmpl *x509.Certificate, key crypto.Signer, issuer *Cert) *Cert {
	t.Helper()
	c, err := Sign(tmpl, key, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Sign is Issue for callers without a testing.TB (a responder building an
// answer); it returns what goes wrong.
func Sign(tmpl *x509.Certificate, key crypto.Signer, issuer *Cert) (*Cert, error) {
	if key == nil {
		var err error
		if key, err = GenerateKey(P256); err != nil {
			return nil, err
		}
	}
	return signPublic(tmpl, key, key.Public(), issuer)
}

// SignPublicKey signs tmpl for a public key whose private key the test
// does not hold (the returned Cert has no Key).
func SignPublicKey(tmpl *x509.Certificate, pub crypto.PublicKey, issuer *Cert) (*x509.Certificate, error) {
	c, err := signPublic(tmpl, nil, pub, issuer)
	if err != nil {
		return nil, err
	}
	return c.Cert, nil
}

func signPublic(tmpl *x509.Certificate, key crypto.Signer, pub crypto.PublicKey, issuer *Cert) (*Cert, error) {
	tc := *tmpl
	if tc.SerialNumber == nil {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
		if err != nil {
			return nil, err
		}
		tc.SerialNumber = serial.Add(serial, big.NewInt(1))
	}
	if tc.NotBefore.IsZero() && tc.NotAfter.IsZero() {
		now := time.Now()
		tc.NotBefore, tc.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
	}
	if tc.SubjectKeyId == nil {
		spki, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("testpki: public key of %q: %w", tc.Subject.CommonName, err)
		}
		ski := sha1.Sum(spki) // a key identifier; uniqueness is all that matters here
		tc.SubjectKeyId = ski[:]
	}
	parent, parentKey := &tc, key
	if issuer != nil {
		parent, parentKey = issuer.Cert, issuer.Key
	}
	if parentKey == nil {
		return nil, fmt.Errorf("testpki: no signing key for %q", tc.Subject.CommonName)
	}
	der, err := x509.CreateCertificate(rand.Reader, &tc, parent, pub, parentKey)
	if err != nil {
		return nil, fmt.Errorf("testpki: certificate %q: %w", tc.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testpki: certificate %q: %w", tc.Subject.CommonName, err)
	}
	return &Cert{Cert: cert, Key: key}, nil
}

// caTemplate is a CA certificate (RFC 5280 4.2.1.9: cA with keyCertSign).
func caTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
}

// Root makes a self-signed root CA with a P-256 key.
func Root(t testing.TB, cn string) *Cert {
	t.Helper()
	return Issue(t, caTemplate(cn), nil, nil)
}

// Intermediate makes a CA with a P-256 key that issuer signs.
func Intermediate(t testing.TB, cn string, issuer *Cert) *Cert {
	t.Helper()
	return Issue(t, caTemplate(cn), nil, issuer)
}

// LeafOptions is what a leaf certificate says; zero fields take defaults.
type LeafOptions struct {
	CommonName  string
	KeyType     KeyType       // P-256 when empty
	KeyUsage    x509.KeyUsage // digitalSignature when zero
	ExtKeyUsage []x509.ExtKeyUsage
	DNSNames    []string
	// NotBefore and NotAfter default to an hour ago and a day from now.
	NotBefore, NotAfter time.Time
}

// Leaf makes an end-entity certificate that issuer signs (self-signed
// when issuer is nil).
func Leaf(t testing.TB, issuer *Cert, o LeafOptions) *Cert {
	t.Helper()
	ku := o.KeyUsage
	if ku == 0 {
		ku = x509.KeyUsageDigitalSignature
	}
	tmpl := &x509.Certificate{
		Subject: pkix.Name{CommonName: o.CommonName}, KeyUsage: ku, ExtKeyUsage: o.ExtKeyUsage,
		DNSNames: o.DNSNames, NotBefore: o.NotBefore, NotAfter: o.NotAfter,
	}
	return Issue(t, tmpl, NewKey(t, o.KeyType), issuer)
}

// SelfSigned makes a self-signed end-entity certificate with a P-256 key
// and no key usage extension.
func SelfSigned(t testing.TB, cn string) *Cert {
	t.Helper()
	return Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: cn}}, nil, nil)
}

// Expired makes an end-entity certificate (digitalSignature) that issuer
// signs (self-signed when nil) and that expired an hour ago.
func Expired(t testing.TB, cn string, issuer *Cert) *Cert {
	t.Helper()
	now := time.Now()
	return Leaf(t, issuer, LeafOptions{CommonName: cn, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)})
}

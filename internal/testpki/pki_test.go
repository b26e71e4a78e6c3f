package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCertificates(t *testing.T) {
	root := Root(t, "Test Root")
	inter := Intermediate(t, "Test Issuing CA", root)
	now := time.Now()
	tests := []struct {
		name      string
		make      func(t *testing.T) *Cert
		issuer    *x509.Certificate // nil: self-signed
		isCA      bool
		keyUsage  x509.KeyUsage
		expired   bool
		keyIsType func(any) bool
	}{
		{name: "root", make: func(*testing.T) *Cert { return root }, isCA: true,
			keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature, keyIsType: isECDSA},
		{name: "intermediate", make: func(*testing.T) *Cert { return inter }, issuer: root.Cert, isCA: true,
			keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature, keyIsType: isECDSA},
		{name: "leaf default", make: func(t *testing.T) *Cert { return Leaf(t, inter, LeafOptions{CommonName: "leaf"}) },
			issuer: inter.Cert, keyUsage: x509.KeyUsageDigitalSignature, keyIsType: isECDSA},
		{name: "leaf RSA keyEncipherment", make: func(t *testing.T) *Cert {
			return Leaf(t, inter, LeafOptions{CommonName: "rsa", KeyType: RSA2048, KeyUsage: x509.KeyUsageKeyEncipherment})
		}, issuer: inter.Cert, keyUsage: x509.KeyUsageKeyEncipherment, keyIsType: func(k any) bool { _, ok := k.(*rsa.PrivateKey); return ok }},
		{name: "leaf Ed25519 self-signed", make: func(t *testing.T) *Cert {
			return Leaf(t, nil, LeafOptions{CommonName: "ed", KeyType: Ed25519})
		}, keyUsage: x509.KeyUsageDigitalSignature, keyIsType: func(k any) bool { _, ok := k.(ed25519.PrivateKey); return ok }},
		{name: "leaf P-384 validity", make: func(t *testing.T) *Cert {
			return Leaf(t, root, LeafOptions{CommonName: "p384", KeyType: P384, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Minute)})
		}, issuer: root.Cert, keyUsage: x509.KeyUsageDigitalSignature, keyIsType: func(k any) bool {
			e, ok := k.(*ecdsa.PrivateKey)
			return ok && e.Curve.Params().Name == "P-384"
		}},
		{name: "self-signed", make: func(t *testing.T) *Cert { return SelfSigned(t, "self") }, keyIsType: isECDSA},
		{name: "expired", make: func(t *testing.T) *Cert { return Expired(t, "old", inter) }, issuer: inter.Cert,
			keyUsage: x509.KeyUsageDigitalSignature, expired: true, keyIsType: isECDSA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.make(t)
			if !tc.keyIsType(c.Key) {
				t.Errorf("key is a %T", c.Key)
			}
			if !c.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(c.Cert.PublicKey) {
				t.Error("the key does not belong to the certificate")
			}
			issuer := tc.issuer
			if issuer == nil {
				issuer = c.Cert
			}
			// CheckSignature, not CheckSignatureFrom: a self-signed leaf is no CA.
			if err := issuer.CheckSignature(c.Cert.SignatureAlgorithm, c.Cert.RawTBSCertificate, c.Cert.Signature); err != nil {
				t.Errorf("not signed by %s: %v", issuer.Subject, err)
			}
			if c.Cert.IsCA != tc.isCA || c.Cert.KeyUsage != tc.keyUsage {
				t.Errorf("IsCA %v KeyUsage %b, want %v %b", c.Cert.IsCA, c.Cert.KeyUsage, tc.isCA, tc.keyUsage)
			}
			if expired := time.Now().After(c.Cert.NotAfter); expired != tc.expired {
				t.Errorf("expired %v, want %v (NotAfter %s)", expired, tc.expired, c.Cert.NotAfter)
			}
			if len(c.Cert.SubjectKeyId) == 0 || c.Cert.SerialNumber.Sign() <= 0 {
				t.Errorf("SKI %x serial %s: want both set", c.Cert.SubjectKeyId, c.Cert.SerialNumber)
			}
			b, _ := pem.Decode(c.CertPEM())
			if b == nil || b.Type != "CERTIFICATE" || string(b.Bytes) != string(c.Cert.Raw) {
				t.Error("CertPEM is not the certificate")
			}
			b, _ = pem.Decode(c.KeyPEM())
			if b == nil || b.Type != "PRIVATE KEY" {
				t.Fatal("KeyPEM is not a PKCS #8 PEM block")
			}
			if _, err := x509.ParsePKCS8PrivateKey(b.Bytes); err != nil {
				t.Errorf("KeyPEM: %v", err)
			}
		})
	}
}

func isECDSA(k any) bool { _, ok := k.(*ecdsa.PrivateKey); return ok }

func TestIssueKeepsTemplateFields(t *testing.T) {
	tmpl := &x509.Certificate{SubjectKeyId: []byte("fixed")}
	c := Issue(t, tmpl, nil, nil)
	if string(c.Cert.SubjectKeyId) != "fixed" {
		t.Errorf("SKI %q, want the template's", c.Cert.SubjectKeyId)
	}
	if tmpl.SerialNumber != nil || !tmpl.NotAfter.IsZero() {
		t.Error("Issue changed the template")
	}
	pub := NewKey(t, P256).Public()
	cert, err := SignPublicKey(&x509.Certificate{}, pub, c)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.(*ecdsa.PublicKey).Equal(cert.PublicKey) {
		t.Error("SignPublicKey certified another key")
	}
	if _, err := SignPublicKey(&x509.Certificate{}, pub, nil); err == nil {
		t.Error("SignPublicKey without an issuer: want an error")
	}
	if _, err := GenerateKey("DSA"); err == nil {
		t.Error("unknown key type: want an error")
	}
}

func TestClosedAddrRefuses(t *testing.T) {
	for name, addr := range map[string]string{
		"addr": ClosedAddr(t),
		"url":  strings.TrimSuffix(strings.TrimPrefix(ClosedURL(t, "/.well-known/cmp"), "http://"), "/.well-known/cmp"),
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.HasPrefix(addr, "127.0.0.1:") {
				t.Fatalf("%q is not on 127.0.0.1", addr)
			}
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err == nil {
				c.Close()
				t.Fatalf("%s accepted a connection", addr)
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("dial %s: %v, want connection refused", addr, err)
			}
		})
	}
}

func TestReadDevCA(t *testing.T) {
	root := Root(t, "Root")
	inter := Intermediate(t, "Issuing", root)
	write := func(t *testing.T, files map[string][]byte) string {
		dir := t.TempDir()
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	ecKey, _ := x509.MarshalECPrivateKey(inter.Key.(*ecdsa.PrivateKey))
	tests := []struct {
		name        string
		files       map[string][]byte
		wantIssuers int
		wantErr     bool
	}{
		{name: "key and chain", files: map[string][]byte{"ca.key": inter.KeyPEM(), "ca.crt": append(inter.CertPEM(), root.CertPEM()...)}, wantIssuers: 1},
		{name: "key and certificate", files: map[string][]byte{"ca.key": inter.KeyPEM(), "ca.crt": inter.CertPEM()}},
		{name: "no key file", files: map[string][]byte{"ca.crt": inter.CertPEM()}, wantErr: true},
		// The devca loads a SEC 1 key a user put there, as OpenSSL writes it.
		{name: "SEC 1 key", files: map[string][]byte{"ca.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecKey}), "ca.crt": inter.CertPEM()}},
		{name: "certificate where the key belongs", files: map[string][]byte{"ca.key": inter.CertPEM(), "ca.crt": inter.CertPEM()}, wantErr: true},
		{name: "no certificate", files: map[string][]byte{"ca.key": inter.KeyPEM(), "ca.crt": []byte("nothing")}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pair, issuers, err := readKeyPair(filepath.Join(write(t, tc.files), "ca.key"), filepath.Join(write(t, tc.files), "ca.crt"))
			if tc.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !pair.Cert.Equal(inter.Cert) || !pair.Key.Public().(*ecdsa.PublicKey).Equal(inter.Key.Public()) || len(issuers) != tc.wantIssuers {
				t.Errorf("read %s with %d issuers, want the written pair with %d", pair.Cert.Subject, len(issuers), tc.wantIssuers)
			}
		})
	}
	pair, _ := ReadDevCA(t, write(t, map[string][]byte{"signer.key": inter.KeyPEM(), "signer.crt": inter.CertPEM()}), DevCASigner)
	if !pair.Cert.Equal(inter.Cert) {
		t.Error("ReadDevCA(DevCASigner) read another certificate")
	}
}

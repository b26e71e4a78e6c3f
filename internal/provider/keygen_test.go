package provider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
)

func TestGenerateKey(t *testing.T) {
	cases := []struct {
		name    string
		spec    keySpec
		want    keySpec // what specOf reports for the generated key
		wantErr string
	}{
		{name: "RSA 2048", spec: keySpec{Algorithm: "RSA", RSABits: 2048}, want: keySpec{Algorithm: "RSA", RSABits: 2048}},
		{name: "RSA 3072", spec: keySpec{Algorithm: "RSA", RSABits: 3072}, want: keySpec{Algorithm: "RSA", RSABits: 3072}},
		{name: "RSA 4096", spec: keySpec{Algorithm: "RSA", RSABits: 4096}, want: keySpec{Algorithm: "RSA", RSABits: 4096}},
		{name: "ECDSA P256", spec: keySpec{Algorithm: "ECDSA", Curve: "P256"}, want: keySpec{Algorithm: "ECDSA", Curve: "P256"}},
		{name: "ECDSA P384", spec: keySpec{Algorithm: "ECDSA", Curve: "P384"}, want: keySpec{Algorithm: "ECDSA", Curve: "P384"}},
		{name: "ECDSA P521", spec: keySpec{Algorithm: "ECDSA", Curve: "P521"}, want: keySpec{Algorithm: "ECDSA", Curve: "P521"}},
		{name: "Ed25519 ignores size and curve", spec: keySpec{Algorithm: "ED25519", RSABits: 2048, Curve: "P256"}, want: keySpec{Algorithm: "ED25519"}},
		{name: "RSA 1024 refused", spec: keySpec{Algorithm: "RSA", RSABits: 1024}, wantErr: "RSA key size 1024 not supported"},
		{name: "unknown curve", spec: keySpec{Algorithm: "ECDSA", Curve: "P224"}, wantErr: `ECDSA curve "P224" not supported`},
		{name: "unknown algorithm", spec: keySpec{Algorithm: "DSA"}, wantErr: `key algorithm "DSA" not supported`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := generateKey(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := specOf(key)
			if err != nil || got != tc.want {
				t.Fatalf("specOf = %+v, %v; want %+v", got, err, tc.want)
			}
			// The PEM form stored in state parses back to the same key.
			keyPEM, err := marshalPrivateKeyPEM(key)
			if err != nil {
				t.Fatal(err)
			}
			back, err := parsePrivateKeyPEM(keyPEM)
			if err != nil {
				t.Fatalf("parse generated key: %v", err)
			}
			if !back.(interface{ Equal(crypto.PrivateKey) bool }).Equal(key) {
				t.Error("parsed key differs from the generated one")
			}
			pubPEM, err := pemkey.MarshalPublicKey(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(pubPEM)
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil || !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Errorf("public key PEM does not hold the key's public key (%v)", err)
			}
		})
	}
}

func TestParsePrivateKeyPEM(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p224DER, _ := x509.MarshalECPrivateKey(p224)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	enc := func(typ string, der []byte, headers map[string]string) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der}))
	}
	_, certPEM := testCertificate(t, "x") // a PKCS#8 EC key, from the certificate helper

	cases := []struct {
		name    string
		in      string
		want    keySpec
		wantErr string
	}{
		{name: "PKCS#8", in: certPEM, want: keySpec{Algorithm: "ECDSA", Curve: "P256"}},
		{name: "SEC 1 EC", in: enc("EC PRIVATE KEY", ecDER, nil), want: keySpec{Algorithm: "ECDSA", Curve: "P256"}},
		{name: "PKCS#1 RSA", in: enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa2048), nil), want: keySpec{Algorithm: "RSA", RSABits: 2048}},
		{name: "surrounding whitespace", in: "\n\n" + enc("EC PRIVATE KEY", ecDER, nil) + "\n\n", want: keySpec{Algorithm: "ECDSA", Curve: "P256"}},
		{name: "RSA too small", in: enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa1024), nil), wantErr: "1024 bits is too small"},
		{name: "unsupported curve", in: enc("EC PRIVATE KEY", p224DER, nil), wantErr: "P-224 not supported"},
		{name: "encrypted", in: enc("RSA PRIVATE KEY", []byte{1}, map[string]string{"Proc-Type": "4,ENCRYPTED"}), wantErr: "encrypted"},
		{name: "certificate instead of key", in: enc("CERTIFICATE", []byte{1}, nil), wantErr: `"CERTIFICATE", want "PRIVATE KEY"`},
		{name: "two keys", in: certPEM + certPEM, wantErr: "unexpected data after"},
		{name: "not PEM", in: "MHcCAQEEI...", wantErr: "no PEM block"},
		{name: "text before the key", in: "my key:\n" + certPEM, wantErr: "no PEM block found at the start"},
		{name: "corrupt DER", in: enc("PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01}, nil), wantErr: "parse PRIVATE KEY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := parsePrivateKeyPEM(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := specOf(key); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzParsePEM: the PEM parsers behind plan-time validation never panic on
// what a user pastes into a configuration.
func FuzzParsePEM(f *testing.F) {
	certPEM, keyPEM := testCertificate(&testing.T{}, "seed")
	for _, s := range []string{certPEM, keyPEM, certPEM + certPEM, "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		certs, err := parseCertificatesPEM(s)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificates")
		}
		key, err := parsePrivateKeyPEM(s)
		if err == nil && key == nil {
			t.Fatal("no error and no key")
		}
	})
}

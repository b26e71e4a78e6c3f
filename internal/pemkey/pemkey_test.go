package pemkey

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// keys are one key of each supported type and a second one of each, for
// the mismatch cases.
type keys struct {
	rsa, rsa2       *rsa.PrivateKey
	ec, ec2         *ecdsa.PrivateKey
	ed, ed2         ed25519.PrivateKey
	rsaCert, ecCert *x509.Certificate
	edCert          *x509.Certificate
}

func newKeys(t *testing.T) *keys {
	t.Helper()
	k := &keys{}
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if k.ec2, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, k.ed2, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	k.rsaCert = selfSigned(t, k.rsa)
	k.ecCert = selfSigned(t, k.ec)
	k.edCert = selfSigned(t, k.ed)
	return k
}

func selfSigned(t *testing.T, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "pemkey test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func block(typ string, der []byte, headers map[string]string) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der}))
}

func pkcs8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// checkErr fails unless err is nil when want is "", or holds want. An error
// must never quote a key: none of the base64 of secret may appear in it.
func checkErr(t *testing.T, err error, want string, secret []byte) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got error %v, want one containing %q", err, want)
	}
	if b64 := base64.StdEncoding.EncodeToString(secret); len(b64) >= 16 {
		for i := 0; i+16 <= len(b64); i += 8 {
			if strings.Contains(err.Error(), b64[i:i+16]) {
				t.Fatalf("error quotes key material: %v", err)
			}
		}
	}
}

func TestParseCertificates(t *testing.T) {
	k := newKeys(t)
	ec, rsaC := block(TypeCertificate, k.ecCert.Raw, nil), block(TypeCertificate, k.rsaCert.Raw, nil)
	keyPEM := block(TypePrivateKey, pkcs8(t, k.ec), nil)
	cases := []struct {
		name    string
		in      string
		want    int
		wantErr string
	}{
		{name: "one certificate", in: ec, want: 1},
		{name: "bundle", in: ec + rsaC, want: 2},
		{name: "white space around and between", in: "\n " + ec + "\r\n\t" + rsaC + "\n\n", want: 2},
		{name: "empty", in: "", wantErr: `no PEM "CERTIFICATE" block found`},
		{name: "not PEM", in: "MIIB...", wantErr: `no PEM "CERTIFICATE" block found`},
		{name: "text before the block", in: "issuer:\n" + ec, wantErr: `no PEM "CERTIFICATE" block found`},
		{name: "trailing garbage", in: ec + "garbage", wantErr: "unexpected data after PEM block 1"},
		{name: "text between blocks", in: ec + "next:\n" + rsaC, wantErr: "unexpected data after PEM block 1"},
		{name: "wrong block type", in: ec + keyPEM, wantErr: `PEM block 2 is a "PRIVATE KEY", want "CERTIFICATE"`},
		{name: "bad base64", in: "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", wantErr: "PEM block 1 is malformed"},
		{name: "missing end line", in: strings.TrimSuffix(ec, "-----END CERTIFICATE-----\n"), wantErr: "PEM block 1 is malformed"},
		{name: "malformed block before a good one", in: "-----BEGIN CERTIFICATE-----\n!!!!\n" + ec, wantErr: "PEM block 1 is malformed"},
		{name: "corrupt DER", in: block(TypeCertificate, []byte{0x30, 0x03, 0x02, 0x01, 0x01}, nil), wantErr: "PEM block 1: x509"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := ParseCertificates([]byte(tc.in))
			checkErr(t, err, tc.wantErr, pkcs8(t, k.ec))
			if tc.wantErr == "" && len(certs) != tc.want {
				t.Errorf("got %d certificates, want %d", len(certs), tc.want)
			}
		})
	}
}

func TestParsePrivateKey(t *testing.T) {
	k := newKeys(t)
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecSEC1, err := x509.MarshalECPrivateKey(k.ec)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := block(TypePrivateKey, pkcs8(t, k.ec), nil)
	cases := []struct {
		name    string
		in      string
		want    crypto.Signer
		wantErr string
	}{
		{name: "PKCS#8 RSA", in: block(TypePrivateKey, pkcs8(t, k.rsa), nil), want: k.rsa},
		{name: "PKCS#8 ECDSA", in: ecPEM, want: k.ec},
		{name: "PKCS#8 Ed25519", in: block(TypePrivateKey, pkcs8(t, k.ed), nil), want: k.ed},
		{name: "PKCS#1 RSA", in: block(TypeRSAPrivateKey, x509.MarshalPKCS1PrivateKey(k.rsa), nil), want: k.rsa},
		{name: "SEC 1 ECDSA", in: block(TypeECPrivateKey, ecSEC1, nil), want: k.ec},
		{name: "surrounding white space", in: "\n\n" + ecPEM + "\n\n", want: k.ec},
		{name: "empty", in: "", wantErr: "no PEM block found"},
		{name: "not PEM", in: "MHcCAQEEI...", wantErr: "no PEM block found at the start"},
		{name: "text before the key", in: "my key:\n" + ecPEM, wantErr: "no PEM block found at the start"},
		{name: "trailing garbage", in: ecPEM + "garbage", wantErr: "unexpected data after the PEM private key"},
		{name: "two keys", in: ecPEM + ecPEM, wantErr: "unexpected data after the PEM private key"},
		{name: "bad base64", in: "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", wantErr: "PEM block 1 is malformed"},
		{name: "certificate instead of key", in: block(TypeCertificate, k.ecCert.Raw, nil), wantErr: `PEM block is a "CERTIFICATE", want "PRIVATE KEY"`},
		{name: "public key instead of private", in: block(TypePublicKey, []byte{1}, nil), wantErr: `PEM block is a "PUBLIC KEY"`},
		{name: "encrypted legacy PEM", in: block(TypeRSAPrivateKey, []byte{1}, map[string]string{"Proc-Type": "4,ENCRYPTED"}), wantErr: "encrypted PEM private keys are not supported"},
		{name: "encrypted PKCS#8", in: block(TypeEncryptedKey, []byte{1}, nil), wantErr: "encrypted PEM private keys are not supported"},
		{name: "corrupt DER", in: block(TypePrivateKey, []byte{0x30, 0x03, 0x02, 0x01}, nil), wantErr: "parse PRIVATE KEY"},
		{name: "PKCS#1 body under the PKCS#8 type", in: block(TypePrivateKey, x509.MarshalPKCS1PrivateKey(k.rsa), nil), wantErr: "parse PRIVATE KEY"},
		{name: "key that cannot sign", in: block(TypePrivateKey, pkcs8(t, x), nil), wantErr: "cannot sign"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := ParsePrivateKey([]byte(tc.in))
			checkErr(t, err, tc.wantErr, x509.MarshalPKCS1PrivateKey(k.rsa))
			if tc.wantErr != "" {
				return
			}
			if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(tc.want.Public()) {
				t.Error("parsed key is not the key encoded")
			}
		})
	}
}

func TestParseCertificateRequest(t *testing.T) {
	k := newKeys(t)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "csr.example"}, DNSNames: []string{"csr.example"}}, k.ec)
	if err != nil {
		t.Fatal(err)
	}
	csrPEM := block(TypeCSR, der, nil)
	// The signature covers the subject: change one byte of the common
	// name and it no longer verifies.
	tampered := []byte(strings.Replace(string(der), "csr.example", "csr.exampla", 1))
	cases := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "CSR", in: csrPEM},
		{name: "NEW CERTIFICATE REQUEST label", in: block("NEW CERTIFICATE REQUEST", der, nil)},
		{name: "surrounding white space", in: "\n" + csrPEM + "\n\n"},
		{name: "empty", in: "", wantErr: `no PEM "CERTIFICATE REQUEST" block found`},
		{name: "not PEM", in: "MIIB...", wantErr: `no PEM "CERTIFICATE REQUEST" block found`},
		{name: "trailing garbage", in: csrPEM + "garbage", wantErr: "unexpected data after the PEM certification request"},
		{name: "two requests", in: csrPEM + csrPEM, wantErr: "unexpected data after the PEM certification request"},
		{name: "private key instead", in: block(TypePrivateKey, pkcs8(t, k.ec), nil), wantErr: `PEM block 1 is a "PRIVATE KEY", want "CERTIFICATE REQUEST"`},
		{name: "certificate instead", in: block(TypeCertificate, k.ecCert.Raw, nil), wantErr: `PEM block 1 is a "CERTIFICATE", want "CERTIFICATE REQUEST"`},
		{name: "corrupt DER", in: block(TypeCSR, []byte{0x30, 0x03, 0x02, 0x01, 0x01}, nil), wantErr: "PEM block 1: asn1"},
		{name: "signature does not verify", in: block(TypeCSR, tampered, nil), wantErr: "signature does not verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			csr, err := ParseCertificateRequest([]byte(tc.in))
			checkErr(t, err, tc.wantErr, pkcs8(t, k.ec))
			if tc.wantErr == "" && (csr.Subject.CommonName != "csr.example" || !HasPublicKey(k.ec, csr.PublicKey)) {
				t.Errorf("parsed %v, want the request encoded", csr.Subject)
			}
		})
	}
}

func TestParseBundle(t *testing.T) {
	k := newKeys(t)
	cert, chain := block(TypeCertificate, k.ecCert.Raw, nil), block(TypeCertificate, k.rsaCert.Raw, nil)
	sec1, err := x509.MarshalECPrivateKey(k.ec)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := block(TypeECPrivateKey, sec1, nil)
	cases := []struct {
		name      string
		in        string
		wantCerts int
		wantErr   string
	}{
		{name: "certificate, chain, key", in: cert + chain + keyPEM, wantCerts: 2},
		{name: "key first", in: keyPEM + cert, wantCerts: 1},
		{name: "no key", in: cert + chain, wantErr: "a certificate and its private key are both needed"},
		{name: "no certificate", in: keyPEM, wantErr: "a certificate and its private key are both needed"},
		{name: "two keys", in: cert + keyPEM + keyPEM, wantErr: "PEM block 3 is a second private key"},
		{name: "trailing garbage", in: cert + keyPEM + "garbage", wantErr: "unexpected data after PEM block 2"},
		{name: "text before", in: "bundle:\n" + cert + keyPEM, wantErr: "no PEM block found at the start"},
		{name: "wrong block type for the key", in: cert + block(TypePublicKey, []byte{1}, nil), wantErr: `private key: PEM block is a "PUBLIC KEY"`},
		{name: "corrupt certificate", in: block(TypeCertificate, []byte{0x30, 0x00}, nil) + keyPEM, wantErr: "PEM block 1: x509"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			certs, key, kb, err := ParseBundle([]byte(tc.in))
			checkErr(t, err, tc.wantErr, sec1)
			if tc.wantErr != "" {
				return
			}
			if len(certs) != tc.wantCerts || !BelongsTo(key, certs[0]) {
				t.Errorf("got %d certificates (want %d), key belongs to the first: %v", len(certs), tc.wantCerts, BelongsTo(key, certs[0]))
			}
			if kb.Type != TypeECPrivateKey || string(pem.EncodeToMemory(kb)) != keyPEM {
				t.Errorf("key block not returned as found: %s", kb.Type)
			}
		})
	}
}

// TestFind: files written by tools carry text and other blocks around what
// is read; those are skipped, a bad block of the wanted type is not.
func TestFind(t *testing.T) {
	k := newKeys(t)
	sec1, err := x509.MarshalECPrivateKey(k.ec)
	if err != nil {
		t.Fatal(err)
	}
	cert := block(TypeCertificate, k.ecCert.Raw, nil)
	params := block("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, nil)
	cases := []struct {
		name      string
		in        string
		wantCerts int
		wantKey   bool
		wantErr   string
	}{
		{name: "openssl x509 -text dump before the certificate", in: "Certificate:\n    Data: ...\n" + cert + cert, wantCerts: 2},
		{name: "EC PARAMETERS before the key", in: params + block(TypeECPrivateKey, sec1, nil), wantKey: true},
		{name: "key and certificate in one file", in: cert + "\n" + block(TypePrivateKey, pkcs8(t, k.ec), nil) + "trailer\n", wantCerts: 1, wantKey: true},
		{name: "no certificate", in: params, wantErr: `no PEM "CERTIFICATE" block found`},
		{name: "corrupt certificate", in: params + block(TypeCertificate, []byte{0x30, 0x00}, nil), wantErr: "PEM block 2: x509"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := FindCertificates([]byte(tc.in))
			if tc.wantCerts > 0 || tc.wantErr != "" {
				checkErr(t, err, tc.wantErr, sec1)
				if len(certs) != tc.wantCerts {
					t.Errorf("got %d certificates, want %d", len(certs), tc.wantCerts)
				}
			}
			key, err := FindPrivateKey([]byte(tc.in))
			if tc.wantKey {
				if err != nil || !BelongsTo(key, k.ecCert) {
					t.Errorf("key not found (%v)", err)
				}
			} else {
				checkErr(t, err, "no PEM private key found", sec1)
			}
		})
	}
	t.Run("encrypted key is refused, not skipped", func(t *testing.T) {
		_, err := FindPrivateKey([]byte(params + block(TypeEncryptedKey, []byte{1}, nil)))
		checkErr(t, err, "encrypted PEM private keys are not supported", sec1)
	})
	t.Run("corrupt key is refused, not skipped", func(t *testing.T) {
		_, err := FindPrivateKey([]byte(block(TypeECPrivateKey, []byte{0x30, 0x00}, nil) + block(TypeECPrivateKey, sec1, nil)))
		checkErr(t, err, "parse EC PRIVATE KEY", sec1)
	})
}

func TestBelongsTo(t *testing.T) {
	k := newKeys(t)
	cases := []struct {
		name string
		key  crypto.Signer
		cert *x509.Certificate
		want bool
	}{
		{name: "RSA match", key: k.rsa, cert: k.rsaCert, want: true},
		{name: "RSA mismatch", key: k.rsa2, cert: k.rsaCert},
		{name: "ECDSA match", key: k.ec, cert: k.ecCert, want: true},
		{name: "ECDSA mismatch", key: k.ec2, cert: k.ecCert},
		{name: "Ed25519 match", key: k.ed, cert: k.edCert, want: true},
		{name: "Ed25519 mismatch", key: k.ed2, cert: k.edCert},
		{name: "ECDSA key, RSA certificate", key: k.ec, cert: k.rsaCert},
		{name: "Ed25519 key, ECDSA certificate", key: k.ed, cert: k.ecCert},
		{name: "nil key", key: nil, cert: k.ecCert},
		{name: "nil certificate", key: k.ec, cert: nil},
		{name: "certificate without a public key", key: k.ec, cert: &x509.Certificate{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := BelongsTo(tc.key, tc.cert); got != tc.want {
				t.Errorf("BelongsTo = %v, want %v", got, tc.want)
			}
			if tc.cert == nil {
				return
			}
			if got := HasPublicKey(tc.key, tc.cert.PublicKey); got != tc.want {
				t.Errorf("HasPublicKey = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMarshal: what is written reads back to the same key, certificates and
// public key.
func TestMarshal(t *testing.T) {
	k := newKeys(t)
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		cert *x509.Certificate
	}{
		{"RSA", k.rsa, k.rsaCert},
		{"ECDSA", k.ec, k.ecCert},
		{"Ed25519", k.ed, k.edCert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyPEM, err := MarshalPrivateKey(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(keyPEM), "-----BEGIN PRIVATE KEY-----\n") {
				t.Errorf("not a PKCS#8 block")
			}
			back, err := ParsePrivateKey(keyPEM)
			if err != nil || !BelongsTo(back, tc.cert) {
				t.Fatalf("private key does not read back (%v)", err)
			}
			pubPEM, err := MarshalPublicKey(tc.key.Public())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := pem.Decode(pubPEM)
			pub, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil || b.Type != TypePublicKey || !tc.key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Errorf("public key does not read back (%v)", err)
			}
			certs, err := ParseCertificates(EncodeCertificates(tc.cert.Raw, k.ecCert.Raw))
			if err != nil || len(certs) != 2 || !certs[0].Equal(tc.cert) || !certs[1].Equal(k.ecCert) {
				t.Errorf("certificates do not read back in order (%v)", err)
			}
		})
	}
	if _, err := MarshalPrivateKey(badSigner{}); err == nil {
		t.Error("a key of no known type was marshalled")
	}
}

type badSigner struct{ crypto.Signer }

// FuzzParse: the strict parsers never panic and never succeed empty-handed.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", "-----BEGIN CERTIFICATE-----\n!!\n-----BEGIN CERTIFICATE-----\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if certs, err := ParseCertificates(data); err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificates")
		}
		if key, err := ParsePrivateKey(data); err == nil && key == nil {
			t.Fatal("no error and no key")
		}
		if certs, key, _, err := ParseBundle(data); err == nil && (len(certs) == 0 || key == nil) {
			t.Fatal("no error and no bundle")
		}
	})
}

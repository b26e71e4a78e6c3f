package cmp

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// vectorsDir holds messages made by Insta Certifier and OpenSSL (see its
// README).
var vectorsDir = filepath.Join("testdata", "vectors")

// protVector reads a file of the vectors made by other implementations.
func protVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// protectedMessage is a PKIMessage cut into the pieces protection works on,
// sliced out with cryptobyte independently of the codec:
//
//	PKIMessage ::= SEQUENCE {
//	    header           PKIHeader,
//	    body             PKIBody,
//	    protection   [0] PKIProtection OPTIONAL,
//	    extraCerts   [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate OPTIONAL }
//	ProtectedPart ::= SEQUENCE { header PKIHeader, body PKIBody }
type protectedMessage struct {
	protectedPart []byte
	alg           pkix.AlgorithmIdentifier
	protection    []byte
	extraCerts    [][]byte
}

func sliceProtectedMessage(t testing.TB, der []byte) protectedMessage {
	t.Helper()
	in := cryptobyte.String(der)
	var msg, header, body cryptobyte.String
	var bodyTag cbasn1.Tag
	if !in.ReadASN1(&msg, cbasn1.SEQUENCE) || !in.Empty() {
		t.Fatal("PKIMessage: not a single SEQUENCE")
	}
	if !msg.ReadASN1Element(&header, cbasn1.SEQUENCE) || !msg.ReadAnyASN1Element(&body, &bodyTag) {
		t.Fatal("PKIMessage: header/body")
	}
	var pp cryptobyte.Builder
	pp.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(header)
		b.AddBytes(body)
	})
	var m protectedMessage
	m.protectedPart = pp.BytesOrPanic()

	// PKIHeader: pvno, sender, recipient, [0] messageTime, [1] protectionAlg, ...
	var h cryptobyte.String
	if !header.ReadASN1(&h, cbasn1.SEQUENCE) || !h.SkipASN1(cbasn1.INTEGER) {
		t.Fatal("PKIHeader: pvno")
	}
	var skipped cryptobyte.String
	var tag cbasn1.Tag
	if !h.ReadAnyASN1Element(&skipped, &tag) || !h.ReadAnyASN1Element(&skipped, &tag) {
		t.Fatal("PKIHeader: sender/recipient")
	}
	if !h.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		t.Fatal("PKIHeader: messageTime")
	}
	var algField cryptobyte.String
	var hasAlg bool
	if !h.ReadOptionalASN1(&algField, &hasAlg, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		t.Fatal("PKIHeader: protectionAlg")
	}
	if hasAlg {
		alg, err := ParseAlgorithmIdentifier(algField)
		if err != nil {
			t.Fatalf("PKIHeader protectionAlg: %v", err)
		}
		m.alg = alg
	}
	var prot cryptobyte.String
	var hasProt bool
	if !msg.ReadOptionalASN1(&prot, &hasProt, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		t.Fatal("PKIMessage: protection")
	}
	if hasProt {
		var bits cryptobyte.String
		if !prot.ReadASN1(&bits, cbasn1.BIT_STRING) || len(bits) < 1 || bits[0] != 0 {
			t.Fatal("PKIProtection: not a whole-byte BIT STRING")
		}
		m.protection = bits[1:]
	}
	var certs cryptobyte.String
	var hasCerts bool
	if !msg.ReadOptionalASN1(&certs, &hasCerts, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		t.Fatal("PKIMessage: extraCerts")
	}
	if hasCerts {
		var seq cryptobyte.String
		if !certs.ReadASN1(&seq, cbasn1.SEQUENCE) {
			t.Fatal("extraCerts: not a SEQUENCE")
		}
		for !seq.Empty() {
			var c cryptobyte.String
			if !seq.ReadASN1Element(&c, cbasn1.SEQUENCE) {
				t.Fatal("extraCerts: certificate")
			}
			m.extraCerts = append(m.extraCerts, c)
		}
	}
	return m
}

func protPEMBlock(t testing.TB, data []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}

func protPublicKeyOfKeyPEM(t testing.TB, data []byte) crypto.PublicKey {
	t.Helper()
	der := protPEMBlock(t, data)
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k.Public()
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer).Public()
}

func protCertPEM(t testing.TB, data []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(protPEMBlock(t, data))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// protFlipBit returns a copy of b with one bit of byte i inverted.
func protFlipBit(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// TestSharedVectorsMAC checks PasswordBasedMac protection of messages made
// by Insta Certifier: the right secret verifies, a wrong one and any flipped
// bit fail.
func TestSharedVectorsMAC(t *testing.T) {
	cases := []struct {
		file, secret string
	}{
		{"IP_PBM.der", "insta"},
		{"IP_waitingStatus_PBM.der", "9pp8-b35i-Xd3Q-udNR"},
		{"CR_protected_PBM_1234.der", "1234"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			m := sliceProtectedMessage(t, protVector(t, tc.file))
			if !IsMACProtected(&m.alg) {
				t.Fatalf("protectionAlg %s is not a MAC", m.alg.Algorithm)
			}
			if err := CheckMACProtection(m.alg, []byte(tc.secret), m.protectedPart, m.protection, nil); err != nil {
				t.Fatalf("right secret: %v", err)
			}
			if err := CheckMACProtection(m.alg, []byte(tc.secret+"x"), m.protectedPart, m.protection, nil); !errors.Is(err, ErrBadMAC) {
				t.Fatalf("wrong secret: got %v, want ErrBadMAC", err)
			}
			for _, i := range []int{10, len(m.protectedPart) / 2, len(m.protectedPart) - 1} {
				if err := CheckMACProtection(m.alg, []byte(tc.secret), protFlipBit(m.protectedPart, i), m.protection, nil); !errors.Is(err, ErrBadMAC) {
					t.Errorf("protected part bit flipped at %d: got %v, want ErrBadMAC", i, err)
				}
			}
			if err := CheckMACProtection(m.alg, []byte(tc.secret), m.protectedPart, protFlipBit(m.protection, 0), nil); !errors.Is(err, ErrBadMAC) {
				t.Errorf("protection bit flipped: got %v, want ErrBadMAC", err)
			}
		})
	}
}

// TestSharedVectorsSignature checks signature protection of messages made by
// Insta Certifier and OpenSSL against the keys and certificates that signed
// them.
func TestSharedVectorsSignature(t *testing.T) {
	cases := []struct {
		file string
		key  func(t *testing.T) crypto.PublicKey
		// signerAt: index of the signer certificate in extraCerts (-1: none).
		signerAt int
		// wantErr: the protection is known not to verify over the bytes of the
		// file (see the case).
		wantErr error
	}{
		// The signature in this file is a valid PKCS#1 v1.5 signature by the
		// key of prot_RSA.pem (`openssl pkeyutl -verifyrecover` yields a
		// well-formed SHA-256 DigestInfo) but over other bytes than the
		// file's ProtectedPart: its digest differs from SHA-256 of the
		// ProtectedPart. OpenSSL 3.0.19 agrees: its mock server, given a
		// certificate for that key and this file via `-reqin`, logs "msg
		// signature verification failed ... bad signature".
		{"IR_protected.der", func(t *testing.T) crypto.PublicKey {
			return protPublicKeyOfKeyPEM(t, protVector(t, "prot_RSA.pem"))
		}, -1, ErrBadSignature},
		{"GENM_protected_Ed.der", func(t *testing.T) crypto.PublicKey {
			return protPublicKeyOfKeyPEM(t, protVector(t, "prot_Ed.pem"))
		}, -1, nil},
		{"IR_protected_0_extraCerts.der", func(t *testing.T) crypto.PublicKey {
			return protCertPEM(t, protVector(t, "insta.cert.pem")).PublicKey
		}, -1, nil},
		// Here the signer travels second, after a self-signed O=openssl_cmp
		// certificate (RFC 9483 section 3.3 asks senders to put it first;
		// receivers must not rely on that).
		{"IR_protected_2_extraCerts.der", func(t *testing.T) crypto.PublicKey {
			return protCertPEM(t, protVector(t, "insta.cert.pem")).PublicKey
		}, 1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			m := sliceProtectedMessage(t, protVector(t, tc.file))
			if IsMACProtected(&m.alg) {
				t.Fatalf("protectionAlg %s is a MAC", m.alg.Algorithm)
			}
			pub := tc.key(t)
			err := CheckSignatureProtection(pub, m.alg, m.protectedPart, m.protection)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("verify: got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if tc.signerAt >= 0 {
				want := protCertPEM(t, protVector(t, "insta.cert.pem"))
				if len(m.extraCerts) <= tc.signerAt || !bytes.Equal(m.extraCerts[tc.signerAt], want.Raw) {
					t.Errorf("extraCerts[%d] is not the signer insta.cert.pem", tc.signerAt)
				}
			}
			for _, i := range []int{10, len(m.protectedPart) / 2, len(m.protectedPart) - 1} {
				if err := CheckSignatureProtection(pub, m.alg, protFlipBit(m.protectedPart, i), m.protection); !errors.Is(err, ErrBadSignature) {
					t.Errorf("protected part bit flipped at %d: got %v, want ErrBadSignature", i, err)
				}
			}
			if err := CheckSignatureProtection(pub, m.alg, m.protectedPart, protFlipBit(m.protection, len(m.protection)/2)); !errors.Is(err, ErrBadSignature) {
				t.Errorf("protection bit flipped: got %v, want ErrBadSignature", err)
			}
		})
	}
}

// TestSharedVectorsWrongKey: a signature checked against another key fails.
func TestSharedVectorsWrongKey(t *testing.T) {
	m := sliceProtectedMessage(t, protVector(t, "IR_protected_0_extraCerts.der"))
	other := protCertPEM(t, protVector(t, "insta_ca.cert.pem")).PublicKey
	if err := CheckSignatureProtection(other, m.alg, m.protectedPart, m.protection); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("verify with the CA key: got %v, want ErrBadSignature", err)
	}
}

package cmp

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// protTestKeys are generated once per test binary: RSA generation is slow.
var protTestKeys = sync.OnceValue(func() map[string]crypto.Signer {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	keys := map[string]crypto.Signer{"RSA": rsaKey}
	for name, c := range map[string]elliptic.Curve{"CA P-256": elliptic.P256(), "P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		keys[name] = k
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	keys["Ed25519"] = edKey
	return keys
})

// protTestCert issues a self-signed certificate for key with key usage ku
// (0: no key usage extension).
func protTestCert(t testing.TB, key crypto.Signer, cn string, ku x509.KeyUsage) *x509.Certificate {
	t.Helper()
	skid := make([]byte, 20)
	rand.Read(skid)
	return testpki.Issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		SubjectKeyId: skid,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     ku,
	}, key, nil).Cert
}

// protTestMessage returns a genm with a complete header, as a client sends
// it before protection.
func protTestMessage(t testing.TB) *Message {
	t.Helper()
	sender, err := NameFromPKIX(pkix.Name{CommonName: "protection test"})
	if err != nil {
		t.Fatal(err)
	}
	return &Message{
		Header: Header{
			PVNO:          PVNO2,
			Sender:        sender,
			Recipient:     NullDN(),
			MessageTime:   time.Now().UTC().Truncate(time.Second),
			SenderKID:     []byte("ref-4711"),
			TransactionID: bytes.Repeat([]byte{0x11}, 16),
			SenderNonce:   bytes.Repeat([]byte{0x22}, 16),
		},
		Body: Body{Type: BodyGenM, GenMsg: []InfoTypeAndValue{{Type: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 4, 17}}}},
	}
}

// protRoundTrip marshals m and parses the result, as the receiver sees it.
func protRoundTrip(t testing.TB, m *Message) (*Message, []byte) {
	t.Helper()
	der, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	return got, der
}

// protTamperedCopies returns parsed copies of der with one bit flipped in
// the header (senderNonce), the body (last byte of the protected part) and
// the protection.
func protTamperedCopies(t testing.TB, m *Message, der []byte) map[string]*Message {
	t.Helper()
	out := map[string]*Message{}
	flip := func(name string, i int) {
		c, err := Parse(protFlipBit(der, i))
		if err != nil {
			t.Fatalf("%s: flipped message does not parse: %v", name, err)
		}
		out[name] = c
	}
	flip("header", bytes.Index(der, m.Header.SenderNonce)+5)
	flip("body", bytes.Index(der, m.RawProtectedPart)+len(m.RawProtectedPart)-1)
	flip("protection", bytes.Index(der, m.Protection)+len(m.Protection)/2)
	return out
}

// TestMACRoundTrip: every MAC algorithm protects a message that then
// verifies after encoding and decoding, and fails with a wrong secret or one
// flipped bit in header, body or protection.
func TestMACRoundTrip(t *testing.T) {
	secret := []byte("round-trip secret")
	cases := []struct {
		name   string
		params MACParams
		oid    asn1.ObjectIdentifier
	}{
		{"PBM hmacWithSHA256 default", MACParams{}, OIDPasswordBasedMac},
		{"PBM hmac-sha1", MACParams{Algorithm: PBMHMACSHA1, Iterations: 500}, OIDPasswordBasedMac},
		{"PBMAC1", MACParams{Algorithm: PBMAC1HMACSHA256, Iterations: 1000}, OIDPBMAC1},
		{"PBM at the cap", MACParams{Iterations: MaxMACIterations}, OIDPasswordBasedMac},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := protTestMessage(t)
			if err := ProtectMAC(m, tc.params, secret); err != nil {
				t.Fatal(err)
			}
			if !m.Header.ProtectionAlg.Algorithm.Equal(tc.oid) || !IsMACProtected(m.Header.ProtectionAlg) {
				t.Fatalf("protectionAlg %s, want %s", m.Header.ProtectionAlg.Algorithm, tc.oid)
			}
			got, der := protRoundTrip(t, m)
			if err := VerifyMAC(got, secret, nil); err != nil {
				t.Fatalf("verify: %v", err)
			}
			if err := VerifyMAC(got, []byte("wrong secret"), nil); !errors.Is(err, ErrBadMAC) {
				t.Errorf("wrong secret: got %v, want ErrBadMAC", err)
			}
			for where, c := range protTamperedCopies(t, got, der) {
				if err := VerifyMAC(c, secret, nil); !errors.Is(err, ErrBadMAC) {
					t.Errorf("%s bit flipped: got %v, want ErrBadMAC", where, err)
				}
			}
		})
	}
}

// TestMACParametersSent checks what NewMACAlgorithmIdentifier puts on the
// wire: OWF SHA-256, the chosen MAC, a 16-byte fresh salt, the iteration
// count, and for PBMAC1 PBKDF2 with hmacWithSHA256 and a 32-byte key.
func TestMACParametersSent(t *testing.T) {
	for _, tc := range []struct {
		alg MACAlgorithm
		mac asn1.ObjectIdentifier
	}{{PBMHMACSHA256, OIDHMACWithSHA256}, {PBMHMACSHA1, OIDHMACSHA1}} {
		t.Run(tc.alg.String(), func(t *testing.T) {
			a, err := NewMACAlgorithmIdentifier(MACParams{Algorithm: tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			b, err := NewMACAlgorithmIdentifier(MACParams{Algorithm: tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			pa, err := ParsePBMParameter(a.Parameters.FullBytes)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := ParsePBMParameter(b.Parameters.FullBytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(pa.Salt) != 16 || bytes.Equal(pa.Salt, pb.Salt) {
				t.Errorf("salts %x and %x: want 16 fresh random bytes each", pa.Salt, pb.Salt)
			}
			if !pa.OWF.Algorithm.Equal(OIDSHA256) || !pa.MAC.Algorithm.Equal(tc.mac) || pa.IterationCount != DefaultMACIterations {
				t.Errorf("owf %s mac %s iterations %d", pa.OWF.Algorithm, pa.MAC.Algorithm, pa.IterationCount)
			}
		})
	}
	t.Run("PBMAC1", func(t *testing.T) {
		a, err := NewMACAlgorithmIdentifier(MACParams{Algorithm: PBMAC1HMACSHA256, Iterations: 2000})
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePBMAC1Parameter(a.Parameters.FullBytes)
		if err != nil {
			t.Fatal(err)
		}
		kdf, err := ParsePBKDF2Parameter(p.KeyDerivationFunc.Parameters.FullBytes)
		if err != nil {
			t.Fatal(err)
		}
		if !p.KeyDerivationFunc.Algorithm.Equal(OIDPBKDF2) || !p.MessageAuthScheme.Algorithm.Equal(OIDHMACWithSHA256) ||
			len(kdf.Salt) != 16 || kdf.IterationCount != 2000 || kdf.KeyLength != 32 || kdf.PRF == nil || !kdf.PRF.Algorithm.Equal(OIDHMACWithSHA256) {
			t.Errorf("PBMAC1 parameters: kdf %s mac %s salt %d B iterations %d keyLength %d prf %v",
				p.KeyDerivationFunc.Algorithm, p.MessageAuthScheme.Algorithm, len(kdf.Salt), kdf.IterationCount, kdf.KeyLength, kdf.PRF)
		}
	})
}

// TestPBMAC1KnownAnswer checks the PBKDF2 plumbing (salt, iteration count,
// key length and the default PRF hmacWithSHA1) with RFC 6070 test vector 5,
// whose derived key is published: P = "passwordPASSWORDpassword", S =
// "saltSALTsaltSALTsaltSALTsaltSALTsalt", c = 4096, dkLen = 25.
func TestPBMAC1KnownAnswer(t *testing.T) {
	dk, _ := hex.DecodeString("3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038")
	kdfParams, err := (&PBKDF2Parameter{Salt: []byte("saltSALTsaltSALTsaltSALTsaltSALTsalt"), IterationCount: 4096, KeyLength: 25}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	kdf, err := NewAlgorithmIdentifier(OIDPBKDF2, kdfParams)
	if err != nil {
		t.Fatal(err)
	}
	params, err := (&PBMAC1Parameter{KeyDerivationFunc: kdf, MessageAuthScheme: pkix.AlgorithmIdentifier{Algorithm: OIDHMACWithSHA256}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	alg, err := NewAlgorithmIdentifier(OIDPBMAC1, params)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("protected part")
	got, err := MACProtection(alg, []byte("passwordPASSWORDpassword"), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, dk)
	mac.Write(data)
	if want := mac.Sum(nil); !bytes.Equal(got, want) {
		t.Errorf("PBMAC1 = %x, want HMAC-SHA256 under the RFC 6070 key = %x", got, want)
	}
}

// TestPBMKeyCache: with fixed parameters the cache derives once, and cached
// and uncached MACs agree.
func TestPBMKeyCache(t *testing.T) {
	secret := []byte("cached secret")
	for _, alg := range []MACAlgorithm{PBMHMACSHA256, PBMHMACSHA1, PBMAC1HMACSHA256} {
		t.Run(alg.String(), func(t *testing.T) {
			cache := &PBMKeyCache{}
			p := MACParams{Algorithm: alg, Salt: []byte("0123456789abcdef"), Cache: cache}
			var algs [][]byte
			for i := 0; i < 3; i++ {
				m := protTestMessage(t)
				m.Header.SenderNonce = bytes.Repeat([]byte{byte(i)}, 16)
				if err := ProtectMAC(m, p, secret); err != nil {
					t.Fatal(err)
				}
				algs = append(algs, m.Header.ProtectionAlg.Parameters.FullBytes)
				got, _ := protRoundTrip(t, m)
				if err := VerifyMAC(got, secret, nil); err != nil {
					t.Fatalf("uncached verify of cached protection: %v", err)
				}
				if err := VerifyMAC(got, secret, cache); err != nil {
					t.Fatalf("cached verify: %v", err)
				}
			}
			if !bytes.Equal(algs[0], algs[2]) {
				t.Error("fixed salt gave different parameters")
			}
			if cache.Len() != 1 {
				t.Errorf("cache holds %d keys, want 1", cache.Len())
			}
			m := protTestMessage(t)
			if err := ProtectMAC(m, p, []byte("other secret")); err != nil {
				t.Fatal(err)
			}
			if cache.Len() != 2 {
				t.Errorf("cache holds %d keys after a second secret, want 2", cache.Len())
			}
			got, _ := protRoundTrip(t, m)
			if err := VerifyMAC(got, secret, cache); !errors.Is(err, ErrBadMAC) {
				t.Errorf("other secret through the cache: got %v, want ErrBadMAC", err)
			}
		})
	}
}

// protPBMAlg builds a PasswordBasedMac identifier with the given fields.
func protPBMAlg(t testing.TB, salt []byte, owf asn1.ObjectIdentifier, iterations int64, mac asn1.ObjectIdentifier) pkix.AlgorithmIdentifier {
	t.Helper()
	params, err := (&PBMParameter{Salt: salt, OWF: pkix.AlgorithmIdentifier{Algorithm: owf}, IterationCount: iterations, MAC: pkix.AlgorithmIdentifier{Algorithm: mac}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	alg, err := NewAlgorithmIdentifier(OIDPasswordBasedMac, params)
	if err != nil {
		t.Fatal(err)
	}
	return alg
}

// protPBMAC1Alg builds a PBMAC1 identifier around PBKDF2 parameters.
func protPBMAC1Alg(t testing.TB, kdfParams []byte, mac asn1.ObjectIdentifier) pkix.AlgorithmIdentifier {
	t.Helper()
	kdf, err := NewAlgorithmIdentifier(OIDPBKDF2, kdfParams)
	if err != nil {
		t.Fatal(err)
	}
	params, err := (&PBMAC1Parameter{KeyDerivationFunc: kdf, MessageAuthScheme: pkix.AlgorithmIdentifier{Algorithm: mac}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	alg, err := NewAlgorithmIdentifier(OIDPBMAC1, params)
	if err != nil {
		t.Fatal(err)
	}
	return alg
}

// TestMACRejected lists received MAC parameters that must be refused, each
// with the words the error must contain.
func TestMACRejected(t *testing.T) {
	salt := []byte("0123456789abcdef")
	md5 := asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	otherSource := []byte{0x30, 0x0b, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x02, 0x02, 0x03, 0xe8} // salt is an AlgorithmIdentifier
	pbkdf2Params := func(salt []byte, iterations, keyLength int64) []byte {
		prf := pkix.AlgorithmIdentifier{Algorithm: OIDHMACWithSHA256}
		der, err := (&PBKDF2Parameter{Salt: salt, IterationCount: iterations, KeyLength: keyLength, PRF: &prf}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	cases := []struct {
		name string
		alg  pkix.AlgorithmIdentifier
		want []string
	}{
		{"iteration count over the cap", protPBMAlg(t, salt, OIDSHA256, 200000, OIDHMACWithSHA256), []string{"200000", "100000"}},
		{"iteration count below the minimum", protPBMAlg(t, salt, OIDSHA256, 99, OIDHMACWithSHA256), []string{"99", "minimum"}},
		{"short salt", protPBMAlg(t, []byte("1234567"), OIDSHA256, 1000, OIDHMACWithSHA256), []string{"salt of 7 bytes"}},
		{"unknown OWF", protPBMAlg(t, salt, md5, 1000, OIDHMACWithSHA256), []string{"digest 1.2.840.113549.2.5"}},
		{"unknown MAC", protPBMAlg(t, salt, OIDSHA256, 1000, asn1.ObjectIdentifier{1, 2, 3, 4}), []string{"MAC 1.2.3.4"}},
		{"unknown protection algorithm", pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113533, 7, 66, 30}}, []string{"1.2.840.113533.7.66.30"}},
		{"PBM without parameters", pkix.AlgorithmIdentifier{Algorithm: OIDPasswordBasedMac}, []string{"PBMParameter"}},
		{"PBMAC1 iterations over the cap", protPBMAC1Alg(t, pbkdf2Params(salt, 100001, 32), OIDHMACWithSHA256), []string{"100001", "100000"}},
		{"PBMAC1 keyLength over the cap", protPBMAC1Alg(t, pbkdf2Params(salt, 1000, 4096), OIDHMACWithSHA256), []string{"keyLength 4096"}},
		{"PBMAC1 salt otherSource", protPBMAC1Alg(t, otherSource, OIDHMACWithSHA256), []string{"otherSource"}},
		{"PBMAC1 unknown MAC", protPBMAC1Alg(t, pbkdf2Params(salt, 1000, 32), asn1.ObjectIdentifier{1, 2, 3}), []string{"messageAuthScheme"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckMACProtection(tc.alg, []byte("secret"), []byte("data"), make([]byte, 32), nil)
			if !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Fatalf("got %v, want ErrUnsupportedAlgorithm", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	for _, p := range []MACParams{{Iterations: MaxMACIterations + 1}, {Iterations: 10}, {Salt: []byte("short")}, {Algorithm: MACAlgorithm(9)}} {
		if _, err := NewMACAlgorithmIdentifier(p); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("NewMACAlgorithmIdentifier(%+v): got %v, want ErrUnsupportedAlgorithm", p, err)
		}
	}
}

// TestSignatureRoundTrip: every key type protects a message that verifies
// with its certificate after encoding and decoding; the identifier is the
// one RFC 9481 pairs with the key; extraCerts and senderKID follow RFC 9483
// section 3.1; another certificate and flipped bits fail.
func TestSignatureRoundTrip(t *testing.T) {
	keys := protTestKeys()
	cases := []struct {
		key  string
		opts SignatureOptions
		oid  asn1.ObjectIdentifier
	}{
		{"RSA", SignatureOptions{}, OIDSHA256WithRSA},
		{"RSA", SignatureOptions{RSAPSS: true}, OIDRSASSAPSS},
		{"P-256", SignatureOptions{}, OIDECDSAWithSHA256},
		{"P-384", SignatureOptions{}, OIDECDSAWithSHA384},
		{"P-521", SignatureOptions{}, OIDECDSAWithSHA512},
		{"Ed25519", SignatureOptions{}, OIDEd25519},
	}
	for _, tc := range cases {
		name := tc.key
		if tc.opts.RSAPSS {
			name += " PSS"
		}
		t.Run(name, func(t *testing.T) {
			key := keys[tc.key]
			cert := protTestCert(t, key, "signer "+name, x509.KeyUsageDigitalSignature)
			ca := protTestCert(t, keys["CA P-256"], "some CA", x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature)
			m := protTestMessage(t)
			m.ExtraCerts = [][]byte{ca.Raw, cert.Raw}
			if err := ProtectSignature(m, key, []*x509.Certificate{cert, ca}, tc.opts); err != nil {
				t.Fatal(err)
			}
			if !m.Header.ProtectionAlg.Algorithm.Equal(tc.oid) || IsMACProtected(m.Header.ProtectionAlg) {
				t.Errorf("protectionAlg %s, want %s", m.Header.ProtectionAlg.Algorithm, tc.oid)
			}
			got, der := protRoundTrip(t, m)
			if len(got.ExtraCerts) != 2 || !bytes.Equal(got.ExtraCerts[0], cert.Raw) || !bytes.Equal(got.ExtraCerts[1], ca.Raw) {
				t.Errorf("extraCerts: want the signer first, then its chain, no duplicates; got %d certificates", len(got.ExtraCerts))
			}
			if !bytes.Equal(got.Header.SenderKID, cert.SubjectKeyId) || len(cert.SubjectKeyId) == 0 {
				t.Errorf("senderKID %x, want the subject key identifier %x", got.Header.SenderKID, cert.SubjectKeyId)
			}
			if err := VerifySignature(got, cert); err != nil {
				t.Fatalf("verify: %v", err)
			}
			if err := VerifySignature(got, ca); err == nil {
				t.Error("verified with another certificate")
			}
			for where, c := range protTamperedCopies(t, got, der) {
				if err := VerifySignature(c, cert); !errors.Is(err, ErrBadSignature) {
					t.Errorf("%s bit flipped: got %v, want ErrBadSignature", where, err)
				}
			}
		})
	}
}

// TestProtectSignatureExtraCerts: RFC 9810 section 5.1 lets extraCerts
// carry certificates useful to the recipient beyond the signer's, and RFC
// 9483 section 3.3 puts the protection certificate first, followed by its
// chain. ProtectSignature therefore puts chain first and keeps the
// certificates already there after it, once each; without a chain (a
// message signed again) extraCerts and senderKID stay as they are.
func TestProtectSignatureExtraCerts(t *testing.T) {
	keys := protTestKeys()
	signer := protTestCert(t, keys["P-256"], "signer", x509.KeyUsageDigitalSignature)
	ca := protTestCert(t, keys["CA P-256"], "signer's CA", x509.KeyUsageCertSign)
	other := protTestCert(t, keys["RSA"], "issued certificate's CA", x509.KeyUsageCertSign)
	for _, tc := range []struct {
		name     string
		existing [][]byte
		chain    []*x509.Certificate
		want     [][]byte
		wantKID  []byte
	}{
		{"none before", nil, []*x509.Certificate{signer, ca}, [][]byte{signer.Raw, ca.Raw}, signer.SubjectKeyId},
		{"another certificate is kept after the chain", [][]byte{other.Raw}, []*x509.Certificate{signer, ca}, [][]byte{signer.Raw, ca.Raw, other.Raw}, signer.SubjectKeyId},
		{"the chain is not repeated", [][]byte{ca.Raw, other.Raw, signer.Raw}, []*x509.Certificate{signer, ca}, [][]byte{signer.Raw, ca.Raw, other.Raw}, signer.SubjectKeyId},
		{"signed again without a chain", [][]byte{other.Raw, signer.Raw}, nil, [][]byte{other.Raw, signer.Raw}, []byte("kept")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := protTestMessage(t)
			m.ExtraCerts = tc.existing
			m.Header.SenderKID = []byte("kept")
			if err := ProtectSignature(m, keys["P-256"], tc.chain, SignatureOptions{}); err != nil {
				t.Fatal(err)
			}
			got, _ := protRoundTrip(t, m)
			if len(got.ExtraCerts) != len(tc.want) {
				t.Fatalf("%d extraCerts, want %d", len(got.ExtraCerts), len(tc.want))
			}
			for i := range tc.want {
				if !bytes.Equal(got.ExtraCerts[i], tc.want[i]) {
					t.Errorf("extraCerts[%d] is not the expected certificate", i)
				}
			}
			if !bytes.Equal(got.Header.SenderKID, tc.wantKID) {
				t.Errorf("senderKID %x, want %x", got.Header.SenderKID, tc.wantKID)
			}
			if err := VerifySignature(got, signer); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

// TestSignatureChecks covers the refusals around signature protection.
func TestSignatureChecks(t *testing.T) {
	keys := protTestKeys()
	t.Run("key usage without digitalSignature", func(t *testing.T) {
		cert := protTestCert(t, keys["RSA"], "encipherment only", x509.KeyUsageKeyEncipherment)
		m := protTestMessage(t)
		if err := ProtectSignature(m, keys["RSA"], []*x509.Certificate{cert}, SignatureOptions{}); err != nil {
			t.Fatal(err)
		}
		got, _ := protRoundTrip(t, m)
		if err := VerifySignature(got, cert); err == nil || !strings.Contains(err.Error(), "digitalSignature") {
			t.Errorf("got %v, want a key usage error", err)
		}
	})
	t.Run("no key usage extension", func(t *testing.T) {
		cert := protTestCert(t, keys["P-256"], "no key usage", 0)
		m := protTestMessage(t)
		if err := ProtectSignature(m, keys["P-256"], []*x509.Certificate{cert}, SignatureOptions{}); err != nil {
			t.Fatal(err)
		}
		got, _ := protRoundTrip(t, m)
		if err := VerifySignature(got, cert); err != nil {
			t.Errorf("got %v, want success", err)
		}
	})
	t.Run("key not matching the certificate", func(t *testing.T) {
		cert := protTestCert(t, keys["P-256"], "p256", x509.KeyUsageDigitalSignature)
		if err := ProtectSignature(protTestMessage(t), keys["P-384"], []*x509.Certificate{cert}, SignatureOptions{}); err == nil {
			t.Error("protected with a key that is not the certificate's")
		}
	})
	t.Run("unprotected", func(t *testing.T) {
		m := protTestMessage(t)
		got, _ := protRoundTrip(t, m)
		if err := VerifySignature(got, protTestCert(t, keys["P-256"], "x", 0)); !errors.Is(err, ErrUnprotected) {
			t.Errorf("VerifySignature: got %v, want ErrUnprotected", err)
		}
		if err := VerifyMAC(got, []byte("s"), nil); !errors.Is(err, ErrUnprotected) {
			t.Errorf("VerifyMAC: got %v, want ErrUnprotected", err)
		}
	})
	t.Run("unknown signature algorithm", func(t *testing.T) {
		cert := protTestCert(t, keys["P-256"], "p256", x509.KeyUsageDigitalSignature)
		m := protTestMessage(t)
		if err := ProtectSignature(m, keys["P-256"], []*x509.Certificate{cert}, SignatureOptions{}); err != nil {
			t.Fatal(err)
		}
		m.Header.ProtectionAlg = &pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}} // ecdsa-with-SHA1
		got, _ := protRoundTrip(t, m)
		if err := VerifySignature(got, cert); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("got %v, want ErrUnsupportedAlgorithm", err)
		}
	})
	t.Run("algorithm for another key type", func(t *testing.T) {
		cert := protTestCert(t, keys["Ed25519"], "ed", x509.KeyUsageDigitalSignature)
		m := protTestMessage(t)
		if err := ProtectSignature(m, keys["Ed25519"], []*x509.Certificate{cert}, SignatureOptions{}); err != nil {
			t.Fatal(err)
		}
		m.Header.ProtectionAlg = &pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256}
		got, _ := protRoundTrip(t, m)
		if err := VerifySignature(got, cert); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("got %v, want ErrUnsupportedAlgorithm", err)
		}
	})
}

// TestPOPRoundTrip: SignPOP on a request for every key type gives a POP that
// VerifyPOP accepts after encoding and decoding, and refuses when the
// request changes.
func TestPOPRoundTrip(t *testing.T) {
	keys := protTestKeys()
	subject, err := asn1.Marshal(pkix.Name{CommonName: "pop test"}.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"RSA", "P-256", "P-384", "P-521", "Ed25519"} {
		t.Run(name, func(t *testing.T) {
			key := keys[name]
			spki, err := x509.MarshalPKIXPublicKey(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			req := CertReqMsg{CertReqID: 0, Template: CertTemplate{Subject: subject, PublicKey: spki}}
			if err := SignPOP(&req, key, SignatureOptions{}); err != nil {
				t.Fatal(err)
			}
			m := protTestMessage(t)
			m.Body = Body{Type: BodyIR, CertReq: []CertReqMsg{req}}
			got, _ := protRoundTrip(t, m)
			parsed := got.Body.CertReq[0]
			if parsed.POP == nil || parsed.POP.Type != POPSignature {
				t.Fatalf("POP %+v, want a signature POP", parsed.POP)
			}
			if err := VerifyPOP(&parsed); err != nil {
				t.Fatalf("verify: %v", err)
			}
			changed := parsed
			changed.RawCertRequest = nil
			changed.CertReqID = 1
			if err := VerifyPOP(&changed); !errors.Is(err, ErrBadPOP) {
				t.Errorf("changed certReqId: got %v, want ErrBadPOP", err)
			}
		})
	}
	t.Run("refusals", func(t *testing.T) {
		key := keys["P-256"]
		spki, _ := x509.MarshalPKIXPublicKey(key.Public())
		other, _ := x509.MarshalPKIXPublicKey(keys["P-384"].Public())
		if err := SignPOP(&CertReqMsg{Template: CertTemplate{Subject: subject, PublicKey: other}}, key, SignatureOptions{}); err == nil {
			t.Error("SignPOP signed for a template holding another key")
		}
		if err := SignPOP(&CertReqMsg{Template: CertTemplate{PublicKey: spki}}, key, SignatureOptions{}); err == nil {
			t.Error("SignPOP signed for a template without subject")
		}
		req := CertReqMsg{Template: CertTemplate{Subject: subject, PublicKey: spki}}
		if err := SignPOP(&req, key, SignatureOptions{}); err != nil {
			t.Fatal(err)
		}
		for name, mutate := range map[string]func(r *CertReqMsg){
			"no POP":     func(r *CertReqMsg) { r.POP = nil },
			"raVerified": func(r *CertReqMsg) { r.POP = &ProofOfPossession{Type: POPRAVerified} },
			"poposkInput": func(r *CertReqMsg) {
				s := *r.POP.Signature
				s.Input = []byte{0x30, 0x00}
				r.POP = &ProofOfPossession{Type: POPSignature, Signature: &s}
			},
			"no public key": func(r *CertReqMsg) { r.Template.PublicKey = nil },
			"no subject":    func(r *CertReqMsg) { r.Template.Subject = nil },
			"wrong algorithm": func(r *CertReqMsg) {
				s := *r.POP.Signature
				s.Algorithm = pkix.AlgorithmIdentifier{Algorithm: OIDEd25519}
				r.POP = &ProofOfPossession{Type: POPSignature, Signature: &s}
			},
		} {
			c := req
			mutate(&c)
			if err := VerifyPOP(&c); !errors.Is(err, ErrBadPOP) {
				t.Errorf("%s: got %v, want ErrBadPOP", name, err)
			}
		}
	})
}

// TestPBMKeyCacheBoundsAndConcurrency: the cache never holds more than
// maxCachedKeys keys, and concurrent use is safe (run with -race).
func TestPBMKeyCacheBoundsAndConcurrency(t *testing.T) {
	cache := &PBMKeyCache{}
	secret := []byte("bounded")
	for i := 0; i < maxCachedKeys+50; i++ {
		salt := []byte(fmt.Sprintf("salt-%08d", i))
		alg, err := NewMACAlgorithmIdentifier(MACParams{Iterations: MinMACIterations, Salt: salt})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := MACProtection(alg, secret, []byte("data"), cache); err != nil {
			t.Fatal(err)
		}
	}
	if n := cache.Len(); n > maxCachedKeys || n == 0 {
		t.Errorf("cache holds %d keys, want 1..%d", n, maxCachedKeys)
	}
	alg, err := NewMACAlgorithmIdentifier(MACParams{Iterations: 1000, Salt: []byte("shared salt 1234")})
	if err != nil {
		t.Fatal(err)
	}
	want, err := MACProtection(alg, secret, []byte("data"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if err := CheckMACProtection(alg, secret, []byte("data"), want, cache); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

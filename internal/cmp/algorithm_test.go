package cmp

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

func protHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseAlgorithmIdentifier: well-formed identifiers decode and encode
// back to the same bytes; malformed ones are refused.
func TestParseAlgorithmIdentifier(t *testing.T) {
	good := []struct{ name, der string }{
		{"sha256 absent parameters", "300b0609608648016503040201"},
		{"sha256WithRSA NULL", "300d06092a864886f70d01010b0500"},
		{"Ed25519", "300506032b6570"},
		{"hmac-sha1", "300a06082b06010505080102"},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			der := protHex(t, tc.der)
			alg, err := ParseAlgorithmIdentifier(der)
			if err != nil {
				t.Fatal(err)
			}
			out, err := MarshalAlgorithmIdentifier(alg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, der) {
				t.Errorf("re-encoded %x, want %x", out, der)
			}
		})
	}
	bad := []struct{ name, der string }{
		{"empty", ""},
		{"not a SEQUENCE", "310b0609608648016503040201"},
		{"trailing data", "300b060960864801650304020100"},
		{"two parameters", "300f06092a864886f70d01010b05000500"},
		{"length past the end", "300d0609608648016503040201"},
		{"no OID", "30020500"},
		{"truncated parameters", "300d06092a864886f70d01010b0502"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseAlgorithmIdentifier(protHex(t, tc.der)); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// TestSignatureAlgorithmFor checks the key-to-algorithm pairing of RFC 9481
// section 3.
func TestSignatureAlgorithmFor(t *testing.T) {
	keys := protTestKeys()
	cases := []struct {
		key string
		pss bool
		oid asn1.ObjectIdentifier
		par string // DER of the parameters, "" = absent
	}{
		{"RSA", false, OIDSHA256WithRSA, "0500"},
		{"P-256", false, OIDECDSAWithSHA256, ""},
		{"P-384", false, OIDECDSAWithSHA384, ""},
		{"P-521", false, OIDECDSAWithSHA512, ""},
		{"Ed25519", false, OIDEd25519, ""},
		{"P-256", true, OIDECDSAWithSHA256, ""}, // PSS applies to RSA only
	}
	for _, tc := range cases {
		alg, err := SignatureAlgorithmFor(keys[tc.key].Public(), tc.pss)
		if err != nil {
			t.Errorf("%s: %v", tc.key, err)
			continue
		}
		params, _ := AlgorithmParameters(alg)
		if !alg.Algorithm.Equal(tc.oid) || hex.EncodeToString(params) != tc.par {
			t.Errorf("%s: %s params %x, want %s params %s", tc.key, alg.Algorithm, params, tc.oid, tc.par)
		}
	}
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	for name, pub := range map[string]crypto.PublicKey{"P-224": &p224.PublicKey, "string": "not a key"} {
		if _, err := SignatureAlgorithmFor(pub, false); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("%s: got %v, want ErrUnsupportedAlgorithm", name, err)
		}
	}
}

// TestPSSParametersMatchGo compares our RSASSA-PSS SHA-256 parameters with
// those Go's crypto/x509 writes into a certificate it signs with PSS.
func TestPSSParametersMatchGo(t *testing.T) {
	key := protTestKeys()["RSA"]
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), SignatureAlgorithm: x509.SHA256WithRSAPSS}
	cert := testpki.Issue(t, tmpl, key, nil).Cert
	goAlg, err := certificateSignatureAlgorithm(cert.Raw)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := SignatureAlgorithmFor(key.Public(), true)
	if err != nil {
		t.Fatal(err)
	}
	goDER, _ := MarshalAlgorithmIdentifier(goAlg)
	ourDER, _ := MarshalAlgorithmIdentifier(ours)
	if !bytes.Equal(goDER, ourDER) {
		t.Errorf("RSASSA-PSS identifier %x, Go's crypto/x509 writes %x", ourDER, goDER)
	}
	if err := CheckSignatureProtection(key.Public(), goAlg, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Errorf("verify Go's PSS signature: %v", err)
	}
}

// TestParsePSSParameters: the SHA-2 forms decode; the SHA-1 defaults and
// inconsistent or malformed parameters are refused.
func TestParsePSSParameters(t *testing.T) {
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		der, err := MarshalPSSParameters(PSSParameters{Hash: h, SaltLength: h.Size()})
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePSSParameters(der)
		if err != nil || p.Hash != h || p.SaltLength != h.Size() {
			t.Errorf("%v: got %+v, %v", h, p, err)
		}
	}
	sha1 := pkix.AlgorithmIdentifier{Algorithm: OIDSHA1}
	sha256 := pkix.AlgorithmIdentifier{Algorithm: OIDSHA256}
	sha384 := pkix.AlgorithmIdentifier{Algorithm: OIDSHA384}
	bad := []struct {
		name string
		der  []byte
		want string
	}{
		{"absent (SHA-1 defaults)", nil, "absent"},
		{"empty SEQUENCE (SHA-1 defaults)", []byte{0x30, 0x00}, "hashAlgorithm absent"},
		{"no maskGenAlgorithm", protPSSDER(t, &sha256, nil, 32, 0, false), "maskGenAlgorithm absent"},
		{"MGF1 hash differs", protPSSDER(t, &sha256, &sha384, 32, 0, false), "differs"},
		{"SHA-1", protPSSDER(t, &sha1, &sha1, 20, 0, false), "SHA-1"},
		{"trailerField 2", protPSSDER(t, &sha256, &sha256, 32, 2, false), "trailerField 2"},
		{"negative saltLength", protPSSDER(t, &sha256, &sha256, -1, 0, false), "saltLength -1"},
		{"zero saltLength (crypto/rsa would take any)", protPSSDER(t, &sha256, &sha256, 0, 0, false), "saltLength 0"},
		{"trailing data", protPSSDER(t, &sha256, &sha256, 32, 0, true), "not a single SEQUENCE"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePSSParameters(tc.der)
			if err == nil {
				t.Fatalf("accepted as %+v", p)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	// Control: the same builder with consistent values is accepted.
	if _, err := ParsePSSParameters(protPSSDER(t, &sha256, &sha256, 32, 1, false)); err != nil {
		t.Errorf("consistent parameters refused: %v", err)
	}
}

// protPSSDER builds RSASSA-PSS-params field by field (nil hash: field
// absent; trailer 0: field absent; trailing: a byte after the SEQUENCE).
func protPSSDER(t testing.TB, hash, mgfHash *pkix.AlgorithmIdentifier, salt, trailer int64, trailing bool) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if hash != nil {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				addAlgID(b, *hash)
			})
		}
		if mgfHash != nil {
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(OIDMGF1)
					addAlgID(b, *mgfHash)
				})
			})
		}
		b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(salt)
		})
		if trailer != 0 {
			b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1Int64(trailer)
			})
		}
	})
	if trailing {
		b.AddUint8(0)
	}
	der, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestSignatureParameterForms: NULL and absent parameters are both accepted
// where deployed peers send either; Ed25519 takes none; other parameters are
// refused.
func TestSignatureParameterForms(t *testing.T) {
	null := asn1.RawValue{Tag: asn1.TagNull, FullBytes: []byte{5, 0}}
	other := asn1.RawValue{Tag: asn1.TagInteger, FullBytes: []byte{2, 1, 1}}
	cases := []struct {
		name string
		alg  pkix.AlgorithmIdentifier
		ok   bool
	}{
		{"RSA NULL", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256WithRSA, Parameters: null}, true},
		{"RSA absent", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256WithRSA}, true},
		{"ECDSA absent", pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256}, true},
		{"ECDSA NULL (Insta)", pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256, Parameters: null}, true},
		{"ECDSA INTEGER", pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256, Parameters: other}, false},
		{"Ed25519 NULL", pkix.AlgorithmIdentifier{Algorithm: OIDEd25519, Parameters: null}, false},
		{"sha1WithRSA", pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}}, false},
	}
	for _, tc := range cases {
		_, err := parseSignatureAlgorithm(tc.alg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: error %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("%s: %v does not wrap ErrUnsupportedAlgorithm", tc.name, err)
		}
	}
}

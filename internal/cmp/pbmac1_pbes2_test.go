package cmp

import (
	"bytes"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readBCGolden reads testdata/bc/ir_pbmac1.der: an ir that Bouncy Castle
// 1.72 protected with PBMAC1, whose keyDerivationFunc it labels id-PBES2
// (provenance in testdata/bc/README.md; reference 1234, secret test).
func readBCGolden(t *testing.T) ([]byte, *Message) {
	t.Helper()
	der, err := os.ReadFile(filepath.Join("testdata", "bc", "ir_pbmac1.der"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(der)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return der, m
}

// pbmac1KDF returns the keyDerivationFunc of a PBMAC1 protectionAlg.
func pbmac1KDF(t *testing.T, alg *pkix.AlgorithmIdentifier) pkix.AlgorithmIdentifier {
	t.Helper()
	if alg == nil || !alg.Algorithm.Equal(OIDPBMAC1) {
		t.Fatalf("protectionAlg %v, want id-PBMAC1", alg)
	}
	params, err := AlgorithmParameters(*alg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePBMAC1Parameter(params)
	if err != nil {
		t.Fatal(err)
	}
	return p.KeyDerivationFunc
}

func TestPBMAC1MislabelledPBES2FromBouncyCastle(t *testing.T) {
	der, m := readBCGolden(t)
	if kdf := pbmac1KDF(t, m.Header.ProtectionAlg); !kdf.Algorithm.Equal(oidPBES2) {
		t.Fatalf("golden keyDerivationFunc %v, want the id-PBES2 Bouncy Castle sends", kdf.Algorithm)
	}
	if out, err := m.Marshal(); err != nil || !bytes.Equal(out, der) {
		t.Errorf("re-encoding the golden message differs (err %v)", err)
	}

	t.Run("accepted with the right secret", func(t *testing.T) {
		if err := VerifyMAC(m, []byte("test"), nil); err != nil {
			t.Fatalf("VerifyMAC: %v", err)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		if err := VerifyMAC(m, []byte("tesT"), nil); !errors.Is(err, ErrBadMAC) {
			t.Fatalf("VerifyMAC with a wrong secret: %v, want ErrBadMAC", err)
		}
	})
	t.Run("altered protection", func(t *testing.T) {
		_, m := readBCGolden(t)
		m.Protection[len(m.Protection)/2] ^= 0x01
		if err := VerifyMAC(m, []byte("test"), nil); !errors.Is(err, ErrBadMAC) {
			t.Fatalf("VerifyMAC of an altered MAC: %v, want ErrBadMAC", err)
		}
	})
	t.Run("genuine PBES2-params refused", func(t *testing.T) {
		// PBES2-params (RFC 8018 appendix A.4) name a KDF and a cipher; they
		// derive no MAC key.
		kdf, err := NewAlgorithmIdentifier(OIDPBKDF2, mustMarshal(t, &PBKDF2Parameter{Salt: bytes.Repeat([]byte{1}, 16), IterationCount: 1000}))
		if err != nil {
			t.Fatal(err)
		}
		aes := pkix.AlgorithmIdentifier{Algorithm: []int{2, 16, 840, 1, 101, 3, 4, 1, 42}}
		pbes2Params := mustMarshal(t, &PBMAC1Parameter{KeyDerivationFunc: kdf, MessageAuthScheme: aes}) // same shape: SEQUENCE of two AlgorithmIdentifiers
		pbes2, err := NewAlgorithmIdentifier(oidPBES2, pbes2Params)
		if err != nil {
			t.Fatal(err)
		}
		hmac, err := NewAlgorithmIdentifier(OIDHMACWithSHA256, asn1NULL)
		if err != nil {
			t.Fatal(err)
		}
		alg, err := NewAlgorithmIdentifier(OIDPBMAC1, mustMarshal(t, &PBMAC1Parameter{KeyDerivationFunc: pbes2, MessageAuthScheme: hmac}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = MACProtection(alg, []byte("test"), []byte("data"), nil)
		if !errors.Is(err, ErrUnsupportedAlgorithm) || !strings.Contains(err.Error(), "id-PBES2") {
			t.Fatalf("MACProtection with PBES2-params: %v, want ErrUnsupportedAlgorithm naming id-PBES2", err)
		}
	})
	t.Run("answer sends id-PBKDF2", func(t *testing.T) {
		// A responder keeping the request's parameters (RFC 9810 section
		// 5.1.3.1) relabels them; salt, iterations, keyLength and PRF stay.
		resp := &Message{Header: m.Header, Body: Body{Type: BodyPKIConf}}
		if err := ProtectMAC(resp, MACParams{Identifier: m.Header.ProtectionAlg}, []byte("test")); err != nil {
			t.Fatalf("ProtectMAC: %v", err)
		}
		sent := pbmac1KDF(t, resp.Header.ProtectionAlg)
		if !sent.Algorithm.Equal(OIDPBKDF2) {
			t.Fatalf("answer keyDerivationFunc %v, want id-PBKDF2", sent.Algorithm)
		}
		got := pbmac1KDF(t, m.Header.ProtectionAlg)
		if !bytes.Equal(sent.Parameters.FullBytes, got.Parameters.FullBytes) {
			t.Errorf("answer PBKDF2-params differ from the request's")
		}
		if err := VerifyMAC(resp, []byte("test"), nil); err != nil {
			t.Fatalf("VerifyMAC of the answer: %v", err)
		}
	})
}

// mustMarshal returns the DER of v.
func mustMarshal(t *testing.T, v interface{ Marshal() ([]byte, error) }) []byte {
	t.Helper()
	der, err := v.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

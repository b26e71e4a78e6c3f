package cmp

import (
	"bytes"
	"crypto"
	"testing"
)

// protFuzzSeeds returns the protectionAlg parameters of the OpenSSL-made
// messages and of what this package sends, as seeds for the parsers.
func protFuzzSeeds(f *testing.F) (algs, pbm, pbmac1, pbkdf2, pss [][]byte) {
	f.Helper()
	for _, file := range []string{protDir + "/msg/pbm_sha1_ir.der", protDir + "/msg/pbm_sha256_ir.der", protDir + "/msg/sig_rsa_ir.der"} {
		m := protParse(f, file)
		der, err := MarshalAlgorithmIdentifier(*m.Header.ProtectionAlg)
		if err != nil {
			f.Fatal(err)
		}
		algs = append(algs, der)
		if IsMACProtected(m.Header.ProtectionAlg) {
			pbm = append(pbm, m.Header.ProtectionAlg.Parameters.FullBytes)
		}
	}
	a, err := NewMACAlgorithmIdentifier(MACParams{Algorithm: PBMAC1HMACSHA256})
	if err != nil {
		f.Fatal(err)
	}
	pbmac1 = append(pbmac1, a.Parameters.FullBytes)
	p, err := ParsePBMAC1Parameter(a.Parameters.FullBytes)
	if err != nil {
		f.Fatal(err)
	}
	pbkdf2 = append(pbkdf2, p.KeyDerivationFunc.Parameters.FullBytes)
	der, _ := MarshalAlgorithmIdentifier(a)
	algs = append(algs, der)
	pssAlg, err := pssAlgorithmIdentifier(crypto.SHA384)
	if err != nil {
		f.Fatal(err)
	}
	pss = append(pss, pssAlg.Parameters.FullBytes)
	der, _ = MarshalAlgorithmIdentifier(pssAlg)
	algs = append(algs, der)
	return
}

func FuzzAlgorithmIdentifier(f *testing.F) {
	algs, _, _, _, _ := protFuzzSeeds(f)
	for _, s := range algs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		alg, err := ParseAlgorithmIdentifier(der)
		if err != nil {
			return
		}
		out, err := MarshalAlgorithmIdentifier(alg)
		if err != nil {
			t.Fatalf("parsed but does not encode: %v", err)
		}
		if !bytes.Equal(out, der) {
			t.Fatalf("re-encoded %x, parsed from %x", out, der)
		}
		// Whatever the identifier, the protection checks must not panic.
		_ = CheckMACProtection(alg, []byte("secret"), []byte("data"), []byte("mac"), nil)
		_ = CheckSignatureProtection(protTestKeys()["P-256"].Public(), alg, []byte("data"), []byte("sig"))
	})
}

func FuzzPBMParameter(f *testing.F) {
	_, pbm, _, _, _ := protFuzzSeeds(f)
	for _, s := range pbm {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		p, err := ParsePBMParameter(der)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("parsed but does not encode: %v", err)
		}
		if !bytes.Equal(out, der) {
			t.Fatalf("re-encoded %x, parsed from %x", out, der)
		}
		if alg, err := NewAlgorithmIdentifier(OIDPasswordBasedMac, der); err == nil {
			_ = CheckMACProtection(alg, []byte("secret"), []byte("data"), []byte("mac"), nil)
		}
	})
}

func FuzzPBMAC1Parameter(f *testing.F) {
	_, _, pbmac1, pbkdf2, _ := protFuzzSeeds(f)
	for _, s := range pbmac1 {
		f.Add(s)
	}
	for _, s := range pbkdf2 {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		if p, err := ParsePBMAC1Parameter(der); err == nil {
			out, err := p.Marshal()
			if err != nil || !bytes.Equal(out, der) {
				t.Fatalf("PBMAC1-params re-encoded %x (%v), parsed from %x", out, err, der)
			}
			if alg, err := NewAlgorithmIdentifier(OIDPBMAC1, der); err == nil {
				_ = CheckMACProtection(alg, []byte("secret"), []byte("data"), []byte("mac"), nil)
			}
		}
		if p, err := ParsePBKDF2Parameter(der); err == nil {
			if _, err := p.Marshal(); err != nil {
				t.Fatalf("PBKDF2-params parsed but does not encode: %v", err)
			}
		}
	})
}

func FuzzPSSParameters(f *testing.F) {
	_, _, _, _, pss := protFuzzSeeds(f)
	for _, s := range pss {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		p, err := ParsePSSParameters(der)
		if err != nil {
			return
		}
		out, err := MarshalPSSParameters(p)
		if err != nil {
			t.Fatalf("parsed %+v but does not encode: %v", p, err)
		}
		if q, err := ParsePSSParameters(out); err != nil || q != p {
			t.Fatalf("round trip of %+v gave %+v, %v", p, q, err)
		}
	})
}

package cmp

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// addGoldenSeeds seeds f with every OpenSSL-made golden message and the
// vectors made by other implementations.
func addGoldenSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.der"))
	vectors, _ := filepath.Glob(filepath.Join(vectorsDir, "*.der"))
	for _, p := range append(files, vectors...) {
		der, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	if len(files) == 0 {
		f.Fatal("no golden seeds")
	}
}

// FuzzParse: Parse never panics; what it accepts, Marshal encodes and Parse
// reads back, and a second encoding is identical to the first. (The first
// re-encoding may differ from the input where Parse tolerates non-DER forms:
// an explicit FALSE critical flag, failInfo with trailing zero bits, an empty
// extraCerts, a pre-2050 GeneralizedTime in a validity.)
func FuzzParse(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, der []byte) {
		m, err := Parse(der)
		if err != nil {
			return
		}
		re, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed message: %v", err)
		}
		again, err := Parse(re)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(x))): %v", err)
		}
		re2, err := again.Marshal()
		if err != nil || !bytes.Equal(re, re2) {
			t.Fatalf("encoding is not stable after one round trip (err %v)", err)
		}
	})
}

// FuzzITAVValues runs every typed InfoTypeAndValue decoder on the same
// input: none may panic, and what one accepts must re-encode and decode.
func FuzzITAVValues(f *testing.F) {
	root := readCredF(f, "root")
	seeds := [][]byte{nil, {0x05, 0x00}, {0x30, 0x00}}
	if v, err := CACertsValue([][]byte{root}); err == nil {
		seeds = append(seeds, v)
	}
	if v, err := (&RootCAKeyUpdate{NewWithNew: root, NewWithOld: root, OldWithNew: root}).Marshal(); err == nil {
		seeds = append(seeds, v)
	}
	if v, err := (&CertReqTemplate{Template: CertTemplate{Subject: []byte{0x30, 0x00}}, KeySpec: []AttributeTypeAndValue{{Type: OIDCACerts, Value: []byte{5, 0}}}}).Marshal(); err == nil {
		seeds = append(seeds, v)
	}
	if itav, err := ConfirmWaitTimeITAV(testTime); err == nil {
		seeds = append(seeds, itav.Value)
	}
	if ctrl, err := RSAKeyLenControl(2048); err == nil {
		seeds = append(seeds, ctrl.Value)
	}
	if ctrl, err := AlgIDControl(pkix.AlgorithmIdentifier{Algorithm: OIDEd25519}); err == nil {
		seeds = append(seeds, ctrl.Value)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		if certs, err := ParseCACertsValue(v); err == nil && certs != nil {
			if enc, err := CACertsValue(certs); err != nil || !bytes.Equal(enc, v) {
				t.Fatalf("caCerts re-encoding differs (err %v)", err)
			}
		}
		if u, err := ParseRootCAKeyUpdate(v); err == nil {
			enc, err := u.Marshal()
			if err != nil {
				t.Fatalf("rootCaKeyUpdate Marshal: %v", err)
			}
			if _, err := ParseRootCAKeyUpdate(enc); err != nil {
				t.Fatalf("rootCaKeyUpdate re-parse: %v", err)
			}
		}
		if tmpl, err := ParseCertReqTemplate(v); err == nil {
			enc, err := tmpl.Marshal()
			if err != nil {
				t.Fatalf("certReqTemplate Marshal: %v", err)
			}
			if _, err := ParseCertReqTemplate(enc); err != nil {
				t.Fatalf("certReqTemplate re-parse: %v", err)
			}
		}
		_, _ = ParseRootCACertValue(v)
		_, _ = ParseConfirmWaitTime(v)
		if algs, err := ParseSignKeyPairTypes(v); err == nil {
			if _, err := SignKeyPairTypesValue(algs); err != nil {
				t.Fatalf("signKeyPairTypes re-encode: %v", err)
			}
		}
		_, _ = ParseCertID(v)
		// The keySpec controls of a certReqTemplate.
		if alg, err := ParseAlgIDControl(v); err == nil {
			if ctrl, err := AlgIDControl(alg); err != nil || !bytes.Equal(ctrl.Value, v) {
				t.Fatalf("id-regCtrl-algId re-encoding differs (err %v)", err)
			}
		}
		if bits, err := ParseRSAKeyLenControl(v); err == nil {
			if ctrl, err := RSAKeyLenControl(bits); err != nil || !bytes.Equal(ctrl.Value, v) {
				t.Fatalf("id-regCtrl-rsaKeyLen re-encoding differs (err %v)", err)
			}
		}
	})
}

var testTime = mustTime("2026-11-23T15:04:05Z")

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func readCredF(f *testing.F, name string) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", "creds", name+".crt"))
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		f.Fatalf("cred %s: no PEM", name)
	}
	return block.Bytes
}

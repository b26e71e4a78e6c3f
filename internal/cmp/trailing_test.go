package cmp

import (
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// withNullInside returns der with a NULL appended inside its n-th
// constructed element, counted depth first from 0; ok is false when der
// has fewer constructed elements.
func withNullInside(der []byte, n int) (out []byte, ok bool) {
	var b cryptobyte.Builder
	var walk func(b *cryptobyte.Builder, s cryptobyte.String) bool
	walk = func(b *cryptobyte.Builder, s cryptobyte.String) bool {
		for !s.Empty() {
			var contents cryptobyte.String
			var tag cbasn1.Tag
			if !s.ReadAnyASN1(&contents, &tag) {
				return false
			}
			if tag&0x20 == 0 { // primitive
				b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(contents) })
				continue
			}
			here := n == 0
			n--
			var inner bool
			b.AddASN1(tag, func(b *cryptobyte.Builder) {
				inner = walk(b, contents)
				if here {
					b.AddBytes([]byte{0x05, 0x00})
				}
			})
			if !inner {
				return false
			}
		}
		return true
	}
	if !walk(&b, der) {
		return nil, false
	}
	out, err := b.Bytes()
	return out, err == nil && n < 0
}

// TestTrailingDataWraps: every error that reports trailing data wraps
// errTrailing, so errors.Is finds the cause. Each decoder gets valid input
// with a byte after it and with a NULL added at the end of every
// constructed element in turn; at least the outer case must report
// trailing data.
func TestTrailingDataWraps(t *testing.T) {
	type decoder struct {
		name  string
		der   []byte
		parse func([]byte) error
	}
	var decoders []decoder
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", "*.der"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("golden messages: %v (%d found)", err, len(paths))
	}
	parseMessage := func(der []byte) error { _, err := Parse(der); return err }
	for _, p := range paths {
		der, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		decoders = append(decoders, decoder{"Parse " + filepath.Base(p), der, parseMessage})
	}
	pbm, err := (&PBMParameter{Salt: []byte("salt"), OWF: pkix.AlgorithmIdentifier{Algorithm: OIDSHA256}, IterationCount: 500, MAC: pkix.AlgorithmIdentifier{Algorithm: OIDHMACWithSHA256}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pbmac1Alg, err := NewMACAlgorithmIdentifier(MACParams{Algorithm: PBMAC1HMACSHA256, Salt: []byte("0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	pbmac1, err := ParsePBMAC1Parameter(pbmac1Alg.Parameters.FullBytes)
	if err != nil {
		t.Fatal(err)
	}
	algID, err := MarshalAlgorithmIdentifier(pbmac1Alg)
	if err != nil {
		t.Fatal(err)
	}
	decoders = append(decoders,
		decoder{"ParsePBMParameter", pbm, func(d []byte) error { _, err := ParsePBMParameter(d); return err }},
		decoder{"ParsePBMAC1Parameter", pbmac1Alg.Parameters.FullBytes, func(d []byte) error { _, err := ParsePBMAC1Parameter(d); return err }},
		decoder{"ParsePBKDF2Parameter", pbmac1.KeyDerivationFunc.Parameters.FullBytes, func(d []byte) error { _, err := ParsePBKDF2Parameter(d); return err }},
		decoder{"ParseAlgorithmIdentifier", algID, func(d []byte) error { _, err := ParseAlgorithmIdentifier(d); return err }},
	)
	for _, d := range decoders {
		t.Run(d.name, func(t *testing.T) {
			if err := d.parse(d.der); err != nil {
				t.Fatalf("valid input refused: %v", err)
			}
			err := d.parse(append(append([]byte{}, d.der...), 0x00))
			if !errors.Is(err, errTrailing) {
				t.Errorf("a byte after the value: got %v, want an error wrapping errTrailing", err)
			}
			for n := 0; ; n++ {
				der, ok := withNullInside(d.der, n)
				if !ok {
					break
				}
				err := d.parse(der)
				if err != nil && strings.Contains(err.Error(), errTrailing.Error()) && !errors.Is(err, errTrailing) {
					t.Errorf("NULL inside constructed element %d: %q does not wrap errTrailing", n, err)
				}
			}
		})
	}
}

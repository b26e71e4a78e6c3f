package cmp

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// TestCertTemplateTagging feeds readCertTemplate the mistakes an encoder
// makes when it mixes up CRMF's IMPLICIT TAGS with CHOICE types (RFC 4211
// appendix B: Name and Time stay explicit).
func TestCertTemplateTagging(t *testing.T) {
	name := tlv(cbasn1.SEQUENCE, tlv(cbasn1.SET, tlv(cbasn1.SEQUENCE, []byte{0x06, 0x03, 0x55, 0x04, 0x03}, []byte{0x0c, 0x01, 'x'})))
	nameContents := name[2:]
	utc := tlv(cbasn1.UTCTime, []byte("260101000000Z"))
	spki := tlv(cbasn1.SEQUENCE, tlv(cbasn1.SEQUENCE, []byte{0x06, 0x03, 0x2b, 0x65, 0x70}), []byte{0x03, 0x02, 0x00, 0x01})
	cases := []struct {
		name   string
		fields [][]byte
		want   string // "" = must parse
	}{
		{"valid subject", [][]byte{tlv(explicitTag(5), name)}, ""},
		{"valid validity", [][]byte{tlv(implicitTag(4).Constructed(), tlv(explicitTag(0), utc))}, ""},
		{"valid publicKey", [][]byte{tlv(implicitTag(6).Constructed(), spki[2:])}, ""},
		{"valid version", [][]byte{{0x80, 0x01, 0x02}}, ""},
		{"subject implicitly tagged", [][]byte{tlv(implicitTag(5).Constructed(), nameContents)}, "subject"},
		{"issuer implicitly tagged", [][]byte{tlv(implicitTag(3).Constructed(), nameContents)}, "issuer"},
		{"notBefore implicitly tagged", [][]byte{tlv(implicitTag(4).Constructed(), tlv(implicitTag(0), []byte("260101000000Z")))}, "validity"},
		{"validity explicitly tagged", [][]byte{tlv(explicitTag(4), tlv(cbasn1.SEQUENCE, tlv(explicitTag(0), utc)))}, "validity"},
		{"publicKey explicitly tagged", [][]byte{tlv(explicitTag(6), spki)}, "publicKey"},
		{"version explicitly tagged", [][]byte{tlv(explicitTag(0), []byte{0x02, 0x01, 0x02})}, "unexpected element"},
		{"version 3", [][]byte{{0x80, 0x01, 0x03}}, "version"},
		{"serial not minimal", [][]byte{{0x81, 0x02, 0x00, 0x01}}, "serialNumber"},
		{"subject before issuer", [][]byte{tlv(explicitTag(5), name), tlv(explicitTag(3), name)}, "unexpected element"},
		{"unknown field [10]", [][]byte{tlv(cbasn1.Tag(10).ContextSpecific().Constructed())}, "unexpected element"},
		{"empty extensions", [][]byte{tlv(implicitTag(9).Constructed())}, "extensions"},
		{"extension without value", [][]byte{tlv(implicitTag(9).Constructed(), tlv(cbasn1.SEQUENCE, []byte{0x06, 0x03, 0x55, 0x1d, 0x0f}))}, "extnValue"},
		{"validity time GeneralizedTime with fraction", [][]byte{tlv(implicitTag(4).Constructed(), tlv(explicitTag(1), tlv(cbasn1.GeneralizedTime, []byte("20510101000000.1Z"))))}, "validity"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := cryptobyte.String(tlv(cbasn1.SEQUENCE, tc.fields...))
			var tmpl CertTemplate
			err := readCertTemplate(&in, &tmpl)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted: %+v", tmpl)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestPOPTagging(t *testing.T) {
	alg := tlv(cbasn1.SEQUENCE, []byte{0x06, 0x03, 0x2b, 0x65, 0x70})
	sig := []byte{0x03, 0x02, 0x00, 0xaa}
	cases := []struct {
		name string
		pop  []byte
		want string
	}{
		{"raVerified", []byte{0x80, 0x00}, ""},
		{"signature", tlv(implicitTag(1).Constructed(), alg, sig), ""},
		{"keyEncipherment thisMessage", tlv(explicitTag(2), []byte{0x80, 0x02, 0x00, 0x01}), ""},
		{"raVerified constructed", []byte{0xa0, 0x00}, "not a ProofOfPossession choice"},
		{"raVerified with content", []byte{0x80, 0x01, 0x00}, "raVerified"},
		{"signature explicitly tagged", tlv(explicitTag(1), tlv(cbasn1.SEQUENCE, alg, sig)), "signature"},
		{"signature with unused bits", tlv(implicitTag(1).Constructed(), alg, []byte{0x03, 0x02, 0x01, 0xaa}), "BIT STRING"},
		{"signature with trailing", tlv(implicitTag(1).Constructed(), alg, sig, sig), "BIT STRING"},
		{"keyEncipherment two elements", tlv(explicitTag(2), []byte{0x80, 0x00, 0x80, 0x00}), "POPOPrivKey"},
		{"choice [4]", tlv(explicitTag(4)), "not a ProofOfPossession choice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := cryptobyte.String(tc.pop)
			pop, err := readPOP(&in)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want == "":
				var b cryptobyte.Builder
				addPOP(&b, pop)
				if out, err := b.Bytes(); err != nil || !bytes.Equal(out, tc.pop) {
					t.Errorf("re-encoding %x (err %v), want %x", out, err, tc.pop)
				}
			case err == nil:
				t.Fatalf("accepted: %+v", pop)
			case !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestParseMutatedGoldens parses every prefix and every one-byte change of
// each golden message: Parse must not panic, and whatever it accepts must
// survive Marshal and Parse again.
func TestParseMutatedGoldens(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.der"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	accepted := 0
	for _, f := range files {
		der, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		check := func(in []byte, what string) {
			m, err := Parse(in)
			if err != nil {
				return
			}
			accepted++
			re, err := m.Marshal()
			if err != nil {
				t.Fatalf("%s %s: accepted but Marshal fails: %v", filepath.Base(f), what, err)
			}
			if _, err := Parse(re); err != nil {
				t.Fatalf("%s %s: re-encoding does not parse: %v", filepath.Base(f), what, err)
			}
		}
		for n := 0; n < len(der); n++ {
			if _, err := Parse(der[:n]); err == nil {
				t.Fatalf("%s: prefix of %d bytes accepted", filepath.Base(f), n)
			}
		}
		mut := bytes.Clone(der)
		for i := range mut {
			mut[i] ^= 0xff
			check(mut, "byte "+strconv.Itoa(i))
			mut[i] ^= 0xff
		}
	}
	// Flipping bytes inside nonces, keys and signatures keeps the message
	// valid DER, so some mutants must be accepted: the loop tested both paths.
	if accepted == 0 {
		t.Error("no mutant was accepted; the mutation loop is not exercising the success path")
	}
}

package cmp

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// rfcBlock returns the lines of RFC 9810's text (the excerpt in
// testdata/rfc9810-asn1.txt) from the first line containing start
// to the next line containing "}".
func rfcBlock(t *testing.T, start string) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", "rfc9810-asn1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(text)
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("%q not in RFC 9810", start)
	}
	j := strings.Index(s[i:], "}")
	return s[i : i+j]
}

// TestFailureInfoNamesFromRFC checks every bit name against the ASN.1 in RFC 9810.
func TestFailureInfoNamesFromRFC(t *testing.T) {
	block := rfcBlock(t, "PKIFailureInfo ::= BIT STRING {")
	matches := regexp.MustCompile(`(\w+)\s+\((\d+)\)`).FindAllStringSubmatch(block, -1)
	if len(matches) != 27 {
		t.Fatalf("found %d named bits in RFC 9810, want 27", len(matches))
	}
	var all FailureInfo
	for _, m := range matches {
		bit, _ := strconv.Atoi(m[2])
		f := FailureInfo(1) << bit
		all |= f
		if got := f.Names(); !slices.Equal(got, []string{m[1]}) {
			t.Errorf("bit %d: Names() = %v, RFC says %s", bit, got, m[1])
		}
		if byName, ok := FailureInfoByName(m[1]); !ok || byName != f {
			t.Errorf("FailureInfoByName(%s) = %#x, %v", m[1], uint64(byName), ok)
		}
	}
	if got := len(all.Names()); got != 27 {
		t.Errorf("all bits give %d names", got)
	}
	if got := (FailureInfo(1) << 30).Names(); !slices.Equal(got, []string{"bit30"}) {
		t.Errorf("unnamed bit: %v", got)
	}
}

// TestBodyTypeNamesFromRFC checks BodyType.String against the PKIBody CHOICE.
func TestBodyTypeNamesFromRFC(t *testing.T) {
	block := rfcBlock(t, "PKIBody ::= CHOICE {")
	matches := regexp.MustCompile(`(\w+)\s+\[(\d+)\]`).FindAllStringSubmatch(block, -1)
	if len(matches) != 27 {
		t.Fatalf("found %d body choices, want 27", len(matches))
	}
	for _, m := range matches {
		n, _ := strconv.Atoi(m[2])
		if got := BodyType(n).String(); got != m[1] {
			t.Errorf("BodyType(%d) = %q, RFC says %q", n, got, m[1])
		}
	}
	consts := map[BodyType]string{BodyIR: "ir", BodyIP: "ip", BodyCR: "cr", BodyCP: "cp", BodyP10CR: "p10cr",
		BodyKUR: "kur", BodyKUP: "kup", BodyRR: "rr", BodyRP: "rp", BodyPKIConf: "pkiconf", BodyGenM: "genm",
		BodyGenP: "genp", BodyError: "error", BodyCertConf: "certConf", BodyPollReq: "pollReq", BodyPollRep: "pollRep"}
	for bt, name := range consts {
		if bt.String() != name || !bt.Supported() {
			t.Errorf("%d: %q supported=%v, want %q", int(bt), bt.String(), bt.Supported(), name)
		}
	}
	if BodyType(99).String() != "body(99)" || BodyType(5).Supported() {
		t.Error("unknown body type naming/support")
	}
}

func TestPKIStatusNamesFromRFC(t *testing.T) {
	block := rfcBlock(t, "PKIStatus ::= INTEGER {")
	matches := regexp.MustCompile(`(\w+)\s+\((\d+)\)`).FindAllStringSubmatch(block, -1)
	if len(matches) != 7 {
		t.Fatalf("found %d statuses, want 7", len(matches))
	}
	for _, m := range matches {
		n, _ := strconv.Atoi(m[2])
		if got := PKIStatus(n).String(); got != m[1] {
			t.Errorf("PKIStatus(%d) = %q, RFC says %q", n, got, m[1])
		}
	}
	if PKIStatus(9).String() != "PKIStatus(9)" {
		t.Error("unknown status name")
	}
}

// TestFailureInfoDER checks the named-BIT-STRING encoding (X.690 11.2.2:
// trailing zero bits dropped) and that any length decodes.
func TestFailureInfoDER(t *testing.T) {
	cases := []struct {
		name string
		f    FailureInfo
		der  []byte
	}{
		{"none", 0, []byte{0x03, 0x01, 0x00}},
		{"badAlg", FailBadAlg, []byte{0x03, 0x02, 0x07, 0x80}},
		{"badRequest", FailBadRequest, []byte{0x03, 0x02, 0x05, 0x20}},
		{"incorrectData (bit 7)", FailIncorrectData, []byte{0x03, 0x02, 0x00, 0x01}},
		{"missingTimeStamp (bit 8)", FailMissingTimeStamp, []byte{0x03, 0x03, 0x07, 0x00, 0x80}},
		{"badRequest, badPOP, duplicateCertReq", FailBadRequest | FailBadPOP | FailDuplicateCertReq,
			[]byte{0x03, 0x05, 0x05, 0x20, 0x40, 0x00, 0x20}},
		{"systemFailure", FailSystemFailure, []byte{0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b cryptobyte.Builder
			addFailureInfo(&b, tc.f)
			got, err := b.Bytes()
			if err != nil || !bytes.Equal(got, tc.der) {
				t.Errorf("encoding %x (err %v), want %x", got, err, tc.der)
			}
			s := cryptobyte.String(tc.der)
			f, err := readFailureInfo(&s)
			if err != nil || f != tc.f {
				t.Errorf("decoding %#x (err %v), want %#x", uint64(f), err, uint64(tc.f))
			}
		})
	}
	// Encoders that keep trailing zero bits (e.g. a fixed 32-bit field) decode too.
	padded := []struct {
		der []byte
		f   FailureInfo
	}{
		{[]byte{0x03, 0x05, 0x00, 0x20, 0x00, 0x00, 0x00}, FailBadRequest},
		{[]byte{0x03, 0x05, 0x05, 0x00, 0x40, 0x00, 0x00}, FailBadPOP},
		{[]byte{0x03, 0x09, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0}, FailBadAlg},
	}
	for _, p := range padded {
		s := cryptobyte.String(p.der)
		if f, err := readFailureInfo(&s); err != nil || f != p.f {
			t.Errorf("%x: %#x, %v; want %#x", p.der, uint64(f), err, uint64(p.f))
		}
	}
}

func TestPKIStatusInfoString(t *testing.T) {
	cases := []struct {
		in   PKIStatusInfo
		want string
	}{
		{PKIStatusInfo{Status: StatusAccepted}, "accepted"},
		{PKIStatusInfo{Status: StatusRejection, FailInfo: FailBadPOP | FailBadRequest, HasFailInfo: true, StatusString: []string{"no", "really"}},
			`rejection: badRequest, badPOP: "no"; "really"`},
		{PKIStatusInfo{Status: StatusWaiting, StatusString: []string{"later"}}, `waiting: "later"`},
	}
	for _, tc := range cases {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if !(FailBadPOP | FailBadRequest).Has(FailBadPOP) || FailBadPOP.Has(FailBadRequest) {
		t.Error("Has")
	}
}

func TestStatusInfoAbsentVersusEmptyFailInfo(t *testing.T) {
	for _, has := range []bool{false, true} {
		var b cryptobyte.Builder
		addStatusInfo(&b, PKIStatusInfo{Status: StatusRejection, HasFailInfo: has})
		der := b.BytesOrPanic()
		s := cryptobyte.String(der)
		var p PKIStatusInfo
		if err := readStatusInfo(&s, &p); err != nil || p.HasFailInfo != has || p.FailInfo != 0 {
			t.Errorf("HasFailInfo %v: got %+v, %v (%x)", has, p, err, der)
		}
	}
}

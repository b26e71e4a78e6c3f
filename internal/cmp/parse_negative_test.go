package cmp

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// goldenHeader returns the DER PKIHeader of an OpenSSL-made message, to wrap
// hand-made bodies in a realistic message.
func goldenHeader(t *testing.T) []byte {
	t.Helper()
	_, m := readGolden(t, "pkiConf_pbm_sha1")
	pp := cryptobyte.String(m.RawProtectedPart)
	var seq, hdr cryptobyte.String
	if !pp.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Element(&hdr, cbasn1.SEQUENCE) {
		t.Fatal("cannot split golden protected part")
	}
	return hdr
}

// build encodes a message from raw pieces: SEQUENCE { header, rest... }.
func build(t *testing.T, header []byte, rest ...[]byte) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(header)
		for _, r := range rest {
			b.AddBytes(r)
		}
	})
	return b.BytesOrPanic()
}

// tlv encodes one element with tag and contents.
func tlv(tag cbasn1.Tag, contents ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		for _, c := range contents {
			b.AddBytes(c)
		}
	})
	return b.BytesOrPanic()
}

func repeat(elem []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = elem
	}
	return out
}

func TestParseRejects(t *testing.T) {
	golden, _ := readGolden(t, "ir_pbm_sha1")
	hdr := goldenHeader(t)
	pkiconf := tlv(explicitTag(19), []byte{0x05, 0x00})
	certReq := func(id []byte) []byte { // CertReqMsg with a given certReqId INTEGER element
		return tlv(cbasn1.SEQUENCE, tlv(cbasn1.SEQUENCE, id, tlv(cbasn1.SEQUENCE)))
	}
	seqOf := func(items [][]byte) []byte { return tlv(cbasn1.SEQUENCE, items...) }
	withPVNO := func(pvno byte) []byte {
		h := bytes.Clone(hdr)
		// hdr is 30 len 02 01 <pvno> ...
		i := bytes.Index(h, []byte{0x02, 0x01, 0x02})
		h[i+2] = pvno
		return h
	}
	lengthPastEnd := bytes.Clone(golden)
	lengthPastEnd[3]++ // 30 82 HH LL: one byte more than there is

	cases := []struct {
		name string
		der  []byte
		want string // substring of the error
		is   error
	}{
		{"empty", nil, "not a DER SEQUENCE", ErrMalformed},
		{"truncated by one byte", golden[:len(golden)-1], "not a DER SEQUENCE", ErrMalformed},
		{"truncated to half", golden[:len(golden)/2], "not a DER SEQUENCE", ErrMalformed},
		{"trailing garbage", append(bytes.Clone(golden), 0x00), "trailing data", ErrMalformed},
		{"wrong outer tag", append([]byte{0x31}, golden[1:]...), "not a DER SEQUENCE", ErrMalformed},
		{"length past end", lengthPastEnd, "not a DER SEQUENCE", ErrMalformed},
		{"indefinite length", append([]byte{0x30, 0x80}, append(bytes.Clone(golden[4:]), 0, 0)...), "not a DER SEQUENCE", ErrMalformed},
		{"non-minimal length", append([]byte{0x30, 0x81, 0x05}, tlv(cbasn1.SEQUENCE, []byte{2, 1, 2})...), "not a DER SEQUENCE", ErrMalformed},
		{"oversize", append([]byte{0x30, 0x83, 0x10, 0x00, 0x01}, make([]byte, 1<<20+1)...), "more than 1048576", ErrMalformed},
		{"no body", build(t, hdr), "body: not a DER element", ErrMalformed},
		{"unknown body type popdecc", build(t, hdr, tlv(explicitTag(5), tlv(cbasn1.SEQUENCE))), "unsupported body type 5", ErrUnsupportedBody},
		{"unknown body type nested", build(t, hdr, tlv(explicitTag(20), tlv(cbasn1.SEQUENCE))), "unsupported body type 20", ErrUnsupportedBody},
		{"body type beyond the RFC", build(t, hdr, tlv(explicitTag(27), tlv(cbasn1.SEQUENCE))), "unsupported body type 27", ErrUnsupportedBody},
		{"body with universal tag", build(t, hdr, tlv(cbasn1.SEQUENCE)), "not a PKIBody choice", ErrMalformed},
		{"body with primitive context tag", build(t, hdr, tlv(implicitTag(19))), "not a PKIBody choice", ErrMalformed},
		{"pkiconf not NULL", build(t, hdr, tlv(explicitTag(19), []byte{0x05, 0x01, 0x00})), "not NULL", ErrMalformed},
		{"pkiconf with two elements", build(t, hdr, tlv(explicitTag(19), []byte{0x05, 0x00, 0x05, 0x00})), "trailing data", ErrMalformed},
		{"pvno 0", build(t, withPVNO(0), pkiconf), "pvno 0", ErrMalformed},
		{"pvno 4", build(t, withPVNO(4), pkiconf), "pvno 4", ErrMalformed},
		{"protection with unused bits", build(t, hdr, pkiconf, tlv(explicitTag(0), []byte{0x03, 0x02, 0x07, 0x80})), "BIT STRING", ErrMalformed},
		{"protection BIT STRING with nonzero padding", build(t, hdr, pkiconf, tlv(explicitTag(0), []byte{0x03, 0x02, 0x01, 0x81})), "BIT STRING", ErrMalformed},
		{"protection BIT STRING empty", build(t, hdr, pkiconf, tlv(explicitTag(0), []byte{0x03, 0x00})), "BIT STRING", ErrMalformed},
		{"protection implicitly tagged", build(t, hdr, pkiconf, []byte{0x80, 0x02, 0x00, 0xff}), "unexpected element", ErrMalformed},
		{"extraCerts before protection", build(t, hdr, pkiconf, tlv(explicitTag(1), seqOf(repeat([]byte{0x30, 0x00}, 1))), tlv(explicitTag(0), []byte{0x03, 0x01, 0x00})), "unexpected element", ErrMalformed},
		{"too many extraCerts", build(t, hdr, pkiconf, tlv(explicitTag(1), seqOf(repeat([]byte{0x30, 0x00}, MaxCertificates+1)))), "more than 256 certificates", ErrMalformed},
		{"extraCert not a SEQUENCE", build(t, hdr, pkiconf, tlv(explicitTag(1), seqOf([][]byte{{0x04, 0x00}}))), "not a Certificate SEQUENCE", ErrMalformed},
		{"too many CertReqMsg", build(t, hdr, tlv(explicitTag(0), seqOf(repeat(certReq([]byte{2, 1, 0}), MaxRequests+1)))), "more than 64 CertReqMsg", ErrMalformed},
		{"empty CertReqMessages", build(t, hdr, tlv(explicitTag(0), seqOf(nil))), "empty", ErrMalformed},
		{"certReqId beyond int64", build(t, hdr, tlv(explicitTag(0), seqOf([][]byte{certReq([]byte{2, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0})}))), "certReqId", ErrMalformed},
		{"certReqId not minimal", build(t, hdr, tlv(explicitTag(0), seqOf([][]byte{certReq([]byte{2, 2, 0, 1})}))), "certReqId", ErrMalformed},
		{"too many pollReq entries", build(t, hdr, tlv(explicitTag(25), seqOf(repeat(tlv(cbasn1.SEQUENCE, []byte{2, 1, 0}), MaxRequests+1)))), "more than 64", ErrMalformed},
		{"negative checkAfter", build(t, hdr, tlv(explicitTag(26), seqOf([][]byte{tlv(cbasn1.SEQUENCE, []byte{2, 1, 0, 2, 1, 0xff})}))), "checkAfter", ErrMalformed},
		{"too many genm items", build(t, hdr, tlv(explicitTag(21), seqOf(repeat(tlv(cbasn1.SEQUENCE, []byte{6, 1, 0x2a}), MaxCollection+1)))), "more than 256 InfoTypeAndValue", ErrMalformed},
		{"p10cr not a SEQUENCE", build(t, hdr, tlv(explicitTag(4), []byte{0x04, 0x00})), "CertificationRequest", ErrMalformed},
		{"failInfo with bad padding", build(t, hdr, tlv(explicitTag(23), tlv(cbasn1.SEQUENCE, tlv(cbasn1.SEQUENCE, []byte{2, 1, 2, 0x03, 0x02, 0x08, 0x80})))), "failInfo", ErrMalformed},
		{"failInfo bit beyond 63", build(t, hdr, tlv(explicitTag(23), tlv(cbasn1.SEQUENCE, tlv(cbasn1.SEQUENCE, append([]byte{2, 1, 2, 0x03, 0x0a, 0x07}, 0, 0, 0, 0, 0, 0, 0, 0, 0x80))))), "bit 64", ErrMalformed},
		{"status not an INTEGER", build(t, hdr, tlv(explicitTag(23), tlv(cbasn1.SEQUENCE, tlv(cbasn1.SEQUENCE, []byte{0x0a, 0x01, 0x02})))), "status is not an INTEGER", ErrMalformed},
		{"statusString not UTF8String", build(t, hdr, tlv(explicitTag(23), tlv(cbasn1.SEQUENCE, tlv(cbasn1.SEQUENCE, []byte{2, 1, 2, 0x30, 0x03, 0x13, 0x01, 'a'})))), "UTF8String", ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.der)
			if err == nil {
				t.Fatalf("Parse accepted it: body %s", m.Body.Type)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestParseHeaderRejects changes one header field of a golden message.
func TestParseHeaderRejects(t *testing.T) {
	pkiconf := tlv(explicitTag(19), []byte{0x05, 0x00})
	name := tlv(tagDirectoryName, tlv(cbasn1.SEQUENCE))
	head := func(fields ...[]byte) []byte {
		return tlv(cbasn1.SEQUENCE, append([][]byte{{2, 1, 2}, name, name}, fields...)...)
	}
	octets := func(tag int, n int) []byte { return tlv(explicitTag(tag), tlv(cbasn1.OCTET_STRING, make([]byte, n))) }
	cases := []struct {
		name, want string
		hdr        []byte
	}{
		{"transactionID implicitly tagged", "unexpected", head(tlv(implicitTag(4), make([]byte, 16)))},
		{"senderNonce before transactionID", "unexpected element with tag 0xa4", head(octets(5, 16), octets(4, 16))},
		{"nonce of 2000 bytes", "more than 1024", head(octets(5, 2000))},
		{"messageTime with fraction", "messageTime", head(tlv(explicitTag(0), tlv(cbasn1.GeneralizedTime, []byte("20260101000000.5Z"))))},
		{"messageTime with offset", "messageTime", head(tlv(explicitTag(0), tlv(cbasn1.GeneralizedTime, []byte("20260101000000+0100"))))},
		{"messageTime UTCTime", "messageTime", head(tlv(explicitTag(0), tlv(cbasn1.UTCTime, []byte("260101000000Z"))))},
		{"empty freeText", "PKIFreeText", head(tlv(explicitTag(7), tlv(cbasn1.SEQUENCE)))},
		{"empty generalInfo", "generalInfo", head(tlv(explicitTag(8), tlv(cbasn1.SEQUENCE)))},
		{"sender universal tag", "sender", tlv(cbasn1.SEQUENCE, []byte{2, 1, 2}, tlv(cbasn1.SEQUENCE), name)},
		{"sender choice [9]", "sender", tlv(cbasn1.SEQUENCE, []byte{2, 1, 2}, tlv(cbasn1.Tag(9).ContextSpecific()), name)},
		{"directoryName not a Name", "directoryName", tlv(cbasn1.SEQUENCE, []byte{2, 1, 2}, tlv(tagDirectoryName, tlv(cbasn1.SET)), name)},
		{"RDN empty SET", "RDN 0", tlv(cbasn1.SEQUENCE, []byte{2, 1, 2}, tlv(tagDirectoryName, tlv(cbasn1.SEQUENCE, tlv(cbasn1.SET))), name)},
		{"protectionAlg bad OID", "protectionAlg", head(tlv(explicitTag(1), tlv(cbasn1.SEQUENCE, []byte{0x06, 0x00})))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(build(t, tc.hdr, pkiconf))
			if err == nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), "header") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name header / %q", err, tc.want)
			}
		})
	}
	// The same skeleton with valid fields parses, so the cases above fail for their reason.
	if _, err := Parse(build(t, head(octets(4, 16), octets(5, 16)), pkiconf)); err != nil {
		t.Fatalf("valid skeleton rejected: %v", err)
	}
}

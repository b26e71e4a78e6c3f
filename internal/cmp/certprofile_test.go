package cmp

import (
	"encoding/asn1"
	"errors"
	"slices"
	"testing"
)

// TestCertProfile: id-it-certProfile (RFC 9810 section 5.3.19.16) is
// {id-it 21} with CertProfileValue ::= SEQUENCE SIZE (1..MAX) OF
// UTF8String. The encoding is checked against encoding/asn1, an independent
// decoder, survives a whole message's generalInfo, and the parser is
// strict. (OpenSSL 3.0 cannot send a certProfile, so there is no golden
// message from a peer.)
func TestCertProfile(t *testing.T) {
	if !OIDCertProfile.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 4, 21}) {
		t.Fatalf("OIDCertProfile %v", OIDCertProfile)
	}
	itav, err := CertProfileITAV("tls-server")
	if err != nil {
		t.Fatal(err)
	}
	// SEQUENCE { UTF8String "tls-server" }, byte for byte.
	want := append([]byte{0x30, 12, 0x0c, 10}, "tls-server"...)
	if string(itav.Value) != string(want) {
		t.Errorf("CertProfileValue % x, want % x", itav.Value, want)
	}
	var decoded []string
	if rest, err := asn1.UnmarshalWithParams(itav.Value, &decoded, "utf8"); err != nil || len(rest) != 0 ||
		!slices.Equal(decoded, []string{"tls-server"}) {
		t.Errorf("encoding/asn1 reads %q (rest %d, %v)", decoded, len(rest), err)
	}

	// Through a whole message's generalInfo and back.
	msg := &Message{Header: Header{PVNO: 2, Sender: NullDN(), Recipient: NullDN(),
		TransactionID: make([]byte, 16), SenderNonce: make([]byte, 16),
		GeneralInfo: []InfoTypeAndValue{ImplicitConfirmITAV(), itav}},
		Body: Body{Type: BodyPKIConf}}
	der, err := msg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	got := FindITAV(back.Header.GeneralInfo, OIDCertProfile)
	if got == nil {
		t.Fatal("certProfile lost in generalInfo")
	}
	if profiles, err := ParseCertProfile(got.Value); err != nil || !slices.Equal(profiles, []string{"tls-server"}) {
		t.Errorf("ParseCertProfile = %q, %v", profiles, err)
	}

	if _, err := CertProfileITAV(); err == nil {
		t.Error("CertProfileITAV with no profile: no error")
	}
	for name, value := range map[string][]byte{
		"empty SEQUENCE":  {0x30, 0},
		"PrintableString": {0x30, 3, 0x13, 1, 'a'},
		"trailing data":   {0x30, 3, 0x0c, 1, 'a', 0},
		"invalid UTF-8":   {0x30, 3, 0x0c, 1, 0xff},
		"absent":          nil,
		"not a SEQUENCE":  {0x0c, 1, 'a'},
	} {
		if _, err := ParseCertProfile(value); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

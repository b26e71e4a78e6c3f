package cmp

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"testing"

	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// TestParseSPKIAlgorithm: the algorithm of a full key and of a template's
// key-less SubjectPublicKeyInfo (RFC 9483 section 4.3.3) is read; anything
// that is not one SubjectPublicKeyInfo is malformed.
func TestParseSPKIAlgorithm(t *testing.T) {
	keys := protTestKeys()
	full, err := x509.MarshalPKIXPublicKey(keys["P-256"].Public())
	if err != nil {
		t.Fatal(err)
	}
	ed, err := x509.MarshalPKIXPublicKey(keys["Ed25519"].Public())
	if err != nil {
		t.Fatal(err)
	}
	ecAlg := tlv(cbasn1.SEQUENCE, tlv(cbasn1.OBJECT_IDENTIFIER, []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}))
	oidECPublicKey := asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	for _, tc := range []struct {
		name    string
		der     []byte
		want    asn1.ObjectIdentifier
		wantErr error
	}{
		{"P-256 key", full, oidECPublicKey, nil},
		{"Ed25519 key", ed, OIDEd25519, nil},
		{"template key with an empty BIT STRING", tlv(cbasn1.SEQUENCE, ecAlg, tlv(cbasn1.BIT_STRING, []byte{0})), oidECPublicKey, nil},
		{"template key without a BIT STRING", tlv(cbasn1.SEQUENCE, ecAlg), oidECPublicKey, nil},
		{"empty", nil, nil, ErrMalformed},
		{"not a SEQUENCE", tlv(cbasn1.SET, ecAlg), nil, ErrMalformed},
		{"algorithm not a SEQUENCE", tlv(cbasn1.SEQUENCE, tlv(cbasn1.OBJECT_IDENTIFIER, []byte{0x2a})), nil, ErrMalformed},
		{"trailing data", append(append([]byte{}, full...), 0), nil, errTrailing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alg, err := ParseSPKIAlgorithm(tc.der)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !errors.Is(err, ErrMalformed) {
					t.Errorf("got %v, want an error wrapping %v and ErrMalformed", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !alg.Algorithm.Equal(tc.want) {
				t.Errorf("algorithm %v, want %v", alg.Algorithm, tc.want)
			}
		})
	}
}

package devca

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	encasn1 "encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// subjectKeyID is RFC 5280 4.2.1.2 method (1): the SHA-1 hash of the
// subjectPublicKey BIT STRING.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("subject key identifier: %w", err)
	}
	bits, err := subjectPublicKeyBits(spki)
	if err != nil {
		return nil, fmt.Errorf("subject key identifier: %w", err)
	}
	sum := sha1.Sum(bits)
	return sum[:], nil
}

// subjectPublicKeyBits returns the key bits of a SubjectPublicKeyInfo.
//
//	SubjectPublicKeyInfo ::= SEQUENCE {
//	    algorithm         AlgorithmIdentifier,
//	    subjectPublicKey  BIT STRING }
func subjectPublicKeyBits(spki []byte) ([]byte, error) {
	in := cryptobyte.String(spki)
	var seq, alg cryptobyte.String
	var bits encasn1.BitString
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("malformed SubjectPublicKeyInfo")
	}
	if !seq.ReadASN1(&alg, asn1.SEQUENCE) {
		return nil, errors.New("malformed SubjectPublicKeyInfo algorithm")
	}
	if !seq.ReadASN1BitString(&bits) || !seq.Empty() {
		return nil, errors.New("malformed SubjectPublicKeyInfo subjectPublicKey")
	}
	return bits.RightAlign(), nil
}

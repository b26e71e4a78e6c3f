package cmp

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// The controls of CertReqTemplateContent.keySpec (RFC 9810 section
// 5.3.19.16): one per key algorithm or RSA modulus length the CA certifies.
//
//	id-regCtrl-algId OBJECT IDENTIFIER ::= { id-regCtrl 11 }
//	AlgIdCtrl ::= AlgorithmIdentifier
//	id-regCtrl-rsaKeyLen OBJECT IDENTIFIER ::= { id-regCtrl 12 }
//	RsaKeyLenCtrl ::= INTEGER (1..MAX)
var (
	OIDRegCtrlAlgID     = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 5, 1, 11}
	OIDRegCtrlRSAKeyLen = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 5, 1, 12}
)

// Public key algorithms and named curves a keySpec names (RFC 5480, RFC
// 8410).
var (
	OIDECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	OIDCurveP256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	OIDCurveP384   = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	OIDCurveP521   = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
)

// AlgIDControl returns the id-regCtrl-algId control naming alg, a public
// key algorithm other than rsaEncryption (RFC 9810 5.3.19.16).
func AlgIDControl(alg pkix.AlgorithmIdentifier) (AttributeTypeAndValue, error) {
	var b cryptobyte.Builder
	addAlgID(&b, alg)
	der, err := b.Bytes()
	if err != nil {
		return AttributeTypeAndValue{}, fmt.Errorf("cmp: encode id-regCtrl-algId: %w", err)
	}
	return AttributeTypeAndValue{Type: OIDRegCtrlAlgID, Value: der}, nil
}

// ParseAlgIDControl decodes the value of an id-regCtrl-algId control.
func ParseAlgIDControl(value []byte) (pkix.AlgorithmIdentifier, error) {
	s := cryptobyte.String(value)
	var alg pkix.AlgorithmIdentifier
	err := readAlgID(&s, &alg)
	if err == nil && !s.Empty() {
		err = errTrailing
	}
	if err != nil {
		return pkix.AlgorithmIdentifier{}, asMalformed(within("id-regCtrl-algId", err))
	}
	return alg, nil
}

// RSAKeyLenControl returns the id-regCtrl-rsaKeyLen control naming an RSA
// modulus length in bits (RFC 9810 5.3.19.16).
func RSAKeyLenControl(bits int) (AttributeTypeAndValue, error) {
	if bits < 1 {
		return AttributeTypeAndValue{}, fmt.Errorf("cmp: RSA key length %d is not in 1..MAX", bits)
	}
	var b cryptobyte.Builder
	b.AddASN1Int64(int64(bits))
	der, err := b.Bytes()
	if err != nil {
		return AttributeTypeAndValue{}, fmt.Errorf("cmp: encode id-regCtrl-rsaKeyLen: %w", err)
	}
	return AttributeTypeAndValue{Type: OIDRegCtrlRSAKeyLen, Value: der}, nil
}

// maxRSAKeyLen bounds what ParseRSAKeyLenControl accepts.
const maxRSAKeyLen = 1 << 16

// ParseRSAKeyLenControl decodes the value of an id-regCtrl-rsaKeyLen
// control: INTEGER (1..MAX), read as at most 65536 bits.
func ParseRSAKeyLenControl(value []byte) (int, error) {
	s := cryptobyte.String(value)
	var n int64
	switch {
	case !s.ReadASN1Integer(&n) || !s.Empty():
		return 0, asMalformed(errors.New("id-regCtrl-rsaKeyLen: not one DER INTEGER"))
	case n < 1 || n > maxRSAKeyLen:
		return 0, asMalformed(fmt.Errorf("id-regCtrl-rsaKeyLen: %d not in 1..%d", n, maxRSAKeyLen))
	}
	return int(n), nil
}

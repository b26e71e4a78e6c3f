package cmp

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// AlgorithmIdentifier (RFC 5280 section 4.1.1.2) is held in
// pkix.AlgorithmIdentifier:
//
//	AlgorithmIdentifier ::= SEQUENCE {
//	     algorithm   OBJECT IDENTIFIER,
//	     parameters  ANY DEFINED BY algorithm OPTIONAL }
//
// Parameters.FullBytes is the DER of the parameters element as received
// (absent parameters leave Parameters zero), so an identifier round-trips
// byte for byte, including the difference between absent and NULL.

// This file is the one reader (readAlgID, ParseAlgorithmIdentifier) and the
// one writer (addAlgID, MarshalAlgorithmIdentifier) of AlgorithmIdentifier;
// algorithm.go and signature_algorithm.go give the identifiers meaning.

// readAlgID reads one AlgorithmIdentifier SEQUENCE from s.
func readAlgID(s *cryptobyte.String, out *pkix.AlgorithmIdentifier) error {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return errors.New("AlgorithmIdentifier: not a SEQUENCE")
	}
	return readAlgIDContents(seq, out)
}

// readAlgIDContents decodes the contents of an AlgorithmIdentifier whose
// outer (possibly implicitly tagged) header is already removed.
func readAlgIDContents(seq cryptobyte.String, out *pkix.AlgorithmIdentifier) error {
	var alg pkix.AlgorithmIdentifier
	if !seq.ReadASN1ObjectIdentifier(&alg.Algorithm) {
		return errors.New("AlgorithmIdentifier: bad algorithm OID")
	}
	if !seq.Empty() {
		var params cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1Element(&params, &tag) {
			return errors.New("AlgorithmIdentifier: bad parameters")
		}
		if !seq.Empty() {
			return within("AlgorithmIdentifier", errTrailing)
		}
		withParams, err := NewAlgorithmIdentifier(alg.Algorithm, bytes.Clone(params))
		if err != nil {
			return within("AlgorithmIdentifier", err)
		}
		alg = withParams
	}
	*out = alg
	return nil
}

// addAlgID writes alg as an AlgorithmIdentifier SEQUENCE.
func addAlgID(b *cryptobyte.Builder, alg pkix.AlgorithmIdentifier) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addAlgIDContents(b, alg)
	})
}

// addAlgIDContents writes the contents of an AlgorithmIdentifier (for
// implicitly tagged uses such as CertTemplate.signingAlg). Parameters are
// written as AlgorithmParameters returns them: absent when it returns nil.
func addAlgIDContents(b *cryptobyte.Builder, alg pkix.AlgorithmIdentifier) {
	if len(alg.Algorithm) == 0 {
		b.SetError(errors.New("AlgorithmIdentifier: empty OBJECT IDENTIFIER"))
		return
	}
	params, err := AlgorithmParameters(alg)
	if err != nil {
		b.SetError(err)
		return
	}
	b.AddASN1ObjectIdentifier(alg.Algorithm)
	b.AddBytes(params)
}

// AlgorithmParameters returns the DER of alg's parameters, or nil when the
// parameters are absent. A zero asn1.RawValue counts as absent.
func AlgorithmParameters(alg pkix.AlgorithmIdentifier) ([]byte, error) {
	p := alg.Parameters
	if len(p.FullBytes) > 0 {
		return p.FullBytes, nil
	}
	if p.Tag == 0 && p.Class == 0 && !p.IsCompound && len(p.Bytes) == 0 {
		return nil, nil
	}
	der, err := asn1.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("algorithm %s: encoding parameters: %w", alg.Algorithm, err)
	}
	return der, nil
}

// NewAlgorithmIdentifier returns the identifier oid with the DER-encoded
// parameters params (nil: absent). Parameters.FullBytes is set, so encoders
// that honour it reproduce params byte for byte.
func NewAlgorithmIdentifier(oid asn1.ObjectIdentifier, params []byte) (pkix.AlgorithmIdentifier, error) {
	alg := pkix.AlgorithmIdentifier{Algorithm: oid}
	if params == nil {
		return alg, nil
	}
	var raw asn1.RawValue
	rest, err := asn1.Unmarshal(params, &raw)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("algorithm %s: parameters: %w", oid, err)
	}
	if len(rest) != 0 {
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("algorithm %s: parameters: %w", oid, errTrailing)
	}
	alg.Parameters = raw
	return alg, nil
}

// ParseAlgorithmIdentifier decodes the DER of
//
//	AlgorithmIdentifier ::= SEQUENCE {
//	    algorithm   OBJECT IDENTIFIER,
//	    parameters  ANY DEFINED BY algorithm OPTIONAL }
//
// strictly: no trailing data, at most one parameters element.
func ParseAlgorithmIdentifier(der []byte) (pkix.AlgorithmIdentifier, error) {
	s := cryptobyte.String(der)
	var alg pkix.AlgorithmIdentifier
	if err := readAlgID(&s, &alg); err != nil {
		return pkix.AlgorithmIdentifier{}, err
	}
	if !s.Empty() {
		return pkix.AlgorithmIdentifier{}, within("AlgorithmIdentifier", errTrailing)
	}
	return alg, nil
}

// MarshalAlgorithmIdentifier returns the DER of alg.
func MarshalAlgorithmIdentifier(alg pkix.AlgorithmIdentifier) ([]byte, error) {
	var b cryptobyte.Builder
	addAlgID(&b, alg)
	return b.Bytes()
}

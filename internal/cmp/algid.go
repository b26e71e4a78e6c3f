package cmp

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"

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
		var rv asn1.RawValue
		if _, err := asn1.Unmarshal(params, &rv); err != nil {
			return errors.New("AlgorithmIdentifier: bad parameters")
		}
		rv.FullBytes = bytes.Clone(params)
		rv.Bytes = bytes.Clone(rv.Bytes)
		alg.Parameters = rv
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
// implicitly tagged uses such as CertTemplate.signingAlg).
func addAlgIDContents(b *cryptobyte.Builder, alg pkix.AlgorithmIdentifier) {
	b.AddASN1ObjectIdentifier(alg.Algorithm)
	p := alg.Parameters
	switch {
	case p.FullBytes != nil:
		b.AddBytes(p.FullBytes)
	case p.Tag == 0 && p.Class == 0 && !p.IsCompound && p.Bytes == nil:
		// absent
	default:
		der, err := asn1.Marshal(p)
		if err != nil {
			b.SetError(err)
			return
		}
		b.AddBytes(der)
	}
}

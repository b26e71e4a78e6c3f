package cmp

import (
	"bytes"
	"crypto/x509/pkix"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Extensions (RFC 5280 section 4.1) are held in []pkix.Extension:
//
//	Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
//	Extension  ::= SEQUENCE {
//	     extnID      OBJECT IDENTIFIER,
//	     critical    BOOLEAN DEFAULT FALSE,
//	     extnValue   OCTET STRING }

// readExtensionsContents decodes the contents of an Extensions SEQUENCE
// whose (possibly implicitly tagged) header is already removed.
func readExtensionsContents(seq cryptobyte.String) ([]pkix.Extension, error) {
	if seq.Empty() {
		return nil, errors.New("Extensions: empty SEQUENCE (SIZE (1..MAX))")
	}
	var out []pkix.Extension
	for !seq.Empty() {
		if len(out) >= MaxCollection {
			return nil, fmt.Errorf("Extensions: more than %d", MaxCollection)
		}
		var ext cryptobyte.String
		var e pkix.Extension
		var value []byte
		if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&e.Id) {
			return nil, fmt.Errorf("Extension %d: bad extnID", len(out))
		}
		// DER omits a FALSE critical flag; an explicit FALSE is accepted, as
		// crypto/x509 does, since some encoders write it.
		if ext.PeekASN1Tag(cbasn1.BOOLEAN) && !ext.ReadASN1Boolean(&e.Critical) {
			return nil, fmt.Errorf("Extension %d (%v): bad critical", len(out), e.Id)
		}
		if !ext.ReadASN1Bytes(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return nil, fmt.Errorf("Extension %d (%v): bad extnValue", len(out), e.Id)
		}
		e.Value = bytes.Clone(value)
		out = append(out, e)
	}
	return out, nil
}

// addExtensionsContents writes the Extension elements (the caller writes
// the enclosing, possibly tagged, SEQUENCE header).
func addExtensionsContents(b *cryptobyte.Builder, exts []pkix.Extension) {
	for _, e := range exts {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(e.Id)
			if e.Critical {
				b.AddASN1Boolean(true)
			}
			b.AddASN1OctetString(e.Value)
		})
	}
}

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

// GeneralName is the sender, recipient or certificate issuer of a CMP message.
//
//	GeneralName ::= CHOICE {              -- RFC 5280, IMPLICIT TAGS
//	     otherName                 [0]  AnotherName,
//	     rfc822Name                [1]  IA5String,
//	     dNSName                   [2]  IA5String,
//	     x400Address               [3]  ORAddress,
//	     directoryName             [4]  Name,
//	     ediPartyName              [5]  EDIPartyName,
//	     uniformResourceIdentifier [6]  IA5String,
//	     iPAddress                 [7]  OCTET STRING,
//	     registeredID              [8]  OBJECT IDENTIFIER }
//
// CMP uses directoryName almost always (RFC 9483 section 3.1), so that choice
// is decoded; any other choice is kept as its raw DER element. Exactly one of
// the two fields is set. Name is itself a CHOICE, so the [4] tag is explicit:
// the element is A4 <len> 30 <len> RDNSequence.
type GeneralName struct {
	DirectoryName []byte // DER of the Name (an RDNSequence SEQUENCE), for choice [4]
	Raw           []byte // the whole DER element of any other choice
}

// nullDN is the DER of an empty RDNSequence: the NULL-DN of RFC 9810 section
// 5.1.1, used when the sender or recipient is not known.
var nullDN = []byte{0x30, 0x00}

// NullDN returns the directoryName with an empty Name (RFC 9810 section 5.1.1:
// "the sender field MUST contain a NULL-DN value").
func NullDN() GeneralName {
	return GeneralName{DirectoryName: bytes.Clone(nullDN)}
}

// NameFromPKIX returns the directoryName GeneralName holding n.
func NameFromPKIX(n pkix.Name) (GeneralName, error) {
	der, err := asn1.Marshal(n.ToRDNSequence())
	if err != nil {
		return GeneralName{}, fmt.Errorf("cmp: encode name: %w", err)
	}
	return GeneralName{DirectoryName: der}, nil
}

// NameFromDER returns the directoryName GeneralName holding the DER Name der
// (for example x509.Certificate.RawSubject).
func NameFromDER(der []byte) GeneralName {
	return GeneralName{DirectoryName: bytes.Clone(der)}
}

// IsDirectoryName reports whether g is the directoryName choice.
func (g GeneralName) IsDirectoryName() bool { return g.DirectoryName != nil }

// IsNullDN reports whether g is a directoryName with an empty Name.
func (g GeneralName) IsNullDN() bool { return bytes.Equal(g.DirectoryName, nullDN) }

// PKIXName decodes the directoryName; it fails for other choices.
func (g GeneralName) PKIXName() (pkix.Name, error) {
	var name pkix.Name
	if g.DirectoryName == nil {
		return name, errors.New("cmp: general name is not a directoryName")
	}
	var rdns pkix.RDNSequence
	rest, err := asn1.Unmarshal(g.DirectoryName, &rdns)
	if err != nil {
		return name, fmt.Errorf("cmp: decode directoryName: %w", err)
	}
	if len(rest) != 0 {
		return name, within("cmp: decode directoryName", errTrailing)
	}
	name.FillFromRDNSequence(&rdns)
	return name, nil
}

// Equal reports whether g and o have the same DER encoding.
func (g GeneralName) Equal(o GeneralName) bool {
	return bytes.Equal(g.DirectoryName, o.DirectoryName) && bytes.Equal(g.Raw, o.Raw)
}

// String returns the name in RFC 2253 form for a directoryName, and a short
// description for other choices; for logs and error messages.
func (g GeneralName) String() string {
	if g.DirectoryName != nil {
		n, err := g.PKIXName()
		if err != nil {
			return "<malformed directoryName>"
		}
		return n.String()
	}
	if len(g.Raw) > 0 {
		return fmt.Sprintf("<GeneralName choice [%d]>", g.Raw[0]&0x1f)
	}
	return "<empty GeneralName>"
}

var tagDirectoryName = cbasn1.Tag(4).ContextSpecific().Constructed()

// readGeneralName reads one GeneralName element.
func readGeneralName(s *cryptobyte.String, out *GeneralName) error {
	var elem cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1Element(&elem, &tag) {
		return errors.New("not a DER element")
	}
	if tag&0xc0 != 0x80 {
		return fmt.Errorf("tag 0x%02x is not a GeneralName choice", uint8(tag))
	}
	if tag != tagDirectoryName {
		if uint8(tag)&0x1f > 8 {
			return fmt.Errorf("tag 0x%02x is not a GeneralName choice", uint8(tag))
		}
		*out = GeneralName{Raw: bytes.Clone(elem)}
		return nil
	}
	var inner, name cryptobyte.String
	if !elem.ReadASN1(&inner, tagDirectoryName) || !inner.ReadASN1Element(&name, cbasn1.SEQUENCE) {
		return errors.New("directoryName: not a Name SEQUENCE")
	}
	if !inner.Empty() {
		return fmt.Errorf("directoryName: %w", errTrailing)
	}
	if err := checkRDNSequence(name); err != nil {
		return fmt.Errorf("directoryName: %w", err)
	}
	*out = GeneralName{DirectoryName: bytes.Clone(name)}
	return nil
}

// checkRDNSequence verifies the shape of a DER Name without decoding the
// attribute values (which may use any string type):
//
//	RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
//	RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
//	AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }
func checkRDNSequence(name cryptobyte.String) error {
	var rdns cryptobyte.String
	if !name.ReadASN1(&rdns, cbasn1.SEQUENCE) || !name.Empty() {
		return errors.New("not a Name SEQUENCE")
	}
	for n := 0; !rdns.Empty(); n++ {
		if n >= MaxCollection {
			return fmt.Errorf("more than %d RDNs", MaxCollection)
		}
		var set cryptobyte.String
		if !rdns.ReadASN1(&set, cbasn1.SET) || set.Empty() {
			return fmt.Errorf("RDN %d: not a non-empty SET", n)
		}
		for m := 0; !set.Empty(); m++ {
			if m >= MaxCollection {
				return fmt.Errorf("RDN %d: more than %d attributes", n, MaxCollection)
			}
			var atv cryptobyte.String
			var oid asn1.ObjectIdentifier
			var value cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) ||
				!atv.ReadAnyASN1Element(&value, &tag) || !atv.Empty() {
				return fmt.Errorf("RDN %d: malformed AttributeTypeAndValue", n)
			}
		}
	}
	return nil
}

// addGeneralName writes g; an empty GeneralName is an error rather than
// silently becoming a NULL-DN.
func addGeneralName(b *cryptobyte.Builder, g GeneralName) {
	switch {
	case g.DirectoryName != nil && g.Raw != nil:
		b.SetError(errors.New("cmp: GeneralName has both DirectoryName and Raw set"))
	case g.DirectoryName != nil:
		b.AddASN1(tagDirectoryName, func(b *cryptobyte.Builder) {
			b.AddBytes(g.DirectoryName)
		})
	case g.Raw != nil:
		// Check the raw choice the way readGeneralName does, so what we send
		// we would also accept.
		in := cryptobyte.String(g.Raw)
		var probe GeneralName
		if err := readGeneralName(&in, &probe); err != nil || !in.Empty() || probe.Raw == nil {
			b.SetError(errors.New("cmp: GeneralName.Raw is not one non-directoryName GeneralName element"))
			return
		}
		b.AddBytes(g.Raw)
	default:
		b.SetError(errors.New("cmp: empty GeneralName (use NullDN)"))
	}
}

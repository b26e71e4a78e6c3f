package cmp

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Caps on what Parse accepts, so a hostile peer cannot make a decoder
// allocate without bound.
const (
	MaxMessageSize  = 1 << 20 // bytes of one PKIMessage
	MaxCertificates = 256     // extraCerts, caPubs, caCerts
	MaxRequests     = 64      // CertReqMsgs, CertResponses, RevDetails, CertStatus, poll entries
	MaxCollection   = 256     // any other SEQUENCE OF (freeText strings, ITAVs, extensions, controls)
)

// Message is a PKIMessage (RFC 9810 section 5.1).
//
//	PKIMessage ::= SEQUENCE {
//	     header           PKIHeader,
//	     body             PKIBody,
//	     protection   [0] PKIProtection OPTIONAL,
//	     extraCerts   [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate
//	                      OPTIONAL }
//	PKIProtection ::= BIT STRING
//
// Protection holds the octets of the BIT STRING (nil = absent); ExtraCerts
// the DER of each certificate in the order sent (nil = absent).
// RawProtectedPart is set by Parse to the bytes the protection was computed
// over as received; verify protection against it, not against a re-encoding.
type Message struct {
	Header           Header
	Body             Body
	Protection       []byte
	ExtraCerts       [][]byte
	RawProtectedPart []byte
}

// Parse decodes one DER PKIMessage strictly: the whole input must be the
// message, at most MaxMessageSize bytes, every tag and length exact, every
// collection within its cap. Errors wrap ErrMalformed or ErrUnsupportedBody.
func Parse(der []byte) (*Message, error) {
	if len(der) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(der), MaxMessageSize)
	}
	m, err := parseMessage(cryptobyte.String(der))
	if err != nil {
		return nil, asMalformed(err)
	}
	return m, nil
}

func parseMessage(input cryptobyte.String) (*Message, error) {
	var seq cryptobyte.String
	if !input.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("PKIMessage: not a DER SEQUENCE")
	}
	if !input.Empty() {
		return nil, within("PKIMessage", errTrailing)
	}
	m := new(Message)
	start := seq
	if err := readHeader(&seq, &m.Header); err != nil {
		return nil, within("header", err)
	}
	if err := readBody(&seq, &m.Body); err != nil {
		return nil, within("body", err)
	}
	// ProtectedPart ::= SEQUENCE { header PKIHeader, body PKIBody }: the same
	// header and body octets under a fresh SEQUENCE header.
	hb := start[:len(start)-len(seq)]
	pp, err := wrapSequence(hb)
	if err != nil {
		return nil, err
	}
	m.RawProtectedPart = pp

	var inner cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&inner, &present, explicitTag(0)) {
		return nil, errors.New("protection: bad [0]")
	}
	if present {
		var prot []byte
		if !inner.ReadASN1BitStringAsBytes(&prot) || !inner.Empty() {
			return nil, errors.New("protection: not a BIT STRING of whole octets")
		}
		m.Protection = bytes.Clone(prot)
	}
	if !seq.ReadOptionalASN1(&inner, &present, explicitTag(1)) {
		return nil, errors.New("extraCerts: bad [1]")
	}
	if present {
		var list cryptobyte.String
		if !inner.ReadASN1(&list, cbasn1.SEQUENCE) || !inner.Empty() {
			return nil, errors.New("extraCerts: not a SEQUENCE")
		}
		// SIZE (1..MAX) forbids an empty list, but Insta Certifier sends one
		// (shared vector IR_protected.der) and OpenSSL accepts it; it reads as
		// no certificates, and Marshal leaves an empty list out.
		m.ExtraCerts = [][]byte{}
		if !list.Empty() {
			certs, err := readCertificatesContents(list)
			if err != nil {
				return nil, within("extraCerts", err)
			}
			m.ExtraCerts = certs
		}
	}
	if !seq.Empty() {
		return nil, errors.New("PKIMessage: unexpected element after extraCerts")
	}
	return m, nil
}

// wrapSequence returns contents under a DER SEQUENCE header.
func wrapSequence(contents []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(contents) })
	return b.Bytes()
}

// headerAndBody encodes the header and body elements back to back: the
// contents of both ProtectedPart and PKIMessage.
func (m *Message) headerAndBody() ([]byte, error) {
	var b cryptobyte.Builder
	addHeader(&b, &m.Header)
	addBody(&b, &m.Body)
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cmp: encode %s: %w", m.Body.Type, err)
	}
	return out, nil
}

// ProtectedPart returns the DER of
//
//	ProtectedPart ::= SEQUENCE { header PKIHeader, body PKIBody }
//
// encoded from the fields: the bytes protection is computed over before
// sending (RFC 9810 section 5.1.3). Marshal embeds exactly these header and
// body octets. Set Header.ProtectionAlg before calling it.
func (m *Message) ProtectedPart() ([]byte, error) {
	hb, err := m.headerAndBody()
	if err != nil {
		return nil, err
	}
	return wrapSequence(hb)
}

// Marshal encodes m as a DER PKIMessage.
func (m *Message) Marshal() ([]byte, error) {
	hb, err := m.headerAndBody()
	if err != nil {
		return nil, err
	}
	if len(m.ExtraCerts) > MaxCertificates {
		return nil, fmt.Errorf("cmp: %d extraCerts, more than %d", len(m.ExtraCerts), MaxCertificates)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(hb)
		if m.Protection != nil {
			b.AddASN1(explicitTag(0), func(b *cryptobyte.Builder) {
				b.AddASN1BitString(m.Protection)
			})
		}
		if len(m.ExtraCerts) > 0 {
			b.AddASN1(explicitTag(1), func(b *cryptobyte.Builder) {
				addCertificates(b, m.ExtraCerts)
			})
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cmp: encode %s: %w", m.Body.Type, err)
	}
	if len(out) > MaxMessageSize {
		return nil, fmt.Errorf("cmp: encoded %s is %d bytes, more than %d", m.Body.Type, len(out), MaxMessageSize)
	}
	return out, nil
}

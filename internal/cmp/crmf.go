package cmp

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CertReqMsg is one certificate request of an ir, cr or kur (RFC 4211
// section 3; the CRMF module uses IMPLICIT TAGS).
//
//	CertReqMsg ::= SEQUENCE {
//	     certReq   CertRequest,
//	     popo      ProofOfPossession  OPTIONAL,
//	     regInfo   SEQUENCE SIZE(1..MAX) OF AttributeTypeAndValue OPTIONAL }
//	CertRequest ::= SEQUENCE {
//	     certReqId     INTEGER,
//	     certTemplate  CertTemplate,
//	     controls      Controls OPTIONAL }
//	Controls ::= SEQUENCE SIZE(1..MAX) OF AttributeTypeAndValue
//
// RawCertRequest is set by Parse to the DER of certReq as received: what a
// POP signature was computed over (RFC 4211 section 4.1); verify against it.
type CertReqMsg struct {
	CertReqID      int64
	Template       CertTemplate
	Controls       []AttributeTypeAndValue
	POP            *ProofOfPossession
	RegInfo        []AttributeTypeAndValue
	RawCertRequest []byte
}

// AttributeTypeAndValue is a control or regInfo item (RFC 4211 section 6).
//
//	AttributeTypeAndValue ::= SEQUENCE {
//	     type   OBJECT IDENTIFIER,
//	     value  ANY DEFINED BY type }
//
// Value is the DER element of value.
type AttributeTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value []byte
}

// POP choices of ProofOfPossession.
const (
	POPRAVerified      = 0
	POPSignature       = 1
	POPKeyEncipherment = 2
	POPKeyAgreement    = 3
)

// ProofOfPossession (RFC 4211 section 4).
//
//	ProofOfPossession ::= CHOICE {
//	     raVerified        [0] NULL,              -- 80 00
//	     signature         [1] POPOSigningKey,    -- A1 (implicit SEQUENCE)
//	     keyEncipherment   [2] POPOPrivKey,       -- A2 { choice } (explicit: CHOICE)
//	     keyAgreement      [3] POPOPrivKey }      -- A3 { choice }
//
// Type is one of the POP* constants; Signature is set for POPSignature;
// PrivKey holds the DER of the POPOPrivKey choice element for
// keyEncipherment and keyAgreement (not interpreted here).
type ProofOfPossession struct {
	Type      int
	Signature *POPOSigningKey
	PrivKey   []byte
}

// POPOSigningKey (RFC 4211 section 4.1).
//
//	POPOSigningKey ::= SEQUENCE {
//	     poposkInput           [0] POPOSigningKeyInput OPTIONAL,  -- A0 (implicit)
//	     algorithmIdentifier   AlgorithmIdentifier,
//	     signature             BIT STRING }
//
// Input, when present, is the DER of POPOSigningKeyInput with its universal
// SEQUENCE tag: the bytes the signature covers in that case. RFC 9483
// section 4.1.1 profiles it away (the signature covers CertRequest).
type POPOSigningKey struct {
	Input     []byte
	Algorithm pkix.AlgorithmIdentifier
	Signature []byte
}

// OIDRegCtrlOldCertID is id-regCtrl-oldCertID (RFC 4211 section 6.5), the
// control a kur carries to name the certificate being updated.
var OIDRegCtrlOldCertID = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 5, 1, 5}

// CertID names a certificate by issuer and serial number (RFC 4211 section
// 6.5, used by oldCertID and by RevRepContent.revCerts).
//
//	CertId ::= SEQUENCE {
//	     issuer        GeneralName,
//	     serialNumber  INTEGER }
type CertID struct {
	Issuer GeneralName
	Serial *big.Int
}

func readCertReqMsg(s *cryptobyte.String, r *CertReqMsg) error {
	var seq, req cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return errors.New("not a SEQUENCE")
	}
	*r = CertReqMsg{}
	if !seq.ReadASN1Element(&req, cbasn1.SEQUENCE) {
		return errors.New("certReq: not a SEQUENCE")
	}
	r.RawCertRequest = bytes.Clone(req)
	var body cryptobyte.String
	if !req.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1Integer(&r.CertReqID) {
		return errors.New("certReq: certReqId is not an INTEGER")
	}
	if err := readCertTemplate(&body, &r.Template); err != nil {
		return within("certReq", err)
	}
	if !body.Empty() {
		ctrls, err := readAttributes(&body)
		if err != nil {
			return within("certReq: controls", err)
		}
		r.Controls = ctrls
	}
	if !body.Empty() {
		return within("certReq", errTrailing)
	}
	if !seq.Empty() && !seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		pop, err := readPOP(&seq)
		if err != nil {
			return within("popo", err)
		}
		r.POP = pop
	}
	if !seq.Empty() {
		info, err := readAttributes(&seq)
		if err != nil {
			return within("regInfo", err)
		}
		r.RegInfo = info
	}
	if !seq.Empty() {
		return errTrailing
	}
	return nil
}

// readAttributes reads a SEQUENCE SIZE(1..MAX) OF AttributeTypeAndValue.
func readAttributes(s *cryptobyte.String) ([]AttributeTypeAndValue, error) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || seq.Empty() {
		return nil, errors.New("not a non-empty SEQUENCE")
	}
	var out []AttributeTypeAndValue
	for !seq.Empty() {
		if len(out) >= MaxCollection {
			return nil, fmt.Errorf("more than %d attributes", MaxCollection)
		}
		var atv, value cryptobyte.String
		var a AttributeTypeAndValue
		var tag cbasn1.Tag
		if !seq.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&a.Type) ||
			!atv.ReadAnyASN1Element(&value, &tag) || !atv.Empty() {
			return nil, fmt.Errorf("attribute %d: not SEQUENCE { OID, ANY }", len(out))
		}
		a.Value = bytes.Clone(value)
		out = append(out, a)
	}
	return out, nil
}

func addAttributes(b *cryptobyte.Builder, attrs []AttributeTypeAndValue) {
	if len(attrs) > MaxCollection {
		b.SetError(fmt.Errorf("cmp: more than %d attributes", MaxCollection))
		return
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(a.Type)
				addElement(b, a.Value, "attribute value")
			})
		}
	})
}

func readPOP(s *cryptobyte.String) (*ProofOfPossession, error) {
	var inner cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&inner, &tag) {
		return nil, errors.New("not a DER element")
	}
	switch tag {
	case implicitTag(POPRAVerified):
		if !inner.Empty() {
			return nil, errors.New("raVerified: not NULL")
		}
		return &ProofOfPossession{Type: POPRAVerified}, nil
	case implicitTag(POPSignature).Constructed():
		sk := new(POPOSigningKey)
		var input cryptobyte.String
		var present bool
		if !inner.ReadOptionalASN1(&input, &present, implicitTag(0).Constructed()) {
			return nil, errors.New("signature: bad poposkInput")
		}
		if present {
			der, err := wrapSequence(input)
			if err != nil {
				return nil, err
			}
			sk.Input = der
		}
		if err := readAlgID(&inner, &sk.Algorithm); err != nil {
			return nil, within("signature", err)
		}
		var sig []byte
		if !inner.ReadASN1BitStringAsBytes(&sig) || !inner.Empty() {
			return nil, errors.New("signature: signature is not a BIT STRING of whole octets")
		}
		sk.Signature = bytes.Clone(sig)
		return &ProofOfPossession{Type: POPSignature, Signature: sk}, nil
	case explicitTag(POPKeyEncipherment), explicitTag(POPKeyAgreement):
		var elem cryptobyte.String
		var t cbasn1.Tag
		if !inner.ReadAnyASN1Element(&elem, &t) || !inner.Empty() {
			return nil, errors.New("POPOPrivKey: not one element")
		}
		return &ProofOfPossession{Type: int(tag & 0x1f), PrivKey: bytes.Clone(elem)}, nil
	}
	return nil, fmt.Errorf("tag 0x%02x is not a ProofOfPossession choice", uint8(tag))
}

func addPOP(b *cryptobyte.Builder, p *ProofOfPossession) {
	switch p.Type {
	case POPRAVerified:
		b.AddASN1(implicitTag(POPRAVerified), func(*cryptobyte.Builder) {})
	case POPSignature:
		if p.Signature == nil {
			b.SetError(errors.New("cmp: signature POP without Signature"))
			return
		}
		sk := p.Signature
		b.AddASN1(implicitTag(POPSignature).Constructed(), func(b *cryptobyte.Builder) {
			if sk.Input != nil {
				s := cryptobyte.String(sk.Input)
				var in cryptobyte.String
				if !s.ReadASN1(&in, cbasn1.SEQUENCE) || !s.Empty() {
					b.SetError(errors.New("cmp: POPOSigningKey.Input is not one DER SEQUENCE"))
					return
				}
				b.AddASN1(implicitTag(0).Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(in) })
			}
			addAlgID(b, sk.Algorithm)
			b.AddASN1BitString(sk.Signature)
		})
	case POPKeyEncipherment, POPKeyAgreement:
		b.AddASN1(explicitTag(p.Type), func(b *cryptobyte.Builder) {
			addElement(b, p.PrivKey, "POPOPrivKey")
		})
	default:
		b.SetError(fmt.Errorf("cmp: unknown POP type %d", p.Type))
	}
}

// addCertRequest writes the CertRequest SEQUENCE of r.
func addCertRequest(b *cryptobyte.Builder, r *CertReqMsg) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(r.CertReqID)
		addCertTemplate(b, &r.Template)
		if len(r.Controls) > 0 {
			addAttributes(b, r.Controls)
		}
	})
}

func addCertReqMsg(b *cryptobyte.Builder, r *CertReqMsg) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addCertRequest(b, r)
		if r.POP != nil {
			addPOP(b, r.POP)
		}
		if len(r.RegInfo) > 0 {
			addAttributes(b, r.RegInfo)
		}
	})
}

// CertRequestDER returns the DER of the CertRequest encoded from the
// fields: what a POP signature is computed over when signing (RFC 4211
// section 4.1). To verify a received request use RawCertRequest.
func (r *CertReqMsg) CertRequestDER() ([]byte, error) {
	var b cryptobyte.Builder
	addCertRequest(&b, r)
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cmp: encode CertRequest %d: %w", r.CertReqID, err)
	}
	return der, nil
}

// readCertID reads a CertId SEQUENCE.
func readCertID(s *cryptobyte.String, id *CertID) error {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return errors.New("CertId: not a SEQUENCE")
	}
	if err := readGeneralName(&seq, &id.Issuer); err != nil {
		return within("CertId: issuer", err)
	}
	id.Serial = new(big.Int)
	if !seq.ReadASN1Integer(id.Serial) {
		return errors.New("CertId: serialNumber is not an INTEGER")
	}
	if !seq.Empty() {
		return within("CertId", errTrailing)
	}
	return nil
}

func addCertID(b *cryptobyte.Builder, id CertID) {
	if id.Serial == nil {
		b.SetError(errors.New("cmp: CertID without serial number"))
		return
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addGeneralName(b, id.Issuer)
		b.AddASN1BigInt(id.Serial)
	})
}

// OldCertIDControl returns the id-regCtrl-oldCertID control naming the
// certificate a kur replaces (RFC 4211 section 6.5, RFC 9483 section 4.1.3).
func OldCertIDControl(id CertID) (AttributeTypeAndValue, error) {
	var b cryptobyte.Builder
	addCertID(&b, id)
	der, err := b.Bytes()
	if err != nil {
		return AttributeTypeAndValue{}, fmt.Errorf("cmp: encode oldCertID: %w", err)
	}
	return AttributeTypeAndValue{Type: OIDRegCtrlOldCertID, Value: der}, nil
}

// OldCertID returns the oldCertID control of r, or nil when r has none.
func (r *CertReqMsg) OldCertID() (*CertID, error) {
	for _, c := range r.Controls {
		if !c.Type.Equal(OIDRegCtrlOldCertID) {
			continue
		}
		return ParseCertID(c.Value)
	}
	return nil, nil
}

// ParseCertID decodes the DER of a CertId.
func ParseCertID(der []byte) (*CertID, error) {
	s := cryptobyte.String(der)
	id := new(CertID)
	if err := readCertID(&s, id); err != nil {
		return nil, asMalformed(err)
	}
	if !s.Empty() {
		return nil, asMalformed(within("CertId", errTrailing))
	}
	return id, nil
}

package cmp

import (
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Typed values of the InfoTypeAndValue items this project sends and reads
// (RFC 9810 section 5.3.19, RFC 9483 section 4.3). Each Parse* function
// takes InfoTypeAndValue.Value (nil = absent) and is strict like Parse.

// ImplicitConfirmITAV returns the generalInfo item asking for (in a request)
// or granting (in a response) implicit confirmation (RFC 9810 section
// 5.1.1.1): ImplicitConfirmValue ::= NULL.
func ImplicitConfirmITAV() InfoTypeAndValue {
	return InfoTypeAndValue{Type: OIDImplicitConfirm, Value: []byte{0x05, 0x00}}
}

// ConfirmWaitTimeITAV returns the generalInfo item telling how long the CA
// waits for certConf (RFC 9810 section 5.1.1.2):
// ConfirmWaitTimeValue ::= GeneralizedTime.
func ConfirmWaitTimeITAV(t time.Time) (InfoTypeAndValue, error) {
	var b cryptobyte.Builder
	b.AddASN1GeneralizedTime(t.UTC().Truncate(time.Second))
	der, err := b.Bytes()
	if err != nil {
		return InfoTypeAndValue{}, fmt.Errorf("cmp: encode confirmWaitTime: %w", err)
	}
	return InfoTypeAndValue{Type: OIDConfirmWaitTime, Value: der}, nil
}

// ParseConfirmWaitTime decodes a ConfirmWaitTimeValue.
func ParseConfirmWaitTime(value []byte) (time.Time, error) {
	s := cryptobyte.String(value)
	t, err := readGeneralizedTime(&s)
	if err == nil && !s.Empty() {
		err = errTrailing
	}
	if err != nil {
		return time.Time{}, asMalformed(within("confirmWaitTime", err))
	}
	return t, nil
}

// CACertsValue encodes the genp value of id-it-caCerts (RFC 9810 section
// 5.3.19.9): CaCertsValue ::= SEQUENCE SIZE (1..MAX) OF CMPCertificate.
// No certificates gives nil: the value is then absent (RFC 9483 4.3.1).
func CACertsValue(certs [][]byte) ([]byte, error) {
	if len(certs) == 0 {
		return nil, nil
	}
	var b cryptobyte.Builder
	addCertificates(&b, certs)
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cmp: encode caCerts: %w", err)
	}
	return der, nil
}

// ParseCACertsValue decodes the genp value of id-it-caCerts; an absent
// value (nil) gives no certificates and no error. An empty SEQUENCE breaks
// SIZE (1..MAX) but is read as no certificates too, as an empty extraCerts
// is: a CA with nothing to report should not turn into a protocol error.
func ParseCACertsValue(value []byte) ([][]byte, error) {
	if value == nil {
		return nil, nil
	}
	s := cryptobyte.String(value)
	var list cryptobyte.String
	if !s.ReadASN1(&list, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, asMalformed(errors.New("caCerts: not one SEQUENCE"))
	}
	if list.Empty() {
		return nil, nil
	}
	certs, err := readCertificatesContents(list)
	if err != nil {
		return nil, asMalformed(within("caCerts", err))
	}
	return certs, nil
}

// ParseRootCACertValue decodes the genm value of id-it-rootCaCert
// (RootCaCertValue ::= CMPCertificate, the old root the requester trusts);
// nil when absent.
func ParseRootCACertValue(value []byte) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	s := cryptobyte.String(value)
	cert, err := readCertificate(&s)
	if err == nil && !s.Empty() {
		err = errTrailing
	}
	if err != nil {
		return nil, asMalformed(within("rootCaCert", err))
	}
	return cert, nil
}

// RootCAKeyUpdate is the genp value of id-it-rootCaKeyUpdate (RFC 9810
// section 5.3.19.15; EXPLICIT TAGS).
//
//	RootCaKeyUpdateContent ::= SEQUENCE {
//	     newWithNew       CMPCertificate,
//	     newWithOld   [0] CMPCertificate OPTIONAL,   -- A0 { Certificate }
//	     oldWithNew   [1] CMPCertificate OPTIONAL }  -- A1 { Certificate }
type RootCAKeyUpdate struct {
	NewWithNew []byte
	NewWithOld []byte
	OldWithNew []byte
}

// Marshal encodes u as a RootCaKeyUpdateContent.
func (u *RootCAKeyUpdate) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addCertificate(b, u.NewWithNew)
		for i, c := range [][]byte{u.NewWithOld, u.OldWithNew} {
			if c != nil {
				b.AddASN1(explicitTag(i), func(b *cryptobyte.Builder) { addCertificate(b, c) })
			}
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cmp: encode rootCaKeyUpdate: %w", err)
	}
	return der, nil
}

// ParseRootCAKeyUpdate decodes a RootCaKeyUpdateContent.
func ParseRootCAKeyUpdate(value []byte) (*RootCAKeyUpdate, error) {
	u, err := parseRootCAKeyUpdate(cryptobyte.String(value))
	if err != nil {
		return nil, asMalformed(within("rootCaKeyUpdate", err))
	}
	return u, nil
}

func parseRootCAKeyUpdate(s cryptobyte.String) (*RootCAKeyUpdate, error) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errors.New("not one SEQUENCE")
	}
	u := new(RootCAKeyUpdate)
	var err error
	if u.NewWithNew, err = readCertificate(&seq); err != nil {
		return nil, within("newWithNew", err)
	}
	for i, out := range []*[]byte{&u.NewWithOld, &u.OldWithNew} {
		var inner cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&inner, &present, explicitTag(i)) {
			return nil, fmt.Errorf("bad [%d]", i)
		}
		if !present {
			continue
		}
		if *out, err = readCertificate(&inner); err != nil || !inner.Empty() {
			return nil, within(fmt.Sprintf("[%d]", i), errOr(err, errTrailing))
		}
	}
	if !seq.Empty() {
		return nil, errTrailing
	}
	return u, nil
}

// CertReqTemplate is the genp value of id-it-certReqTemplate (RFC 9810
// section 5.3.19.16).
//
//	CertReqTemplateContent ::= SEQUENCE {
//	     certTemplate   CertTemplate,
//	     keySpec        Controls OPTIONAL }
//
// KeySpec holds controls such as id-regCtrl-algId and id-regCtrl-rsaKeyLen
// (RFC 9810 section 5.3.19.16) as raw items.
type CertReqTemplate struct {
	Template CertTemplate
	KeySpec  []AttributeTypeAndValue
}

// Marshal encodes t as a CertReqTemplateContent.
func (t *CertReqTemplate) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addCertTemplate(b, &t.Template)
		if len(t.KeySpec) > 0 {
			addAttributes(b, t.KeySpec)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cmp: encode certReqTemplate: %w", err)
	}
	return der, nil
}

// ParseCertReqTemplate decodes a CertReqTemplateContent.
func ParseCertReqTemplate(value []byte) (*CertReqTemplate, error) {
	s := cryptobyte.String(value)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, asMalformed(errors.New("certReqTemplate: not one SEQUENCE"))
	}
	t := new(CertReqTemplate)
	if err := readCertTemplate(&seq, &t.Template); err != nil {
		return nil, asMalformed(within("certReqTemplate", err))
	}
	if !seq.Empty() {
		ks, err := readAttributes(&seq)
		if err != nil {
			return nil, asMalformed(within("certReqTemplate: keySpec", err))
		}
		t.KeySpec = ks
	}
	if !seq.Empty() {
		return nil, asMalformed(within("certReqTemplate", errTrailing))
	}
	return t, nil
}

// SignKeyPairTypesValue encodes the genp value of id-it-signKeyPairTypes:
// SEQUENCE SIZE (1..MAX) OF AlgorithmIdentifier.
func SignKeyPairTypesValue(algs []pkix.AlgorithmIdentifier) ([]byte, error) {
	if len(algs) == 0 || len(algs) > MaxCollection {
		return nil, fmt.Errorf("cmp: signKeyPairTypes needs 1..%d algorithms", MaxCollection)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, a := range algs {
			addAlgID(b, a)
		}
	})
	return b.Bytes()
}

// ParseSignKeyPairTypes decodes the genp value of id-it-signKeyPairTypes.
func ParseSignKeyPairTypes(value []byte) ([]pkix.AlgorithmIdentifier, error) {
	s := cryptobyte.String(value)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || seq.Empty() {
		return nil, asMalformed(errors.New("signKeyPairTypes: not one non-empty SEQUENCE"))
	}
	var out []pkix.AlgorithmIdentifier
	for !seq.Empty() {
		if len(out) >= MaxCollection {
			return nil, asMalformed(fmt.Errorf("signKeyPairTypes: more than %d", MaxCollection))
		}
		var a pkix.AlgorithmIdentifier
		if err := readAlgID(&seq, &a); err != nil {
			return nil, asMalformed(within("signKeyPairTypes", err))
		}
		out = append(out, a)
	}
	return out, nil
}

// CertProfileITAV returns the generalInfo item naming the certificate
// profile a request asks for (RFC 9483 section 4.1.1, RFC 9810 section
// 5.3.19.16): CertProfileValue ::= SEQUENCE SIZE (1..MAX) OF UTF8String,
// which has the shape of PKIFreeText. A request names one profile per
// CertReqMsg; this project sends one.
func CertProfileITAV(profiles ...string) (InfoTypeAndValue, error) {
	if len(profiles) == 0 {
		return InfoTypeAndValue{}, errors.New("cmp: certProfile needs at least one profile (SIZE (1..MAX))")
	}
	var b cryptobyte.Builder
	addFreeText(&b, profiles)
	der, err := b.Bytes()
	if err != nil {
		return InfoTypeAndValue{}, fmt.Errorf("cmp: encode certProfile: %w", err)
	}
	return InfoTypeAndValue{Type: OIDCertProfile, Value: der}, nil
}

// ParseCertProfile decodes a CertProfileValue.
func ParseCertProfile(value []byte) ([]string, error) {
	s := cryptobyte.String(value)
	profiles, err := readFreeText(&s)
	if err == nil && !s.Empty() {
		err = errTrailing
	}
	if err != nil {
		return nil, asMalformed(within("certProfile", err))
	}
	return profiles, nil
}

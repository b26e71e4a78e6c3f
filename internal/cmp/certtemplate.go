package cmp

import (
	"bytes"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CertTemplate is the requested content of a certificate (RFC 4211 section
// 5). The CRMF module uses IMPLICIT TAGS, except where the tagged type is a
// CHOICE (Name, Time), which makes the tag explicit:
//
//	CertTemplate ::= SEQUENCE {
//	     version      [0] Version               OPTIONAL,  -- 80
//	     serialNumber [1] INTEGER               OPTIONAL,  -- 81
//	     signingAlg   [2] AlgorithmIdentifier   OPTIONAL,  -- A2 (implicit)
//	     issuer       [3] Name                  OPTIONAL,  -- A3 { Name }
//	     validity     [4] OptionalValidity      OPTIONAL,  -- A4 (implicit)
//	     subject      [5] Name                  OPTIONAL,  -- A5 { Name }
//	     publicKey    [6] SubjectPublicKeyInfo  OPTIONAL,  -- A6 (implicit)
//	     issuerUID    [7] UniqueIdentifier      OPTIONAL,  -- 87
//	     subjectUID   [8] UniqueIdentifier      OPTIONAL,  -- 88
//	     extensions   [9] Extensions            OPTIONAL } -- A9 (implicit)
//
// Issuer and Subject hold the DER Name (universal SEQUENCE); PublicKey the
// DER SubjectPublicKeyInfo with its universal SEQUENCE tag, as
// x509.ParsePKIXPublicKey takes it. IssuerUID and SubjectUID, which RFC 5280
// deprecates, are kept as their raw tagged elements.
type CertTemplate struct {
	Version      *int
	SerialNumber *big.Int
	SigningAlg   *pkix.AlgorithmIdentifier
	Issuer       []byte
	Validity     *OptionalValidity
	Subject      []byte
	PublicKey    []byte
	IssuerUID    []byte
	SubjectUID   []byte
	Extensions   []pkix.Extension
}

// OptionalValidity is the requested validity (RFC 4211 section 5).
//
//	OptionalValidity ::= SEQUENCE {
//	     notBefore  [0] Time OPTIONAL,   -- A0 { UTCTime | GeneralizedTime }
//	     notAfter   [1] Time OPTIONAL }  -- A1 { ... }
//	Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }
//
// Times are encoded as RFC 5280 section 4.1.2.5 says: UTCTime through 2049,
// GeneralizedTime from 2050, whole seconds in UTC.
type OptionalValidity struct {
	NotBefore *time.Time
	NotAfter  *time.Time
}

func implicitTag(n int) cbasn1.Tag { return cbasn1.Tag(n).ContextSpecific() }

// readCertTemplate reads a CertTemplate SEQUENCE.
func readCertTemplate(s *cryptobyte.String, t *CertTemplate) error {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return errors.New("CertTemplate: not a SEQUENCE")
	}
	if err := readCertTemplateContents(seq, t); err != nil {
		return within("CertTemplate", err)
	}
	return nil
}

func readCertTemplateContents(seq cryptobyte.String, t *CertTemplate) error {
	*t = CertTemplate{}
	var inner cryptobyte.String
	var present bool

	v, ok, err := readImplicitBigInt(&seq, implicitTag(0))
	if err != nil {
		return within("version", err)
	}
	if ok {
		if !v.IsInt64() || v.Int64() < 0 || v.Int64() > 2 {
			return fmt.Errorf("version %v not in 0..2", v)
		}
		n := int(v.Int64())
		t.Version = &n
	}
	if t.SerialNumber, _, err = readImplicitBigInt(&seq, implicitTag(1)); err != nil {
		return within("serialNumber", err)
	}
	if !seq.ReadOptionalASN1(&inner, &present, implicitTag(2).Constructed()) {
		return errors.New("signingAlg: bad [2]")
	}
	if present {
		t.SigningAlg = new(pkix.AlgorithmIdentifier)
		if err := readAlgIDContents(inner, t.SigningAlg); err != nil {
			return within("signingAlg", err)
		}
	}
	if t.Issuer, err = readExplicitName(&seq, 3); err != nil {
		return within("issuer", err)
	}
	if !seq.ReadOptionalASN1(&inner, &present, implicitTag(4).Constructed()) {
		return errors.New("validity: bad [4]")
	}
	if present {
		t.Validity = new(OptionalValidity)
		if err := readOptionalValidityContents(inner, t.Validity); err != nil {
			return within("validity", err)
		}
	}
	if t.Subject, err = readExplicitName(&seq, 5); err != nil {
		return within("subject", err)
	}
	if !seq.ReadOptionalASN1(&inner, &present, implicitTag(6).Constructed()) {
		return errors.New("publicKey: bad [6]")
	}
	if present {
		// SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
		// subjectPublicKey BIT STRING }; the BIT STRING may be empty when the
		// key is to be generated centrally (RFC 4211 section 5).
		check := inner
		var alg pkix.AlgorithmIdentifier
		var key cryptobyte.String
		if err := readAlgID(&check, &alg); err != nil {
			return within("publicKey", err)
		}
		if !check.ReadASN1(&key, cbasn1.BIT_STRING) || !check.Empty() {
			return errors.New("publicKey: subjectPublicKey is not a BIT STRING")
		}
		if t.PublicKey, err = wrapSequence(inner); err != nil {
			return err
		}
	}
	for _, uid := range []struct {
		tag int
		out *[]byte
	}{{7, &t.IssuerUID}, {8, &t.SubjectUID}} {
		var elem cryptobyte.String
		if seq.PeekASN1Tag(implicitTag(uid.tag)) {
			if !seq.ReadASN1Element(&elem, implicitTag(uid.tag)) {
				return fmt.Errorf("[%d] UniqueIdentifier: bad element", uid.tag)
			}
			*uid.out = bytes.Clone(elem)
		}
	}
	if !seq.ReadOptionalASN1(&inner, &present, implicitTag(9).Constructed()) {
		return errors.New("extensions: bad [9]")
	}
	if present {
		if t.Extensions, err = readExtensionsContents(inner); err != nil {
			return within("extensions", err)
		}
	}
	if !seq.Empty() {
		return errors.New("unexpected element after extensions")
	}
	return nil
}

// readImplicitBigInt reads an optional INTEGER under an implicit context
// tag. cryptobyte only reads universal INTEGERs, so the content is checked
// by re-reading it under the INTEGER tag.
func readImplicitBigInt(s *cryptobyte.String, tag cbasn1.Tag) (*big.Int, bool, error) {
	var content cryptobyte.String
	var present bool
	if !s.ReadOptionalASN1(&content, &present, tag) {
		return nil, false, errors.New("bad element")
	}
	if !present {
		return nil, false, nil
	}
	der, err := wrapTag(cbasn1.INTEGER, content)
	if err != nil {
		return nil, false, err
	}
	v := new(big.Int)
	in := cryptobyte.String(der)
	if !in.ReadASN1Integer(v) {
		return nil, false, errors.New("not a DER INTEGER")
	}
	return v, true, nil
}

// wrapTag returns contents under a DER header with tag.
func wrapTag(tag cbasn1.Tag, contents []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(contents) })
	return b.Bytes()
}

// readExplicitName reads an optional [n] Name (explicit, since Name is a
// CHOICE) and returns the DER Name, or nil when absent.
func readExplicitName(s *cryptobyte.String, n int) ([]byte, error) {
	var inner, name cryptobyte.String
	var present bool
	if !s.ReadOptionalASN1(&inner, &present, explicitTag(n)) {
		return nil, fmt.Errorf("bad [%d]", n)
	}
	if !present {
		return nil, nil
	}
	if !inner.ReadASN1Element(&name, cbasn1.SEQUENCE) || !inner.Empty() {
		return nil, errors.New("not a Name SEQUENCE")
	}
	if err := checkRDNSequence(name); err != nil {
		return nil, err
	}
	return bytes.Clone(name), nil
}

func readOptionalValidityContents(seq cryptobyte.String, v *OptionalValidity) error {
	for i, out := range []**time.Time{&v.NotBefore, &v.NotAfter} {
		var inner cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&inner, &present, explicitTag(i)) {
			return fmt.Errorf("bad [%d]", i)
		}
		if !present {
			continue
		}
		t, err := readTime(&inner)
		if err != nil || !inner.Empty() {
			return fmt.Errorf("[%d] Time: %w", i, errOr(err, errTrailing))
		}
		*out = &t
	}
	if !seq.Empty() {
		return errTrailing
	}
	return nil
}

// readTime reads the Time CHOICE (RFC 5280 section 4.1.2.5).
func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, errors.New("bad UTCTime")
		}
		return t.UTC(), nil
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		return readGeneralizedTime(s)
	}
	return t, errors.New("neither UTCTime nor GeneralizedTime")
}

// addTime writes t as RFC 5280 section 4.1.2.5 says.
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC().Truncate(time.Second)
	if t.Year() >= 1950 && t.Year() < 2050 {
		b.AddASN1UTCTime(t)
	} else {
		b.AddASN1GeneralizedTime(t)
	}
}

// addCertTemplate writes t as a CertTemplate SEQUENCE.
func addCertTemplate(b *cryptobyte.Builder, t *CertTemplate) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addCertTemplateContents(b, t)
	})
}

func addCertTemplateContents(b *cryptobyte.Builder, t *CertTemplate) {
	if t.Version != nil {
		b.AddASN1Int64WithTag(int64(*t.Version), implicitTag(0))
	}
	if t.SerialNumber != nil {
		der, err := integerContents(t.SerialNumber)
		if err != nil {
			b.SetError(err)
			return
		}
		b.AddASN1(implicitTag(1), func(b *cryptobyte.Builder) { b.AddBytes(der) })
	}
	if t.SigningAlg != nil {
		b.AddASN1(implicitTag(2).Constructed(), func(b *cryptobyte.Builder) {
			addAlgIDContents(b, *t.SigningAlg)
		})
	}
	if t.Issuer != nil {
		addExplicitName(b, 3, t.Issuer)
	}
	if t.Validity != nil {
		b.AddASN1(implicitTag(4).Constructed(), func(b *cryptobyte.Builder) {
			if t.Validity.NotBefore != nil {
				b.AddASN1(explicitTag(0), func(b *cryptobyte.Builder) { addTime(b, *t.Validity.NotBefore) })
			}
			if t.Validity.NotAfter != nil {
				b.AddASN1(explicitTag(1), func(b *cryptobyte.Builder) { addTime(b, *t.Validity.NotAfter) })
			}
		})
	}
	if t.Subject != nil {
		addExplicitName(b, 5, t.Subject)
	}
	if t.PublicKey != nil {
		s := cryptobyte.String(t.PublicKey)
		var spki cryptobyte.String
		if !s.ReadASN1(&spki, cbasn1.SEQUENCE) || !s.Empty() {
			b.SetError(errors.New("cmp: CertTemplate.PublicKey is not one DER SEQUENCE"))
			return
		}
		b.AddASN1(implicitTag(6).Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(spki) })
	}
	if t.IssuerUID != nil {
		addElement(b, t.IssuerUID, "CertTemplate.IssuerUID")
	}
	if t.SubjectUID != nil {
		addElement(b, t.SubjectUID, "CertTemplate.SubjectUID")
	}
	if len(t.Extensions) > 0 {
		b.AddASN1(implicitTag(9).Constructed(), func(b *cryptobyte.Builder) {
			addExtensionsContents(b, t.Extensions)
		})
	}
}

// integerContents returns the content octets of the DER INTEGER n.
func integerContents(n *big.Int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1BigInt(n)
	der, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	s := cryptobyte.String(der)
	var content []byte
	if !s.ReadASN1Bytes(&content, cbasn1.INTEGER) {
		return nil, errors.New("cmp: encode INTEGER")
	}
	return content, nil
}

// addExplicitName writes [n] { Name } after checking name is one SEQUENCE.
func addExplicitName(b *cryptobyte.Builder, n int, name []byte) {
	s := cryptobyte.String(name)
	var elem cryptobyte.String
	if !s.ReadASN1Element(&elem, cbasn1.SEQUENCE) || !s.Empty() {
		b.SetError(fmt.Errorf("cmp: name for [%d] is not one DER SEQUENCE", n))
		return
	}
	b.AddASN1(explicitTag(n), func(b *cryptobyte.Builder) { b.AddBytes(name) })
}

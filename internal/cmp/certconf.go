package cmp

import (
	"bytes"
	"crypto/x509/pkix"
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CertStatus confirms (or rejects) one issued certificate in a certConf
// (RFC 9810 section 5.3.18; EXPLICIT TAGS).
//
//	CertStatus ::= SEQUENCE {
//	     certHash    OCTET STRING,
//	     certReqId   INTEGER,
//	     statusInfo  PKIStatusInfo OPTIONAL,
//	     hashAlg [0] AlgorithmIdentifier OPTIONAL }  -- A0 { AlgId }, pvno 3 only
//
// StatusInfo nil means accepted. HashAlg is a version-3 feature: a message
// that sets it must use PVNO3.
type CertStatus struct {
	CertHash   []byte
	CertReqID  int64
	StatusInfo *PKIStatusInfo
	HashAlg    *pkix.AlgorithmIdentifier
}

func readCertStatus(s *cryptobyte.String, c *CertStatus) error {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return errors.New("not a SEQUENCE")
	}
	var hash []byte
	if !seq.ReadASN1Bytes(&hash, cbasn1.OCTET_STRING) {
		return errors.New("certHash: not an OCTET STRING")
	}
	c.CertHash = bytes.Clone(hash)
	if !seq.ReadASN1Integer(&c.CertReqID) {
		return errors.New("certReqId: not an INTEGER")
	}
	if seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		c.StatusInfo = new(PKIStatusInfo)
		if err := readStatusInfo(&seq, c.StatusInfo); err != nil {
			return within("statusInfo", err)
		}
	}
	var inner cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&inner, &present, explicitTag(0)) {
		return errors.New("hashAlg: bad [0]")
	}
	if present {
		c.HashAlg = new(pkix.AlgorithmIdentifier)
		if err := readAlgID(&inner, c.HashAlg); err != nil || !inner.Empty() {
			return within("hashAlg", errOr(err, errTrailing))
		}
	}
	if !seq.Empty() {
		return errTrailing
	}
	return nil
}

func addCertStatus(b *cryptobyte.Builder, c *CertStatus) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1OctetString(c.CertHash)
		b.AddASN1Int64(c.CertReqID)
		if c.StatusInfo != nil {
			addStatusInfo(b, *c.StatusInfo)
		}
		if c.HashAlg != nil {
			b.AddASN1(explicitTag(0), func(b *cryptobyte.Builder) { addAlgID(b, *c.HashAlg) })
		}
	})
}

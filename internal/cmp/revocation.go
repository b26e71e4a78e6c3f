package cmp

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// RevDetails is one revocation request of an rr (RFC 9810 section 5.3.9).
//
//	RevDetails ::= SEQUENCE {
//	     certDetails      CertTemplate,
//	     crlEntryDetails  Extensions OPTIONAL }
//
// RFC 9483 section 4.2: certDetails carries issuer and serialNumber, and
// crlEntryDetails exactly one CRLReason extension.
type RevDetails struct {
	CertDetails CertTemplate
	Extensions  []pkix.Extension
}

// RevRepContent is the body of an rp (RFC 9810 section 5.3.10).
//
//	RevRepContent ::= SEQUENCE {
//	     status       SEQUENCE SIZE (1..MAX) OF PKIStatusInfo,
//	     revCerts [0] SEQUENCE SIZE (1..MAX) OF CertId OPTIONAL,
//	     crls     [1] SEQUENCE SIZE (1..MAX) OF CertificateList OPTIONAL }
//
// CRLs holds the DER of each CertificateList.
type RevRepContent struct {
	Status   []PKIStatusInfo
	RevCerts []CertID
	CRLs     [][]byte
}

// CRLReason is the reasonCode of RFC 5280 section 5.3.1.
type CRLReason int

const (
	ReasonUnspecified          CRLReason = 0
	ReasonKeyCompromise        CRLReason = 1
	ReasonCACompromise         CRLReason = 2
	ReasonAffiliationChanged   CRLReason = 3
	ReasonSuperseded           CRLReason = 4
	ReasonCessationOfOperation CRLReason = 5
	ReasonCertificateHold      CRLReason = 6
	ReasonRemoveFromCRL        CRLReason = 8
	ReasonPrivilegeWithdrawn   CRLReason = 9
	ReasonAACompromise         CRLReason = 10
)

// OIDCRLReason is id-ce-cRLReasons (RFC 5280 section 5.3.1).
var OIDCRLReason = asn1.ObjectIdentifier{2, 5, 29, 21}

// ReasonExtension returns the CRLReason extension for crlEntryDetails.
//
//	CRLReason ::= ENUMERATED { unspecified (0), keyCompromise (1), ... }
func ReasonExtension(r CRLReason) (pkix.Extension, error) {
	if r < 0 || r > ReasonAACompromise || r == 7 {
		return pkix.Extension{}, fmt.Errorf("cmp: CRL reason %d is not defined by RFC 5280", int(r))
	}
	var b cryptobyte.Builder
	b.AddASN1Enum(int64(r))
	der, err := b.Bytes()
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: OIDCRLReason, Value: der}, nil
}

// Reason returns the CRLReason in d's crlEntryDetails; ok is false when
// there is none. More than one CRLReason extension is an error.
func (d *RevDetails) Reason() (reason CRLReason, ok bool, err error) {
	for _, e := range d.Extensions {
		if !e.Id.Equal(OIDCRLReason) {
			continue
		}
		if ok {
			return 0, false, errors.New("cmp: more than one CRLReason extension")
		}
		s := cryptobyte.String(e.Value)
		var v int
		if !s.ReadASN1Enum(&v) || !s.Empty() {
			return 0, false, fmt.Errorf("%w: CRLReason is not one ENUMERATED", ErrMalformed)
		}
		reason, ok = CRLReason(v), true
	}
	return reason, ok, nil
}

func readRevDetails(s *cryptobyte.String, d *RevDetails) error {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return errors.New("not a SEQUENCE")
	}
	if err := readCertTemplate(&seq, &d.CertDetails); err != nil {
		return within("certDetails", err)
	}
	if !seq.Empty() {
		var exts cryptobyte.String
		if !seq.ReadASN1(&exts, cbasn1.SEQUENCE) {
			return errors.New("crlEntryDetails: not a SEQUENCE")
		}
		list, err := readExtensionsContents(exts)
		if err != nil {
			return within("crlEntryDetails", err)
		}
		d.Extensions = list
	}
	if !seq.Empty() {
		return errTrailing
	}
	return nil
}

func addRevDetails(b *cryptobyte.Builder, d *RevDetails) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addCertTemplate(b, &d.CertDetails)
		if len(d.Extensions) > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { addExtensionsContents(b, d.Extensions) })
		}
	})
}

func readRevRepContent(s *cryptobyte.String) (*RevRepContent, error) {
	var seq, list cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("RevRepContent: not a SEQUENCE")
	}
	rep := new(RevRepContent)
	if !seq.ReadASN1(&list, cbasn1.SEQUENCE) || list.Empty() {
		return nil, errors.New("status: not a non-empty SEQUENCE")
	}
	for n := 0; !list.Empty(); n++ {
		if n >= MaxRequests {
			return nil, fmt.Errorf("status: more than %d", MaxRequests)
		}
		var p PKIStatusInfo
		if err := readStatusInfo(&list, &p); err != nil {
			return nil, within(fmt.Sprintf("status %d", n), err)
		}
		rep.Status = append(rep.Status, p)
	}
	var inner cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&inner, &present, explicitTag(0)) {
		return nil, errors.New("revCerts: bad [0]")
	}
	if present {
		if !inner.ReadASN1(&list, cbasn1.SEQUENCE) || list.Empty() || !inner.Empty() {
			return nil, errors.New("revCerts: not a non-empty SEQUENCE")
		}
		for n := 0; !list.Empty(); n++ {
			if n >= MaxRequests {
				return nil, fmt.Errorf("revCerts: more than %d", MaxRequests)
			}
			var id CertID
			if err := readCertID(&list, &id); err != nil {
				return nil, within(fmt.Sprintf("revCerts %d", n), err)
			}
			rep.RevCerts = append(rep.RevCerts, id)
		}
	}
	if !seq.ReadOptionalASN1(&inner, &present, explicitTag(1)) {
		return nil, errors.New("crls: bad [1]")
	}
	if present {
		if !inner.ReadASN1(&list, cbasn1.SEQUENCE) || !inner.Empty() {
			return nil, errors.New("crls: not a SEQUENCE")
		}
		crls, err := readCertificatesContents(list) // CertificateList is a SEQUENCE too
		if err != nil {
			return nil, within("crls", err)
		}
		rep.CRLs = crls
	}
	if !seq.Empty() {
		return nil, within("RevRepContent", errTrailing)
	}
	return rep, nil
}

func addRevRepContent(b *cryptobyte.Builder, rep *RevRepContent) {
	if len(rep.Status) == 0 || len(rep.Status) > MaxRequests {
		b.SetError(fmt.Errorf("cmp: RevRepContent needs 1..%d status entries, has %d", MaxRequests, len(rep.Status)))
		return
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, p := range rep.Status {
				addStatusInfo(b, p)
			}
		})
		if len(rep.RevCerts) > 0 {
			b.AddASN1(explicitTag(0), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, id := range rep.RevCerts {
						addCertID(b, id)
					}
				})
			})
		}
		if len(rep.CRLs) > 0 {
			b.AddASN1(explicitTag(1), func(b *cryptobyte.Builder) { addCertificates(b, rep.CRLs) })
		}
	})
}

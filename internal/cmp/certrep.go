package cmp

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CertRepMessage is the body of ip, cp and kup (RFC 9810 section 5.3.4;
// EXPLICIT TAGS).
//
//	CertRepMessage ::= SEQUENCE {
//	     caPubs    [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate OPTIONAL,
//	     response      SEQUENCE OF CertResponse }
type CertRepMessage struct {
	CAPubs   [][]byte
	Response []CertResponse
}

// CertResponse is the answer to one CertReqMsg.
//
//	CertResponse ::= SEQUENCE {
//	     certReqId          INTEGER,
//	     status             PKIStatusInfo,
//	     certifiedKeyPair   CertifiedKeyPair OPTIONAL,
//	     rspInfo            OCTET STRING     OPTIONAL }
//	CertifiedKeyPair ::= SEQUENCE {
//	     certOrEncCert      CertOrEncCert,
//	     privateKey     [0] EncryptedKey        OPTIONAL,
//	     publicationInfo [1] PKIPublicationInfo OPTIONAL }
//	CertOrEncCert ::= CHOICE {
//	     certificate    [0] CMPCertificate,    -- A0 { Certificate }
//	     encryptedCert  [1] EncryptedKey }
//
// Certificate is the DER of certOrEncCert.certificate. EncryptedCert,
// PrivateKey and PublicationInfo hold the DER element inside their tags,
// kept but not interpreted (RFC 9483 does not use them for end entities
// that generate their own keys). A certifiedKeyPair is present when
// Certificate or EncryptedCert is set.
type CertResponse struct {
	CertReqID       int64
	Status          PKIStatusInfo
	Certificate     []byte
	EncryptedCert   []byte
	PrivateKey      []byte
	PublicationInfo []byte
	RspInfo         []byte
}

func readCertRepMessage(s *cryptobyte.String) (*CertRepMessage, error) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("CertRepMessage: not a SEQUENCE")
	}
	rep := new(CertRepMessage)
	var inner cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&inner, &present, explicitTag(1)) {
		return nil, errors.New("caPubs: bad [1]")
	}
	if present {
		var list cryptobyte.String
		if !inner.ReadASN1(&list, cbasn1.SEQUENCE) || !inner.Empty() {
			return nil, errors.New("caPubs: not a SEQUENCE")
		}
		certs, err := readCertificatesContents(list)
		if err != nil {
			return nil, within("caPubs", err)
		}
		rep.CAPubs = certs
	}
	var list cryptobyte.String
	if !seq.ReadASN1(&list, cbasn1.SEQUENCE) {
		return nil, errors.New("response: not a SEQUENCE")
	}
	if !seq.Empty() {
		return nil, within("CertRepMessage", errTrailing)
	}
	rep.Response = []CertResponse{}
	for n := 0; !list.Empty(); n++ {
		if n >= MaxRequests {
			return nil, fmt.Errorf("response: more than %d CertResponse", MaxRequests)
		}
		var r CertResponse
		if err := readCertResponse(&list, &r); err != nil {
			return nil, within(fmt.Sprintf("CertResponse %d", n), err)
		}
		rep.Response = append(rep.Response, r)
	}
	return rep, nil
}

func readCertResponse(s *cryptobyte.String, r *CertResponse) error {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return errors.New("not a SEQUENCE")
	}
	if !seq.ReadASN1Integer(&r.CertReqID) {
		return errors.New("certReqId is not an INTEGER")
	}
	if err := readStatusInfo(&seq, &r.Status); err != nil {
		return within("status", err)
	}
	if seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		var kp cryptobyte.String
		if !seq.ReadASN1(&kp, cbasn1.SEQUENCE) {
			return errors.New("certifiedKeyPair: bad SEQUENCE")
		}
		if err := readCertifiedKeyPair(kp, r); err != nil {
			return within("certifiedKeyPair", err)
		}
	}
	if seq.PeekASN1Tag(cbasn1.OCTET_STRING) {
		var rsp []byte
		if !seq.ReadASN1Bytes(&rsp, cbasn1.OCTET_STRING) {
			return errors.New("rspInfo: not an OCTET STRING")
		}
		r.RspInfo = bytes.Clone(rsp)
	}
	if !seq.Empty() {
		return errTrailing
	}
	return nil
}

func readCertifiedKeyPair(kp cryptobyte.String, r *CertResponse) error {
	var inner cryptobyte.String
	var tag cbasn1.Tag
	if !kp.ReadAnyASN1(&inner, &tag) {
		return errors.New("certOrEncCert: not a DER element")
	}
	switch tag {
	case explicitTag(0):
		cert, err := readCertificate(&inner)
		if err != nil {
			return within("certificate", err)
		}
		r.Certificate = cert
	case explicitTag(1):
		var elem cryptobyte.String
		var t cbasn1.Tag
		if !inner.ReadAnyASN1Element(&elem, &t) {
			return errors.New("encryptedCert: not a DER element")
		}
		r.EncryptedCert = bytes.Clone(elem)
	default:
		return fmt.Errorf("certOrEncCert: tag 0x%02x is not a choice", uint8(tag))
	}
	if !inner.Empty() {
		return within("certOrEncCert", errTrailing)
	}
	for i, out := range []*[]byte{&r.PrivateKey, &r.PublicationInfo} {
		var present bool
		if !kp.ReadOptionalASN1(&inner, &present, explicitTag(i)) {
			return fmt.Errorf("bad [%d]", i)
		}
		if !present {
			continue
		}
		var elem cryptobyte.String
		var t cbasn1.Tag
		if !inner.ReadAnyASN1Element(&elem, &t) || !inner.Empty() {
			return fmt.Errorf("[%d]: not one DER element", i)
		}
		*out = bytes.Clone(elem)
	}
	if !kp.Empty() {
		return errTrailing
	}
	return nil
}

func addCertRepMessage(b *cryptobyte.Builder, rep *CertRepMessage) {
	if len(rep.Response) > MaxRequests {
		b.SetError(fmt.Errorf("cmp: more than %d CertResponse", MaxRequests))
		return
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if len(rep.CAPubs) > 0 {
			b.AddASN1(explicitTag(1), func(b *cryptobyte.Builder) { addCertificates(b, rep.CAPubs) })
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for i := range rep.Response {
				addCertResponse(b, &rep.Response[i])
			}
		})
	})
}

func addCertResponse(b *cryptobyte.Builder, r *CertResponse) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(r.CertReqID)
		addStatusInfo(b, r.Status)
		if r.Certificate != nil && r.EncryptedCert != nil {
			b.SetError(fmt.Errorf("cmp: CertResponse %d has both Certificate and EncryptedCert", r.CertReqID))
			return
		}
		if r.Certificate != nil || r.EncryptedCert != nil {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if r.Certificate != nil {
					b.AddASN1(explicitTag(0), func(b *cryptobyte.Builder) { addCertificate(b, r.Certificate) })
				} else {
					b.AddASN1(explicitTag(1), func(b *cryptobyte.Builder) {
						addElement(b, r.EncryptedCert, "EncryptedCert")
					})
				}
				for i, v := range [][]byte{r.PrivateKey, r.PublicationInfo} {
					if v != nil {
						b.AddASN1(explicitTag(i), func(b *cryptobyte.Builder) { addElement(b, v, "CertifiedKeyPair field") })
					}
				}
			})
		}
		if r.RspInfo != nil {
			b.AddASN1OctetString(r.RspInfo)
		}
	})
}

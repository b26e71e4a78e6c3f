package cmp

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// BodyType is the PKIBody choice (RFC 9810 section 5.1.2); the value is the
// context tag number.
type BodyType int

const (
	BodyIR       BodyType = 0  // ir       [0]  CertReqMessages
	BodyIP       BodyType = 1  // ip       [1]  CertRepMessage
	BodyCR       BodyType = 2  // cr       [2]  CertReqMessages
	BodyCP       BodyType = 3  // cp       [3]  CertRepMessage
	BodyP10CR    BodyType = 4  // p10cr    [4]  CertificationRequest
	BodyKUR      BodyType = 7  // kur      [7]  CertReqMessages
	BodyKUP      BodyType = 8  // kup      [8]  CertRepMessage
	BodyRR       BodyType = 11 // rr       [11] RevReqContent
	BodyRP       BodyType = 12 // rp       [12] RevRepContent
	BodyPKIConf  BodyType = 19 // pkiconf  [19] PKIConfirmContent
	BodyGenM     BodyType = 21 // genm     [21] GenMsgContent
	BodyGenP     BodyType = 22 // genp     [22] GenRepContent
	BodyError    BodyType = 23 // error    [23] ErrorMsgContent
	BodyCertConf BodyType = 24 // certConf [24] CertConfirmContent
	BodyPollReq  BodyType = 25 // pollReq  [25] PollReqContent
	BodyPollRep  BodyType = 26 // pollRep  [26] PollRepContent
)

// bodyNames are the RFC 9810 choice names, indexed by tag.
var bodyNames = [...]string{
	"ir", "ip", "cr", "cp", "p10cr", "popdecc", "popdecr", "kur", "kup",
	"krr", "krp", "rr", "rp", "ccr", "ccp", "ckuann", "cann", "rann",
	"crlann", "pkiconf", "nested", "genm", "genp", "error", "certConf",
	"pollReq", "pollRep",
}

// String returns the RFC 9810 choice name ("ir", "certConf", ...).
func (t BodyType) String() string {
	if t >= 0 && int(t) < len(bodyNames) {
		return bodyNames[t]
	}
	return "body(" + strconv.Itoa(int(t)) + ")"
}

// Supported reports whether Parse and Marshal model this body type.
func (t BodyType) Supported() bool {
	switch t {
	case BodyIR, BodyIP, BodyCR, BodyCP, BodyP10CR, BodyKUR, BodyKUP, BodyRR,
		BodyRP, BodyPKIConf, BodyGenM, BodyGenP, BodyError, BodyCertConf,
		BodyPollReq, BodyPollRep:
		return true
	}
	return false
}

// Body is the PKIBody. PKIXCMP uses EXPLICIT TAGS, so each choice is the
// content type wrapped in [n]:
//
//	PKIBody ::= CHOICE {
//	     ir       [0]  CertReqMessages,
//	     ip       [1]  CertRepMessage,
//	     cr       [2]  CertReqMessages,
//	     cp       [3]  CertRepMessage,
//	     p10cr    [4]  CertificationRequest,
//	     kur      [7]  CertReqMessages,
//	     kup      [8]  CertRepMessage,
//	     rr       [11] RevReqContent,
//	     rp       [12] RevRepContent,
//	     pkiconf  [19] PKIConfirmContent,      -- NULL
//	     genm     [21] GenMsgContent,
//	     genp     [22] GenRepContent,
//	     error    [23] ErrorMsgContent,
//	     certConf [24] CertConfirmContent,
//	     pollReq  [25] PollReqContent,
//	     pollRep  [26] PollRepContent,
//	     ... }   -- the other choices are refused by Parse
//
//	CertReqMessages    ::= SEQUENCE SIZE (1..MAX) OF CertReqMsg
//	RevReqContent      ::= SEQUENCE OF RevDetails
//	GenMsgContent      ::= SEQUENCE OF InfoTypeAndValue
//	GenRepContent      ::= SEQUENCE OF InfoTypeAndValue
//	CertConfirmContent ::= SEQUENCE OF CertStatus
//	PollReqContent     ::= SEQUENCE OF SEQUENCE { certReqId INTEGER }
//	PollRepContent     ::= SEQUENCE OF SEQUENCE {
//	     certReqId    INTEGER,
//	     checkAfter   INTEGER,  -- time in seconds
//	     reason       PKIFreeText OPTIONAL }
//
// Only the field(s) for Type are used.
type Body struct {
	Type     BodyType
	CertReq  []CertReqMsg       // ir, cr, kur
	CertRep  *CertRepMessage    // ip, cp, kup
	P10CR    []byte             // p10cr: DER of the PKCS#10 CertificationRequest
	RevReq   []RevDetails       // rr
	RevRep   *RevRepContent     // rp
	CertConf []CertStatus       // certConf
	PollReq  []int64            // pollReq: the certReqIds
	PollRep  []PollRepEntry     // pollRep
	GenMsg   []InfoTypeAndValue // genm and genp
	Error    *ErrorMsgContent   // error
}

// PollRepEntry is one element of PollRepContent (RFC 9810 section 5.3.22):
//
//	SEQUENCE {
//	     certReqId    INTEGER,
//	     checkAfter   INTEGER,      -- time in seconds
//	     reason       PKIFreeText OPTIONAL }
type PollRepEntry struct {
	CertReqID  int64
	CheckAfter int64 // seconds
	Reason     []string
}

// readBody reads the PKIBody choice.
func readBody(s *cryptobyte.String, body *Body) error {
	var tag cbasn1.Tag
	var inner cryptobyte.String
	if !s.ReadAnyASN1(&inner, &tag) {
		return errors.New("not a DER element")
	}
	if tag&0xe0 != 0xa0 { // context-specific, constructed
		return fmt.Errorf("tag 0x%02x is not a PKIBody choice", uint8(tag))
	}
	t := BodyType(tag & 0x1f)
	if !t.Supported() {
		return fmt.Errorf("%w %d (%s)", ErrUnsupportedBody, int(t), t)
	}
	*body = Body{Type: t}
	err := readBodyContent(inner, body)
	if err != nil {
		return within(t.String(), err)
	}
	return nil
}

// readBodyContent decodes the single element inside the [n] tag.
func readBodyContent(inner cryptobyte.String, body *Body) error {
	var seq cryptobyte.String
	switch body.Type {
	case BodyPKIConf:
		if !inner.ReadASN1(&seq, cbasn1.NULL) || !seq.Empty() {
			return errors.New("PKIConfirmContent: not NULL")
		}
	case BodyP10CR:
		if !inner.ReadASN1Element(&seq, cbasn1.SEQUENCE) {
			return errors.New("CertificationRequest: not a SEQUENCE")
		}
		body.P10CR = bytes.Clone(seq)
	case BodyIP, BodyCP, BodyKUP:
		rep, err := readCertRepMessage(&inner)
		if err != nil {
			return err
		}
		body.CertRep = rep
	case BodyRP:
		rep, err := readRevRepContent(&inner)
		if err != nil {
			return err
		}
		body.RevRep = rep
	case BodyError:
		e, err := readErrorMsgContent(&inner)
		if err != nil {
			return err
		}
		body.Error = e
	default:
		// The remaining choices are all a SEQUENCE OF something.
		if !inner.ReadASN1(&seq, cbasn1.SEQUENCE) {
			return errors.New("not a SEQUENCE")
		}
		if err := readBodyList(seq, body); err != nil {
			return err
		}
	}
	if !inner.Empty() {
		return errTrailing
	}
	return nil
}

// readBodyList decodes the SEQUENCE OF bodies.
func readBodyList(seq cryptobyte.String, body *Body) error {
	switch body.Type {
	case BodyIR, BodyCR, BodyKUR:
		if seq.Empty() {
			return errors.New("CertReqMessages: empty (SIZE (1..MAX))")
		}
		for n := 0; !seq.Empty(); n++ {
			if n >= MaxRequests {
				return fmt.Errorf("more than %d CertReqMsg", MaxRequests)
			}
			var r CertReqMsg
			if err := readCertReqMsg(&seq, &r); err != nil {
				return within(fmt.Sprintf("CertReqMsg %d", n), err)
			}
			body.CertReq = append(body.CertReq, r)
		}
	case BodyRR:
		for n := 0; !seq.Empty(); n++ {
			if n >= MaxRequests {
				return fmt.Errorf("more than %d RevDetails", MaxRequests)
			}
			var d RevDetails
			if err := readRevDetails(&seq, &d); err != nil {
				return within(fmt.Sprintf("RevDetails %d", n), err)
			}
			body.RevReq = append(body.RevReq, d)
		}
		if body.RevReq == nil {
			body.RevReq = []RevDetails{}
		}
	case BodyCertConf:
		body.CertConf = []CertStatus{}
		for n := 0; !seq.Empty(); n++ {
			if n >= MaxRequests {
				return fmt.Errorf("more than %d CertStatus", MaxRequests)
			}
			var c CertStatus
			if err := readCertStatus(&seq, &c); err != nil {
				return within(fmt.Sprintf("CertStatus %d", n), err)
			}
			body.CertConf = append(body.CertConf, c)
		}
	case BodyGenM, BodyGenP:
		itavs, err := readITAVs(seq, true)
		if err != nil {
			return err
		}
		body.GenMsg = itavs
	case BodyPollReq:
		body.PollReq = []int64{}
		for n := 0; !seq.Empty(); n++ {
			if n >= MaxRequests {
				return fmt.Errorf("more than %d entries", MaxRequests)
			}
			var entry cryptobyte.String
			var id int64
			if !seq.ReadASN1(&entry, cbasn1.SEQUENCE) || !entry.ReadASN1Integer(&id) || !entry.Empty() {
				return fmt.Errorf("entry %d: not SEQUENCE { certReqId INTEGER }", n)
			}
			body.PollReq = append(body.PollReq, id)
		}
	case BodyPollRep:
		body.PollRep = []PollRepEntry{}
		for n := 0; !seq.Empty(); n++ {
			if n >= MaxRequests {
				return fmt.Errorf("more than %d entries", MaxRequests)
			}
			var entry cryptobyte.String
			var e PollRepEntry
			if !seq.ReadASN1(&entry, cbasn1.SEQUENCE) || !entry.ReadASN1Integer(&e.CertReqID) {
				return fmt.Errorf("entry %d: bad certReqId", n)
			}
			if !entry.ReadASN1Integer(&e.CheckAfter) || e.CheckAfter < 0 {
				return fmt.Errorf("entry %d: bad checkAfter", n)
			}
			if !entry.Empty() {
				texts, err := readFreeText(&entry)
				if err != nil {
					return within(fmt.Sprintf("entry %d: reason", n), err)
				}
				e.Reason = texts
			}
			if !entry.Empty() {
				return fmt.Errorf("entry %d: %w", n, errTrailing)
			}
			body.PollRep = append(body.PollRep, e)
		}
	default:
		return fmt.Errorf("%w %d", ErrUnsupportedBody, int(body.Type))
	}
	return nil
}

// addBody writes the PKIBody choice for body.Type.
func addBody(b *cryptobyte.Builder, body *Body) {
	if !body.Type.Supported() {
		b.SetError(fmt.Errorf("%w %d", ErrUnsupportedBody, int(body.Type)))
		return
	}
	// Never send more entries than Parse accepts.
	for _, n := range []int{len(body.RevReq), len(body.CertConf), len(body.PollReq), len(body.PollRep)} {
		if n > MaxRequests {
			b.SetError(fmt.Errorf("%s with %d entries, more than %d", body.Type, n, MaxRequests))
			return
		}
	}
	b.AddASN1(explicitTag(int(body.Type)), func(b *cryptobyte.Builder) {
		switch body.Type {
		case BodyIR, BodyCR, BodyKUR:
			if len(body.CertReq) == 0 || len(body.CertReq) > MaxRequests {
				b.SetError(fmt.Errorf("%d CertReqMsg, need 1..%d", len(body.CertReq), MaxRequests))
				return
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for i := range body.CertReq {
					addCertReqMsg(b, &body.CertReq[i])
				}
			})
		case BodyIP, BodyCP, BodyKUP:
			if body.CertRep == nil {
				b.SetError(errors.New("CertRep is nil"))
				return
			}
			addCertRepMessage(b, body.CertRep)
		case BodyP10CR:
			s := cryptobyte.String(body.P10CR)
			var elem cryptobyte.String
			if !s.ReadASN1Element(&elem, cbasn1.SEQUENCE) || !s.Empty() {
				b.SetError(errors.New("P10CR is not one DER SEQUENCE"))
				return
			}
			b.AddBytes(body.P10CR)
		case BodyRR:
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for i := range body.RevReq {
					addRevDetails(b, &body.RevReq[i])
				}
			})
		case BodyRP:
			if body.RevRep == nil {
				b.SetError(errors.New("RevRep is nil"))
				return
			}
			addRevRepContent(b, body.RevRep)
		case BodyPKIConf:
			b.AddASN1NULL()
		case BodyGenM, BodyGenP:
			addITAVs(b, body.GenMsg)
		case BodyError:
			if body.Error == nil {
				b.SetError(errors.New("Error is nil"))
				return
			}
			addErrorMsgContent(b, body.Error)
		case BodyCertConf:
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for i := range body.CertConf {
					addCertStatus(b, &body.CertConf[i])
				}
			})
		case BodyPollReq:
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, id := range body.PollReq {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(id) })
				}
			})
		case BodyPollRep:
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range body.PollRep {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1Int64(e.CertReqID)
						b.AddASN1Int64(e.CheckAfter)
						if len(e.Reason) > 0 {
							addFreeText(b, e.Reason)
						}
					})
				}
			})
		}
	})
}

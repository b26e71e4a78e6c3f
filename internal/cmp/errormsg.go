package cmp

import (
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrorMsgContent is the body of an error message (RFC 9810 section 5.3.21).
//
//	ErrorMsgContent ::= SEQUENCE {
//	     pKIStatusInfo  PKIStatusInfo,
//	     errorCode      INTEGER      OPTIONAL,
//	     errorDetails   PKIFreeText  OPTIONAL }
type ErrorMsgContent struct {
	Status       PKIStatusInfo
	ErrorCode    *int64
	ErrorDetails []string
}

func readErrorMsgContent(s *cryptobyte.String) (*ErrorMsgContent, error) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("ErrorMsgContent: not a SEQUENCE")
	}
	e := new(ErrorMsgContent)
	if err := readStatusInfo(&seq, &e.Status); err != nil {
		return nil, within("pKIStatusInfo", err)
	}
	if seq.PeekASN1Tag(cbasn1.INTEGER) {
		var code int64
		if !seq.ReadASN1Integer(&code) {
			return nil, errors.New("errorCode: not an INTEGER in int64 range")
		}
		e.ErrorCode = &code
	}
	if !seq.Empty() {
		texts, err := readFreeText(&seq)
		if err != nil {
			return nil, within("errorDetails", err)
		}
		e.ErrorDetails = texts
	}
	if !seq.Empty() {
		return nil, within("ErrorMsgContent", errTrailing)
	}
	return e, nil
}

func addErrorMsgContent(b *cryptobyte.Builder, e *ErrorMsgContent) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addStatusInfo(b, e.Status)
		if e.ErrorCode != nil {
			b.AddASN1Int64(*e.ErrorCode)
		}
		if len(e.ErrorDetails) > 0 {
			addFreeText(b, e.ErrorDetails)
		}
	})
}

package cmp

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// InfoTypeAndValue carries one item of generalInfo, genm or genp (RFC 9810
// section 5.3.19).
//
//	InfoTypeAndValue ::= SEQUENCE {
//	     infoType    OBJECT IDENTIFIER,
//	     infoValue   ANY DEFINED BY infoType  OPTIONAL }
//
// Value is the raw DER element of infoValue; nil means absent. The typed
// helpers in itavvalues.go build and read the values this project uses.
type InfoTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value []byte
}

// id-it arc, RFC 9810 appendix A: id-it OBJECT IDENTIFIER ::= {id-pkix 4}.
var (
	OIDSignKeyPairTypes = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 4, 2}
	OIDImplicitConfirm  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 4, 13}
	OIDConfirmWaitTime  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 4, 14}
	OIDCACerts          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 4, 17}
	OIDRootCAKeyUpdate  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 4, 18}
	OIDCertReqTemplate  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 4, 19}
	OIDRootCACert       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 4, 20}
	OIDCertProfile      = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 4, 21}
)

// readITAVs decodes the contents of a SEQUENCE OF InfoTypeAndValue.
// allowEmpty is true for GenMsgContent/GenRepContent (SEQUENCE OF) and false
// for generalInfo (SIZE (1..MAX)).
func readITAVs(seq cryptobyte.String, allowEmpty bool) ([]InfoTypeAndValue, error) {
	if seq.Empty() && !allowEmpty {
		return nil, errors.New("empty SEQUENCE OF InfoTypeAndValue (SIZE (1..MAX))")
	}
	out := []InfoTypeAndValue{}
	for !seq.Empty() {
		if len(out) >= MaxCollection {
			return nil, fmt.Errorf("more than %d InfoTypeAndValue", MaxCollection)
		}
		var itav cryptobyte.String
		var v InfoTypeAndValue
		if !seq.ReadASN1(&itav, cbasn1.SEQUENCE) || !itav.ReadASN1ObjectIdentifier(&v.Type) {
			return nil, fmt.Errorf("InfoTypeAndValue %d: bad infoType", len(out))
		}
		if !itav.Empty() {
			var value cryptobyte.String
			var tag cbasn1.Tag
			if !itav.ReadAnyASN1Element(&value, &tag) || !itav.Empty() {
				return nil, fmt.Errorf("InfoTypeAndValue %d (%v): bad infoValue", len(out), v.Type)
			}
			v.Value = bytes.Clone(value)
		}
		out = append(out, v)
	}
	return out, nil
}

// addITAVs writes a SEQUENCE OF InfoTypeAndValue.
func addITAVs(b *cryptobyte.Builder, itavs []InfoTypeAndValue) {
	if len(itavs) > MaxCollection {
		b.SetError(fmt.Errorf("cmp: more than %d InfoTypeAndValue", MaxCollection))
		return
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, v := range itavs {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(v.Type)
				if v.Value != nil {
					addElement(b, v.Value, "infoValue")
				}
			})
		}
	})
}

// addElement writes der after checking it is exactly one DER element, so a
// caller's raw bytes cannot corrupt the structure around them.
func addElement(b *cryptobyte.Builder, der []byte, what string) {
	s := cryptobyte.String(der)
	var elem cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1Element(&elem, &tag) || !s.Empty() {
		b.SetError(fmt.Errorf("cmp: %s is not one DER element", what))
		return
	}
	b.AddBytes(der)
}

// FindITAV returns the first item of type oid, or nil.
func FindITAV(itavs []InfoTypeAndValue, oid asn1.ObjectIdentifier) *InfoTypeAndValue {
	for i := range itavs {
		if itavs[i].Type.Equal(oid) {
			return &itavs[i]
		}
	}
	return nil
}

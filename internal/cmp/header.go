package cmp

import (
	"bytes"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Protocol versions (RFC 9810 section 7): pvno 2 unless a version-3 feature
// (e.g. hashAlg in certConf) is used.
const (
	PVNO2 = 2 // cmp2000
	PVNO3 = 3 // cmp2021
)

// Header is the PKIHeader (RFC 9810 section 5.1.1). The PKIXCMP module uses
// EXPLICIT TAGS, so every [n] below wraps the full element.
//
//	PKIHeader ::= SEQUENCE {
//	     pvno            INTEGER { cmp1999(1), cmp2000(2), cmp2021(3) },
//	     sender          GeneralName,
//	     recipient       GeneralName,
//	     messageTime     [0] GeneralizedTime         OPTIONAL,
//	     protectionAlg   [1] AlgorithmIdentifier     OPTIONAL,
//	     senderKID       [2] KeyIdentifier           OPTIONAL,
//	     recipKID        [3] KeyIdentifier           OPTIONAL,
//	     transactionID   [4] OCTET STRING            OPTIONAL,
//	     senderNonce     [5] OCTET STRING            OPTIONAL,
//	     recipNonce      [6] OCTET STRING            OPTIONAL,
//	     freeText        [7] PKIFreeText             OPTIONAL,
//	     generalInfo     [8] SEQUENCE SIZE (1..MAX) OF
//	                         InfoTypeAndValue        OPTIONAL }
//
// Zero/nil fields are absent. MessageTime is encoded in UTC with whole
// seconds (DER GeneralizedTime "YYYYMMDDHHMMSSZ").
type Header struct {
	PVNO          int
	Sender        GeneralName
	Recipient     GeneralName
	MessageTime   time.Time // zero = absent
	ProtectionAlg *pkix.AlgorithmIdentifier
	SenderKID     []byte
	RecipKID      []byte
	TransactionID []byte
	SenderNonce   []byte
	RecipNonce    []byte
	FreeText      []string
	GeneralInfo   []InfoTypeAndValue
}

func explicitTag(n int) cbasn1.Tag { return cbasn1.Tag(n).ContextSpecific().Constructed() }

// maxOctetField bounds the KIDs, transactionID and nonces: RFC 9483 uses
// 16-byte values; a key identifier may be a longer reference string.
const maxOctetField = 1024

// readHeader reads a PKIHeader SEQUENCE.
func readHeader(s *cryptobyte.String, h *Header) error {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return errors.New("not a SEQUENCE")
	}
	var pvno int64
	if !seq.ReadASN1Integer(&pvno) {
		return errors.New("pvno: not an INTEGER")
	}
	if pvno < 1 || pvno > 3 {
		return fmt.Errorf("pvno %d not in 1..3", pvno)
	}
	h.PVNO = int(pvno)
	if err := readGeneralName(&seq, &h.Sender); err != nil {
		return within("sender", err)
	}
	if err := readGeneralName(&seq, &h.Recipient); err != nil {
		return within("recipient", err)
	}

	var inner cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&inner, &present, explicitTag(0)) {
		return errors.New("messageTime: bad [0]")
	}
	if present {
		t, err := readGeneralizedTime(&inner)
		if err != nil || !inner.Empty() {
			return errors.New("messageTime: not a DER GeneralizedTime")
		}
		h.MessageTime = t
	}
	if !seq.ReadOptionalASN1(&inner, &present, explicitTag(1)) {
		return errors.New("protectionAlg: bad [1]")
	}
	if present {
		alg := new(pkix.AlgorithmIdentifier)
		if err := readAlgID(&inner, alg); err != nil {
			return within("protectionAlg", err)
		}
		if !inner.Empty() {
			return within("protectionAlg", errTrailing)
		}
		h.ProtectionAlg = alg
	}
	octets := []struct {
		tag  int
		name string
		out  *[]byte
	}{
		{2, "senderKID", &h.SenderKID},
		{3, "recipKID", &h.RecipKID},
		{4, "transactionID", &h.TransactionID},
		{5, "senderNonce", &h.SenderNonce},
		{6, "recipNonce", &h.RecipNonce},
	}
	for _, o := range octets {
		if !seq.ReadOptionalASN1(&inner, &present, explicitTag(o.tag)) {
			return fmt.Errorf("%s: bad [%d]", o.name, o.tag)
		}
		if !present {
			continue
		}
		var v []byte
		if !inner.ReadASN1Bytes(&v, cbasn1.OCTET_STRING) || !inner.Empty() {
			return fmt.Errorf("%s: not an OCTET STRING", o.name)
		}
		if len(v) > maxOctetField {
			return fmt.Errorf("%s: %d bytes, more than %d", o.name, len(v), maxOctetField)
		}
		*o.out = bytes.Clone(v)
	}
	if !seq.ReadOptionalASN1(&inner, &present, explicitTag(7)) {
		return errors.New("freeText: bad [7]")
	}
	if present {
		texts, err := readFreeText(&inner)
		if err != nil || !inner.Empty() {
			return within("freeText", errOr(err, errTrailing))
		}
		h.FreeText = texts
	}
	if !seq.ReadOptionalASN1(&inner, &present, explicitTag(8)) {
		return errors.New("generalInfo: bad [8]")
	}
	if present {
		var list cryptobyte.String
		if !inner.ReadASN1(&list, cbasn1.SEQUENCE) || !inner.Empty() {
			return errors.New("generalInfo: not a SEQUENCE")
		}
		itavs, err := readITAVs(list, false)
		if err != nil {
			return within("generalInfo", err)
		}
		h.GeneralInfo = itavs
	}
	if !seq.Empty() {
		return fmt.Errorf("unexpected element with tag 0x%02x (unknown, misplaced or wrongly tagged field)", seq[0])
	}
	return nil
}

// errOr returns err, or alt when err is nil.
func errOr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// readGeneralizedTime reads a DER GeneralizedTime: UTC ("Z"), whole
// seconds, as RFC 5280 section 4.1.2.5.2 and X.690 11.7 require.
func readGeneralizedTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	if !s.ReadASN1GeneralizedTime(&t) {
		return t, errors.New("not a DER GeneralizedTime")
	}
	if _, off := t.Zone(); off != 0 {
		return t, errors.New("GeneralizedTime not in UTC")
	}
	return t.UTC(), nil
}

// addHeader writes h as a PKIHeader SEQUENCE.
func addHeader(b *cryptobyte.Builder, h *Header) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if h.PVNO < 1 || h.PVNO > 3 {
			b.SetError(fmt.Errorf("cmp: header pvno %d not in 1..3", h.PVNO))
			return
		}
		b.AddASN1Int64(int64(h.PVNO))
		addGeneralName(b, h.Sender)
		addGeneralName(b, h.Recipient)
		if !h.MessageTime.IsZero() {
			b.AddASN1(explicitTag(0), func(b *cryptobyte.Builder) {
				b.AddASN1GeneralizedTime(h.MessageTime.UTC().Truncate(time.Second))
			})
		}
		if h.ProtectionAlg != nil {
			b.AddASN1(explicitTag(1), func(b *cryptobyte.Builder) {
				addAlgID(b, *h.ProtectionAlg)
			})
		}
		for i, v := range [][]byte{h.SenderKID, h.RecipKID, h.TransactionID, h.SenderNonce, h.RecipNonce} {
			if v == nil {
				continue
			}
			b.AddASN1(explicitTag(2+i), func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(v)
			})
		}
		if len(h.FreeText) > 0 {
			b.AddASN1(explicitTag(7), func(b *cryptobyte.Builder) {
				addFreeText(b, h.FreeText)
			})
		}
		if len(h.GeneralInfo) > 0 {
			b.AddASN1(explicitTag(8), func(b *cryptobyte.Builder) {
				addITAVs(b, h.GeneralInfo)
			})
		}
	})
}

// ImplicitConfirm reports whether generalInfo holds id-it-implicitConfirm
// (RFC 9810 section 5.1.1.1) with its value ImplicitConfirmValue ::= NULL
// (or, tolerated, no value). An item with any other value does not count:
// skipping certConf is too consequential to grant on a malformed item.
func (h *Header) ImplicitConfirm() bool {
	itav := FindITAV(h.GeneralInfo, OIDImplicitConfirm)
	return itav != nil && (itav.Value == nil || bytes.Equal(itav.Value, []byte{0x05, 0x00}))
}

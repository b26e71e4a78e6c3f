package cmp

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// PKIStatus is the outcome of a request (RFC 9810 section 5.2.3).
//
//	PKIStatus ::= INTEGER {
//	     accepted               (0),
//	     grantedWithMods        (1),
//	     rejection              (2),
//	     waiting                (3),
//	     revocationWarning      (4),
//	     revocationNotification (5),
//	     keyUpdateWarning       (6) }
type PKIStatus int

const (
	StatusAccepted               PKIStatus = 0
	StatusGrantedWithMods        PKIStatus = 1
	StatusRejection              PKIStatus = 2
	StatusWaiting                PKIStatus = 3
	StatusRevocationWarning      PKIStatus = 4
	StatusRevocationNotification PKIStatus = 5
	StatusKeyUpdateWarning       PKIStatus = 6
)

var statusNames = [...]string{
	"accepted", "grantedWithMods", "rejection", "waiting",
	"revocationWarning", "revocationNotification", "keyUpdateWarning",
}

// String returns the RFC name, or "PKIStatus(N)" for an unknown value.
func (s PKIStatus) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "PKIStatus(" + strconv.Itoa(int(s)) + ")"
}

// FailureInfo is the PKIFailureInfo bit mask: RFC bit n is 1<<n.
//
//	PKIFailureInfo ::= BIT STRING {
//	     badAlg (0), badMessageCheck (1), badRequest (2), badTime (3),
//	     badCertId (4), badDataFormat (5), wrongAuthority (6),
//	     incorrectData (7), missingTimeStamp (8), badPOP (9),
//	     certRevoked (10), certConfirmed (11), wrongIntegrity (12),
//	     badRecipientNonce (13), timeNotAvailable (14),
//	     unacceptedPolicy (15), unacceptedExtension (16),
//	     addInfoNotAvailable (17), badSenderNonce (18),
//	     badCertTemplate (19), signerNotTrusted (20),
//	     transactionIdInUse (21), unsupportedVersion (22),
//	     notAuthorized (23), systemUnavail (24), systemFailure (25),
//	     duplicateCertReq (26) }
//
// It is a named BIT STRING: DER drops trailing zero bits (X.690 11.2.2), so
// the encoded length varies with the highest bit set.
type FailureInfo uint64

const (
	FailBadAlg              FailureInfo = 1 << 0
	FailBadMessageCheck     FailureInfo = 1 << 1
	FailBadRequest          FailureInfo = 1 << 2
	FailBadTime             FailureInfo = 1 << 3
	FailBadCertID           FailureInfo = 1 << 4
	FailBadDataFormat       FailureInfo = 1 << 5
	FailWrongAuthority      FailureInfo = 1 << 6
	FailIncorrectData       FailureInfo = 1 << 7
	FailMissingTimeStamp    FailureInfo = 1 << 8
	FailBadPOP              FailureInfo = 1 << 9
	FailCertRevoked         FailureInfo = 1 << 10
	FailCertConfirmed       FailureInfo = 1 << 11
	FailWrongIntegrity      FailureInfo = 1 << 12
	FailBadRecipientNonce   FailureInfo = 1 << 13
	FailTimeNotAvailable    FailureInfo = 1 << 14
	FailUnacceptedPolicy    FailureInfo = 1 << 15
	FailUnacceptedExtension FailureInfo = 1 << 16
	FailAddInfoNotAvailable FailureInfo = 1 << 17
	FailBadSenderNonce      FailureInfo = 1 << 18
	FailBadCertTemplate     FailureInfo = 1 << 19
	FailSignerNotTrusted    FailureInfo = 1 << 20
	FailTransactionIDInUse  FailureInfo = 1 << 21
	FailUnsupportedVersion  FailureInfo = 1 << 22
	FailNotAuthorized       FailureInfo = 1 << 23
	FailSystemUnavail       FailureInfo = 1 << 24
	FailSystemFailure       FailureInfo = 1 << 25
	FailDuplicateCertReq    FailureInfo = 1 << 26
)

// failureNames holds the RFC 9810 names, indexed by bit number.
var failureNames = [...]string{
	"badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId",
	"badDataFormat", "wrongAuthority", "incorrectData", "missingTimeStamp",
	"badPOP", "certRevoked", "certConfirmed", "wrongIntegrity",
	"badRecipientNonce", "timeNotAvailable", "unacceptedPolicy",
	"unacceptedExtension", "addInfoNotAvailable", "badSenderNonce",
	"badCertTemplate", "signerNotTrusted", "transactionIdInUse",
	"unsupportedVersion", "notAuthorized", "systemUnavail", "systemFailure",
	"duplicateCertReq",
}

// Names returns the RFC name of every bit set, lowest bit first; bits the
// RFC does not name read "bitN".
func (f FailureInfo) Names() []string {
	var out []string
	for m := uint64(f); m != 0; m &= m - 1 {
		n := bits.TrailingZeros64(m)
		if n < len(failureNames) {
			out = append(out, failureNames[n])
		} else {
			out = append(out, "bit"+strconv.Itoa(n))
		}
	}
	return out
}

// String joins Names with ", "; empty for no bits.
func (f FailureInfo) String() string { return strings.Join(f.Names(), ", ") }

// Has reports whether every bit of bit is set in f.
func (f FailureInfo) Has(bit FailureInfo) bool { return f&bit == bit }

// FailureInfoByName returns the bit with the RFC name (e.g. "badPOP").
func FailureInfoByName(name string) (FailureInfo, bool) {
	for i, n := range failureNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

// PKIStatusInfo reports the status of a request or message (RFC 9810
// section 5.2.3).
//
//	PKIStatusInfo ::= SEQUENCE {
//	     status        PKIStatus,
//	     statusString  PKIFreeText     OPTIONAL,
//	     failInfo      PKIFailureInfo  OPTIONAL }
//
// HasFailInfo tells an absent failInfo from one present with no bits set.
type PKIStatusInfo struct {
	Status       PKIStatus
	StatusString []string
	FailInfo     FailureInfo
	HasFailInfo  bool
}

// String reads like `rejection: badRequest, badPOP: "mock says no"`.
func (p PKIStatusInfo) String() string {
	var sb strings.Builder
	sb.WriteString(p.Status.String())
	if p.FailInfo != 0 {
		sb.WriteString(": ")
		sb.WriteString(p.FailInfo.String())
	}
	for i, s := range p.StatusString {
		if i == 0 {
			sb.WriteString(": ")
		} else {
			sb.WriteString("; ")
		}
		sb.WriteString(strconv.Quote(s))
	}
	return sb.String()
}

// readStatusInfo reads a PKIStatusInfo SEQUENCE.
func readStatusInfo(s *cryptobyte.String, out *PKIStatusInfo) error {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return errors.New("PKIStatusInfo: not a SEQUENCE")
	}
	var p PKIStatusInfo
	var status int64
	if !seq.ReadASN1Integer(&status) {
		return errors.New("PKIStatusInfo: status is not an INTEGER")
	}
	// Unknown status values are kept (the caller treats anything it does not
	// know as a failure); only values that cannot be an int are refused.
	if status < 0 || status > 1<<20 {
		return fmt.Errorf("PKIStatusInfo: status %d out of range", status)
	}
	p.Status = PKIStatus(status)
	if seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		texts, err := readFreeText(&seq)
		if err != nil {
			return within("PKIStatusInfo: statusString", err)
		}
		p.StatusString = texts
	}
	if seq.PeekASN1Tag(cbasn1.BIT_STRING) {
		f, err := readFailureInfo(&seq)
		if err != nil {
			return within("PKIStatusInfo", err)
		}
		p.FailInfo, p.HasFailInfo = f, true
	}
	if !seq.Empty() {
		return within("PKIStatusInfo", errTrailing)
	}
	*out = p
	return nil
}

// readFailureInfo decodes a PKIFailureInfo BIT STRING of any length:
// encoders differ in whether they drop trailing zero bits.
func readFailureInfo(s *cryptobyte.String) (FailureInfo, error) {
	var bs asn1.BitString
	if !s.ReadASN1BitString(&bs) {
		return 0, errors.New("failInfo: bad BIT STRING")
	}
	var f FailureInfo
	for i := 0; i < bs.BitLength; i++ {
		if bs.At(i) == 0 {
			continue
		}
		if i >= 64 {
			return 0, fmt.Errorf("failInfo: bit %d set, beyond any defined", i)
		}
		f |= 1 << i
	}
	return f, nil
}

// addFailureInfo writes f as a DER named BIT STRING: trailing zero bits are
// dropped and the unused-bits count says how many bits of the last octet
// are padding.
func addFailureInfo(b *cryptobyte.Builder, f FailureInfo) {
	n := 64 - bits.LeadingZeros64(uint64(f)) // number of significant bits
	octets := make([]byte, (n+7)/8)
	for i := 0; i < n; i++ {
		if f&(1<<i) != 0 {
			octets[i/8] |= 0x80 >> (i % 8)
		}
	}
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(len(octets)*8 - n))
		b.AddBytes(octets)
	})
}

// addStatusInfo writes p as a PKIStatusInfo SEQUENCE.
func addStatusInfo(b *cryptobyte.Builder, p PKIStatusInfo) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(int64(p.Status))
		if len(p.StatusString) > 0 {
			addFreeText(b, p.StatusString)
		}
		if p.HasFailInfo || p.FailInfo != 0 {
			addFailureInfo(b, p.FailInfo)
		}
	})
}

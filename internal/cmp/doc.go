// Package cmp is the wire format of CMP: the DER model and codec of
// PKIMessage (RFC 9810 / RFC 4210 section 5), CRMF (RFC 4211) and the
// general-message values of the Lightweight CMP Profile (RFC 9483), built on
// golang.org/x/crypto/cryptobyte. It holds no transaction logic and does no
// I/O; cmpclient (end entity) and internal/devca (CA) build on it.
//
// # Messages
//
//	m, err := cmp.Parse(der)      // strict: one PKIMessage, <= MaxMessageSize
//	der, err := m.Marshal()       // DER; deterministic
//	pp, err := m.ProtectedPart()  // DER of SEQUENCE{header, body} to protect
//
// A Message is Header + Body + Protection (the BIT STRING octets) +
// ExtraCerts (certificate DER, order kept). Parse also sets
// RawProtectedPart, the header and body exactly as received: verify received
// protection against it, never against a re-encoding. Marshal embeds exactly
// the header and body octets ProtectedPart returns.
//
// # Protection
//
// ProtectMAC and ProtectSignature are the one way to protect a message:
// build the header and body, call one of them (it sets protectionAlg,
// computes the protection over ProtectedPart and, for a signature, puts the
// signer's chain first in ExtraCerts), then call Marshal. VerifyMAC and
// VerifySignature check a received message against RawProtectedPart.
// SignPOP and VerifyPOP do the same for the signature proof of possession
// of a CertReqMsg (RFC 4211 section 4.1).
//
// Header fields that are zero/nil are absent on the wire. Sender and
// Recipient are GeneralName values: NameFromPKIX(pkix.Name),
// NameFromDER(cert.RawSubject) or NullDN(). PVNO is PVNO2 unless a version-3
// feature (CertStatus.HashAlg) is used. Header.ImplicitConfirm reports the
// id-it-implicitConfirm item; ImplicitConfirmITAV builds it.
//
// Body.Type selects which Body field is used:
//
//	ir, cr, kur        CertReq  []CertReqMsg
//	ip, cp, kup        CertRep  *CertRepMessage
//	p10cr              P10CR    []byte (DER CertificationRequest)
//	rr                 RevReq   []RevDetails
//	rp                 RevRep   *RevRepContent
//	pkiconf            (nothing: NULL)
//	genm, genp         GenMsg   []InfoTypeAndValue
//	error              Error    *ErrorMsgContent
//	certConf           CertConf []CertStatus
//	pollReq            PollReq  []int64 (certReqIds)
//	pollRep            PollRep  []PollRepEntry
//
// Other body types are refused by Parse with an error wrapping
// ErrUnsupportedBody ("unsupported body type N"); every other decoding error
// wraps ErrMalformed (answer: failInfo badDataFormat).
//
// # CRMF
//
// CertReqMsg holds CertReqID, Template (CertTemplate: Subject and Issuer as
// DER Names, PublicKey as DER SubjectPublicKeyInfo, Validity, Extensions,
// ...), Controls, POP and RegInfo. POP signatures are over
// CertReqMsg.CertRequestDER() when signing and over RawCertRequest (set by
// Parse) when verifying a received request. KUR's oldCertID control:
// OldCertIDControl(CertID{Issuer, Serial}) and (*CertReqMsg).OldCertID().
//
// # Status
//
// PKIStatusInfo{Status, StatusString, FailInfo, HasFailInfo}; PKIStatus and
// the FailureInfo bit mask (Fail* constants, all 27 RFC 9810 bits) print
// their RFC names (FailureInfo.Names, String).
//
// # Revocation
//
// RevDetails{CertDetails (Issuer + SerialNumber), Extensions} with
// ReasonExtension(CRLReason) and (*RevDetails).Reason();
// RevRepContent{Status, RevCerts, CRLs}.
//
// # General messages
//
// InfoTypeAndValue{Type, Value (raw DER, nil = absent)} with the OID*
// variables of the id-it arc and typed values: CACertsValue /
// ParseCACertsValue, ParseRootCACertValue, RootCAKeyUpdate (Marshal /
// ParseRootCAKeyUpdate), CertReqTemplate (Marshal / ParseCertReqTemplate),
// ConfirmWaitTimeITAV / ParseConfirmWaitTime, SignKeyPairTypesValue /
// ParseSignKeyPairTypes. FindITAV finds an item by type.
//
// # Tolerances
//
// Parse is strict DER with three exceptions seen from real peers, each read
// in its natural meaning: an empty extraCerts or caCerts list (Insta
// Certifier) reads as none, an Extension with an explicit FALSE critical
// flag is accepted, and a failInfo BIT STRING may keep trailing zero bits.
// Re-encoding such input is valid DER, so it differs from what was received;
// RawProtectedPart and RawCertRequest keep the received bytes for
// verification.
//
// # Limits
//
// MaxMessageSize (1 MiB), MaxCertificates (256: extraCerts, caPubs, caCerts),
// MaxRequests (64: requests, responses, revocations, certConf and poll
// entries), MaxCollection (256: any other list).
//
// Protection (PasswordBasedMac, PBMAC1, signatures), POP and certHash live
// in this package too, in protection*.go, pbm*.go, signature*.go, pop*.go
// and certhash.go.
package cmp

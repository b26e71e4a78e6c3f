package cmpclient

import "github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"

// Status types of the wire format, named here so that users of this
// package can refer to them.
type (
	// PKIStatusInfo is a status with its failure bits and texts (RFC 9810
	// section 5.2.3). String reads like `rejection: badPOP: "text"`.
	PKIStatusInfo = cmp.PKIStatusInfo
	// PKIStatus is accepted, grantedWithMods, rejection, waiting, ...
	PKIStatus = cmp.PKIStatus
	// FailureInfo is the PKIFailureInfo bit mask; Names lists the RFC names.
	FailureInfo = cmp.FailureInfo
)

// PKIStatus values (RFC 9810 section 5.2.3).
const (
	StatusAccepted               = cmp.StatusAccepted
	StatusGrantedWithMods        = cmp.StatusGrantedWithMods
	StatusRejection              = cmp.StatusRejection
	StatusWaiting                = cmp.StatusWaiting
	StatusRevocationWarning      = cmp.StatusRevocationWarning
	StatusRevocationNotification = cmp.StatusRevocationNotification
	StatusKeyUpdateWarning       = cmp.StatusKeyUpdateWarning
)

// PKIFailureInfo bits (RFC 9810 section 5.2.3).
const (
	FailBadAlg              = cmp.FailBadAlg
	FailBadMessageCheck     = cmp.FailBadMessageCheck
	FailBadRequest          = cmp.FailBadRequest
	FailBadTime             = cmp.FailBadTime
	FailBadCertID           = cmp.FailBadCertID
	FailBadDataFormat       = cmp.FailBadDataFormat
	FailWrongAuthority      = cmp.FailWrongAuthority
	FailIncorrectData       = cmp.FailIncorrectData
	FailMissingTimeStamp    = cmp.FailMissingTimeStamp
	FailBadPOP              = cmp.FailBadPOP
	FailCertRevoked         = cmp.FailCertRevoked
	FailCertConfirmed       = cmp.FailCertConfirmed
	FailWrongIntegrity      = cmp.FailWrongIntegrity
	FailBadRecipientNonce   = cmp.FailBadRecipientNonce
	FailTimeNotAvailable    = cmp.FailTimeNotAvailable
	FailUnacceptedPolicy    = cmp.FailUnacceptedPolicy
	FailUnacceptedExtension = cmp.FailUnacceptedExtension
	FailAddInfoNotAvailable = cmp.FailAddInfoNotAvailable
	FailBadSenderNonce      = cmp.FailBadSenderNonce
	FailBadCertTemplate     = cmp.FailBadCertTemplate
	FailSignerNotTrusted    = cmp.FailSignerNotTrusted
	FailTransactionIDInUse  = cmp.FailTransactionIDInUse
	FailUnsupportedVersion  = cmp.FailUnsupportedVersion
	FailNotAuthorized       = cmp.FailNotAuthorized
	FailSystemUnavail       = cmp.FailSystemUnavail
	FailSystemFailure       = cmp.FailSystemFailure
	FailDuplicateCertReq    = cmp.FailDuplicateCertReq
)

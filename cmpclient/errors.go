package cmpclient

import (
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// Error is a failure the CMP server reported: a rejection or other
// unsuccessful PKIStatus in a response, a CMP error message, or an HTTP
// answer that carried no CMP message. Callers inspect it with errors.As.
//
// Its message names everything a person needs to act on it, e.g.
//
//	cmp kur (transaction 3f2a…): rejection: badPOP, badRequest: "signature does not verify"
type Error struct {
	// Op is the operation: "ir", "cr", "kur", "p10cr", "rr" or "genm".
	Op            string
	TransactionID []byte
	// Request is the message the failure answered: Op, or a later message
	// of the transaction such as "certConf" or "pollReq".
	Request string

	// Status, FailInfo and StatusString come from the PKIStatusInfo of the
	// response or of the error message. FailInfo is zero when absent.
	Status       cmp.PKIStatus
	FailInfo     cmp.FailureInfo
	StatusString []string

	// ErrorCode and ErrorDetails come from an error message body
	// (ErrorMsgContent, RFC 9810 section 5.3.21); ErrorCode is nil when absent.
	ErrorCode    *int64
	ErrorDetails []string
	// Body is the response body type that carried the failure, e.g. "error"
	// or "ip"; empty for an HTTP failure without a CMP message.
	Body string
	// Unprotected is set when the error message carried no valid protection
	// and was accepted only because Client.AllowUnprotectedErrors is set:
	// its content is unauthenticated.
	Unprotected bool

	// HTTPStatus is the HTTP status code when it was not 200, else 0.
	HTTPStatus int
	// Detail is extra text for an HTTP failure: the start of a non-CMP
	// error page, or why a 503 was not retried.
	Detail string
}

func (e *Error) Error() string {
	var sb strings.Builder
	sb.WriteString(opPrefix(e.Op, e.TransactionID))
	sb.WriteString(": ")
	if e.Request != "" && e.Request != e.Op {
		sb.WriteString(e.Request)
		sb.WriteString(": ")
	}
	if e.Body != "" {
		if e.Body == cmp.BodyError.String() {
			sb.WriteString("error message: ")
		}
		sb.WriteString(e.Status.String())
		if names := e.FailInfo.Names(); len(names) > 0 {
			sb.WriteString(": ")
			sb.WriteString(strings.Join(names, ", "))
		}
		for i, s := range e.StatusString {
			if i == 0 {
				sb.WriteString(": ")
			} else {
				sb.WriteString("; ")
			}
			sb.WriteString(strconv.Quote(s))
		}
		if e.ErrorCode != nil {
			fmt.Fprintf(&sb, " (errorCode %d)", *e.ErrorCode)
		}
		for _, d := range e.ErrorDetails {
			sb.WriteString(" ")
			sb.WriteString(strconv.Quote(d))
		}
		if e.Unprotected {
			sb.WriteString(" [unprotected: not authenticated]")
		}
		if e.HTTPStatus != 0 {
			fmt.Fprintf(&sb, " (HTTP %d %s)", e.HTTPStatus, http.StatusText(e.HTTPStatus))
		}
		return sb.String()
	}
	fmt.Fprintf(&sb, "HTTP %d %s", e.HTTPStatus, http.StatusText(e.HTTPStatus))
	if e.Detail != "" {
		sb.WriteString(": ")
		sb.WriteString(e.Detail)
	}
	return sb.String()
}

// statusError builds an *Error from a PKIStatusInfo.
func statusError(t *transaction, body cmp.BodyType, si cmp.PKIStatusInfo) *Error {
	return &Error{
		Op:            t.op,
		TransactionID: t.id,
		Request:       t.sending,
		Status:        si.Status,
		FailInfo:      si.FailInfo,
		StatusString:  si.StatusString,
		Body:          body.String(),
	}
}

// ProtocolError is a response that breaks the protocol: it does not belong
// to the transaction, is not protected as required, is malformed, or
// answers with an unexpected message. Cause is one of the Err* values below
// (use errors.Is) wrapped with the specifics.
type ProtocolError struct {
	Op            string
	TransactionID []byte
	// Request is the message the invalid response answered (see Error).
	Request string
	Cause   error
}

func (e *ProtocolError) Error() string {
	to := ""
	if e.Request != "" && e.Request != e.Op {
		to = " to " + e.Request
	}
	return opPrefix(e.Op, e.TransactionID) + ": invalid response" + to + ": " + e.Cause.Error()
}

func (e *ProtocolError) Unwrap() error { return e.Cause }

// Causes of a ProtocolError.
var (
	ErrMalformedResponse = errors.New("malformed CMP message")
	ErrTransactionID     = errors.New("transactionID does not match the request")
	ErrRecipNonce        = errors.New("recipNonce does not match the request's senderNonce")
	ErrSenderNonce       = errors.New("senderNonce missing")
	ErrUnexpectedBody    = errors.New("unexpected body type")
	ErrUnprotected       = errors.New("missing protection")
	ErrProtection        = errors.New("protection does not verify")
	ErrUntrustedSigner   = errors.New("response signer is not trusted")
	ErrCertReqID         = errors.New("certReqId does not match the request")
	ErrPVNO              = errors.New("unsupported pvno")
	ErrSender            = errors.New("sender does not match the protection")
	ErrMessageTime       = errors.New("messageTime too far from the local clock")
	ErrRevCerts          = errors.New("rp names another certificate")
)

// CertificateRejectedError reports that the CA issued a certificate this
// client refused — its public key, subject or SANs are not what was asked
// for (and the status was not grantedWithMods), or its chain does not
// verify to the trust anchors — and answered with a certConf carrying a
// rejection (RFC 9483 section 4.1.1). ConfirmErr is set when that certConf
// exchange itself failed.
type CertificateRejectedError struct {
	Op            string
	TransactionID []byte
	Certificate   *x509.Certificate
	Reason        string
	ConfirmErr    error
}

func (e *CertificateRejectedError) Error() string {
	s := opPrefix(e.Op, e.TransactionID) + ": issued certificate rejected: " + e.Reason
	if e.Certificate != nil {
		s += fmt.Sprintf(" (serial %s)", e.Certificate.SerialNumber.String())
	}
	if e.ConfirmErr != nil {
		s += "; sending the rejection failed: " + strings.TrimPrefix(e.ConfirmErr.Error(), opPrefix(e.Op, e.TransactionID)+": ")
	}
	return s
}

func (e *CertificateRejectedError) Unwrap() error { return e.ConfirmErr }

// UnconfirmedError is returned together with a non-nil *Enrollment when the
// CA issued a certificate but the transaction did not finish: certConf or
// pkiConf failed, or ctx ended after the certificate arrived. The
// certificate in the Enrollment is real and may be live on the CA; keep it
// (or revoke it), never drop it. Err is the cause.
type UnconfirmedError struct {
	Op            string
	TransactionID []byte
	Certificate   *x509.Certificate
	Err           error
}

func (e *UnconfirmedError) Error() string {
	serial := ""
	if e.Certificate != nil {
		serial = " serial " + e.Certificate.SerialNumber.String()
	}
	prefix := opPrefix(e.Op, e.TransactionID)
	// The cause usually names the same transaction; say it once.
	cause := strings.TrimPrefix(e.Err.Error(), prefix+": ")
	return fmt.Sprintf("%s: certificate%s was issued but not confirmed: %s", prefix, serial, cause)
}

func (e *UnconfirmedError) Unwrap() error { return e.Err }

// opPrefix is the common start of every error message of a transaction.
func opPrefix(op string, txID []byte) string {
	if len(txID) == 0 {
		return "cmp " + op
	}
	return "cmp " + op + " (transaction " + hex.EncodeToString(txID) + ")"
}

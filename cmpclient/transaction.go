package cmpclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// nonceLength is the size of transactionID and senderNonce (RFC 9483
// section 3.1: 128 bits).
const nonceLength = 16

// transaction is one CMP transaction: the messages sharing a transactionID
// (RFC 9810 section 5.1.1), with the nonce chain between them.
type transaction struct {
	c         *Client
	op        string // "ir", "cr", "kur", "p10cr", "rr", "genm"
	id        []byte
	cred      Credentials
	sender    cmp.GeneralName
	recipient cmp.GeneralName
	// peerNonce is the senderNonce of the last response: the recipNonce of
	// the next request.
	peerNonce []byte
	// sending is the body type of the request in flight, named in errors
	// when it is not the transaction's first message (e.g. "certConf").
	sending string
	// unverifiedGenP is set when the genp answering an unprotected genm
	// came unprotected: its content must prove itself against TrustAnchors
	// (see Client.UnprotectedSupportMessages).
	unverifiedGenP bool
}

func (c *Client) newTransaction(op string, cred Credentials, sender *cmp.GeneralName) (*transaction, error) {
	if c.URL == "" {
		return nil, fmt.Errorf("cmp %s: Client.URL is empty", op)
	}
	unprotected := cred == nil && op == "genm" && c.UnprotectedSupportMessages
	if cred == nil && !unprotected {
		hint := ""
		if op == "genm" {
			hint = ", or Client.UnprotectedSupportMessages to send it unprotected"
		}
		return nil, fmt.Errorf("cmp %s: no credentials to protect the request (set Client.Credentials%s)", op, hint)
	}
	// RFC 9483 section 3.5: the answer must be verified; the answer to a
	// signed or unprotected request is signed (or proves its content, see
	// UnprotectedSupportMessages), so without anchors or a pinned signer it
	// could not be, and a certificate issued in it would be burned. Fail
	// before anything is sent.
	if _, mac := macCredentials(cred); !mac && !c.hasTrust() {
		return nil, fmt.Errorf("cmp %s: %w (set Client.TrustAnchors or Client.ServerCertificate)", op, ErrNoTrust)
	}
	t := &transaction{c: c, op: op, cred: cred, id: make([]byte, nonceLength)}
	if _, err := rand.Read(t.id); err != nil {
		return nil, fmt.Errorf("cmp %s: transactionID: %w", op, err)
	}
	var err error
	switch {
	case !isZeroName(c.Sender):
		t.sender, err = cmp.NameFromPKIX(c.Sender)
	case sender != nil:
		t.sender = *sender
	case unprotected:
		// RFC 9483 section 3.1: NULL-DN when the sender has no name to
		// give.
		t.sender = cmp.NullDN()
	default:
		t.sender, err = cred.sender()
	}
	if err != nil {
		return nil, t.wrap(fmt.Errorf("sender: %w", err))
	}
	if isZeroName(c.Recipient) {
		t.recipient = cmp.NullDN()
	} else if t.recipient, err = cmp.NameFromPKIX(c.Recipient); err != nil {
		return nil, t.wrap(fmt.Errorf("recipient: %w", err))
	}
	return t, nil
}

// wrap adds the operation and transaction ID to a local error.
func (t *transaction) wrap(err error) error {
	return fmt.Errorf("%s: %w", opPrefix(t.op, t.id), err)
}

// protocolError builds a *ProtocolError of this transaction.
func (t *transaction) protocolError(cause error) *ProtocolError {
	return &ProtocolError{Op: t.op, TransactionID: t.id, Request: t.sending, Cause: cause}
}

// httpError builds an *Error for an HTTP failure of this transaction.
func (t *transaction) httpError(status int, detail string) *Error {
	return &Error{Op: t.op, TransactionID: t.id, Request: t.sending, HTTPStatus: status, Detail: detail}
}

// request describes one message to send and what may answer it.
type request struct {
	body        cmp.Body
	generalInfo []cmp.InfoTypeAndValue
	pvno        int
	expect      []cmp.BodyType
}

// roundTrip protects and sends one request and returns the verified
// response, which is of one of the expected body types. A CMP error body
// becomes an *Error; anything that does not check out, a *ProtocolError.
func (t *transaction) roundTrip(ctx context.Context, r request) (*cmp.Message, error) {
	msg, err := t.buildRequest(r)
	if err != nil {
		return nil, err
	}
	der, err := msg.Marshal()
	if err != nil {
		return nil, t.wrap(fmt.Errorf("encode %s: %w", r.body.Type, err))
	}
	t.sending = r.body.Type.String()
	t.c.log(MessageLog{Direction: "send", Operation: t.op, Type: t.sending, TransactionID: t.id, Size: len(der)})
	raw, httpStatus, err := t.c.exchange(ctx, t, der)
	if err != nil {
		return nil, err
	}
	resp, err := t.checkResponse(msg, raw, httpStatus, r.expect)
	if resp == nil {
		t.c.log(MessageLog{Direction: "receive", Operation: t.op, Type: "malformed", TransactionID: t.id, Size: len(raw)})
		return nil, err
	}
	t.c.log(MessageLog{Direction: "receive", Operation: t.op, Type: resp.Body.Type.String(),
		TransactionID: t.id, Status: responseStatus(resp), Size: len(raw)})
	t.peerNonce = resp.Header.SenderNonce
	return resp, err
}

// buildRequest fills the header (RFC 9483 section 3.1) and protects msg.
func (t *transaction) buildRequest(r request) (*cmp.Message, error) {
	nonce := make([]byte, nonceLength)
	if _, err := rand.Read(nonce); err != nil {
		return nil, t.wrap(fmt.Errorf("senderNonce: %w", err))
	}
	pvno := r.pvno
	if pvno == 0 {
		pvno = cmp.PVNO2
	}
	msg := &cmp.Message{
		Header: cmp.Header{
			PVNO:          pvno,
			Sender:        t.sender,
			Recipient:     t.recipient,
			MessageTime:   time.Now(),
			TransactionID: t.id,
			SenderNonce:   nonce,
			RecipNonce:    t.peerNonce,
			GeneralInfo:   r.generalInfo,
		},
		Body: r.body,
	}
	if t.cred == nil {
		// RFC 9810 section 5.1.3.4: protection absent; newTransaction
		// allows it for support messages only.
		return msg, nil
	}
	if err := t.cred.protect(t.c, msg); err != nil {
		return nil, t.wrap(fmt.Errorf("protect %s: %w", r.body.Type, err))
	}
	return msg, nil
}

// checkResponse parses and verifies a response to req (RFC 9810 section
// 5.1.1, RFC 9483 section 3.5): same transactionID, recipNonce equal to our
// senderNonce, a senderNonce to answer, pvno 2 or 3, valid protection, and
// an expected body type. It returns the message also with an *Error so the
// caller can log it. It does no I/O: this is the fuzzed parsing path.
func (t *transaction) checkResponse(req *cmp.Message, raw []byte, httpStatus int, expect []cmp.BodyType) (*cmp.Message, error) {
	if httpStatus == 200 {
		httpStatus = 0
	}
	resp, err := cmp.Parse(raw)
	if err != nil {
		cause := fmt.Errorf("%w: %w", ErrMalformedResponse, err)
		if httpStatus != 0 {
			cause = fmt.Errorf("%w (HTTP %d)", cause, httpStatus)
		}
		return nil, t.protocolError(cause)
	}
	h := &resp.Header
	var headerErr error
	switch {
	case h.PVNO != cmp.PVNO2 && h.PVNO != cmp.PVNO3:
		headerErr = fmt.Errorf("%w %d", ErrPVNO, h.PVNO)
	case !bytes.Equal(h.TransactionID, req.Header.TransactionID):
		headerErr = fmt.Errorf("%w: got %x", ErrTransactionID, h.TransactionID)
	case !bytes.Equal(h.RecipNonce, req.Header.SenderNonce):
		headerErr = fmt.Errorf("%w: got %x, sent %x", ErrRecipNonce, h.RecipNonce, req.Header.SenderNonce)
	case len(h.SenderNonce) == 0 && resp.Body.Type != cmp.BodyError:
		headerErr = ErrSenderNonce
	}
	if headerErr != nil {
		return resp, t.protocolError(withErrorHint(resp, headerErr))
	}

	unprotected := false
	if err := t.verifyProtection(resp); err != nil {
		switch {
		case errors.Is(err, ErrUnprotected) && t.cred == nil && resp.Body.Type == cmp.BodyGenP:
			// An unprotected genp to an unprotected genm: its content is
			// a claim the caller verifies (UnprotectedSupportMessages).
			t.unverifiedGenP = true
		case !t.c.AllowUnprotectedErrors || !isNegative(resp):
			return resp, t.protocolError(withErrorHint(resp, err))
		default:
			unprotected = true
		}
	}

	if !unprotected && !isZeroName(t.c.ExpectedSender) && !senderIs(h.Sender, t.c.ExpectedSender) {
		return resp, t.protocolError(fmt.Errorf("%w: sender %q, expected %q", ErrSender, h.Sender.String(), t.c.ExpectedSender.String()))
	}
	if d := t.c.MaxTimeSkew; d > 0 && !unprotected && !h.MessageTime.IsZero() {
		skew := time.Since(h.MessageTime)
		if skew < 0 {
			skew = -skew
		}
		// messageTime has whole seconds.
		if skew > d+time.Second {
			return resp, t.protocolError(fmt.Errorf("%w: %s is %v away from the local clock (at most %v accepted)",
				ErrMessageTime, h.MessageTime.UTC().Format(time.RFC3339), skew.Round(time.Second), d))
		}
	}

	if resp.Body.Type == cmp.BodyError {
		if resp.Body.Error == nil {
			return resp, t.protocolError(fmt.Errorf("%w: error message without content", ErrMalformedResponse))
		}
		e := statusError(t, cmp.BodyError, resp.Body.Error.Status)
		e.ErrorCode = resp.Body.Error.ErrorCode
		e.ErrorDetails = resp.Body.Error.ErrorDetails
		e.HTTPStatus = httpStatus
		e.Unprotected = unprotected
		return resp, e
	}
	for _, want := range expect {
		if resp.Body.Type == want {
			if unprotected || httpStatus != 0 {
				// A negative response accepted without valid protection,
				// or a CMP message that came with an HTTP error status:
				// report it as a failure, never as a result.
				return resp, t.negativeError(resp, httpStatus, unprotected)
			}
			return resp, nil
		}
	}
	return resp, t.protocolError(fmt.Errorf("%w %s in answer to %s (want %s)", ErrUnexpectedBody, resp.Body.Type, req.Body.Type, bodyNames(expect)))
}

// withErrorHint adds what an error message that failed the checks says,
// marked as unauthenticated: it often explains the failure (a wrong
// secret, a request the server could not read).
func withErrorHint(resp *cmp.Message, err error) error {
	if resp.Body.Type != cmp.BodyError || resp.Body.Error == nil {
		return err
	}
	return fmt.Errorf("%w (unauthenticated error message in the response: %s)", err, resp.Body.Error.Status)
}

// isNegative reports whether resp is an error message or a response whose
// every status is a rejection: what AllowUnprotectedErrors may accept
// (OpenSSL's -unprotected_errors covers the same messages).
func isNegative(resp *cmp.Message) bool {
	switch resp.Body.Type {
	case cmp.BodyError:
		return resp.Body.Error != nil
	case cmp.BodyIP, cmp.BodyCP, cmp.BodyKUP:
		rep := resp.Body.CertRep
		if rep == nil || len(rep.Response) == 0 {
			return false
		}
		for _, r := range rep.Response {
			if r.Status.Status != cmp.StatusRejection {
				return false
			}
		}
		return true
	case cmp.BodyRP:
		rep := resp.Body.RevRep
		if rep == nil || len(rep.Status) == 0 {
			return false
		}
		for _, s := range rep.Status {
			if s.Status != cmp.StatusRejection {
				return false
			}
		}
		return true
	}
	return false
}

// negativeError turns a rejection carried by a response body into an *Error.
func (t *transaction) negativeError(resp *cmp.Message, httpStatus int, unprotected bool) error {
	var si cmp.PKIStatusInfo
	switch {
	case resp.Body.CertRep != nil && len(resp.Body.CertRep.Response) > 0:
		si = resp.Body.CertRep.Response[0].Status
	case resp.Body.RevRep != nil && len(resp.Body.RevRep.Status) > 0:
		si = resp.Body.RevRep.Status[0]
	default:
		if httpStatus != 0 {
			return t.httpError(httpStatus, fmt.Sprintf("with a CMP %s message", resp.Body.Type))
		}
		return t.protocolError(fmt.Errorf("%w: %s", ErrUnprotected, resp.Body.Type))
	}
	e := statusError(t, resp.Body.Type, si)
	e.HTTPStatus = httpStatus
	e.Unprotected = unprotected
	return e
}

// responseStatus is the status text of a response for logs.
func responseStatus(m *cmp.Message) string {
	switch {
	case m.Body.Error != nil:
		return m.Body.Error.Status.String()
	case m.Body.CertRep != nil && len(m.Body.CertRep.Response) > 0:
		return m.Body.CertRep.Response[0].Status.String()
	case m.Body.RevRep != nil && len(m.Body.RevRep.Status) > 0:
		return m.Body.RevRep.Status[0].String()
	case len(m.Body.PollRep) > 0:
		return fmt.Sprintf("checkAfter %ds", m.Body.PollRep[0].CheckAfter)
	}
	return ""
}

func bodyNames(types []cmp.BodyType) string {
	var b bytes.Buffer
	for i, t := range types {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString(t.String())
	}
	return b.String()
}

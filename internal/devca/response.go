package devca

import (
	"crypto/rand"
	"crypto/x509/pkix"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// nonceSize follows RFC 9483 section 3.1: 128-bit nonces.
const nonceSize = 16

// answer builds, protects and encodes the response to req. mac is the MAC
// parameters for a MAC-protected exchange, nil to sign. tx, when not nil,
// remembers the senderNonce so the next message can be checked.
func (ca *CA) answer(req *cmp.Message, tx *transaction, mac *pkix.AlgorithmIdentifier, body cmp.Body, generalInfo []cmp.InfoTypeAndValue, extraCerts [][]byte) []byte {
	resp := &cmp.Message{
		Header: cmp.Header{
			PVNO:          answerPVNO(req),
			Sender:        ca.responder(),
			Recipient:     cmp.NullDN(),
			MessageTime:   ca.cfg.Now(),
			TransactionID: req.Header.TransactionID,
			SenderNonce:   mustRandom(nonceSize),
			RecipNonce:    req.Header.SenderNonce,
			GeneralInfo:   generalInfo,
		},
		Body:       body,
		ExtraCerts: extraCerts,
	}
	if req.Header.Sender.IsDirectoryName() {
		resp.Header.Recipient = req.Header.Sender
	}
	if err := ca.protect(resp, mac); err != nil {
		return ca.unprotectedError(req, refuse(cmp.FailSystemFailure, "the CA could not protect its answer"))
	}
	der, err := resp.Marshal()
	if err != nil {
		return ca.unprotectedError(req, refuse(cmp.FailSystemFailure, "the CA could not encode its answer"))
	}
	if tx != nil {
		tx.lastNonce = resp.Header.SenderNonce
	}
	return der
}

// answerPVNO answers pvno as received (2 or 3), 2 for anything else.
func answerPVNO(req *cmp.Message) int {
	if req != nil && req.Header.PVNO == cmp.PVNO3 {
		return cmp.PVNO3
	}
	return cmp.PVNO2
}

// errorAnswer is a protected error message (RFC 9810 5.3.21) for a refusal.
func (ca *CA) errorAnswer(req *cmp.Message, tx *transaction, mac *pkix.AlgorithmIdentifier, ref *refusal) []byte {
	return ca.answer(req, tx, mac, errorBody(ref), nil, nil)
}

func errorBody(ref *refusal) cmp.Body {
	return cmp.Body{Type: cmp.BodyError, Error: &cmp.ErrorMsgContent{Status: rejectionStatus(ref)}}
}

func rejectionStatus(ref *refusal) cmp.PKIStatusInfo {
	return cmp.PKIStatusInfo{
		Status:       cmp.StatusRejection,
		StatusString: []string{ref.text},
		FailInfo:     ref.failInfo,
		HasFailInfo:  true,
	}
}

// unprotectedError is an error message without protection: the answer to
// input that did not decode (there is nothing to protect it for) and the
// last resort when protecting fails.
func (ca *CA) unprotectedError(req *cmp.Message, ref *refusal) []byte {
	resp := &cmp.Message{
		Header: cmp.Header{
			PVNO:        answerPVNO(req),
			Sender:      ca.responder(),
			Recipient:   cmp.NullDN(),
			MessageTime: ca.cfg.Now(),
			SenderNonce: mustRandom(nonceSize),
		},
		Body: errorBody(ref),
	}
	if req != nil {
		resp.Header.TransactionID = req.Header.TransactionID
		resp.Header.RecipNonce = req.Header.SenderNonce
		if req.Header.Sender.IsDirectoryName() {
			resp.Header.Recipient = req.Header.Sender
		}
	}
	der, err := resp.Marshal()
	if err != nil {
		// The text came from the request; try once more with a fixed one.
		resp.Body = errorBody(refuse(ref.failInfo, "request refused"))
		der, _ = resp.Marshal()
	}
	return der
}

// requestMAC returns the request's MAC parameters when it claims MAC
// protection (even one that did not verify: the answer then uses the CA's
// secret, which the client can check if it has the right one).
func requestMAC(req *cmp.Message) *pkix.AlgorithmIdentifier {
	if req == nil || !cmp.IsMACProtected(req.Header.ProtectionAlg) {
		return nil
	}
	alg := *req.Header.ProtectionAlg
	return &alg
}

func mustRandom(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms (Go 1.24+
		// crashes the program instead of returning an error).
		panic("crypto/rand: " + err.Error())
	}
	return b
}

// responder is the sender of answers: the subject of the certificate that
// signs them (responseSigner).
func (ca *CA) responder() cmp.GeneralName {
	_, chain := ca.responseSigner()
	return cmp.NameFromDER(chain[0].RawSubject)
}

package devca

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// followUp finds the transaction a certConf, pollReq or error continues
// and checks the message against it: the recipNonce is our last
// senderNonce, and the protection is of the same kind as the request's
// (RFC 9483 section 3.1, 4.1.1). On success tx.mu is held; the caller
// unlocks it.
func (ca *CA) followUp(msg *cmp.Message, who *requester, now time.Time) (*transaction, *refusal) {
	tx := ca.txs.get(msg.Header.TransactionID, now)
	if tx == nil {
		return nil, refuse(cmp.FailBadRequest, "no open transaction with transactionID %x", msg.Header.TransactionID)
	}
	tx.mu.Lock()
	fail := func(r *refusal) (*transaction, *refusal) {
		tx.mu.Unlock()
		return nil, r
	}
	switch {
	case tx.closed:
		return fail(refuse(cmp.FailBadRequest, "transaction %x is already finished", tx.id))
	case tx.who == nil:
		return fail(refuse(cmp.FailBadRequest, "transaction %x does not expect a %s", tx.id, msg.Body.Type))
	case !bytes.Equal(msg.Header.RecipNonce, tx.lastNonce):
		return fail(refuse(cmp.FailBadRecipientNonce, "recipNonce does not match the senderNonce of the CA's last message in this transaction"))
	case who.protection != tx.who.protection:
		return fail(refuse(cmp.FailWrongIntegrity, "the %s is protected by %s, the request was protected by %s", msg.Body.Type, who.protection, tx.who.protection))
	case who.protection == protectionSignature && !certificateEqual(who.signer, tx.who.signer) && !certificateEqual(who.signer, tx.delivered):
		return fail(refuse(cmp.FailNotAuthorized, "the %s is signed by %q, neither the requester nor the new certificate", msg.Body.Type, who.signer.Subject.String()))
	case msg.Header.PVNO < tx.pvno:
		// RFC 9810 section 7: the version is negotiated by the first
		// exchange; a later message may not fall back below it.
		return fail(refuse(cmp.FailUnsupportedVersion, "the %s has pvno %d, the transaction started with pvno %d", msg.Body.Type, msg.Header.PVNO, tx.pvno))
	case !tx.useNonce(msg.Header.SenderNonce):
		// RFC 9810 5.1.1: the senderNonce protects against replay; a
		// message of this transaction already carried this one.
		return fail(refuse(cmp.FailBadSenderNonce, "the senderNonce of this %s was already used in transaction %x (replay?)", msg.Body.Type, tx.id))
	}
	return tx, nil
}

// certConf answers a certConf with pkiConf (RFC 9810 5.3.18): the certHash
// must match the delivered certificate; a rejection revokes it.
func (ca *CA) certConf(msg *cmp.Message, who *requester, ev Event, now time.Time) ([]byte, Event) {
	mac := who.macAlgFor()
	tx, ref := ca.followUp(msg, who, now)
	if ref != nil {
		return ca.errorAnswer(msg, nil, mac, ref), refusalEvent(ev, ref)
	}
	defer tx.mu.Unlock()
	cert := tx.delivered
	if cert == nil {
		ref := refuse(cmp.FailBadRequest, "transaction %x has no certificate awaiting confirmation", tx.id)
		return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
	}
	ev.Serial, ev.Subject = cert.SerialNumber.String(), cert.Subject.String()
	if len(msg.Body.CertConf) > 1 {
		ref := refuse(cmp.FailBadRequest, "certConf has %d entries; one certificate was issued", len(msg.Body.CertConf))
		return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
	}
	accepted := false
	// RFC 9810 5.3.18: a certificate without a CertStatus is rejected.
	if len(msg.Body.CertConf) == 1 {
		cs := msg.Body.CertConf[0]
		if cs.CertReqID != tx.certReqID {
			ref := refuse(cmp.FailBadCertID, "certConf certReqId %d does not match the request's %d", cs.CertReqID, tx.certReqID)
			return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
		}
		if cs.HashAlg != nil && msg.Header.PVNO != cmp.PVNO3 {
			ref := refuse(cmp.FailUnsupportedVersion|cmp.FailBadRequest, "certConf hashAlg needs pvno 3")
			return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
		}
		if err := verifyCertHash(cert, cs); err != nil {
			ref := refuse(cmp.FailBadCertID, "certHash: %v", err)
			return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
		}
		accepted = cs.StatusInfo == nil || cs.StatusInfo.Status == cmp.StatusAccepted || cs.StatusInfo.Status == cmp.StatusGrantedWithMods
		if !accepted {
			ev.FailInfo = cs.StatusInfo.FailInfo.Names()
			if len(cs.StatusInfo.StatusString) > 0 {
				ev.StatusString = cs.StatusInfo.StatusString[0]
			}
		}
	}
	tx.closed, tx.delivered = true, nil
	ca.settleConfirmation(tx)
	if accepted {
		ev.Status = "confirmed"
	} else {
		ev.Status = "rejected"
		// RFC 9483 4.1.1: the CA revokes a certificate the client rejected.
		if err := ca.store.revoke(cert.SerialNumber, int(cmp.ReasonCessationOfOperation), now); err != nil && err != errAlreadyRevoked {
			ref := refuse(cmp.FailSystemFailure, "the CA could not record the revocation of the rejected certificate")
			return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
		}
	}
	if ca.cfg.hasFault(FaultCertConfError) {
		ref := refuse(cmp.FailSystemFailure, "certConf refused (fault mode %s)", FaultCertConfError)
		return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
	}
	return ca.answer(msg, tx, mac, cmp.Body{Type: cmp.BodyPKIConf}, nil, nil), ev
}

// verifyCertHash checks certHash with hashAlg when the client named one
// (pvno 3, RFC 9810 5.3.18), otherwise with the hash of the certificate's
// signature algorithm (RFC 9481 section 2.3).
func verifyCertHash(cert *x509.Certificate, cs cmp.CertStatus) error {
	if cs.HashAlg == nil {
		return cmp.VerifyCertHash(cert, cs.CertHash)
	}
	var h crypto.Hash
	switch {
	case cs.HashAlg.Algorithm.Equal(oidSHA256):
		h = crypto.SHA256
	case cs.HashAlg.Algorithm.Equal(oidSHA384):
		h = crypto.SHA384
	case cs.HashAlg.Algorithm.Equal(oidSHA512):
		h = crypto.SHA512
	default:
		return fmt.Errorf("hashAlg %v is not accepted (SHA-256, SHA-384, SHA-512)", cs.HashAlg.Algorithm)
	}
	d := h.New()
	d.Write(cert.Raw)
	if !hmac.Equal(d.Sum(nil), cs.CertHash) {
		return errors.New("certHash does not match the certificate")
	}
	return nil
}

// Digest OIDs a pvno 3 certConf may name in hashAlg (RFC 9481 section 2).
var (
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// pollReq answers pollRep while the certificate is "not ready", then the
// ip, cp or kup with it (RFC 9810 5.3.22).
func (ca *CA) pollReq(msg *cmp.Message, who *requester, ev Event, now time.Time) ([]byte, Event) {
	mac := who.macAlgFor()
	tx, ref := ca.followUp(msg, who, now)
	if ref != nil {
		return ca.errorAnswer(msg, nil, mac, ref), refusalEvent(ev, ref)
	}
	defer tx.mu.Unlock()
	if tx.request == nil {
		ref := refuse(cmp.FailBadRequest, "transaction %x has nothing to poll for", tx.id)
		return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
	}
	if len(msg.Body.PollReq) != 1 || msg.Body.PollReq[0] != tx.certReqID {
		ref := refuse(cmp.FailBadCertID, "pollReq must name certReqId %d only", tx.certReqID)
		return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
	}
	if tx.waitsLeft > 0 {
		tx.waitsLeft--
		ev.Status = cmp.StatusWaiting.String()
		secs := int64(math.Ceil(ca.cfg.CheckAfter.Seconds()))
		body := cmp.Body{Type: cmp.BodyPollRep, PollRep: []cmp.PollRepEntry{{
			CertReqID:  tx.certReqID,
			CheckAfter: secs,
			Reason:     []string{"the development CA is told to make you wait"},
		}}}
		return ca.answer(msg, tx, mac, body, nil, nil), ev
	}
	return ca.deliver(msg, tx, ev, now)
}

// clientError ends a transaction the client aborted with an error message
// (RFC 9810 5.3.21); a delivered but unconfirmed certificate is revoked.
// The answer is pkiConf.
func (ca *CA) clientError(msg *cmp.Message, who *requester, ev Event, now time.Time) ([]byte, Event) {
	mac := who.macAlgFor()
	tx, ref := ca.followUp(msg, who, now)
	if ref != nil {
		return ca.errorAnswer(msg, nil, mac, ref), refusalEvent(ev, ref)
	}
	defer tx.mu.Unlock()
	if e := msg.Body.Error; e != nil {
		ev.FailInfo = e.Status.FailInfo.Names()
		if len(e.Status.StatusString) > 0 {
			ev.StatusString = e.Status.StatusString[0]
		}
	}
	ev.Status = "aborted"
	if cert := tx.delivered; cert != nil {
		ev.Serial, ev.Subject = cert.SerialNumber.String(), cert.Subject.String()
		if err := ca.store.revoke(cert.SerialNumber, int(cmp.ReasonCessationOfOperation), now); err != nil && err != errAlreadyRevoked {
			ref := refuse(cmp.FailSystemFailure, "the CA could not record the revocation of the abandoned certificate")
			return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
		}
	}
	tx.closed, tx.delivered, tx.request = true, nil, nil
	ca.settleConfirmation(tx)
	return ca.answer(msg, tx, mac, cmp.Body{Type: cmp.BodyPKIConf}, nil, nil), ev
}

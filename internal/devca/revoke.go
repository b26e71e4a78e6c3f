package devca

import (
	"bytes"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// revocation answers an rr with an rp (RFC 9483 section 4.2): the request
// names one certificate of this CA by issuer and serial number, carries at
// most one CRLReason, and is signed by that certificate or protected by
// the shared secret of the end entity it belongs to (ownedBy).
func (ca *CA) revocation(msg *cmp.Message, who *requester, ev Event, now time.Time) ([]byte, Event) {
	mac := who.macAlgFor()
	if who.protection == protectionSignature && !who.own {
		ref := refuse(cmp.FailSignerNotTrusted, "an rr must be signed with a certificate of this CA; %q is not one", who.signer.Subject.String())
		return ca.errorAnswer(msg, nil, mac, ref), refusalEvent(ev, ref)
	}
	tx, ref := ca.txs.open(msg.Header.TransactionID, now)
	if ref != nil {
		return ca.errorAnswer(msg, nil, mac, ref), refusalEvent(ev, ref)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.op, tx.closed = cmp.BodyRR, true

	id, reason, ref := ca.checkRevocation(msg, who)
	if ref == nil {
		ev.Serial = id.Serial.String()
		rec, _ := ca.store.lookup(id.Serial)
		ev.Subject = rec.subject
		err := ca.store.revoke(id.Serial, int(reason), now)
		switch {
		case err == errAlreadyRevoked:
			ref = refuse(cmp.FailCertRevoked, "certificate serial %s is already revoked", id.Serial)
		case err != nil:
			ref = refuse(cmp.FailSystemFailure, "the CA could not record the revocation")
		}
	}
	rp := &cmp.RevRepContent{}
	if ref != nil {
		ev.Status = cmp.StatusRejection.String()
		ev.FailInfo, ev.StatusString = ref.failInfo.Names(), ref.text
		rp.Status = []cmp.PKIStatusInfo{rejectionStatus(ref)}
	} else {
		ev.Status = cmp.StatusAccepted.String()
		rp.Status = []cmp.PKIStatusInfo{{Status: cmp.StatusAccepted}}
		rp.RevCerts = []cmp.CertID{*id}
	}
	return ca.answer(msg, tx, mac, cmp.Body{Type: cmp.BodyRP, RevRep: rp}, nil, nil), ev
}

// checkRevocation checks the RevDetails of an rr.
func (ca *CA) checkRevocation(msg *cmp.Message, who *requester) (*cmp.CertID, cmp.CRLReason, *refusal) {
	if len(msg.Body.RevReq) != 1 {
		return nil, 0, refuse(cmp.FailBadRequest, "exactly one RevDetails is accepted (RFC 9483 4.2), got %d", len(msg.Body.RevReq))
	}
	d := &msg.Body.RevReq[0]
	t := &d.CertDetails
	if t.SerialNumber == nil || t.Issuer == nil {
		return nil, 0, refuse(cmp.FailBadCertID, "certDetails must name issuer and serialNumber (RFC 9483 4.2)")
	}
	// RFC 9483 4.2: all other certDetails fields must be absent.
	if t.Version != nil || t.SigningAlg != nil || t.Validity != nil || t.Subject != nil || t.PublicKey != nil ||
		t.IssuerUID != nil || t.SubjectUID != nil || len(t.Extensions) > 0 {
		return nil, 0, refuse(cmp.FailBadRequest, "certDetails may name only issuer and serialNumber (RFC 9483 4.2)")
	}
	if !bytes.Equal(t.Issuer, ca.st.caCert.RawSubject) {
		return nil, 0, refuse(cmp.FailBadCertID, "the certificate to revoke was not issued by this CA")
	}
	// RFC 9483 4.2: crlEntryDetails carries the reasonCode; another
	// extension marked critical is one this CA cannot honour.
	for _, e := range d.Extensions {
		if e.Critical && !e.Id.Equal(cmp.OIDCRLReason) {
			return nil, 0, refuse(cmp.FailUnacceptedExtension, "crlEntryDetails extension %v is critical and not supported", e.Id)
		}
	}
	reason, ok, err := d.Reason()
	switch {
	case err != nil:
		return nil, 0, refuse(cmp.FailBadRequest, "crlEntryDetails: %v", err)
	case !ok:
		reason = cmp.ReasonUnspecified
	case reason < 0 || reason > cmp.ReasonAACompromise || reason == 7:
		return nil, 0, refuse(cmp.FailBadRequest, "CRL reason %d is not defined by RFC 5280", int(reason))
	case reason == cmp.ReasonRemoveFromCRL:
		// RFC 5280 section 5.3.1: removeFromCRL appears only in delta CRLs,
		// for a certificate on hold that is released; it revokes nothing.
		return nil, 0, refuse(cmp.FailBadRequest, "CRL reason removeFromCRL (8) is for delta CRLs only (RFC 5280 section 5.3.1) and cannot revoke a certificate")
	}
	rec, found := ca.store.lookup(t.SerialNumber)
	if !found {
		return nil, 0, refuse(cmp.FailBadCertID, "serial %s is not a certificate this CA issued", t.SerialNumber)
	}
	// RFC 9483 4.2: an end entity signs its rr with the certificate to be
	// revoked; another certificate, even of the same subject, does not
	// authorize it. Under the shared secret, the certificate must be the
	// end entity's.
	if who.protection == protectionMAC {
		if ref := ownedBy(rec, who); ref != nil {
			return nil, 0, ref
		}
	} else if !rec.is(who.signer) {
		return nil, 0, refuse(cmp.FailNotAuthorized, "the rr is signed by %q (serial %s), not by certificate serial %s it asks to revoke", who.signer.Subject.String(), who.signer.SerialNumber, t.SerialNumber)
	}
	if rec.revoked {
		return nil, 0, refuse(cmp.FailCertRevoked, "certificate serial %s is already revoked", t.SerialNumber)
	}
	return &cmp.CertID{Issuer: cmp.NameFromDER(ca.st.caCert.RawSubject), Serial: t.SerialNumber}, reason, nil
}

package devca

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// p10crCertReqID is the certReqId of the answer to a p10cr
// (RFC 9483 section 4.1.4).
const p10crCertReqID = -1

// responseType is the answer body type to an enrollment request.
func responseType(op cmp.BodyType) cmp.BodyType {
	switch op {
	case cmp.BodyIR:
		return cmp.BodyIP
	case cmp.BodyKUR:
		return cmp.BodyKUP
	}
	return cmp.BodyCP
}

// enroll answers ir, cr, kur and p10cr.
func (ca *CA) enroll(msg *cmp.Message, who *requester, ev Event, now time.Time) ([]byte, Event) {
	op := msg.Body.Type
	mac := who.macAlgFor()
	// RFC 9483 sections 4.1.2 and 4.1.3: a signed cr or kur is signed with
	// a current certificate of this CA (the one being updated, for kur).
	// A MAC-protected one comes from the end entity that holds the shared
	// secret (RFC 9810 5.1.3.1), as an ir does; checkOldCertID decides
	// which certificates it may update.
	if op == cmp.BodyCR || op == cmp.BodyKUR {
		if who.protection == protectionSignature && !who.own {
			ref := refuse(cmp.FailSignerNotTrusted, "a %s must be signed with a certificate of this CA; %q is not one", op, who.signer.Subject.String())
			return ca.errorAnswer(msg, nil, mac, ref), refusalEvent(ev, ref)
		}
	}
	tx, ref := ca.txs.open(msg.Header.TransactionID, now)
	if ref != nil {
		return ca.errorAnswer(msg, nil, mac, ref), refusalEvent(ev, ref)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.op, tx.pvno, tx.who, tx.sender = op, msg.Header.PVNO, who, msg.Header.Sender
	tx.implicitConfirm = msg.Header.ImplicitConfirm()
	tx.useNonce(msg.Header.SenderNonce)

	certReqID, req, ref := ca.checkEnrollment(msg, who, now)
	if ref == nil && ca.cfg.hasFault(FaultRejectAll) {
		ref = refuse(cmp.FailBadRequest, "rejected by fault mode %s", FaultRejectAll)
	}
	if ref != nil {
		tx.closed = true
		ev.Status = cmp.StatusRejection.String()
		ev.FailInfo, ev.StatusString = ref.failInfo.Names(), ref.text
		return ca.answer(msg, tx, mac, certRepBody(op, cmp.CertResponse{CertReqID: certReqID, Status: rejectionStatus(ref)}, nil), nil, nil), ev
	}
	tx.certReqID, tx.request = certReqID, req
	if ca.cfg.Polls > 0 {
		// RFC 9810 5.3.22: answer waiting now, then pollRep until the
		// certificate is ready.
		tx.waitsLeft = ca.cfg.Polls - 1
		ev.Status = cmp.StatusWaiting.String()
		waiting := cmp.CertResponse{CertReqID: certReqID, Status: cmp.PKIStatusInfo{Status: cmp.StatusWaiting}}
		return ca.answer(msg, tx, mac, certRepBody(op, waiting, nil), nil, nil), ev
	}
	return ca.deliver(msg, tx, ev, now)
}

// deliver issues the certificate of a checked request, records it and
// answers with it (ip, cp or kup). Must hold tx.mu.
func (ca *CA) deliver(msg *cmp.Message, tx *transaction, ev Event, now time.Time) ([]byte, Event) {
	mac := tx.who.macAlgFor()
	req := tx.request
	tx.request = nil
	iss, ref := ca.issue(*req)
	if ref != nil {
		tx.closed = true
		ev.Status = cmp.StatusRejection.String()
		ev.FailInfo, ev.StatusString = ref.failInfo.Names(), ref.text
		return ca.answer(msg, tx, mac, certRepBody(tx.op, cmp.CertResponse{CertReqID: tx.certReqID, Status: rejectionStatus(ref)}, nil), nil, nil), ev
	}
	if err := ca.store.addIssued(iss.cert, tx.op.String(), tx.who.reference, now); err != nil {
		tx.closed = true
		ref := refuse(cmp.FailSystemFailure, "the CA could not record the certificate")
		return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
	}
	ev.Serial, ev.Subject = iss.cert.SerialNumber.String(), iss.cert.Subject.String()
	status := cmp.StatusAccepted
	if iss.modified {
		status = cmp.StatusGrantedWithMods
	}
	ev.Status = status.String()
	var generalInfo []cmp.InfoTypeAndValue
	// RFC 9810 5.1.1.1: implicit confirmation only when asked and granted.
	if tx.implicitConfirm && ca.cfg.ImplicitConfirm {
		generalInfo = append(generalInfo, cmp.ImplicitConfirmITAV())
		tx.closed = true
	} else {
		// RFC 9810 5.1.1.2: say how long the CA waits for certConf before
		// it revokes the certificate.
		deadline := ca.confirmDeadline(now)
		wait, err := cmp.ConfirmWaitTimeITAV(deadline)
		if err != nil {
			tx.closed = true
			ref := refuse(cmp.FailSystemFailure, "the CA could not encode its answer")
			return ca.errorAnswer(msg, tx, mac, ref), refusalEvent(ev, ref)
		}
		generalInfo = append(generalInfo, wait)
		tx.delivered = iss.cert
		ca.awaitConfirmation(tx, deadline)
	}
	if ca.cfg.hasFault(FaultDropAfterIssue) {
		// As for an answer lost on the way, the certificate awaits a
		// certConf that never comes, and is revoked when the wait is over.
		ev.StatusString = "answer dropped (fault mode drop-after-issue)"
		return nil, ev
	}
	var caPubs [][]byte
	if tx.op == cmp.BodyIR {
		// RFC 9483 4.1.1: caPubs carries the root for an ir, the only
		// place a MAC-authenticated client learns its trust anchor.
		caPubs = [][]byte{ca.st.rootDER()}
	}
	resp := cmp.CertResponse{
		CertReqID:   tx.certReqID,
		Status:      cmp.PKIStatusInfo{Status: status},
		Certificate: iss.cert.Raw,
	}
	if iss.modified {
		resp.Status.StatusString = []string{"validity or extensions adjusted by CA policy"}
	}
	// The chain of the new certificate (RFC 9483 4.1.1); for signed
	// answers protect puts signer and root in front.
	var extra [][]byte
	if mac != nil {
		extra = ca.st.chainDER()
	}
	return ca.answer(msg, tx, mac, certRepBody(tx.op, resp, caPubs), generalInfo, extra), ev
}

func certRepBody(op cmp.BodyType, resp cmp.CertResponse, caPubs [][]byte) cmp.Body {
	return cmp.Body{Type: responseType(op), CertRep: &cmp.CertRepMessage{CAPubs: caPubs, Response: []cmp.CertResponse{resp}}}
}

// checkEnrollment checks an enrollment request in full (POP, template,
// oldCertID, policy) and returns what to issue.
func (ca *CA) checkEnrollment(msg *cmp.Message, who *requester, now time.Time) (int64, *certRequest, *refusal) {
	if msg.Body.Type == cmp.BodyP10CR {
		req, ref := ca.checkP10CR(msg.Body.P10CR, now)
		return p10crCertReqID, req, ref
	}
	if len(msg.Body.CertReq) != 1 {
		id := int64(0)
		if len(msg.Body.CertReq) > 0 {
			id = msg.Body.CertReq[0].CertReqID
		}
		return id, nil, refuse(cmp.FailBadRequest, "exactly one CertReqMsg is accepted (RFC 9483 4.1.1), got %d", len(msg.Body.CertReq))
	}
	r := &msg.Body.CertReq[0]
	t := &r.Template
	if ref := checkTemplateFields(t); ref != nil {
		return r.CertReqID, nil, ref
	}
	if t.PublicKey == nil {
		return r.CertReqID, nil, refuse(cmp.FailBadCertTemplate, "the certTemplate has no publicKey (central key generation is not supported)")
	}
	pub, err := x509.ParsePKIXPublicKey(t.PublicKey)
	if err != nil {
		return r.CertReqID, nil, refuse(cmp.FailBadCertTemplate|cmp.FailBadAlg, "the certTemplate publicKey is not usable: %v", err)
	}
	if ref := checkPOP(r); ref != nil {
		return r.CertReqID, nil, ref
	}
	req := &certRequest{subject: t.Subject, publicKey: pub, extensions: t.Extensions}
	// The issuer in a template is a hint (RFC 4211 section 5); OpenSSL
	// fills in the issuer of its signer certificate, which for an
	// externally issued one is another CA. Issue anyway, as modified.
	req.otherIssuer = t.Issuer != nil && !bytes.Equal(t.Issuer, ca.st.caCert.RawSubject)
	if t.Validity != nil {
		if t.Validity.NotBefore != nil {
			req.notBefore = *t.Validity.NotBefore
		}
		if t.Validity.NotAfter != nil {
			req.notAfter = *t.Validity.NotAfter
		}
	}

	switch msg.Body.Type {
	case cmp.BodyKUR:
		old, ref := ca.checkOldCertID(r, who, now)
		if ref != nil {
			return r.CertReqID, nil, ref
		}
		// RFC 9483 4.1.3: what the template leaves out is taken from the
		// certificate being updated.
		if req.subject == nil {
			req.subject = old.RawSubject
		}
		if req.extensions == nil {
			req.extensions = reusableExtensions(old)
		}
	case cmp.BodyCR:
		if req.subject == nil {
			if who.signer == nil {
				return r.CertReqID, nil, refuse(cmp.FailBadCertTemplate, "a MAC-protected cr must name the subject in its certTemplate")
			}
			req.subject = who.signer.RawSubject
		}
	case cmp.BodyIR:
		if ref := ca.checkDuplicate(req.subject, now); ref != nil {
			return r.CertReqID, nil, ref
		}
	}
	return r.CertReqID, req, nil
}

// checkTemplateFields refuses the CertTemplate fields a requester may not
// fill in (RFC 4211 section 5, RFC 9483 4.1.1): the CA assigns serial
// number and signature algorithm, the unique identifiers are deprecated,
// version may only name v3, and a validity names at least one time.
func checkTemplateFields(t *cmp.CertTemplate) *refusal {
	switch {
	case t.Version != nil && *t.Version != 2:
		return refuse(cmp.FailBadCertTemplate, "the certTemplate version is %d; it must be absent or 2 (v3) (RFC 4211 section 5)", *t.Version)
	case t.SerialNumber != nil:
		return refuse(cmp.FailBadCertTemplate, "the certTemplate carries a serialNumber, which the CA assigns (RFC 4211 section 5)")
	case t.SigningAlg != nil:
		return refuse(cmp.FailBadCertTemplate, "the certTemplate carries a signingAlg, which the CA assigns (RFC 4211 section 5)")
	case t.IssuerUID != nil || t.SubjectUID != nil:
		return refuse(cmp.FailBadCertTemplate, "the certTemplate carries issuerUID or subjectUID, which must be omitted (RFC 4211 section 5)")
	case t.Validity != nil && t.Validity.NotBefore == nil && t.Validity.NotAfter == nil:
		return refuse(cmp.FailBadCertTemplate, "the certTemplate validity names neither notBefore nor notAfter (RFC 4211 section 5)")
	}
	return nil
}

// checkPOP verifies the signature proof of possession with cmp.VerifyPOP
// (RFC 4211 4.1, RFC 9483 4.1.1: a signature over the DER of certReq, by
// the key in the template, which names the subject). raVerified is refused
// first: this CA trusts no RA.
func checkPOP(r *cmp.CertReqMsg) *refusal {
	if r.POP != nil && r.POP.Type == cmp.POPRAVerified {
		return refuse(cmp.FailBadPOP, "raVerified POP is accepted only from an RA, and this CA trusts none")
	}
	err := cmp.VerifyPOP(r)
	switch {
	case errors.Is(err, cmp.ErrUnsupportedAlgorithm):
		return refuse(cmp.FailBadPOP|cmp.FailBadAlg, "POP signature algorithm not accepted: %v", err)
	case err != nil:
		return refuse(cmp.FailBadPOP, "%v", err)
	}
	return nil
}

// checkOldCertID checks a kur's oldCertID control and returns the
// certificate to update. For a signed kur it must name a live certificate
// of this CA, the one whose key signed the request (RFC 9483 4.1.3);
// without the control, the signer is the old certificate. A MAC-protected
// kur has no signer, so the control is required, and it may name only a
// certificate that belongs to the same end entity (ownedBy).
func (ca *CA) checkOldCertID(r *cmp.CertReqMsg, who *requester, now time.Time) (*x509.Certificate, *refusal) {
	id, err := r.OldCertID()
	if err != nil {
		return nil, refuse(cmp.FailBadDataFormat|cmp.FailBadCertID, "the oldCertID control is malformed: %v", err)
	}
	if id == nil {
		if who.signer == nil {
			return nil, refuse(cmp.FailBadCertID, "a MAC-protected kur must name the certificate to update in the oldCertID control (RFC 9483 4.1.3)")
		}
		return who.signer, nil
	}
	if !id.Issuer.IsDirectoryName() || !bytes.Equal(id.Issuer.DirectoryName, ca.st.caCert.RawSubject) {
		return nil, refuse(cmp.FailBadCertID, "oldCertID names issuer %s, not this CA", id.Issuer)
	}
	rec, ok := ca.store.lookup(id.Serial)
	switch {
	case !ok:
		return nil, refuse(cmp.FailBadCertID, "oldCertID serial %s is not a certificate this CA issued", id.Serial)
	case rec.revoked:
		return nil, refuse(cmp.FailCertRevoked, "the certificate to update (serial %s) is revoked", id.Serial)
	case who.protection == protectionMAC:
		// RFC 9810 5.3.5: a kur updates a certificate that is neither
		// revoked nor expired (a signed kur's signer was checked so).
		if !now.Before(rec.notAfter) {
			return nil, refuse(cmp.FailCertRevoked|cmp.FailBadCertID, "the certificate to update (serial %s) expired on %s", id.Serial, rec.notAfter.UTC().Format(time.RFC3339))
		}
		if ref := ownedBy(rec, who); ref != nil {
			return nil, ref
		}
		old, err := ca.store.certificate(rec)
		if err != nil {
			return nil, refuse(cmp.FailSystemFailure, "the CA could not read the certificate to update (serial %s)", id.Serial)
		}
		return old, nil
	case !rec.is(who.signer):
		return nil, refuse(cmp.FailBadCertID, "oldCertID names serial %s, but the request is signed with serial %s; sign a kur with the certificate being updated", id.Serial, who.signer.SerialNumber)
	}
	return who.signer, nil // the same certificate, byte for byte
}

// ownedBy authorizes a MAC-protected kur or rr about the certificate of
// rec as an RA would: the shared secret identifies an end entity (its
// reference, RFC 9810 5.1.1 senderKID), so it may update or revoke the
// certificates of that end entity only: those enrolled under the same
// reference, or by a certificate that was. A certificate enrolled with an
// externally issued certificate, or under another reference, is not its.
func ownedBy(rec storedCert, who *requester) *refusal {
	if rec.reference == "" || rec.reference != who.reference {
		return refuse(cmp.FailNotAuthorized, "certificate serial %s does not belong to reference %q: a MAC-protected request may update or revoke only the certificates enrolled under its own reference", rec.serial, printable([]byte(who.reference)))
	}
	return nil
}

// reusableExtensions are the extensions of a certificate a kur carries
// over when its template names none.
func reusableExtensions(old *x509.Certificate) []pkix.Extension {
	var out []pkix.Extension
	for _, e := range old.Extensions {
		if e.Id.Equal(cmp.OIDExtSubjectAltName) || e.Id.Equal(cmp.OIDExtKeyUsage) || e.Id.Equal(cmp.OIDExtExtKeyUsage) ||
			e.Id.Equal(cmp.OIDExtCertificatePolicies) {
			out = append(out, e)
		}
	}
	return out
}

// checkDuplicate applies the policy against a second initial enrollment
// for a subject that still holds a live certificate.
func (ca *CA) checkDuplicate(subject []byte, now time.Time) *refusal {
	if !ca.cfg.RejectDuplicateIR || len(subject) == 0 || isEmptyName(subject) {
		return nil
	}
	if live, ok := ca.store.liveForSubject(subject, now); ok {
		return refuse(cmp.FailDuplicateCertReq, "subject %q already holds certificate serial %s, valid until %s; update it with kur or cr, or revoke it first",
			live.subject, live.serial, live.notAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkP10CR checks a PKCS#10 request (RFC 9483 4.1.4): its signature is
// the POP.
func (ca *CA) checkP10CR(der []byte, now time.Time) (*certRequest, *refusal) {
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, refuse(cmp.FailBadDataFormat, "the PKCS#10 request does not parse: %v", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, refuse(cmp.FailBadPOP, "the PKCS#10 signature does not verify: %v", err)
	}
	if ref := ca.checkDuplicate(csr.RawSubject, now); ref != nil {
		return nil, ref
	}
	return &certRequest{subject: csr.RawSubject, publicKey: csr.PublicKey, extensions: csr.Extensions}, nil
}

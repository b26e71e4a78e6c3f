package cmpclient

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// Enroll requests a new certificate with an initialization request (ir,
// RFC 9483 section 4.1.1), protected by c.Credentials: a shared secret
// (MACCredentials) or an externally issued certificate
// (SignatureCredentials).
//
// No issued certificate is lost: when the CA issued one but the transaction
// did not complete (certConf/pkiConf failed, ctx ended), Enroll returns the
// *Enrollment AND an error wrapping *UnconfirmedError. When the certificate
// is not what was asked for, Enroll rejects it with a certConf and returns a
// *CertificateRejectedError.
func (c *Client) Enroll(ctx context.Context, req *CertRequest) (*Enrollment, error) {
	return c.enrollCRMF(ctx, "ir", cmp.BodyIR, req, c.Credentials, nil)
}

// Certify requests a certificate for req with a certification request (cr,
// RFC 9483 section 4.1.2), signed with the current certificate cur and its
// key curKey; with curKey nil it is protected by c.Credentials instead
// (RFC 9483 section 4.1.5: the MAC-protected variant, for a CA or RA that
// wants it), and cur may be nil. The same contract as Enroll applies to the
// result.
func (c *Client) Certify(ctx context.Context, req *CertRequest, cur *x509.Certificate, curKey crypto.Signer) (*Enrollment, error) {
	cred, err := c.updateCredentials(cur, curKey)
	if err != nil {
		return nil, fmt.Errorf("cmp cr: %w", err)
	}
	return c.enrollCRMF(ctx, "cr", cmp.BodyCR, req, cred, nil)
}

// updateCredentials protect a cr or kur about cur: signed with cur and key,
// or, with key nil, c.Credentials.
func (c *Client) updateCredentials(cur *x509.Certificate, key crypto.Signer) (Credentials, error) {
	switch {
	case key == nil && c.Credentials == nil:
		return nil, errors.New("the current certificate's key, or Client.Credentials, is required")
	case key == nil:
		return c.Credentials, nil
	case cur == nil:
		return nil, errors.New("the current certificate is required with its key")
	}
	return SignatureCredentials{Key: key, Chain: []*x509.Certificate{cur}}, nil
}

// UpdateKey renews the certificate old with the new key req.Key by a key
// update request (kur, RFC 9483 section 4.1.3), signed with old and oldKey
// and carrying the id-regCtrl-oldCertID control; with oldKey nil it is
// protected by c.Credentials instead (RFC 9483 section 4.1.5). When req
// names no subject, old's subject is requested; when it names no
// subjectAltName entries, old's are. The same contract as Enroll applies.
func (c *Client) UpdateKey(ctx context.Context, req *CertRequest, old *x509.Certificate, oldKey crypto.Signer) (*Enrollment, error) {
	if old == nil {
		return nil, errors.New("cmp kur: the certificate to update is required")
	}
	cred, err := c.updateCredentials(old, oldKey)
	if err != nil {
		return nil, fmt.Errorf("cmp kur: %w", err)
	}
	if req == nil {
		return nil, errors.New("cmp kur: CertRequest is nil")
	}
	// Like OpenSSL's -oldcert default: what the request leaves out of
	// subject and subjectAltName is taken from the certificate being
	// updated, so "same certificate, new key" is one call, and the issued
	// certificate can be checked against an explicit request.
	r := *req
	if !r.hasSubject() {
		r.RawSubject = old.RawSubject
	}
	if len(r.DNSNames)+len(r.IPAddresses)+len(r.URIs)+len(r.EmailAddresses) == 0 {
		r.DNSNames, r.IPAddresses, r.URIs, r.EmailAddresses = old.DNSNames, old.IPAddresses, old.URIs, old.EmailAddresses
	}
	req = &r
	// RFC 9483 4.1.3: oldCertID names the certificate to be updated.
	ctrl, err := cmp.OldCertIDControl(cmp.CertID{Issuer: cmp.NameFromDER(old.RawIssuer), Serial: old.SerialNumber})
	if err != nil {
		return nil, fmt.Errorf("cmp kur: oldCertID: %w", err)
	}
	return c.enrollCRMF(ctx, "kur", cmp.BodyKUR, req, cred, []cmp.AttributeTypeAndValue{ctrl})
}

// EnrollCSR requests a certificate for a PKCS#10 certification request
// (p10cr, RFC 9483 section 4.1.4; RFC 9810 section 5.3.4), protected by
// c.Credentials: a shared secret (MACCredentials) or an externally issued
// certificate (SignatureCredentials). It is the request for a key the
// caller does not hold: the CSR, signed where the key lives, is sent as is
// and its signature is the proof of possession, so it cannot be changed
// (this call sends no certProfile either), and it never updates a
// certificate (a kur is signed with the certificate's own key). The CA
// answers with a cp, which is confirmed as an ir's ip is, with the
// certReqId the cp carries (-1, RFC 9810 section 5.3.4); the certificate
// must certify the CSR's public key, subject and subjectAltName entries.
// The same contract as Enroll applies.
func (c *Client) EnrollCSR(ctx context.Context, csrDER []byte) (*Enrollment, error) {
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, fmt.Errorf("cmp p10cr: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("cmp p10cr: CSR signature: %w", err)
	}
	want := wantCert{
		spki:       csr.RawSubjectPublicKeyInfo,
		subject:    csr.RawSubject,
		dnsNames:   csr.DNSNames,
		emails:     csr.EmailAddresses,
		ips:        csr.IPAddresses,
		uris:       csr.URIs,
		p10:        true,
		hasSubject: len(csr.Subject.ToRDNSequence()) > 0,
	}
	var sender *cmp.GeneralName
	if want.hasSubject {
		s := cmp.NameFromDER(csr.RawSubject)
		sender = macSender(c.Credentials, s)
	}
	t, err := c.newTransaction("p10cr", c.Credentials, sender)
	if err != nil {
		return nil, err
	}
	return t.certRequest(ctx, cmp.Body{Type: cmp.BodyP10CR, P10CR: csrDER}, cmp.BodyCP, want)
}

// macSender is the sender of a MAC-protected enrollment: the requested
// subject, as OpenSSL sends it (RFC 9483 section 3.1 leaves the choice to
// the end entity when there is no protection certificate).
func macSender(cred Credentials, subject cmp.GeneralName) *cmp.GeneralName {
	if _, ok := macCredentials(cred); ok {
		return &subject
	}
	return nil
}

// enrollCRMF runs an ir, cr or kur for req.
func (c *Client) enrollCRMF(ctx context.Context, op string, bt cmp.BodyType, req *CertRequest, cred Credentials, controls []cmp.AttributeTypeAndValue) (*Enrollment, error) {
	if req == nil {
		return nil, fmt.Errorf("cmp %s: CertRequest is nil", op)
	}
	tmpl, err := req.template()
	if err != nil {
		return nil, fmt.Errorf("cmp %s: %w", op, err)
	}
	// RFC 9483 4.1.1: one CertReqMsg with certReqId 0.
	msg := cmp.CertReqMsg{CertReqID: 0, Template: tmpl, Controls: controls}
	// RFC 4211 section 4.1, RFC 9483 section 4.1.1: a signature with the new key
	// over CertRequest, poposkInput absent (the template holds subject and key).
	if err := cmp.SignPOP(&msg, req.Key, cmp.SignatureOptions{}); err != nil {
		return nil, fmt.Errorf("cmp %s: %w", op, err)
	}
	var sender *cmp.GeneralName
	if req.hasSubject() {
		sender = macSender(cred, cmp.NameFromDER(tmpl.Subject))
	}
	t, err := c.newTransaction(op, cred, sender)
	if err != nil {
		return nil, err
	}
	want := wantCert{
		spki:       tmpl.PublicKey,
		subject:    tmpl.Subject,
		hasSubject: req.hasSubject(), // a CA may name a subjectAltName-only certificate
		dnsNames:   req.DNSNames,
		emails:     req.EmailAddresses,
		ips:        req.IPAddresses,
		uris:       req.URIs,
	}
	var generalInfo []cmp.InfoTypeAndValue
	if req.Profile != "" {
		// RFC 9483 section 4.1.1: certProfile in generalInfo, one name for
		// the one CertReqMsg.
		itav, err := cmp.CertProfileITAV(req.Profile)
		if err != nil {
			return nil, t.wrap(err)
		}
		generalInfo = append(generalInfo, itav)
	}
	return t.certRequest(ctx, cmp.Body{Type: bt, CertReq: []cmp.CertReqMsg{msg}}, replyType[bt], want, generalInfo...)
}

// replyType is the response body type of each request (RFC 9810 section 5.1.2).
var replyType = map[cmp.BodyType]cmp.BodyType{cmp.BodyIR: cmp.BodyIP, cmp.BodyCR: cmp.BodyCP, cmp.BodyKUR: cmp.BodyKUP}

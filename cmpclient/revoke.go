package cmpclient

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// Reason is the CRLReason of a revocation (RFC 5280 section 5.3.1).
type Reason int

const (
	ReasonUnspecified          Reason = 0
	ReasonKeyCompromise        Reason = 1
	ReasonCACompromise         Reason = 2
	ReasonAffiliationChanged   Reason = 3
	ReasonSuperseded           Reason = 4
	ReasonCessationOfOperation Reason = 5
	ReasonCertificateHold      Reason = 6
	ReasonRemoveFromCRL        Reason = 8
	ReasonPrivilegeWithdrawn   Reason = 9
	ReasonAACompromise         Reason = 10
)

var reasonNames = map[Reason]string{
	ReasonUnspecified:          "unspecified",
	ReasonKeyCompromise:        "keyCompromise",
	ReasonCACompromise:         "cACompromise",
	ReasonAffiliationChanged:   "affiliationChanged",
	ReasonSuperseded:           "superseded",
	ReasonCessationOfOperation: "cessationOfOperation",
	ReasonCertificateHold:      "certificateHold",
	ReasonRemoveFromCRL:        "removeFromCRL",
	ReasonPrivilegeWithdrawn:   "privilegeWithdrawn",
	ReasonAACompromise:         "aACompromise",
}

// String returns the RFC 5280 name, e.g. "keyCompromise".
func (r Reason) String() string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// ParseReason accepts an RFC 5280 reason name in its RFC spelling
// ("keyCompromise") or in snake_case ("key_compromise").
func ParseReason(name string) (Reason, error) {
	norm := strings.ToLower(strings.ReplaceAll(name, "_", ""))
	for r, n := range reasonNames {
		if strings.ToLower(n) == norm {
			return r, nil
		}
	}
	return 0, fmt.Errorf("unknown revocation reason %q", name)
}

// Revoke asks the CA to revoke cert (rr, RFC 9483 section 4.2) for reason.
// With key set the request is signed with cert and key (the certificate
// revokes itself); with key nil it is protected by c.Credentials. A CA that
// answers certRevoked (already revoked) counts as success.
func (c *Client) Revoke(ctx context.Context, cert *x509.Certificate, key crypto.Signer, reason Reason) error {
	if cert == nil {
		return errors.New("cmp rr: certificate is nil")
	}
	if _, ok := reasonNames[reason]; !ok {
		return fmt.Errorf("cmp rr: unknown revocation reason %d", int(reason))
	}
	cred := c.Credentials
	if key != nil {
		cred = SignatureCredentials{Key: key, Chain: []*x509.Certificate{cert}}
	}
	t, err := c.newTransaction("rr", cred, nil)
	if err != nil {
		return err
	}
	// RFC 9483 4.2: certDetails holds issuer and serialNumber, and
	// crlEntryDetails exactly one reasonCode.
	ext, err := cmp.ReasonExtension(cmp.CRLReason(reason))
	if err != nil {
		return t.wrap(err)
	}
	details := cmp.RevDetails{
		CertDetails: cmp.CertTemplate{Issuer: cert.RawIssuer, SerialNumber: cert.SerialNumber},
		Extensions:  []pkix.Extension{ext},
	}
	resp, err := t.roundTripDelayed(ctx, request{
		body:   cmp.Body{Type: cmp.BodyRR, RevReq: []cmp.RevDetails{details}},
		expect: []cmp.BodyType{cmp.BodyRP},
	})
	if err != nil {
		return unverifiedRevocation(t, resp, err, cert)
	}
	if len(resp.Body.RevRep.Status) != 1 {
		return t.protocolError(fmt.Errorf("%w: rp with %d statuses, want 1", ErrMalformedResponse, len(resp.Body.RevRep.Status)))
	}
	// RFC 9810 5.3.10: revCerts, when present, names the certificates the
	// statuses are about; it must be the one asked for.
	if rc := resp.Body.RevRep.RevCerts; len(rc) > 0 {
		if len(rc) != 1 || rc[0].Serial == nil || rc[0].Serial.Cmp(cert.SerialNumber) != 0 ||
			!rc[0].Issuer.IsDirectoryName() || !sameDERName(rc[0].Issuer.DirectoryName, cert.RawIssuer) {
			return t.protocolError(fmt.Errorf("%w: the rp's revCerts does not name the certificate to revoke (issuer %q, serial %s)",
				ErrRevCerts, cert.Issuer.String(), cert.SerialNumber.String()))
		}
	}
	si := resp.Body.RevRep.Status[0]
	switch {
	case si.Status == cmp.StatusAccepted, si.Status == cmp.StatusGrantedWithMods,
		si.Status == cmp.StatusRevocationWarning, si.Status == cmp.StatusRevocationNotification:
		return nil
	case si.Status == cmp.StatusRejection && si.FailInfo.Has(cmp.FailCertRevoked):
		// RFC 9483 4.2: certRevoked means it already is revoked; the goal
		// of the request is met.
		return nil
	}
	return statusError(t, cmp.BodyRP, si)
}

// unverifiedRevocation turns err, the failure of an rp resp to verify,
// into an *UnverifiedResponseError with the status it claims and the serial
// it is about (its revCerts, else the one asked for): an unverifiable
// answer says nothing for certain, least of all that the certificate was
// not revoked. Other errors are returned as they are.
func unverifiedRevocation(t *transaction, resp *cmp.Message, err error, cert *x509.Certificate) error {
	if resp == nil || !unverifiable(err) || resp.Body.Type != cmp.BodyRP || resp.Body.RevRep == nil ||
		len(resp.Body.RevRep.Status) == 0 {
		return err
	}
	u := &UnverifiedResponseError{Op: t.op, TransactionID: t.id, Body: resp.Body.Type.String(),
		Status: resp.Body.RevRep.Status[0], Serial: cert.SerialNumber, Err: err}
	if rc := resp.Body.RevRep.RevCerts; len(rc) > 0 && rc[0].Serial != nil {
		u.Serial = rc[0].Serial
	}
	return u
}

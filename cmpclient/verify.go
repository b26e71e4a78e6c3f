package cmpclient

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// verifyProtection checks the protection of a response (RFC 9483 section
// 3.5). A MAC must verify with the secret of this transaction's MAC
// credentials; a signature must come from the pinned ServerCertificate or
// from a certificate that chains to TrustAnchors, whose key usage allows
// digitalSignature and which is named as the sender.
func (t *transaction) verifyProtection(m *cmp.Message) error {
	alg := m.Header.ProtectionAlg
	if alg == nil || m.Protection == nil {
		return ErrUnprotected
	}
	if cmp.IsMACProtected(alg) {
		mc, ok := macCredentials(t.cred)
		if !ok {
			return fmt.Errorf("%w: MAC-protected response to a request not protected by a shared secret", ErrProtection)
		}
		st, err := t.c.macState()
		if err != nil {
			return err
		}
		if err := cmp.VerifyMAC(m, mc.Secret, &st.keys); err != nil {
			return fmt.Errorf("%w: %w (is the secret right?)", ErrProtection, err)
		}
		return nil
	}

	signer, err := t.c.responseSigner(m)
	if err != nil {
		return err
	}
	switch err := cmp.VerifySignature(m, signer); {
	case errors.Is(err, cmp.ErrSignerKeyUsage):
		return fmt.Errorf("%w: %w", ErrUntrustedSigner, err)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrProtection, err)
	}
	// RFC 9483 section 3.1: with signature protection the sender is the
	// subject of the protection certificate; a NULL-DN or a name of another
	// kind does not say who signed.
	if !m.Header.Sender.IsDirectoryName() || m.Header.Sender.IsNullDN() ||
		!m.Header.Sender.Equal(cmp.NameFromDER(signer.RawSubject)) && !sameName(m.Header.Sender, signer) {
		return fmt.Errorf("%w: sender %q, signer %q", ErrSender, m.Header.Sender.String(), signer.Subject.String())
	}
	return nil
}

// sameName compares a directoryName with a certificate subject
// semantically, for CAs that re-encode names with other string types.
func sameName(g cmp.GeneralName, cert *x509.Certificate) bool {
	n, err := g.PKIXName()
	return err == nil && n.String() == cert.Subject.String()
}

// senderIs reports whether the header sender is the directoryName want,
// compared semantically.
func senderIs(g cmp.GeneralName, want pkix.Name) bool {
	n, err := g.PKIXName()
	return g.IsDirectoryName() && err == nil && n.String() == want.String()
}

func macCredentials(c Credentials) (MACCredentials, bool) {
	switch m := c.(type) {
	case MACCredentials:
		return m, true
	case *MACCredentials:
		return *m, m != nil
	}
	return MACCredentials{}, false
}

// responseSigner finds and validates the certificate that signed m: the
// pinned ServerCertificate, or the extraCerts entry named by senderKID
// (else the first, RFC 9483 section 3.3) verified against TrustAnchors
// with the other extraCerts as intermediates.
func (c *Client) responseSigner(m *cmp.Message) (*x509.Certificate, error) {
	extra := make([]*x509.Certificate, 0, len(m.ExtraCerts))
	for i, der := range m.ExtraCerts {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: extraCerts[%d]: %w", ErrMalformedResponse, i, err)
		}
		extra = append(extra, cert)
	}
	if c.ServerCertificate != nil {
		if kid := m.Header.SenderKID; len(kid) > 0 && len(c.ServerCertificate.SubjectKeyId) > 0 &&
			!bytes.Equal(kid, c.ServerCertificate.SubjectKeyId) {
			return nil, fmt.Errorf("%w: senderKID %x is not the pinned server certificate's key identifier", ErrUntrustedSigner, kid)
		}
		now := time.Now()
		if now.Before(c.ServerCertificate.NotBefore) || now.After(c.ServerCertificate.NotAfter) {
			return nil, fmt.Errorf("%w: pinned server certificate %q is not valid now", ErrUntrustedSigner, c.ServerCertificate.Subject.String())
		}
		return c.ServerCertificate, nil
	}
	if len(c.TrustAnchors) == 0 {
		return nil, fmt.Errorf("%w: signature-protected response, but no TrustAnchors or ServerCertificate are configured", ErrUntrustedSigner)
	}
	var signer *x509.Certificate
	candidates := append(extra[:len(extra):len(extra)], c.TrustAnchors...)
	if kid := m.Header.SenderKID; len(kid) > 0 {
		for _, cert := range candidates {
			if bytes.Equal(cert.SubjectKeyId, kid) {
				signer = cert
				break
			}
		}
	} else if len(extra) > 0 {
		signer = extra[0]
	}
	if signer == nil {
		return nil, fmt.Errorf("%w: signer certificate (senderKID %x) is not in extraCerts", ErrUntrustedSigner, m.Header.SenderKID)
	}
	if err := c.verifyChain(signer, extra); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrUntrustedSigner, signer.Subject.String(), err)
	}
	return signer, nil
}

// verifyChain verifies cert against TrustAnchors with intermediates.
func (c *Client) verifyChain(cert *x509.Certificate, intermediates []*x509.Certificate) error {
	_, err := verifiedChain(c.TrustAnchors, cert, intermediates)
	return err
}

// verifiedChain verifies cert against anchors with intermediates and
// returns the chain (leaf first, anchor last).
func verifiedChain(anchors []*x509.Certificate, cert *x509.Certificate, intermediates []*x509.Certificate) ([]*x509.Certificate, error) {
	opts := x509.VerifyOptions{
		Roots:         x509.NewCertPool(),
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	for _, a := range anchors {
		opts.Roots.AddCert(a)
	}
	for _, i := range intermediates {
		opts.Intermediates.AddCert(i)
	}
	chains, err := cert.Verify(opts)
	if err != nil {
		return nil, err
	}
	return chains[0], nil
}

// TrustedAmong returns the certificates of certs that verify to
// TrustAnchors, each with the others as intermediates. A MAC-protected
// answer (a genp with id-it-caCerts, RFC 9483 section 4.3.1) proves that
// the CA sent its certificates, not that they belong to the trust anchors
// configured for it: a caller compares the two with this.
func (c *Client) TrustedAmong(certs []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, cert := range certs {
		if _, err := verifiedChain(c.TrustAnchors, cert, certs); err == nil {
			out = append(out, cert)
		}
	}
	return out
}

// ErrNoTrust is returned, before anything is sent, for a request whose
// answer the CA signs (a request protected by a signature: cr, kur, rr
// signed with a certificate, an ir with an external certificate) when the
// Client has neither TrustAnchors nor ServerCertificate: such an answer
// could not be verified, and a certificate issued in it could be neither
// accepted nor left unconfirmed safely.
var ErrNoTrust = errors.New("no TrustAnchors or ServerCertificate to verify the CA's signed answer")

// hasTrust reports whether signature-protected responses can be verified.
func (c *Client) hasTrust() bool {
	return len(c.TrustAnchors) > 0 || c.ServerCertificate != nil
}

// unverifiable reports whether err is a response that failed its
// protection check (RFC 9483 section 3.5): missing, not verifying, by an
// untrusted signer or naming another sender. Its content is then only what
// the CA claims.
func unverifiable(err error) bool {
	return errors.Is(err, ErrUnprotected) || errors.Is(err, ErrProtection) ||
		errors.Is(err, ErrUntrustedSigner) || errors.Is(err, ErrSender)
}

// UnverifiedResponseError is an answer whose protection could not be
// verified (Err says why): what it says is a claim, not a fact. Status is
// the status it claims and Serial the certificate it is about: the one an
// ip, cp or kup claims to carry (Certificate), or the one an rp's revCerts
// names (else the one asked to be revoked).
//
// A claimed issued certificate cannot be accepted, so it is rejected with
// a certConf (RFC 9483 section 4.1: the end entity rejects a certificate
// it cannot accept, and the CA then revokes it); Rejected says the certConf
// was sent and RejectErr holds what went wrong with it, if anything (its
// pkiConf is usually unverifiable too).
type UnverifiedResponseError struct {
	Op            string
	TransactionID []byte
	// Body is the response body type, e.g. "cp" or "rp".
	Body        string
	Status      cmp.PKIStatusInfo
	Serial      *big.Int
	Certificate *x509.Certificate
	Rejected    bool
	RejectErr   error
	Err         error
}

func (e *UnverifiedResponseError) Error() string {
	prefix := opPrefix(e.Op, e.TransactionID)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: unverified answer: the %s claims %s", prefix, e.Body, e.Status.String())
	if e.Serial != nil {
		if e.Certificate != nil {
			fmt.Fprintf(&sb, " with certificate serial %s", e.Serial)
		} else {
			fmt.Fprintf(&sb, " for serial %s", e.Serial)
		}
	}
	sb.WriteString(", but its protection could not be verified: ")
	sb.WriteString(strings.TrimPrefix(e.Err.Error(), prefix+": "))
	switch {
	case e.Certificate == nil && e.Body == cmp.BodyRP.String():
		sb.WriteString("; whether the certificate is revoked is not known from this answer")
	case e.Certificate == nil:
	case !e.Rejected:
		fmt.Fprintf(&sb, "; the certificate was not rejected (%v): it may be live until the CA's confirmation wait ends",
			strings.TrimPrefix(e.RejectErr.Error(), prefix+": "))
	case e.RejectErr == nil:
		sb.WriteString("; the certificate was rejected with a certConf, which the CA confirmed, so the CA revokes it")
	case unverifiable(e.RejectErr):
		sb.WriteString("; the certificate was rejected with a certConf, so the CA revokes it, but the CA's answer " +
			"to the rejection could not be verified either")
	default:
		fmt.Fprintf(&sb, "; rejecting the certificate with a certConf failed: %s",
			strings.TrimPrefix(e.RejectErr.Error(), prefix+": "))
	}
	return sb.String()
}

func (e *UnverifiedResponseError) Unwrap() []error {
	if e.RejectErr != nil {
		return []error{e.Err, e.RejectErr}
	}
	return []error{e.Err}
}

package cmpclient

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
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

// verifyChain verifies cert against TrustAnchors with intermediates and
// returns the chain (leaf first, anchor last).
func (c *Client) verifyChain(cert *x509.Certificate, intermediates []*x509.Certificate) error {
	_, err := c.buildChain(cert, intermediates)
	return err
}

func (c *Client) buildChain(cert *x509.Certificate, intermediates []*x509.Certificate) ([]*x509.Certificate, error) {
	opts := x509.VerifyOptions{
		Roots:         x509.NewCertPool(),
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	for _, a := range c.TrustAnchors {
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

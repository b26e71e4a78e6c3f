package devca

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// Protection kinds as events and transactions name them.
const (
	protectionMAC       = "mac"
	protectionSignature = "signature"
	protectionNone      = "none"
)

// requester is who sent a request, as its protection proves.
type requester struct {
	// protection is protectionMAC, protectionSignature or, for a support
	// message, protectionNone.
	protection string
	// macAlg is the request's protectionAlg when MAC-protected; the
	// response uses the same parameters (RFC 9810 5.1.3.1 recommends
	// keeping them for a transaction; the derived key is cached).
	macAlg pkix.AlgorithmIdentifier
	// signer is the protection certificate of a signed request.
	signer *x509.Certificate
	// own says signer is a live certificate this CA issued; otherwise it
	// chains to one of Config.Trusted.
	own bool
	// reference is the end entity the request comes from: the senderKID of
	// a MAC-protected request, or the reference an own signer certificate
	// belongs to; empty for an externally issued signer.
	reference string
}

// verifyProtection checks a request's protection (RFC 9810 5.1.3): a
// PasswordBasedMac or PBMAC1 with the shared secret, or a signature by a
// certificate that chains to this CA (and is in its record, unrevoked) or to
// one of the configured trust anchors.
func (ca *CA) verifyProtection(msg *cmp.Message, now time.Time) (*requester, *refusal) {
	h := &msg.Header
	if h.ProtectionAlg == nil || msg.Protection == nil {
		if who, ok := unprotectedSupport(msg); ok {
			return who, nil
		}
		return nil, refuse(cmp.FailBadMessageCheck, "the request is not protected; protect it with the PBM secret or a signature")
	}
	if cmp.IsMACProtected(h.ProtectionAlg) {
		if !bytes.Equal(h.SenderKID, []byte(ca.st.reference)) {
			return nil, refuse(cmp.FailBadMessageCheck|cmp.FailSignerNotTrusted, "unknown reference (senderKID %q) for MAC protection", printable(h.SenderKID))
		}
		err := cmp.VerifyMAC(msg, []byte(ca.st.secret), &ca.macKeys)
		switch {
		case errors.Is(err, cmp.ErrBadMAC):
			return nil, refuse(cmp.FailBadMessageCheck, "MAC-based protection does not verify (wrong secret?)")
		case errors.Is(err, cmp.ErrUnsupportedAlgorithm):
			return nil, refuse(cmp.FailBadAlg, "MAC-based protection not accepted: %v", err)
		case err != nil:
			return nil, refuse(cmp.FailBadMessageCheck, "MAC-based protection: %v", err)
		}
		return &requester{protection: protectionMAC, macAlg: *h.ProtectionAlg, reference: ca.st.reference}, nil
	}

	certs := make([]*x509.Certificate, 0, len(msg.ExtraCerts))
	for i, der := range msg.ExtraCerts {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, refuse(cmp.FailBadDataFormat, "extraCerts[%d] is not a valid certificate: %v", i, err)
		}
		certs = append(certs, c)
	}
	signer := findSigner(certs, h)
	if signer == nil {
		return nil, refuse(cmp.FailBadMessageCheck|cmp.FailSignerNotTrusted, "the first certificate in extraCerts does not match the sender and senderKID of the signed request (RFC 9483 3.3: the protection certificate goes first in extraCerts)")
	}
	err := cmp.VerifySignature(msg, signer)
	switch {
	case errors.Is(err, cmp.ErrSignerKeyUsage):
		return nil, refuse(cmp.FailSignerNotTrusted, "%v", err)
	case errors.Is(err, cmp.ErrUnsupportedAlgorithm):
		return nil, refuse(cmp.FailBadAlg, "signature protection not accepted: %v", err)
	case err != nil:
		return nil, refuse(cmp.FailBadMessageCheck, "signature protection does not verify: %v", err)
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs {
		if c != signer {
			intermediates.AddCert(c)
		}
	}
	opts := x509.VerifyOptions{
		Intermediates: intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	opts.Roots = ca.ownRoots
	if _, ownErr := signer.Verify(opts); ownErr == nil {
		rec, ok := ca.store.lookup(signer.SerialNumber)
		switch {
		case !ok || !rec.is(signer):
			return nil, refuse(cmp.FailSignerNotTrusted, "the signer certificate (serial %s) is not one this CA issued to an end entity", signer.SerialNumber)
		case rec.revoked:
			return nil, refuse(cmp.FailCertRevoked, "the signer certificate (serial %s) was revoked on %s", signer.SerialNumber, rec.revokedAt.UTC().Format(time.RFC3339))
		}
		return &requester{protection: protectionSignature, signer: signer, own: true, reference: rec.reference}, nil
	} else if ca.externalRoots == nil {
		return nil, refuse(cmp.FailSignerNotTrusted, "the signer certificate %q is not trusted: %v", signer.Subject.String(), ownErr)
	}
	opts.Roots = ca.externalRoots
	if _, err := signer.Verify(opts); err != nil {
		return nil, refuse(cmp.FailSignerNotTrusted, "the signer certificate %q is not trusted: %v", signer.Subject.String(), err)
	}
	return &requester{protection: protectionSignature, signer: signer}, nil
}

// findSigner returns the protection certificate: the first of extraCerts
// (RFC 9483 section 3.3), whose subject must be the sender and whose
// subject key identifier, when both are there, the senderKID (RFC 9483
// section 3.1); nil when it is not so.
func findSigner(certs []*x509.Certificate, h *cmp.Header) *x509.Certificate {
	if len(certs) == 0 {
		return nil
	}
	c := certs[0]
	if !bytes.Equal(c.RawSubject, h.Sender.DirectoryName) {
		return nil
	}
	if h.SenderKID != nil && c.SubjectKeyId != nil && !bytes.Equal(h.SenderKID, c.SubjectKeyId) {
		return nil
	}
	return c
}

// protect sets the response's protection: the request's MAC parameters
// and the shared secret for MAC-protected requests, the CMP signer
// otherwise (its certificate first in extraCerts, then the CA chain; RFC
// 9483 section 3.3). Faults that damage responses are applied here.
func (ca *CA) protect(resp *cmp.Message, mac *pkix.AlgorithmIdentifier) error {
	h := &resp.Header
	if ca.cfg.Emulate == EmulateVault {
		// Vault has no shared secrets and signs every answer with the
		// issuing CA's key.
		mac = nil
	}
	if mac != nil {
		h.SenderKID = []byte(ca.st.reference)
	}
	if ca.cfg.hasFault(FaultWrongRecipNonce) && h.RecipNonce != nil {
		h.RecipNonce = mustRandom(len(h.RecipNonce))
	}
	if ca.cfg.hasFault(FaultWrongTransactionID) && h.TransactionID != nil {
		h.TransactionID = mustRandom(len(h.TransactionID))
	}
	var err error
	if mac != nil {
		secret := []byte(ca.st.secret)
		err = cmp.ProtectMAC(resp, cmp.MACParams{Identifier: mac, Cache: &ca.macKeys}, secret)
		if errors.Is(err, cmp.ErrUnsupportedAlgorithm) {
			// The request's parameters were refused (that is what this
			// answer says); protect it with parameters of our own.
			err = cmp.ProtectMAC(resp, cmp.MACParams{Algorithm: cmp.PBMHMACSHA256}, secret)
		}
	} else {
		key, chain := ca.responseSigner()
		err = cmp.ProtectSignature(resp, key, chain, cmp.SignatureOptions{})
	}
	if err != nil {
		return fmt.Errorf("response protection: %w", err)
	}
	if ca.cfg.hasFault(FaultBadProtection) && len(resp.Protection) > 0 {
		resp.Protection[len(resp.Protection)/2] ^= 0x01
	}
	return nil
}

// printable returns b for an error text, or its hex when it is not plain ASCII.
func printable(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", b)
		}
	}
	return string(b)
}

// responseSigner is the key that signs answers and the chain that goes
// first in their extraCerts: the CMP signer, or under EmulateVault the
// CA itself.
func (ca *CA) responseSigner() (crypto.Signer, []*x509.Certificate) {
	if ca.cfg.Emulate == EmulateVault {
		return ca.st.caKey, append([]*x509.Certificate{ca.st.caCert}, ca.st.caChain...)
	}
	return ca.st.signerKey, append([]*x509.Certificate{ca.st.signerCert, ca.st.caCert}, ca.st.caChain...)
}

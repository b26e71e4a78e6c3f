package cmp

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
)

// ErrUnprotected is wrapped by the error a Verify function returns for a
// message without protection (no protectionAlg or no protection value).
var ErrUnprotected = errors.New("message is not protected")

// ProtectMAC protects m with a password-based MAC (RFC 9810 section
// 5.1.3.1, RFC 9481 section 6.1): it sets Header.ProtectionAlg from p and
// then Protection, the MAC over the ProtectedPart with secret. Call it on a
// message whose header and body are complete: any later change invalidates
// the protection. The sender puts the reference of the secret in
// Header.SenderKID (RFC 9483 section 3.2); that is the caller's part.
func ProtectMAC(m *Message, p MACParams, secret []byte) error {
	alg, err := NewMACAlgorithmIdentifier(p)
	if err != nil {
		return fmt.Errorf("%s: MAC protection: %w", m.Body.Type, err)
	}
	m.Header.ProtectionAlg = &alg
	pp, err := m.ProtectedPart()
	if err != nil {
		return fmt.Errorf("%s: MAC protection: %w", m.Body.Type, err)
	}
	prot, err := MACProtection(alg, secret, pp, p.Cache)
	if err != nil {
		return fmt.Errorf("%s: MAC protection: %w", m.Body.Type, err)
	}
	m.Protection = prot
	m.RawProtectedPart = nil // the fields, not bytes once parsed, are now protected
	return nil
}

// VerifyMAC checks the password-based MAC protection of the received
// message m with secret, deriving keys through cache (which may be nil: a
// client whose server keeps the PBM parameters of a transaction derives the
// key once). Errors wrap ErrBadMAC (wrong secret or altered message),
// ErrUnsupportedAlgorithm (unknown algorithm, parameters out of limits, or
// a signature-protected message) or ErrUnprotected.
func VerifyMAC(m *Message, secret []byte, cache *PBMKeyCache) error {
	pp, err := protectedPartToVerify(m)
	if err != nil {
		return err
	}
	if !IsMACProtected(m.Header.ProtectionAlg) {
		return fmt.Errorf("%s: %w: protected by %s, not by a password-based MAC", m.Body.Type, ErrUnsupportedAlgorithm, m.Header.ProtectionAlg.Algorithm)
	}
	if err := CheckMACProtection(*m.Header.ProtectionAlg, secret, pp, m.Protection, cache); err != nil {
		return fmt.Errorf("%s: %w", m.Body.Type, err)
	}
	return nil
}

// SignatureOptions adjusts how ProtectSignature and SignPOP choose the
// signature algorithm. The zero value picks what SignatureAlgorithmFor
// gives for the key.
type SignatureOptions struct {
	// RSAPSS selects RSASSA-PSS with SHA-256 instead of
	// sha256WithRSAEncryption for RSA keys.
	RSAPSS bool
}

// ProtectSignature protects m with a signature by key (RFC 9810 section
// 5.1.3.3) using the algorithm SignatureAlgorithmFor picks (opts may ask
// for RSASSA-PSS). chain is the signer's certificate followed by its chain
// (may be empty when the recipient knows the key, or when m is signed again
// after a change): it becomes the start of ExtraCerts, signer first (RFC
// 9810 section 5.1.1: the first certificate of extraCerts is the protection
// certificate when there is one; RFC 9483 section 3.3: followed by its
// chain). Certificates already in ExtraCerts are kept after it, without
// duplicates: extraCerts may also carry certificates for other uses, such
// as the chain of an issued certificate. SenderKID becomes the signer's
// subject key identifier (nil when the certificate has none; RFC 9483
// section 3.1). Setting Header.Sender to the signer's subject is the
// caller's part. Call it on a message whose header and body are otherwise
// complete.
func ProtectSignature(m *Message, key crypto.Signer, chain []*x509.Certificate, opts SignatureOptions) error {
	alg, err := SignatureAlgorithmFor(key.Public(), opts.RSAPSS)
	if err != nil {
		return fmt.Errorf("%s: signature protection: %w", m.Body.Type, err)
	}
	if len(chain) > 0 {
		signer := chain[0]
		if !pemkey.BelongsTo(key, signer) {
			return fmt.Errorf("%s: signature protection: the key does not belong to certificate %q", m.Body.Type, signer.Subject.String())
		}
		m.Header.SenderKID = bytes.Clone(signer.SubjectKeyId)
		if len(m.Header.SenderKID) == 0 {
			m.Header.SenderKID = nil
		}
		m.ExtraCerts = signerFirst(chain, m.ExtraCerts)
	}
	m.Header.ProtectionAlg = &alg
	pp, err := m.ProtectedPart()
	if err != nil {
		return fmt.Errorf("%s: signature protection: %w", m.Body.Type, err)
	}
	sig, err := SignatureProtection(key, alg, pp)
	if err != nil {
		return fmt.Errorf("%s: signature protection: %w", m.Body.Type, err)
	}
	m.Protection = sig
	m.RawProtectedPart = nil // the fields, not bytes once parsed, are now protected
	return nil
}

// signerFirst returns the DER of chain followed by those of existing that
// are not in chain.
func signerFirst(chain []*x509.Certificate, existing [][]byte) [][]byte {
	out := make([][]byte, 0, len(chain)+len(existing))
	for _, c := range chain {
		out = append(out, c.Raw)
	}
	for _, e := range existing {
		dup := false
		for _, c := range chain {
			if bytes.Equal(c.Raw, e) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}

// VerifySignature checks the signature protection of the received message
// m against cert, the signer's certificate (found in ExtraCerts or known
// beforehand; validating that certificate's chain and trust is the caller's
// part). cert must allow digitalSignature when it carries a key usage
// extension (RFC 9483 section 3.1). Errors wrap ErrBadSignature,
// ErrUnsupportedAlgorithm, ErrSignerKeyUsage or ErrUnprotected.
func VerifySignature(m *Message, cert *x509.Certificate) error {
	pp, err := protectedPartToVerify(m)
	if err != nil {
		return err
	}
	if IsMACProtected(m.Header.ProtectionAlg) {
		return fmt.Errorf("%s: %w: protected by a password-based MAC, not by a signature", m.Body.Type, ErrUnsupportedAlgorithm)
	}
	if err := CheckSignerKeyUsage(cert); err != nil {
		return fmt.Errorf("%s: %w", m.Body.Type, err)
	}
	if err := CheckSignatureProtection(cert.PublicKey, *m.Header.ProtectionAlg, pp, m.Protection); err != nil {
		return fmt.Errorf("%s: signer %q: %w", m.Body.Type, cert.Subject.String(), err)
	}
	return nil
}

// protectedPartToVerify returns the bytes a received protection covers:
// RawProtectedPart as Parse saw it, or the encoding of the fields for a
// message built in memory.
func protectedPartToVerify(m *Message) ([]byte, error) {
	if m.Header.ProtectionAlg == nil || m.Protection == nil {
		return nil, fmt.Errorf("%s: %w", m.Body.Type, ErrUnprotected)
	}
	if m.RawProtectedPart != nil {
		return m.RawProtectedPart, nil
	}
	pp, err := m.ProtectedPart()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Body.Type, err)
	}
	return pp, nil
}

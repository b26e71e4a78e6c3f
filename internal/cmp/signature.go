package cmp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
)

// ErrBadSignature is wrapped by the error returned when a signature (message
// protection or POP) does not verify. A server answers it with failInfo
// badMessageCheck for protection (RFC 9810 section 5.2.3), badPOP for a POP.
var ErrBadSignature = errors.New("signature does not verify")

// SignatureProtection signs data (the DER of ProtectedPart, or of a
// CertRequest for POP) with key using the signature algorithm alg
// (RFC 9810 section 5.1.3.3, RFC 9481 section 3).
func SignatureProtection(key crypto.Signer, alg pkix.AlgorithmIdentifier, data []byte) ([]byte, error) {
	s, err := parseSignatureAlgorithm(alg)
	if err != nil {
		return nil, err
	}
	if err := s.matchesKey(key.Public()); err != nil {
		return nil, err
	}
	if s.hash == 0 {
		sig, err := key.Sign(rand.Reader, data, crypto.Hash(0))
		if err != nil {
			return nil, fmt.Errorf("signing with %s: %w", alg.Algorithm, err)
		}
		return sig, nil
	}
	h := s.hash.New()
	h.Write(data)
	digest := h.Sum(nil)
	var opts crypto.SignerOpts = s.hash
	if s.pss {
		opts = &rsa.PSSOptions{SaltLength: s.saltLength, Hash: s.hash}
	}
	sig, err := key.Sign(rand.Reader, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("signing with %s: %w", alg.Algorithm, err)
	}
	return sig, nil
}

// CheckSignatureProtection verifies that sig is a signature by pub over data
// with the algorithm alg. A signature that does not verify wraps
// ErrBadSignature; an algorithm not accepted wraps ErrUnsupportedAlgorithm.
func CheckSignatureProtection(pub crypto.PublicKey, alg pkix.AlgorithmIdentifier, data, sig []byte) error {
	s, err := parseSignatureAlgorithm(alg)
	if err != nil {
		return err
	}
	if err := s.matchesKey(pub); err != nil {
		return err
	}
	if s.hash == 0 {
		if !ed25519.Verify(pub.(ed25519.PublicKey), data, sig) {
			return fmt.Errorf("%w (Ed25519)", ErrBadSignature)
		}
		return nil
	}
	h := s.hash.New()
	h.Write(data)
	digest := h.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if s.pss {
			if err := rsa.VerifyPSS(k, s.hash, digest, sig, &rsa.PSSOptions{SaltLength: s.saltLength, Hash: s.hash}); err != nil {
				return fmt.Errorf("%w (RSASSA-PSS with %v): %w", ErrBadSignature, s.hash, err)
			}
			return nil
		}
		if err := rsa.VerifyPKCS1v15(k, s.hash, digest, sig); err != nil {
			return fmt.Errorf("%w (RSA PKCS#1 v1.5 with %v): %w", ErrBadSignature, s.hash, err)
		}
		return nil
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return fmt.Errorf("%w (ECDSA with %v)", ErrBadSignature, s.hash)
		}
		return nil
	}
	return fmt.Errorf("%w: public key type %T", ErrUnsupportedAlgorithm, pub)
}

// matchesKey reports an error when the key pub cannot be used with s.
func (s signatureScheme) matchesKey(pub crypto.PublicKey) error {
	var ok bool
	switch pub.(type) {
	case *rsa.PublicKey:
		ok = s.keyAlgorithm == x509.RSA
	case *ecdsa.PublicKey:
		ok = s.keyAlgorithm == x509.ECDSA
	case ed25519.PublicKey:
		ok = s.keyAlgorithm == x509.Ed25519
	default:
		return fmt.Errorf("%w: public key type %T", ErrUnsupportedAlgorithm, pub)
	}
	if !ok {
		return fmt.Errorf("%w: a %s signature algorithm with a %T key", ErrUnsupportedAlgorithm, s.keyAlgorithm, pub)
	}
	return nil
}

// ErrSignerKeyUsage is wrapped by the error CheckSignerKeyUsage returns.
var ErrSignerKeyUsage = errors.New("key usage lacks digitalSignature")

// CheckSignerKeyUsage returns an error wrapping ErrSignerKeyUsage when cert
// carries a key usage extension without digitalSignature: such a key must
// not sign CMP messages (RFC 9483 section 3.1: "If the keyUsage extension
// is present, it MUST contain digitalSignature").
func CheckSignerKeyUsage(cert *x509.Certificate) error {
	present := false
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(OIDExtKeyUsage) {
			present = true
			break
		}
	}
	if present && cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fmt.Errorf("signer certificate %q: %w", cert.Subject.String(), ErrSignerKeyUsage)
	}
	return nil
}

package cmp

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
)

// ErrBadPOP is wrapped by every error VerifyPOP returns. A server answers it
// with failInfo badPOP (RFC 9810 section 5.2.3).
var ErrBadPOP = errors.New("proof of possession does not verify")

// SignPOP sets req.POP to a signature POP (RFC 4211 section 4.1): a
// POPOSigningKey without poposkInput whose signature by key covers the DER
// of req's CertRequest. That form requires the template to carry the
// subject and the public key, which must be key's public key (RFC 4211
// section 4.1, RFC 9483 section 4.1.1). The algorithm is what
// SignatureAlgorithmFor picks for key (opts may ask for RSASSA-PSS).
func SignPOP(req *CertReqMsg, key crypto.Signer, opts SignatureOptions) error {
	pub, err := templateForPOP(req)
	if err != nil {
		return fmt.Errorf("POP for certReqId %d: %w", req.CertReqID, err)
	}
	if !pemkey.HasPublicKey(key, pub) {
		return fmt.Errorf("POP for certReqId %d: the signing key is not the key in the template", req.CertReqID)
	}
	alg, err := SignatureAlgorithmFor(pub, opts.RSAPSS)
	if err != nil {
		return fmt.Errorf("POP for certReqId %d: %w", req.CertReqID, err)
	}
	der, err := req.CertRequestDER()
	if err != nil {
		return fmt.Errorf("POP for certReqId %d: %w", req.CertReqID, err)
	}
	sig, err := SignatureProtection(key, alg, der)
	if err != nil {
		return fmt.Errorf("POP for certReqId %d: %w", req.CertReqID, err)
	}
	req.POP = &ProofOfPossession{Type: POPSignature, Signature: &POPOSigningKey{Algorithm: alg, Signature: sig}}
	return nil
}

// VerifyPOP checks a signature POP of a received request against the public
// key in its template (RFC 4211 section 4.1). The signature covers
// RawCertRequest as received (or the encoding of the fields for a request
// built in memory). Only the profiled form is accepted (RFC 9483 section
// 4.1.1): poposkInput absent, subject (the empty Name counts) and publicKey
// in the template. Other
// POP kinds (raVerified, keyEncipherment, keyAgreement) are refused here;
// a server that accepts raVerified from an RA decides that before calling.
func VerifyPOP(req *CertReqMsg) error {
	if err := verifyPOP(req); err != nil {
		return fmt.Errorf("%w: certReqId %d: %w", ErrBadPOP, req.CertReqID, err)
	}
	return nil
}

func verifyPOP(req *CertReqMsg) error {
	if req.POP == nil {
		return errors.New("no POP")
	}
	if req.POP.Type != POPSignature || req.POP.Signature == nil {
		return fmt.Errorf("POP type %d is not a signature", req.POP.Type)
	}
	sk := req.POP.Signature
	if sk.Input != nil {
		return errors.New("poposkInput is present (RFC 9483 section 4.1.1 profiles it away)")
	}
	pub, err := templateForPOP(req)
	if err != nil {
		return err
	}
	data := req.RawCertRequest
	if data == nil {
		if data, err = req.CertRequestDER(); err != nil {
			return err
		}
	}
	return CheckSignatureProtection(pub, sk.Algorithm, data, sk.Signature)
}

// templateForPOP checks that req's template allows a signature POP without
// poposkInput and returns its public key. RFC 4211 section 4.1: poposkInput
// "MUST be present when the certificate template does not contain both the
// public key value and a subject name value". What counts is the presence
// of the subject field: the empty Name (the NULL-DN of a certificate named
// only by subjectAltName, RFC 5280 section 4.1.2.6) is a subject value, an
// absent subject is not.
func templateForPOP(req *CertReqMsg) (crypto.PublicKey, error) {
	if req.Template.Subject == nil {
		return nil, errors.New("the template has no subject, so poposkInput would be required (RFC 4211 section 4.1); send the empty Name if there is none")
	}
	if len(req.Template.PublicKey) == 0 {
		return nil, errors.New("the template has no publicKey, so poposkInput would be required (RFC 4211 section 4.1)")
	}
	pub, err := x509.ParsePKIXPublicKey(req.Template.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("template publicKey: %w", err)
	}
	return pub, nil
}

package cmp

import (
	"crypto"
	"crypto/hmac"
	_ "crypto/md5" // certHash of MD5-signed certificates
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// certHashBySignatureOID maps certificate signature algorithms whose OID
// names the hash to that hash (RFC 9810 section 5.3.18: certHash uses "the
// same hash algorithm as used to create and verify the certificate
// signature"). SHA-224 appears only here: confirming such a certificate is
// possible even though this package does not sign with it.
var certHashBySignatureOID = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}, crypto.SHA224}, // sha224WithRSAEncryption
	{OIDSHA256WithRSA, crypto.SHA256},
	{OIDSHA384WithRSA, crypto.SHA384},
	{OIDSHA512WithRSA, crypto.SHA512},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}, crypto.SHA224}, // ecdsa-with-SHA224
	{OIDECDSAWithSHA256, crypto.SHA256},
	{OIDECDSAWithSHA384, crypto.SHA384},
	{OIDECDSAWithSHA512, crypto.SHA512},
	// RFC 9481 section 3.3: "The hash algorithm used to calculate the
	// certHash in certConf messages MUST be SHA512 if the certificate to be
	// confirmed has been signed using Ed25519".
	{OIDEd25519, crypto.SHA512},
}

// CertHashAlgorithm returns the hash certHash uses for cert.
//
// The hash is the one of the certificate's own signature algorithm (RFC 9810
// section 5.3.18: "the certHash value SHALL be computed using the same hash
// algorithm as used to create and verify the certificate signature"), taken
// from the OID or, for RSASSA-PSS, from its parameters; Ed25519 uses SHA-512
// (RFC 9481 section 3.3).
//
// That rule also covers certificates signed with SHA-1 or MD5: RFC 9481
// deprecates those digests for new signatures (section 7.1) but defines no
// substitute hash for confirming such a certificate, and OpenSSL 3.0
// confirms a sha1WithRSAEncryption certificate with its SHA-1 hash (see
// testdata/protection/msg/certhash_rsa_sha1_certConf.der), as its mock
// server then expects. So they are hashed with SHA-1 and MD5.
func CertHashAlgorithm(cert *x509.Certificate) (crypto.Hash, error) {
	alg, err := certificateSignatureAlgorithm(cert.Raw)
	if err != nil {
		return 0, fmt.Errorf("certHash: %w", err)
	}
	for _, e := range certHashBySignatureOID {
		if e.oid.Equal(alg.Algorithm) {
			return e.hash, nil
		}
	}
	if alg.Algorithm.Equal(OIDRSASSAPSS) {
		params, err := AlgorithmParameters(alg)
		if err != nil {
			return 0, fmt.Errorf("certHash: %w", err)
		}
		p, err := ParsePSSParameters(params)
		if err != nil {
			return 0, fmt.Errorf("certHash: RSASSA-PSS certificate signature: %w", err)
		}
		return p.Hash, nil
	}
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA:
		return crypto.MD5, nil
	case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return crypto.SHA1, nil
	}
	return 0, fmt.Errorf("%w: certHash: no hash defined for certificate signature algorithm %s", ErrUnsupportedAlgorithm, alg.Algorithm)
}

// CertHash returns the certHash of cert for CertStatus in certConf (RFC 9810
// section 5.3.18, RFC 9481 sections 2 and 3.3): the hash of the certificate's
// DER with the hash CertHashAlgorithm names.
func CertHash(cert *x509.Certificate) ([]byte, error) {
	h, err := CertHashAlgorithm(cert)
	if err != nil {
		return nil, err
	}
	if !h.Available() {
		return nil, fmt.Errorf("%w: certHash: hash %v not linked in", ErrUnsupportedAlgorithm, h)
	}
	d := h.New()
	d.Write(cert.Raw)
	return d.Sum(nil), nil
}

// VerifyCertHash reports whether certHash (from a received certConf) is the
// certHash of cert, comparing in constant time.
func VerifyCertHash(cert *x509.Certificate, certHash []byte) error {
	want, err := CertHash(cert)
	if err != nil {
		return err
	}
	if !hmac.Equal(want, certHash) {
		return errors.New("certHash does not match the certificate")
	}
	return nil
}

// certificateSignatureAlgorithm reads signatureAlgorithm from the DER of
//
//	Certificate ::= SEQUENCE {
//	    tbsCertificate      TBSCertificate,
//	    signatureAlgorithm  AlgorithmIdentifier,
//	    signatureValue      BIT STRING }
func certificateSignatureAlgorithm(der []byte) (pkix.AlgorithmIdentifier, error) {
	in := cryptobyte.String(der)
	var cert cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() {
		return pkix.AlgorithmIdentifier{}, errors.New("certificate: not a single SEQUENCE")
	}
	if !cert.SkipASN1(cbasn1.SEQUENCE) {
		return pkix.AlgorithmIdentifier{}, errors.New("certificate: tbsCertificate is not a SEQUENCE")
	}
	var alg pkix.AlgorithmIdentifier
	err := readAlgID(&cert, &alg)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("certificate signatureAlgorithm: %w", err)
	}
	return alg, nil
}

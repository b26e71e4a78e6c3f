package cmp

import (
	"crypto"
	_ "crypto/sha1" // hmac-sha1 and the SHA-1 OWF of received PasswordBasedMac
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
)

// ErrUnsupportedAlgorithm is wrapped by every error about an algorithm
// identifier this package does not implement or does not accept (unknown OID,
// unexpected parameters, deprecated digest). A server answers it with failInfo
// badAlg (RFC 9810 section 5.2.3).
var ErrUnsupportedAlgorithm = errors.New("unsupported algorithm")

// Object identifiers of the algorithms of RFC 9481 this package implements.
var (
	// RFC 9481 section 2: message digests. SHA-1 only as the OWF of a
	// received PasswordBasedMac (RFC 4211 section 4.4: "MUST support SHA-1").
	OIDSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	OIDSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	OIDSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	// RFC 9481 section 6.2.1 and RFC 4211 section 4.4: HMACs.
	OIDHMACSHA1       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 8, 1, 2} // hmac-sha1 (RFC 2104 arc), PasswordBasedMac
	OIDHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}   // RFC 8018 default PRF of PBKDF2
	OIDHMACWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	OIDHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	OIDHMACWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	OIDHMACWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}

	// RFC 9481 section 6.1: password-based MACs.
	OIDPasswordBasedMac = asn1.ObjectIdentifier{1, 2, 840, 113533, 7, 66, 13}
	OIDPBMAC1           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	OIDPBKDF2           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}

	// RFC 9481 section 3: signatures.
	OIDSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	OIDSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	OIDSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	OIDRSASSAPSS       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	OIDMGF1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	OIDECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	OIDECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	OIDEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// digestAlgorithms are the one-way functions accepted as a PasswordBasedMac
// OWF (RFC 9481 section 2, RFC 4211 section 4.4).
var digestAlgorithms = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{OIDSHA1, crypto.SHA1},
	{OIDSHA256, crypto.SHA256},
	{OIDSHA384, crypto.SHA384},
	{OIDSHA512, crypto.SHA512},
}

// hmacAlgorithms are the MACs accepted in PBMParameter.mac, in
// PBMAC1.messageAuthScheme and as the PBKDF2 PRF (RFC 9481 section 6.2.1).
var hmacAlgorithms = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{OIDHMACSHA1, crypto.SHA1},
	{OIDHMACWithSHA1, crypto.SHA1},
	{OIDHMACWithSHA224, crypto.SHA224},
	{OIDHMACWithSHA256, crypto.SHA256},
	{OIDHMACWithSHA384, crypto.SHA384},
	{OIDHMACWithSHA512, crypto.SHA512},
}

// asn1NULL is the DER of an ASN.1 NULL, the parameters of the SHA-2 and HMAC
// identifiers in the encodings RFC 8018 and RFC 4055 use.
var asn1NULL = []byte{0x05, 0x00}

// paramsAbsentOrNULL reports whether params (as AlgorithmParameters returns
// them) are absent or an ASN.1 NULL. RFC 5754 section 2 and RFC 4231: a
// receiver MUST accept both for SHA-2 digests and HMACs; RFC 5758 forbids
// parameters for ECDSA, but deployed CAs (for example Insta Certifier) send
// NULL there, and a NULL carries no meaning an attacker could choose.
func paramsAbsentOrNULL(params []byte) bool {
	return params == nil || (len(params) == 2 && params[0] == 0x05 && params[1] == 0x00)
}

// digestHash returns the hash function an OWF/digest identifier names.
func digestHash(alg pkix.AlgorithmIdentifier) (crypto.Hash, error) {
	for _, d := range digestAlgorithms {
		if d.oid.Equal(alg.Algorithm) {
			params, err := AlgorithmParameters(alg)
			if err != nil {
				return 0, err
			}
			if !paramsAbsentOrNULL(params) {
				return 0, fmt.Errorf("%w: digest %s with parameters", ErrUnsupportedAlgorithm, alg.Algorithm)
			}
			return d.hash, nil
		}
	}
	return 0, fmt.Errorf("%w: digest %s", ErrUnsupportedAlgorithm, alg.Algorithm)
}

// hmacHash returns the hash function under an HMAC identifier.
func hmacHash(alg pkix.AlgorithmIdentifier) (crypto.Hash, error) {
	for _, h := range hmacAlgorithms {
		if h.oid.Equal(alg.Algorithm) {
			params, err := AlgorithmParameters(alg)
			if err != nil {
				return 0, err
			}
			if !paramsAbsentOrNULL(params) {
				return 0, fmt.Errorf("%w: MAC %s with parameters", ErrUnsupportedAlgorithm, alg.Algorithm)
			}
			return h.hash, nil
		}
	}
	return 0, fmt.Errorf("%w: MAC %s", ErrUnsupportedAlgorithm, alg.Algorithm)
}

// digestIdentifier returns the identifier of hash h with absent parameters
// (RFC 5754 section 2: "implementations MUST generate SHA2 AlgorithmIdentifiers
// with absent parameters").
func digestIdentifier(h crypto.Hash) (pkix.AlgorithmIdentifier, error) {
	for _, d := range digestAlgorithms {
		if d.hash == h {
			return pkix.AlgorithmIdentifier{Algorithm: d.oid}, nil
		}
	}
	return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: digest %v", ErrUnsupportedAlgorithm, h)
}

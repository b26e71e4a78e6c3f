package cmp

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/x509/pkix"
	"fmt"
)

// MACAlgorithm selects the password-based MAC protection a sender uses.
type MACAlgorithm int

const (
	// PBMHMACSHA256 is PasswordBasedMac (RFC 9481 section 6.1.1) with OWF
	// SHA-256 and MAC hmacWithSHA256. The zero value.
	PBMHMACSHA256 MACAlgorithm = iota
	// PBMHMACSHA1 is PasswordBasedMac with OWF SHA-256 and MAC hmac-sha1,
	// what OpenSSL 3.0 sends by default.
	PBMHMACSHA1
	// PBMAC1HMACSHA256 is PBMAC1 (RFC 9481 section 6.1.2): PBKDF2 with PRF
	// hmacWithSHA256 and a 32-byte key, then hmacWithSHA256.
	PBMAC1HMACSHA256
)

// String names the algorithm as in configuration and logs.
func (a MACAlgorithm) String() string {
	switch a {
	case PBMHMACSHA256:
		return "PBM-HMAC-SHA256"
	case PBMHMACSHA1:
		return "PBM-HMAC-SHA1"
	case PBMAC1HMACSHA256:
		return "PBMAC1"
	}
	return fmt.Sprintf("MACAlgorithm(%d)", int(a))
}

// MACParams chooses how a sender protects messages with a shared secret.
type MACParams struct {
	Algorithm MACAlgorithm
	// Iterations of the OWF (PasswordBasedMac) or of PBKDF2 (PBMAC1);
	// 0 means DefaultMACIterations. Must lie in MinMACIterations..MaxMACIterations.
	Iterations int
	// Salt is used as is when set, so that all messages of a transaction
	// share parameters and a PBMKeyCache derives the key only once (RFC 9810
	// section 5.1.3.1 recommends this). Nil means 16 fresh random bytes for
	// every message.
	Salt []byte
	// Cache, when not nil, keeps derived keys across calls.
	Cache *PBMKeyCache
	// Identifier, when not nil, is the protectionAlg used as is (for
	// example the parameters of the request a response answers, which RFC
	// 9810 section 5.1.3.1 recommends keeping for a transaction); Algorithm,
	// Iterations and Salt are then ignored. Its parameters are checked
	// when the MAC is computed; a PBMAC1 key derivation labelled id-PBES2
	// is sent as id-PBKDF2.
	Identifier *pkix.AlgorithmIdentifier
}

// NewMACAlgorithmIdentifier returns the protectionAlg for p: the algorithm
// OID with its parameters (salt, iteration count, OWF/PRF and MAC).
func NewMACAlgorithmIdentifier(p MACParams) (pkix.AlgorithmIdentifier, error) {
	if p.Identifier != nil {
		return pbmac1ForSending(*p.Identifier)
	}
	iterations := p.Iterations
	if iterations == 0 {
		iterations = DefaultMACIterations
	}
	salt := p.Salt
	if salt == nil {
		salt = make([]byte, defaultSaltLength)
		if _, err := rand.Read(salt); err != nil {
			return pkix.AlgorithmIdentifier{}, fmt.Errorf("MAC salt: %w", err)
		}
	}
	if err := checkSaltAndIterations(p.Algorithm.String(), salt, int64(iterations)); err != nil {
		return pkix.AlgorithmIdentifier{}, err
	}
	switch p.Algorithm {
	case PBMHMACSHA256, PBMHMACSHA1:
		mac := pkix.AlgorithmIdentifier{Algorithm: OIDHMACWithSHA256}
		if p.Algorithm == PBMHMACSHA1 {
			mac = pkix.AlgorithmIdentifier{Algorithm: OIDHMACSHA1}
		}
		params, err := (&PBMParameter{
			Salt:           salt,
			OWF:            pkix.AlgorithmIdentifier{Algorithm: OIDSHA256},
			IterationCount: int64(iterations),
			MAC:            mac,
		}).Marshal()
		if err != nil {
			return pkix.AlgorithmIdentifier{}, err
		}
		return NewAlgorithmIdentifier(OIDPasswordBasedMac, params)
	case PBMAC1HMACSHA256:
		// RFC 8018 appendix B.1: hmacWithSHA256 carries NULL parameters.
		hmacSHA256, err := NewAlgorithmIdentifier(OIDHMACWithSHA256, asn1NULL)
		if err != nil {
			return pkix.AlgorithmIdentifier{}, err
		}
		kdfParams, err := (&PBKDF2Parameter{
			Salt:           salt,
			IterationCount: int64(iterations),
			KeyLength:      int64(crypto.SHA256.Size()),
			PRF:            &hmacSHA256,
		}).Marshal()
		if err != nil {
			return pkix.AlgorithmIdentifier{}, err
		}
		kdf, err := NewAlgorithmIdentifier(OIDPBKDF2, kdfParams)
		if err != nil {
			return pkix.AlgorithmIdentifier{}, err
		}
		params, err := (&PBMAC1Parameter{KeyDerivationFunc: kdf, MessageAuthScheme: hmacSHA256}).Marshal()
		if err != nil {
			return pkix.AlgorithmIdentifier{}, err
		}
		return NewAlgorithmIdentifier(OIDPBMAC1, params)
	}
	return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: MAC algorithm %v", ErrUnsupportedAlgorithm, p.Algorithm)
}

// IsMACProtected reports whether alg names a password-based MAC protection
// (PasswordBasedMac or PBMAC1) rather than a signature. Nil (no protection)
// is not MAC protection.
func IsMACProtected(alg *pkix.AlgorithmIdentifier) bool {
	return alg != nil && (alg.Algorithm.Equal(OIDPasswordBasedMac) || alg.Algorithm.Equal(OIDPBMAC1))
}

// MACProtection computes the MAC over data (the DER of ProtectedPart) as alg
// describes, with the shared secret; cache may be nil.
func MACProtection(alg pkix.AlgorithmIdentifier, secret, data []byte, cache *PBMKeyCache) ([]byte, error) {
	params, err := AlgorithmParameters(alg)
	if err != nil {
		return nil, err
	}
	switch {
	case alg.Algorithm.Equal(OIDPasswordBasedMac):
		return pbmMAC(params, secret, data, cache)
	case alg.Algorithm.Equal(OIDPBMAC1):
		return pbmac1MAC(params, secret, data, cache)
	}
	return nil, fmt.Errorf("%w: MAC protection %s", ErrUnsupportedAlgorithm, alg.Algorithm)
}

// CheckMACProtection verifies that protection is the MAC over data as alg
// describes with the shared secret, comparing in constant time. A mismatch
// wraps ErrBadMAC; parameters out of limits or unknown algorithms wrap
// ErrUnsupportedAlgorithm. cache may be nil.
func CheckMACProtection(alg pkix.AlgorithmIdentifier, secret, data, protection []byte, cache *PBMKeyCache) error {
	want, err := MACProtection(alg, secret, data, cache)
	if err != nil {
		return err
	}
	if !hmac.Equal(want, protection) {
		return ErrBadMAC
	}
	return nil
}

package provider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"slices"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
)

// Key algorithm and curve names of cmpv2_certificate: key_algorithm, ecdsa_curve.
const (
	keyAlgorithmRSA     = "RSA"
	keyAlgorithmECDSA   = "ECDSA"
	keyAlgorithmEd25519 = "ED25519"
)

var (
	keyAlgorithms = []string{keyAlgorithmRSA, keyAlgorithmECDSA, keyAlgorithmEd25519}
	rsaKeySizes   = []int64{2048, 3072, 4096}
	ecdsaCurves   = map[string]elliptic.Curve{"P256": elliptic.P256(), "P384": elliptic.P384(), "P521": elliptic.P521()}
)

// keySpec says which key to generate. RSABits only matters for RSA and
// Curve only for ECDSA.
type keySpec struct {
	Algorithm string
	RSABits   int
	Curve     string
}

// generateKey makes a new private key as spec says.
func generateKey(spec keySpec) (crypto.Signer, error) {
	switch spec.Algorithm {
	case keyAlgorithmRSA:
		if !slices.Contains(rsaKeySizes, int64(spec.RSABits)) {
			return nil, fmt.Errorf("RSA key size %d not supported (2048, 3072 or 4096)", spec.RSABits)
		}
		return rsa.GenerateKey(rand.Reader, spec.RSABits)
	case keyAlgorithmECDSA:
		curve, ok := ecdsaCurves[spec.Curve]
		if !ok {
			return nil, fmt.Errorf("ECDSA curve %q not supported (P256, P384 or P521)", spec.Curve)
		}
		return ecdsa.GenerateKey(curve, rand.Reader)
	case keyAlgorithmEd25519:
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	default:
		return nil, fmt.Errorf("key algorithm %q not supported (RSA, ECDSA or ED25519)", spec.Algorithm)
	}
}

// specOf describes an existing key in keySpec terms, so a user-supplied key
// can be compared with key_algorithm, rsa_bits and ecdsa_curve.
func specOf(key crypto.Signer) (keySpec, error) {
	return specOfPublicKey(key.Public())
}

// specOfPublicKey describes a public key in keySpec terms: a key's, or a
// certification request's (certificate_request_pem).
func specOfPublicKey(pub crypto.PublicKey) (keySpec, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return keySpec{Algorithm: keyAlgorithmRSA, RSABits: k.N.BitLen()}, nil
	case *ecdsa.PublicKey:
		for name, curve := range ecdsaCurves {
			if k.Curve == curve {
				return keySpec{Algorithm: keyAlgorithmECDSA, Curve: name}, nil
			}
		}
		return keySpec{}, fmt.Errorf("ECDSA curve %s not supported (P256, P384 or P521)", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return keySpec{Algorithm: keyAlgorithmEd25519}, nil
	default:
		return keySpec{}, fmt.Errorf("unsupported key type %T", pub)
	}
}

// marshalPrivateKeyPEM encodes a key as PKCS#8 "PRIVATE KEY", the form
// terraform-provider-tls's private_key_pem_pkcs8 and OpenSSL 3 use.
func marshalPrivateKeyPEM(key crypto.Signer) (string, error) {
	b, err := pemkey.MarshalPrivateKey(key)
	return string(b), err
}

// parsePrivateKeyPEM parses one PEM private key (pemkey.ParsePrivateKey) of
// a type and size the provider can enroll. Errors never quote the key
// material.
func parsePrivateKeyPEM(s string) (crypto.Signer, error) {
	key, err := pemkey.ParsePrivateKey([]byte(s))
	if err != nil {
		return nil, err
	}
	if _, err := enrollableSpec(key); err != nil {
		return nil, err
	}
	return key, nil
}

// enrollableSpec is specOf for a key the provider can enroll: of a
// supported type and curve, and an RSA key of at least 2048 bits.
func enrollableSpec(key crypto.Signer) (keySpec, error) {
	spec, err := specOf(key)
	if err != nil {
		return keySpec{}, err
	}
	if spec.Algorithm == keyAlgorithmRSA && spec.RSABits < 2048 {
		return keySpec{}, fmt.Errorf("RSA key of %d bits is too small (at least 2048)", spec.RSABits)
	}
	return spec, nil
}

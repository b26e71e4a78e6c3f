package cmp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// signatureScheme is a signature algorithm identifier of RFC 9481 section 3
// reduced to what signing and verifying need.
type signatureScheme struct {
	keyAlgorithm x509.PublicKeyAlgorithm
	hash         crypto.Hash // 0 for Ed25519 (pure EdDSA signs the message itself)
	pss          bool
	saltLength   int // RSASSA-PSS only
}

// pkcs1AndECDSASchemes are the signature identifiers whose OID alone names
// key type and hash.
var pkcs1AndECDSASchemes = []struct {
	oid    asn1.ObjectIdentifier
	scheme signatureScheme
}{
	{OIDSHA256WithRSA, signatureScheme{keyAlgorithm: x509.RSA, hash: crypto.SHA256}},
	{OIDSHA384WithRSA, signatureScheme{keyAlgorithm: x509.RSA, hash: crypto.SHA384}},
	{OIDSHA512WithRSA, signatureScheme{keyAlgorithm: x509.RSA, hash: crypto.SHA512}},
	{OIDECDSAWithSHA256, signatureScheme{keyAlgorithm: x509.ECDSA, hash: crypto.SHA256}},
	{OIDECDSAWithSHA384, signatureScheme{keyAlgorithm: x509.ECDSA, hash: crypto.SHA384}},
	{OIDECDSAWithSHA512, signatureScheme{keyAlgorithm: x509.ECDSA, hash: crypto.SHA512}},
}

// parseSignatureAlgorithm maps a signature AlgorithmIdentifier (protectionAlg,
// POPOSigningKey.algorithmIdentifier) to its scheme.
func parseSignatureAlgorithm(alg pkix.AlgorithmIdentifier) (signatureScheme, error) {
	params, err := AlgorithmParameters(alg)
	if err != nil {
		return signatureScheme{}, err
	}
	for _, s := range pkcs1AndECDSASchemes {
		if s.oid.Equal(alg.Algorithm) {
			// RFC 4055 section 5: NULL for PKCS#1 v1.5; RFC 5758 section 3.2:
			// absent for ECDSA. Both forms occur on the wire for both.
			if !paramsAbsentOrNULL(params) {
				return signatureScheme{}, fmt.Errorf("%w: signature %s with unexpected parameters", ErrUnsupportedAlgorithm, alg.Algorithm)
			}
			return s.scheme, nil
		}
	}
	switch {
	case alg.Algorithm.Equal(OIDEd25519):
		// RFC 8410 section 3: parameters MUST be absent.
		if params != nil {
			return signatureScheme{}, fmt.Errorf("%w: Ed25519 with parameters", ErrUnsupportedAlgorithm)
		}
		return signatureScheme{keyAlgorithm: x509.Ed25519}, nil
	case alg.Algorithm.Equal(OIDRSASSAPSS):
		p, err := ParsePSSParameters(params)
		if err != nil {
			return signatureScheme{}, fmt.Errorf("%w: RSASSA-PSS: %w", ErrUnsupportedAlgorithm, err)
		}
		return signatureScheme{keyAlgorithm: x509.RSA, hash: p.Hash, pss: true, saltLength: p.SaltLength}, nil
	}
	return signatureScheme{}, fmt.Errorf("%w: signature %s", ErrUnsupportedAlgorithm, alg.Algorithm)
}

// SignatureAlgorithmFor returns the signature identifier to use with the
// public key pub (RFC 9481 section 3): ECDSA hashes by curve size (P-256 with
// SHA-256, P-384 with SHA-384, P-521 with SHA-512), RSA with SHA-256 as
// sha256WithRSAEncryption or, when rsaPSS is set, as RSASSA-PSS, and Ed25519
// pure.
func SignatureAlgorithmFor(pub crypto.PublicKey, rsaPSS bool) (pkix.AlgorithmIdentifier, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if rsaPSS {
			return pssAlgorithmIdentifier(crypto.SHA256)
		}
		return NewAlgorithmIdentifier(OIDSHA256WithRSA, asn1NULL)
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256}, nil
		case elliptic.P384():
			return pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA384}, nil
		case elliptic.P521():
			return pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA512}, nil
		}
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedAlgorithm, k.Curve.Params().Name)
	case ed25519.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: OIDEd25519}, nil
	}
	return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: public key type %T", ErrUnsupportedAlgorithm, pub)
}

// PSSParameters holds what this package uses of
//
//	RSASSA-PSS-params ::= SEQUENCE {
//	    hashAlgorithm      [0] HashAlgorithm    DEFAULT sha1,
//	    maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
//	    saltLength         [2] INTEGER          DEFAULT 20,
//	    trailerField       [3] TrailerField     DEFAULT trailerFieldBC }
//
// (RFC 4055 section 3.1; the module uses EXPLICIT tags). RFC 9481 section 3.1
// uses it with SHA-2; the MGF1 hash must equal hashAlgorithm.
type PSSParameters struct {
	Hash       crypto.Hash
	SaltLength int
}

// maxPSSSaltLength bounds a received saltLength; RFC 4055 recommends the
// hash length, 64 for SHA-512.
const maxPSSSaltLength = 512

// ParsePSSParameters decodes RSASSA-PSS-params. It refuses the SHA-1
// defaults (RFC 9481 uses PSS with SHA-2 only), an MGF other than MGF1 with
// the same hash, and a trailerField other than 1.
func ParsePSSParameters(der []byte) (PSSParameters, error) {
	if der == nil {
		return PSSParameters{}, errors.New("parameters absent (SHA-1 defaults are not accepted)")
	}
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return PSSParameters{}, errors.New("RSASSA-PSS-params: not a single SEQUENCE")
	}
	var hashField, mgfField, saltField, trailerField cryptobyte.String
	var hasHash, hasMGF, hasSalt, hasTrailer bool
	if !seq.ReadOptionalASN1(&hashField, &hasHash, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&mgfField, &hasMGF, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&saltField, &hasSalt, cbasn1.Tag(2).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&trailerField, &hasTrailer, cbasn1.Tag(3).Constructed().ContextSpecific()) {
		return PSSParameters{}, errors.New("RSASSA-PSS-params: malformed field")
	}
	if !seq.Empty() {
		return PSSParameters{}, within("RSASSA-PSS-params", errTrailing)
	}
	if !hasHash {
		return PSSParameters{}, errors.New("RSASSA-PSS-params: hashAlgorithm absent (SHA-1 default is not accepted)")
	}
	hashAlg, err := readWholeAlgorithmIdentifier(hashField, "hashAlgorithm")
	if err != nil {
		return PSSParameters{}, err
	}
	h, err := digestHash(hashAlg)
	if err != nil {
		return PSSParameters{}, fmt.Errorf("RSASSA-PSS-params hashAlgorithm: %w", err)
	}
	if h == crypto.SHA1 {
		return PSSParameters{}, errors.New("RSASSA-PSS-params: SHA-1 is not accepted (RFC 9481 section 3.1)")
	}
	if !hasMGF {
		return PSSParameters{}, errors.New("RSASSA-PSS-params: maskGenAlgorithm absent (mgf1SHA1 default is not accepted)")
	}
	mgf, err := readWholeAlgorithmIdentifier(mgfField, "maskGenAlgorithm")
	if err != nil {
		return PSSParameters{}, err
	}
	if !mgf.Algorithm.Equal(OIDMGF1) {
		return PSSParameters{}, fmt.Errorf("RSASSA-PSS-params: mask generation %s is not MGF1", mgf.Algorithm)
	}
	mgfParams, err := AlgorithmParameters(mgf)
	if err != nil {
		return PSSParameters{}, err
	}
	mgfHashAlg, err := ParseAlgorithmIdentifier(mgfParams)
	if err != nil {
		return PSSParameters{}, fmt.Errorf("RSASSA-PSS-params MGF1 hash: %w", err)
	}
	mgfHash, err := digestHash(mgfHashAlg)
	if err != nil {
		return PSSParameters{}, fmt.Errorf("RSASSA-PSS-params MGF1 hash: %w", err)
	}
	if mgfHash != h {
		return PSSParameters{}, fmt.Errorf("RSASSA-PSS-params: MGF1 hash %v differs from hash %v", mgfHash, h)
	}
	p := PSSParameters{Hash: h, SaltLength: 20}
	if hasSalt {
		var salt int64
		if !saltField.ReadASN1Integer(&salt) || !saltField.Empty() {
			return PSSParameters{}, errors.New("RSASSA-PSS-params: saltLength is not an INTEGER")
		}
		// Zero is refused: crypto/rsa verifies a zero SaltLength as "any
		// length", so the parameter would not be enforced.
		if salt < 1 || salt > maxPSSSaltLength {
			return PSSParameters{}, fmt.Errorf("RSASSA-PSS-params: saltLength %d out of range 1..%d", salt, maxPSSSaltLength)
		}
		p.SaltLength = int(salt)
	}
	if hasTrailer {
		var trailer int64
		if !trailerField.ReadASN1Integer(&trailer) || !trailerField.Empty() {
			return PSSParameters{}, errors.New("RSASSA-PSS-params: trailerField is not an INTEGER")
		}
		if trailer != 1 {
			return PSSParameters{}, fmt.Errorf("RSASSA-PSS-params: trailerField %d (only 1, trailerFieldBC, is defined)", trailer)
		}
	}
	return p, nil
}

// readWholeAlgorithmIdentifier reads an AlgorithmIdentifier that must fill s.
func readWholeAlgorithmIdentifier(s cryptobyte.String, field string) (pkix.AlgorithmIdentifier, error) {
	var alg pkix.AlgorithmIdentifier
	err := readAlgID(&s, &alg)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("RSASSA-PSS-params %s: %w", field, err)
	}
	if !s.Empty() {
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("RSASSA-PSS-params %s: %w", field, errTrailing)
	}
	return alg, nil
}

// MarshalPSSParameters encodes p with MGF1 over the same hash, the way RFC
// 4055 section 3.1 and Go's crypto/x509 write them (hash identifiers with
// NULL parameters; trailerField left at its default).
func MarshalPSSParameters(p PSSParameters) ([]byte, error) {
	hashAlg, err := digestIdentifier(p.Hash)
	if err != nil {
		return nil, err
	}
	if p.Hash == crypto.SHA1 {
		return nil, fmt.Errorf("%w: RSASSA-PSS with SHA-1", ErrUnsupportedAlgorithm)
	}
	hashAlg, err = NewAlgorithmIdentifier(hashAlg.Algorithm, asn1NULL)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			addAlgID(b, hashAlg)
		})
		b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(OIDMGF1)
				addAlgID(b, hashAlg)
			})
		})
		if p.SaltLength != 20 { // DER omits the DEFAULT
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1Int64(int64(p.SaltLength))
			})
		}
	})
	return b.Bytes()
}

// pssAlgorithmIdentifier returns RSASSA-PSS with hash h, MGF1 over h and a
// salt as long as the hash (RFC 4056 section 2).
func pssAlgorithmIdentifier(h crypto.Hash) (pkix.AlgorithmIdentifier, error) {
	params, err := MarshalPSSParameters(PSSParameters{Hash: h, SaltLength: h.Size()})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, err
	}
	return NewAlgorithmIdentifier(OIDRSASSAPSS, params)
}

package cmp

import (
	"crypto"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxPBKDF2KeyLength bounds a received PBKDF2 keyLength; an HMAC key longer
// than the hash block adds nothing.
const maxPBKDF2KeyLength = 128

// oidPBES2 is id-PBES2 (RFC 8018 appendix A.4), an encryption scheme, not a
// key derivation function. Bouncy Castle's JcePBMac1CalculatorBuilder (1.72
// and bc-java's later sources) labels PBMAC1's keyDerivationFunc with it while
// the parameters are PBKDF2-params, where RFC 8018 appendix A.5 and RFC 9481
// sections 6.1.2 and 7.1 name id-PBKDF2. The label is unambiguous (PBES2-params
// cannot derive a MAC key), so a received id-PBES2 whose parameters are
// PBKDF2-params is read as id-PBKDF2, with the same checks; what is sent
// always says id-PBKDF2 (see pbmac1ForSending).
var oidPBES2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}

// PBMAC1Parameter is the parameter of id-PBMAC1 (RFC 8018 appendix A.5,
// RFC 9481 section 6.1.2):
//
//	PBMAC1-params ::= SEQUENCE {
//	    keyDerivationFunc  AlgorithmIdentifier {{PBMAC1-KDFs}},
//	    messageAuthScheme  AlgorithmIdentifier {{PBMAC1-MACs}} }
type PBMAC1Parameter struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	MessageAuthScheme pkix.AlgorithmIdentifier
}

// PBKDF2Parameter is the parameter of id-PBKDF2 (RFC 8018 appendix A.2):
//
//	PBKDF2-params ::= SEQUENCE {
//	    salt CHOICE {
//	        specified OCTET STRING,
//	        otherSource AlgorithmIdentifier {{PBKDF2-SaltSources}} },
//	    iterationCount INTEGER (1..MAX),
//	    keyLength INTEGER (1..MAX) OPTIONAL,
//	    prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
//
// Only the specified salt is supported (RFC 8018 reserves otherSource).
type PBKDF2Parameter struct {
	Salt           []byte
	IterationCount int64
	KeyLength      int64                     // 0: absent
	PRF            *pkix.AlgorithmIdentifier // nil: absent, i.e. hmacWithSHA1
}

// ParsePBMAC1Parameter decodes the DER of PBMAC1-params.
func ParsePBMAC1Parameter(der []byte) (*PBMAC1Parameter, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("PBMAC1-params: not a SEQUENCE")
	}
	if !in.Empty() {
		return nil, within("PBMAC1-params", errTrailing)
	}
	var p PBMAC1Parameter
	var err error
	if err = readAlgID(&seq, &p.KeyDerivationFunc); err != nil {
		return nil, fmt.Errorf("PBMAC1-params keyDerivationFunc: %w", err)
	}
	if err = readAlgID(&seq, &p.MessageAuthScheme); err != nil {
		return nil, fmt.Errorf("PBMAC1-params messageAuthScheme: %w", err)
	}
	if !seq.Empty() {
		return nil, fmt.Errorf("PBMAC1-params: %w in SEQUENCE", errTrailing)
	}
	return &p, nil
}

// Marshal returns the DER of p.
func (p *PBMAC1Parameter) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addAlgID(b, p.KeyDerivationFunc)
		addAlgID(b, p.MessageAuthScheme)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("PBMAC1-params: %w", err)
	}
	return der, nil
}

// ParsePBKDF2Parameter decodes the DER of PBKDF2-params.
func ParsePBKDF2Parameter(der []byte) (*PBKDF2Parameter, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("PBKDF2-params: not a SEQUENCE")
	}
	if !in.Empty() {
		return nil, within("PBKDF2-params", errTrailing)
	}
	var p PBKDF2Parameter
	if seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: PBKDF2-params salt otherSource", ErrUnsupportedAlgorithm)
	}
	var salt cryptobyte.String
	if !seq.ReadASN1(&salt, cbasn1.OCTET_STRING) {
		return nil, errors.New("PBKDF2-params: salt is not an OCTET STRING")
	}
	p.Salt = append([]byte(nil), salt...)
	if !seq.ReadASN1Integer(&p.IterationCount) {
		return nil, errors.New("PBKDF2-params: iterationCount is not an INTEGER in range")
	}
	if seq.PeekASN1Tag(cbasn1.INTEGER) {
		if !seq.ReadASN1Integer(&p.KeyLength) {
			return nil, errors.New("PBKDF2-params: keyLength is not an INTEGER in range")
		}
		if p.KeyLength < 1 {
			return nil, fmt.Errorf("PBKDF2-params: keyLength %d is not positive", p.KeyLength)
		}
	}
	if !seq.Empty() {
		var prf pkix.AlgorithmIdentifier
		err := readAlgID(&seq, &prf)
		if err != nil {
			return nil, fmt.Errorf("PBKDF2-params prf: %w", err)
		}
		p.PRF = &prf
	}
	if !seq.Empty() {
		return nil, fmt.Errorf("PBKDF2-params: %w in SEQUENCE", errTrailing)
	}
	return &p, nil
}

// Marshal returns the DER of p.
func (p *PBKDF2Parameter) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1OctetString(p.Salt)
		b.AddASN1Int64(p.IterationCount)
		if p.KeyLength != 0 {
			b.AddASN1Int64(p.KeyLength)
		}
		if p.PRF != nil {
			addAlgID(b, *p.PRF)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("PBKDF2-params: %w", err)
	}
	return der, nil
}

// pbmac1Scheme is a checked PBMAC1 parameter set.
type pbmac1Scheme struct {
	kdf       *PBKDF2Parameter
	prf       crypto.Hash
	mac       crypto.Hash
	keyLength int
}

// parsePBMAC1 decodes and checks the DER of PBMAC1-params.
func parsePBMAC1(params []byte) (pbmac1Scheme, error) {
	p, err := ParsePBMAC1Parameter(params)
	if err != nil {
		return pbmac1Scheme{}, fmt.Errorf("%w: %w", ErrUnsupportedAlgorithm, err)
	}
	mislabelled := p.KeyDerivationFunc.Algorithm.Equal(oidPBES2)
	if !p.KeyDerivationFunc.Algorithm.Equal(OIDPBKDF2) && !mislabelled {
		return pbmac1Scheme{}, fmt.Errorf("%w: PBMAC1 key derivation %s (only PBKDF2 is supported)", ErrUnsupportedAlgorithm, p.KeyDerivationFunc.Algorithm)
	}
	kdfParams, err := AlgorithmParameters(p.KeyDerivationFunc)
	if err != nil {
		return pbmac1Scheme{}, err
	}
	kdf, err := ParsePBKDF2Parameter(kdfParams)
	switch {
	case err != nil && mislabelled:
		return pbmac1Scheme{}, fmt.Errorf("%w: PBMAC1 key derivation id-PBES2 is read as id-PBKDF2 only with PBKDF2-params: %w", ErrUnsupportedAlgorithm, err)
	case err != nil:
		return pbmac1Scheme{}, fmt.Errorf("%w: PBMAC1: %w", ErrUnsupportedAlgorithm, err)
	}
	if err := checkSaltAndIterations("PBMAC1 PBKDF2", kdf.Salt, kdf.IterationCount); err != nil {
		return pbmac1Scheme{}, err
	}
	s := pbmac1Scheme{kdf: kdf, prf: crypto.SHA1}
	if kdf.PRF != nil {
		if s.prf, err = hmacHash(*kdf.PRF); err != nil {
			return pbmac1Scheme{}, fmt.Errorf("PBMAC1 PBKDF2 prf: %w", err)
		}
	}
	if s.mac, err = hmacHash(p.MessageAuthScheme); err != nil {
		return pbmac1Scheme{}, fmt.Errorf("PBMAC1 messageAuthScheme: %w", err)
	}
	// RFC 8018 appendix A.5 leaves keyLength to the MAC; an HMAC key as long
	// as the hash output is the natural choice (and what senders put there).
	s.keyLength = s.mac.Size()
	if kdf.KeyLength != 0 {
		if kdf.KeyLength > maxPBKDF2KeyLength {
			return pbmac1Scheme{}, fmt.Errorf("%w: PBMAC1 PBKDF2 keyLength %d exceeds the cap of %d", ErrUnsupportedAlgorithm, kdf.KeyLength, maxPBKDF2KeyLength)
		}
		s.keyLength = int(kdf.KeyLength)
	}
	return s, nil
}

// pbmac1MAC returns the PBMAC1 value over data with the parameters params
// (the DER of PBMAC1-params), deriving the key through cache when it is not
// nil.
func pbmac1MAC(params, secret, data []byte, cache *PBMKeyCache) ([]byte, error) {
	s, err := parsePBMAC1(params)
	if err != nil {
		return nil, err
	}
	id := derivedKeyID{scheme: "PBKDF2", hash: s.prf, iterations: int(s.kdf.IterationCount), keyLength: s.keyLength, salt: string(s.kdf.Salt)}
	key, err := cache.key(id, secret, func() ([]byte, error) {
		k, err := pbkdf2.Key(func() hash.Hash { return s.prf.New() }, string(secret), s.kdf.Salt, int(s.kdf.IterationCount), s.keyLength)
		if err != nil {
			return nil, fmt.Errorf("PBMAC1 PBKDF2: %w", err)
		}
		return k, nil
	})
	if err != nil {
		return nil, err
	}
	m := hmac.New(s.mac.New, key)
	m.Write(data)
	return m.Sum(nil), nil
}

// pbmac1ForSending returns alg, a PBMAC1 protectionAlg taken from a received
// message, with its keyDerivationFunc labelled id-PBKDF2 (RFC 8018
// appendix A.5) when the peer labelled it id-PBES2 (see oidPBES2); any
// other alg is returned as is. The parameters are kept byte for byte.
func pbmac1ForSending(alg pkix.AlgorithmIdentifier) (pkix.AlgorithmIdentifier, error) {
	if !alg.Algorithm.Equal(OIDPBMAC1) {
		return alg, nil
	}
	params, err := AlgorithmParameters(alg)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, err
	}
	p, err := ParsePBMAC1Parameter(params)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: %w", ErrUnsupportedAlgorithm, err)
	}
	if !p.KeyDerivationFunc.Algorithm.Equal(oidPBES2) {
		return alg, nil
	}
	p.KeyDerivationFunc.Algorithm = OIDPBKDF2
	der, err := p.Marshal()
	if err != nil {
		return pkix.AlgorithmIdentifier{}, err
	}
	return NewAlgorithmIdentifier(OIDPBMAC1, der)
}

package cmp

import (
	"crypto"
	"crypto/hmac"
	"crypto/x509/pkix"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Limits on password-based MAC parameters, applied to what is received and to
// what is sent (this package never sends what it would refuse).
const (
	// MaxMACIterations caps the iteration count of a received
	// PasswordBasedMac or PBKDF2: the count is chosen by the sender and each
	// iteration costs the receiver a hash, so a larger one is a cheap way to
	// make a server or client burn CPU.
	MaxMACIterations = 100000
	// MinMACIterations is the floor of RFC 4211 section 4.4 ("The
	// iterationCount MUST be a minimum of 100").
	MinMACIterations = 100
	// DefaultMACIterations is the count used when MACParams leaves it zero.
	DefaultMACIterations = 10000
	// MinSaltLength follows RFC 4211 section 4.4 and RFC 8018 section 4.1
	// (the salt "SHOULD be at least 8 octets").
	MinSaltLength = 8
	// maxSaltLength bounds a received salt; senders use 16 bytes.
	maxSaltLength = 1024
	// defaultSaltLength is what OpenSSL and Insta Certifier send.
	defaultSaltLength = 16
)

// ErrBadMAC is wrapped by the error returned when a MAC-protected message
// does not verify with the given secret. A server answers it with failInfo
// badMessageCheck (RFC 9810 section 5.2.3).
var ErrBadMAC = errors.New("MAC does not verify")

// PBMParameter is the parameter of id-PasswordBasedMac (RFC 4211 section 4.4,
// RFC 9810 section 5.1.3.1):
//
//	PBMParameter ::= SEQUENCE {
//	    salt                OCTET STRING,
//	    owf                 AlgorithmIdentifier,
//	    iterationCount      INTEGER,
//	    mac                 AlgorithmIdentifier }
type PBMParameter struct {
	Salt           []byte
	OWF            pkix.AlgorithmIdentifier
	IterationCount int64
	MAC            pkix.AlgorithmIdentifier
}

// ParsePBMParameter decodes the DER of a PBMParameter. It checks structure
// only; the limits are applied by (*PBMParameter).check.
func ParsePBMParameter(der []byte) (*PBMParameter, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("PBMParameter: not a SEQUENCE")
	}
	if !in.Empty() {
		return nil, within("PBMParameter", errTrailing)
	}
	var p PBMParameter
	var salt cryptobyte.String
	if !seq.ReadASN1(&salt, cbasn1.OCTET_STRING) {
		return nil, errors.New("PBMParameter: salt is not an OCTET STRING")
	}
	p.Salt = append([]byte(nil), salt...)
	var err error
	if err = readAlgID(&seq, &p.OWF); err != nil {
		return nil, fmt.Errorf("PBMParameter owf: %w", err)
	}
	if !seq.ReadASN1Integer(&p.IterationCount) {
		return nil, errors.New("PBMParameter: iterationCount is not an INTEGER in range")
	}
	if err = readAlgID(&seq, &p.MAC); err != nil {
		return nil, fmt.Errorf("PBMParameter mac: %w", err)
	}
	if !seq.Empty() {
		return nil, fmt.Errorf("PBMParameter: %w in SEQUENCE", errTrailing)
	}
	return &p, nil
}

// Marshal returns the DER of p.
func (p *PBMParameter) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1OctetString(p.Salt)
		addAlgID(b, p.OWF)
		b.AddASN1Int64(p.IterationCount)
		addAlgID(b, p.MAC)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("PBMParameter: %w", err)
	}
	return der, nil
}

// check applies this package's limits and returns the OWF and MAC hashes.
func (p *PBMParameter) check() (owf, mac crypto.Hash, err error) {
	if err := checkSaltAndIterations("PasswordBasedMac", p.Salt, p.IterationCount); err != nil {
		return 0, 0, err
	}
	if owf, err = digestHash(p.OWF); err != nil {
		return 0, 0, fmt.Errorf("PasswordBasedMac owf: %w", err)
	}
	if mac, err = hmacHash(p.MAC); err != nil {
		return 0, 0, fmt.Errorf("PasswordBasedMac mac: %w", err)
	}
	return owf, mac, nil
}

// checkSaltAndIterations applies the salt and iteration limits.
func checkSaltAndIterations(scheme string, salt []byte, iterations int64) error {
	if iterations > MaxMACIterations {
		return fmt.Errorf("%w: %s iterationCount %d exceeds the cap of %d", ErrUnsupportedAlgorithm, scheme, iterations, MaxMACIterations)
	}
	if iterations < MinMACIterations {
		return fmt.Errorf("%w: %s iterationCount %d is below the minimum of %d (RFC 4211 section 4.4)", ErrUnsupportedAlgorithm, scheme, iterations, MinMACIterations)
	}
	if len(salt) < MinSaltLength {
		return fmt.Errorf("%w: %s salt of %d bytes is shorter than the minimum of %d", ErrUnsupportedAlgorithm, scheme, len(salt), MinSaltLength)
	}
	if len(salt) > maxSaltLength {
		return fmt.Errorf("%w: %s salt of %d bytes exceeds the cap of %d", ErrUnsupportedAlgorithm, scheme, len(salt), maxSaltLength)
	}
	return nil
}

// derivePBMKey computes BASEKEY of RFC 9810 section 5.1.3.1: the OWF applied
// iterationCount times, first to secret || salt, then to its own output. The
// HMACs used here take BASEKEY as their key as is (HMAC accepts any key
// length, so the key expansion of that section is never needed).
func derivePBMKey(owf crypto.Hash, secret, salt []byte, iterations int) []byte {
	h := owf.New()
	h.Write(secret)
	h.Write(salt)
	key := h.Sum(make([]byte, 0, owf.Size()))
	for i := 1; i < iterations; i++ {
		h.Reset()
		h.Write(key)
		key = h.Sum(key[:0])
	}
	return key
}

// pbmMAC returns the PasswordBasedMac value over data with the parameters
// params (the DER of a PBMParameter), deriving the key through cache when it
// is not nil.
func pbmMAC(params, secret, data []byte, cache *PBMKeyCache) ([]byte, error) {
	p, err := ParsePBMParameter(params)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedAlgorithm, err)
	}
	owf, mac, err := p.check()
	if err != nil {
		return nil, err
	}
	id := derivedKeyID{scheme: "PasswordBasedMac", hash: owf, iterations: int(p.IterationCount), salt: string(p.Salt)}
	k, err := cache.key(id, secret, func() ([]byte, error) {
		return derivePBMKey(owf, secret, p.Salt, int(p.IterationCount)), nil
	})
	if err != nil {
		return nil, err
	}
	m := hmac.New(mac.New, k)
	m.Write(data)
	return m.Sum(nil), nil
}

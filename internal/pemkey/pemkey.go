// Package pemkey reads and writes the PEM forms of certificates and private
// keys (RFC 7468) and says whether a private key belongs to a certificate.
// The provider and the development CA both read PEM through it, so a key or
// certificate is accepted or refused with the same words everywhere.
//
// Two readings are offered. The Parse functions are strict, for a value a
// user pastes into a configuration: nothing but the expected blocks and
// white space. The Find functions read a file the way OpenSSL's PEM readers
// do, skipping text and blocks of other types ("openssl x509 -text" puts a
// dump before the certificate, "openssl ecparam -genkey" an "EC PARAMETERS"
// block before the key).
//
// Errors name the block and what is wrong with it; they never quote a
// block's content, which may be a secret.
package pemkey

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// PEM block types (RFC 7468 section 5, 10 and 11; SEC 1 and PKCS#1 keys as
// OpenSSL writes them).
const (
	TypeCertificate     = "CERTIFICATE"
	TypePrivateKey      = "PRIVATE KEY"           // PKCS#8, RFC 5958
	TypeRSAPrivateKey   = "RSA PRIVATE KEY"       // PKCS#1, RFC 8017
	TypeECPrivateKey    = "EC PRIVATE KEY"        // SEC 1, RFC 5915
	TypeEncryptedKey    = "ENCRYPTED PRIVATE KEY" // PKCS#8 EncryptedPrivateKeyInfo
	TypePublicKey       = "PUBLIC KEY"            // SubjectPublicKeyInfo
	TypeCSR             = "CERTIFICATE REQUEST"   // PKCS#10, RFC 2986
	typeNewCSR          = "NEW CERTIFICATE REQUEST"
	wantPrivateKeyTypes = `"PRIVATE KEY", "RSA PRIVATE KEY" or "EC PRIVATE KEY"`
)

// ParseCertificates parses one or more "CERTIFICATE" blocks: a certificate
// and, after it, its issuers. Another block type or stray text anywhere is
// an error, so a private key pasted where a certificate belongs is caught.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	blocks, rest, err := strictBlocks(data)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for i, block := range blocks {
		if block.Type != TypeCertificate {
			return nil, fmt.Errorf("PEM block %d is a %q, want %q", i+1, block.Type, TypeCertificate)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", i+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no PEM %q block found", TypeCertificate)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("unexpected data after PEM block %d", len(certs))
	}
	return certs, nil
}

// ParsePrivateKey parses exactly one PEM private key: "PRIVATE KEY"
// (PKCS#8), "RSA PRIVATE KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC 1), with
// nothing but white space around it.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	blocks, rest, err := strictBlocks(data)
	if err != nil {
		return nil, err
	}
	switch {
	case len(blocks) == 0 && len(rest) != 0:
		return nil, errors.New("no PEM block found at the start")
	case len(blocks) == 0:
		return nil, errors.New("no PEM block found")
	case len(blocks) > 1 || len(rest) != 0:
		return nil, errors.New("unexpected data after the PEM private key")
	}
	return privateKey(blocks[0])
}

// ParseCertificateRequest parses exactly one PEM PKCS#10 certification
// request, "CERTIFICATE REQUEST" (RFC 7468 section 7; the "NEW CERTIFICATE
// REQUEST" label older tools write is accepted too, as RFC 7468 section 7
// asks), with nothing but white space around it, and checks its signature:
// a CSR whose signature does not verify proves no possession of its key
// (RFC 2986 section 3).
func ParseCertificateRequest(data []byte) (*x509.CertificateRequest, error) {
	blocks, rest, err := strictBlocks(data)
	if err != nil {
		return nil, err
	}
	switch {
	case len(blocks) == 0:
		return nil, fmt.Errorf("no PEM %q block found", TypeCSR)
	case len(blocks) > 1 || len(rest) != 0:
		return nil, errors.New("unexpected data after the PEM certification request")
	case blocks[0].Type != TypeCSR && blocks[0].Type != typeNewCSR:
		return nil, fmt.Errorf("PEM block 1 is a %q, want %q", blocks[0].Type, TypeCSR)
	}
	csr, err := x509.ParseCertificateRequest(blocks[0].Bytes)
	if err != nil {
		return nil, fmt.Errorf("PEM block 1: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("the certification request's signature does not verify: %w", err)
	}
	return csr, nil
}

// ParseBundle parses PEM certificates and exactly one private key, in any
// order, with nothing else but white space: what a tool exports for one
// identity. The key block is returned as found, for a caller that keeps the
// key in the form the user gave it.
func ParseBundle(data []byte) ([]*x509.Certificate, crypto.Signer, *pem.Block, error) {
	blocks, rest, err := strictBlocks(data)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(rest) != 0 {
		if len(blocks) == 0 {
			return nil, nil, nil, errors.New("no PEM block found at the start")
		}
		return nil, nil, nil, fmt.Errorf("unexpected data after PEM block %d", len(blocks))
	}
	var certs []*x509.Certificate
	var keyBlock *pem.Block
	for i, block := range blocks {
		if block.Type != TypeCertificate {
			if keyBlock != nil {
				return nil, nil, nil, fmt.Errorf("PEM block %d is a second private key", i+1)
			}
			keyBlock = block
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("PEM block %d: %w", i+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 || keyBlock == nil {
		return nil, nil, nil, errors.New("a certificate and its private key are both needed")
	}
	key, err := privateKey(keyBlock)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("private key: %w", err)
	}
	return certs, key, keyBlock, nil
}

// FindCertificates returns every "CERTIFICATE" block of a file, skipping
// text and blocks of other types.
func FindCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			break
		}
		if block.Type != TypeCertificate {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no PEM %q block found", TypeCertificate)
	}
	return certs, nil
}

// FindPrivateKey returns the first private key block of a file, skipping
// text and blocks of other types.
func FindPrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			return nil, errors.New("no PEM private key found")
		}
		switch block.Type {
		case TypePrivateKey, TypeRSAPrivateKey, TypeECPrivateKey, TypeEncryptedKey:
			return privateKey(block)
		}
	}
}

// strictBlocks decodes the PEM blocks data starts with. rest is what follows
// the last block, white space trimmed: anything there is not PEM. pem.Decode
// itself skips text before a block, which would let stray text in a
// configuration pass unnoticed, so each block must start the remaining data.
func strictBlocks(data []byte) (blocks []*pem.Block, rest []byte, err error) {
	rest = bytes.TrimSpace(data)
	for bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
		block, r := pem.Decode(rest)
		// pem.Decode passes over a malformed block to a later good one;
		// then what it consumed holds two headers.
		if block == nil || bytes.Count(rest[:len(rest)-len(r)], []byte("-----BEGIN ")) != 1 {
			return nil, nil, fmt.Errorf("PEM block %d is malformed", len(blocks)+1)
		}
		blocks = append(blocks, block)
		rest = bytes.TrimSpace(r)
	}
	return blocks, rest, nil
}

// privateKey parses one private key block of a supported type.
func privateKey(block *pem.Block) (crypto.Signer, error) {
	if _, encrypted := block.Headers["Proc-Type"]; encrypted || block.Type == TypeEncryptedKey {
		return nil, errors.New("encrypted PEM private keys are not supported")
	}
	var key any
	var err error
	switch block.Type {
	case TypePrivateKey:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case TypeRSAPrivateKey:
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case TypeECPrivateKey:
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		// The block type is safe to show; its content may be a secret.
		return nil, fmt.Errorf("PEM block is a %q, want %s", block.Type, wantPrivateKeyTypes)
	}
	if err != nil {
		// crypto/x509's parse errors describe the structure, never the key.
		return nil, fmt.Errorf("parse %s: %w", block.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		// PKCS#8 also carries X25519 and other key-agreement keys.
		return nil, fmt.Errorf("%s holds a %T, which cannot sign", block.Type, key)
	}
	return signer, nil
}

// MarshalPrivateKey encodes a key as PKCS#8 "PRIVATE KEY", the form OpenSSL
// 3 writes and every supported key type has.
func MarshalPrivateKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: TypePrivateKey, Bytes: der}), nil
}

// MarshalPublicKey encodes a public key as a SubjectPublicKeyInfo
// "PUBLIC KEY" (RFC 7468 section 13).
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: TypePublicKey, Bytes: der}), nil
}

// EncodeCertificates encodes DER certificates as consecutive "CERTIFICATE"
// blocks, in the order given.
func EncodeCertificates(ders ...[]byte) []byte {
	var out []byte
	for _, der := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: TypeCertificate, Bytes: der})...)
	}
	return out
}

// BelongsTo reports whether key is the private key of cert's subject public
// key. A nil key or certificate belongs to nothing.
func BelongsTo(key crypto.Signer, cert *x509.Certificate) bool {
	return cert != nil && HasPublicKey(key, cert.PublicKey)
}

// HasPublicKey reports whether pub is key's public key (for a key checked
// against a certification request's template rather than a certificate).
func HasPublicKey(key crypto.Signer, pub crypto.PublicKey) bool {
	if key == nil || pub == nil {
		return false
	}
	k, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(pub)
}

package devca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/serialnumber"
)

// Files the development CA keeps in its state directory. A user may put
// their own CA key and certificate there (PEM) before the first start.
const (
	caKeyFile      = "ca.key"
	caCertFile     = "ca.crt"
	signerKeyFile  = "signer.key"
	signerCertFile = "signer.crt"
	credsFile      = "pbm.json"
	recordFile     = "certs.jsonl"
)

// The names every certificate this CA makes carries, so nobody mistakes it
// for a production CA.
var (
	caSubject = pkix.Name{
		Organization: []string{"terraform-provider-cmpv2 development CA"},
		CommonName:   "cmpv2 Development CA - NOT FOR PRODUCTION",
	}
	signerSubject = pkix.Name{
		Organization: []string{"terraform-provider-cmpv2 development CA"},
		CommonName:   "cmpv2 Development CA CMP Signer - NOT FOR PRODUCTION",
	}
)

const (
	caLifetime     = 10 * 365 * 24 * time.Hour
	signerLifetime = 2 * 365 * 24 * time.Hour
	// A signer that expires within this margin is replaced at start-up.
	signerRenewMargin = 30 * 24 * time.Hour
)

// state is what the CA keeps on disk apart from the record of issued
// certificates: its own keys and certificates and the PBM credential.
type state struct {
	caKey  crypto.Signer
	caCert *x509.Certificate
	// caChain is the issuers of a user-supplied CA certificate that is not
	// self-signed, nearest first (further certificates in ca.crt).
	caChain    []*x509.Certificate
	signerKey  crypto.Signer
	signerCert *x509.Certificate
	reference  string
	secret     string
}

// pbmCredential is the JSON shape of credsFile.
type pbmCredential struct {
	Reference string `json:"reference"`
	Secret    string `json:"secret"`
}

// loadState reads the state directory, creating what is missing: the root
// CA (unless the user put one there), the CMP signer and the PBM credential.
func loadState(dir string, now time.Time) (*state, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	st := &state{}
	var err error
	if st.caKey, st.caCert, st.caChain, err = loadOrCreateCA(dir, now); err != nil {
		return nil, err
	}
	if st.signerKey, st.signerCert, err = loadOrCreateSigner(dir, st.caKey, st.caCert, now); err != nil {
		return nil, err
	}
	if st.reference, st.secret, err = loadOrCreateCredential(dir); err != nil {
		return nil, err
	}
	return st, nil
}

func loadOrCreateCA(dir string, now time.Time) (crypto.Signer, *x509.Certificate, []*x509.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, caKeyFile), filepath.Join(dir, caCertFile)
	keyExists, certExists := fileExists(keyPath), fileExists(certPath)
	if keyExists != certExists {
		return nil, nil, nil, fmt.Errorf("state directory %s holds only one of %s and %s; put both or neither", dir, caKeyFile, caCertFile)
	}
	if keyExists {
		key, cert, err := loadKeyPair(keyPath, certPath)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("CA: %w", err)
		}
		if !cert.IsCA || (cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0) {
			return nil, nil, nil, fmt.Errorf("CA: %s is not a CA certificate (basicConstraints cA and keyCertSign needed)", certPath)
		}
		certs, err := readCertificates(certPath)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("CA: %w", err)
		}
		return key, cert, certs[1:], nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("CA key: %w", err)
	}
	serial, err := serialnumber.Random()
	if err != nil {
		return nil, nil, nil, err
	}
	skid, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               caSubject,
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          skid,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("CA certificate: %w", err)
	}
	if err := writeKeyPair(keyPath, certPath, key, der); err != nil {
		return nil, nil, nil, fmt.Errorf("CA: %w", err)
	}
	return key, cert, nil, nil
}

// loadOrCreateSigner returns the CMP signer, making a new one when there is
// none, when it was not issued by the current CA (the user replaced the CA)
// or when it is about to expire.
func loadOrCreateSigner(dir string, caKey crypto.Signer, caCert *x509.Certificate, now time.Time) (crypto.Signer, *x509.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, signerKeyFile), filepath.Join(dir, signerCertFile)
	if fileExists(keyPath) && fileExists(certPath) {
		key, cert, err := loadKeyPair(keyPath, certPath)
		if err != nil {
			return nil, nil, fmt.Errorf("CMP signer: %w", err)
		}
		if cert.CheckSignatureFrom(caCert) == nil && now.Add(signerRenewMargin).Before(cert.NotAfter) {
			return key, cert, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("CMP signer key: %w", err)
	}
	serial, err := serialnumber.Random()
	if err != nil {
		return nil, nil, err
	}
	skid, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(signerLifetime)
	if notAfter.After(caCert.NotAfter) {
		notAfter = caCert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      signerSubject,
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     notAfter,
		// RFC 9483 3.1: the CMP protection certificate needs digitalSignature.
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SubjectKeyId:          skid,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("CMP signer certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("CMP signer certificate: %w", err)
	}
	if err := writeKeyPair(keyPath, certPath, key, der); err != nil {
		return nil, nil, fmt.Errorf("CMP signer: %w", err)
	}
	return key, cert, nil
}

func loadOrCreateCredential(dir string) (reference, secret string, err error) {
	path := filepath.Join(dir, credsFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		var c pbmCredential
		if err := json.Unmarshal(data, &c); err != nil {
			return "", "", fmt.Errorf("PBM credential %s: %w", path, err)
		}
		if c.Reference == "" || c.Secret == "" {
			return "", "", fmt.Errorf("PBM credential %s: reference and secret must both be set", path)
		}
		return c.Reference, c.Secret, nil
	case !errors.Is(err, os.ErrNotExist):
		return "", "", fmt.Errorf("PBM credential: %w", err)
	}
	ref := make([]byte, 4)
	sec := make([]byte, 18)
	if _, err := rand.Read(ref); err != nil {
		return "", "", fmt.Errorf("PBM credential: %w", err)
	}
	if _, err := rand.Read(sec); err != nil {
		return "", "", fmt.Errorf("PBM credential: %w", err)
	}
	c := pbmCredential{Reference: "devca-" + hex.EncodeToString(ref), Secret: hex.EncodeToString(sec)}
	data, err = json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", "", fmt.Errorf("PBM credential: %w", err)
	}
	if err := writeFileAtomic(path, append(data, '\n'), 0o600); err != nil {
		return "", "", fmt.Errorf("PBM credential: %w", err)
	}
	return c.Reference, c.Secret, nil
}

// loadKeyPair reads a PEM private key and certificate and checks that they
// belong together.
func loadKeyPair(keyPath, certPath string) (crypto.Signer, *x509.Certificate, error) {
	key, err := readPrivateKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	certs, err := readCertificates(certPath)
	if err != nil {
		return nil, nil, err
	}
	cert := certs[0]
	if !pemkey.BelongsTo(key, cert) {
		return nil, nil, fmt.Errorf("the key in %s does not belong to the certificate in %s", keyPath, certPath)
	}
	return key, cert, nil
}

// readPrivateKey reads the first private key of a PEM file: PKCS#8, SEC 1
// or PKCS#1. Text and other blocks around it are skipped, as OpenSSL does
// ("openssl ecparam -genkey" writes "EC PARAMETERS" first).
func readPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := pemkey.FindPrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// readCertificates reads every CERTIFICATE block of a PEM file, skipping
// text and other blocks around them.
func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := pemkey.FindCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

func writeKeyPair(keyPath, certPath string, key crypto.Signer, certDER []byte) error {
	keyPEM, err := pemkey.MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certPath, pemkey.EncodeCertificates(certDER), 0o644)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// certificateEqual says whether two certificates have the same encoding.
func certificateEqual(a, b *x509.Certificate) bool {
	return a != nil && b != nil && bytes.Equal(a.Raw, b.Raw)
}

// chainDER is the CA certificate and its issuers, nearest first.
func (s *state) chainDER() [][]byte {
	out := [][]byte{s.caCert.Raw}
	for _, c := range s.caChain {
		out = append(out, c.Raw)
	}
	return out
}

// rootDER is the trust anchor clients should hold: the last certificate of
// the chain (the CA itself when it is a root).
func (s *state) rootDER() []byte {
	if n := len(s.caChain); n > 0 {
		return s.caChain[n-1].Raw
	}
	return s.caCert.Raw
}

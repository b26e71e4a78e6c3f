package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// sample holds values of the sizes a real cmpv2_certificate stores: a CA
// certificate, an ECDSA P-256 leaf certificate with a subject and a SAN, its
// key. They are made once per process and shared by every resource, so the
// floor's state weighs what the real one does while it does no per-resource
// work.
type sample struct {
	certificatePEM string
	caChainPEM     string
	privateKeyPEM  string
	publicKeyPEM   string
	fingerprint    string
	issuer         string
	notBefore      string
	notAfter       string
	renewalTime    string
}

var (
	sampleOnce  sync.Once
	sampleValue sample
	sampleErr   error
)

func theSample() (sample, error) {
	sampleOnce.Do(func() { sampleValue, sampleErr = makeSample(time.Now()) })
	return sampleValue, sampleErr
}

func makeSample(now time.Time) (sample, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return sample{}, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "cmpv2 devca root (DEVELOPMENT, NOT FOR PRODUCTION)", Organization: []string{"cmpv2 devca"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return sample{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return sample{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return sample{}, err
	}
	notAfter := now.Add(90 * 24 * time.Hour)
	leafTmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "host-0000.bench.example", Organization: []string{"Bench"}},
		DNSNames:     []string{"host-0000.bench.example"},
		NotBefore:    now,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return sample{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return sample{}, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return sample{}, err
	}
	sum := sha256.Sum256(leafDER)
	return sample{
		certificatePEM: pemString("CERTIFICATE", leafDER),
		caChainPEM:     pemString("CERTIFICATE", caDER),
		privateKeyPEM:  pemString("PRIVATE KEY", keyDER),
		publicKeyPEM:   pemString("PUBLIC KEY", pubDER),
		fingerprint:    hex.EncodeToString(sum[:]),
		issuer:         ca.Subject.String(),
		notBefore:      now.UTC().Format(time.RFC3339),
		notAfter:       notAfter.UTC().Format(time.RFC3339),
		renewalTime:    now.Add(60 * 24 * time.Hour).UTC().Format(time.RFC3339),
	}, nil
}

func pemString(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// randomSerial is a positive 127-bit serial, as CAs following RFC 5280
// section 4.1.2.2 make them.
func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return n
}

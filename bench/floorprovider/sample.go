package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"sync"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/serialnumber"
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
	caSerial, err := serialnumber.Random()
	if err != nil {
		return sample{}, err
	}
	leafSerial, err := serialnumber.Random()
	if err != nil {
		return sample{}, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          caSerial,
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
		SerialNumber: leafSerial,
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
	keyPEM, err := pemkey.MarshalPrivateKey(key)
	if err != nil {
		return sample{}, err
	}
	return sample{
		certificatePEM: string(pemkey.EncodeCertificates(leafDER)),
		caChainPEM:     string(pemkey.EncodeCertificates(caDER)),
		privateKeyPEM:  string(keyPEM),
		notBefore:      now.UTC().Format(time.RFC3339),
		notAfter:       notAfter.UTC().Format(time.RFC3339),
		renewalTime:    now.Add(60 * 24 * time.Hour).UTC().Format(time.RFC3339),
	}, nil
}

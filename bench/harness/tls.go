package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The tls comparison runs hashicorp/terraform-provider-tls, which this
// repository neither vendors nor requires: the harness builds it from a
// checkout (BENCH_TLS_SOURCE) or takes a built binary (BENCH_TLS_PROVIDER).
// Without either, the tls rows are skipped and the report says why.
const tlsSkipReason = "no tls provider: set BENCH_TLS_SOURCE to a checkout of github.com/hashicorp/terraform-provider-tls " +
	"(built here with go build, GOFLAGS=-mod=mod) or BENCH_TLS_PROVIDER to a built terraform-provider-tls binary; " +
	"the Go module proxy this machine reaches serves only its v1.2.0, without its dependencies"

// tlsProvider returns the tls provider binary to measure, built into bin
// from BENCH_TLS_SOURCE when that is set, and a skip reason when there is
// none.
func tlsProvider(bin string) (path, skip string, err error) {
	if p := os.Getenv("BENCH_TLS_PROVIDER"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("BENCH_TLS_PROVIDER: %w", err)
		}
		return p, "", nil
	}
	src := os.Getenv("BENCH_TLS_SOURCE")
	if src == "" {
		return "", tlsSkipReason, nil
	}
	out := filepath.Join(bin, "terraform-provider-tls")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("BENCH_TLS_SOURCE: go build in %s: %v\n%s", src, err, msg)
	}
	return out, "", nil
}

// tlsFixtures are the literal inputs of the tls configurations: the CA
// that signs, and the key and request a single-type workspace takes
// instead of the chain's resources. All ECDSA P-256, like cmpv2's keys.
type tlsFixtures struct {
	caKeyPEM, caCertPEM, keyPEM, csrPEM string
}

func newTLSFixtures() (tlsFixtures, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tlsFixtures{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Bench CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, caKey.Public(), caKey)
	if err != nil {
		return tlsFixtures{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tlsFixtures{}, err
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: "host-0000.bench.example", Organization: []string{"Bench"}},
		DNSNames: []string{"host-0000.bench.example"},
	}, key)
	if err != nil {
		return tlsFixtures{}, err
	}
	caKeyPEM, err := ecKeyPEM(caKey)
	if err != nil {
		return tlsFixtures{}, err
	}
	keyPEM, err := ecKeyPEM(key)
	if err != nil {
		return tlsFixtures{}, err
	}
	return tlsFixtures{
		caKeyPEM:  caKeyPEM,
		caCertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
		keyPEM:    keyPEM,
		csrPEM:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})),
	}, nil
}

// ecKeyPEM is the PKCS #8 PEM the tls provider reads and writes.
func ecKeyPEM(k *ecdsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

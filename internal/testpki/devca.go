package testpki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The key pairs the development CA keeps in its state directory, each as
// <name>.key (PKCS #8 PEM) and <name>.crt (PEM, the pair's certificate
// first, then its issuers).
const (
	DevCARoot   = "ca"
	DevCASigner = "signer"
)

// ReadDevCA reads the key pair name (DevCARoot or DevCASigner) from the
// development CA's state directory dir, and the issuers that follow the
// certificate in its .crt file.
func ReadDevCA(t testing.TB, dir, name string) (pair *Cert, issuers []*x509.Certificate) {
	t.Helper()
	pair, issuers, err := readKeyPair(filepath.Join(dir, name+".key"), filepath.Join(dir, name+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	return pair, issuers
}

func readKeyPair(keyPath, certPath string) (*Cert, []*x509.Certificate, error) {
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, nil, fmt.Errorf("%s: no PKCS #8 PEM PRIVATE KEY block", keyPath)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: a %T cannot sign", keyPath, key)
	}
	data, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", certPath, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("%s: no PEM CERTIFICATE block", certPath)
	}
	return &Cert{Cert: certs[0], Key: signer}, certs[1:], nil
}

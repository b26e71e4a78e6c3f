package testpki

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
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
	key, err := pemkey.FindPrivateKey(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	data, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	certs, err := pemkey.FindCertificates(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certPath, err)
	}
	return &Cert{Cert: certs[0], Key: key}, certs[1:], nil
}

package bcpeer

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Source is the path of a Java source in this package's testdata, wherever
// the test that needs it runs.
func Source(t testing.TB, name string) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("bcpeer: cannot locate the package's sources")
	}
	return filepath.Join(filepath.Dir(file), "testdata", name)
}

// CMPServer is a running BcCmpServer (testdata/BcCmpServer.java).
type CMPServer struct {
	*Server
	// CA is the server's CA certificate, CAPEM its PEM.
	CA    *x509.Certificate
	CAPEM string
}

// Answer protections of BcCmpServer for MAC-protected requests.
const (
	AnswerMAC       = "mac"
	AnswerSignature = "signature"
)

// StartCMPServer compiles and starts BcCmpServer, which takes requests
// MAC-protected with reference and secret and answers them as answer says
// (AnswerMAC or AnswerSignature).
func StartCMPServer(t testing.TB, reference, secret, answer string) *CMPServer {
	t.Helper()
	java := Find(t)
	classes := java.Compile(t, Source(t, "BcCmpServer.java"))
	return java.StartCMPServer(t, classes, reference, secret, answer)
}

// StartCMPServer starts BcCmpServer from classes (see Compile) as the
// function StartCMPServer does, for tests that start several.
func (j *Java) StartCMPServer(t testing.TB, classes, reference, secret, answer string) *CMPServer {
	t.Helper()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	srv := j.StartServer(t, classes, "BcCmpServer", reference, secretFile, answer, caFile)
	data, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatalf("bcpeer: BcCmpServer CA certificate: %v", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("bcpeer: BcCmpServer CA certificate %s holds no PEM block", caFile)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("bcpeer: BcCmpServer CA certificate: %v", err)
	}
	return &CMPServer{Server: srv, CA: ca, CAPEM: string(data)}
}

package devca

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

func TestLoadStateCreatesAndReuses(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	first, err := loadState(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if !first.caCert.IsCA || !strings.Contains(first.caCert.Subject.String(), "Development CA") {
		t.Errorf("CA certificate: IsCA=%v subject %q", first.caCert.IsCA, first.caCert.Subject)
	}
	if err := first.signerCert.CheckSignatureFrom(first.caCert); err != nil {
		t.Errorf("signer not issued by CA: %v", err)
	}
	if first.signerCert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		t.Error("signer lacks digitalSignature")
	}
	if first.reference == "" || len(first.secret) < 16 {
		t.Errorf("credential: reference %q, secret of %d chars", first.reference, len(first.secret))
	}
	for _, f := range []string{caKeyFile, signerKeyFile, credsFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is readable by others: %v", f, fi.Mode().Perm())
		}
	}

	second, err := loadState(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if !certificateEqual(first.caCert, second.caCert) || !certificateEqual(first.signerCert, second.signerCert) {
		t.Error("second start made new certificates")
	}
	if first.reference != second.reference || first.secret != second.secret {
		t.Error("second start made a new credential")
	}
}

func TestLoadStateUserCA(t *testing.T) {
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(42),
		Subject:               pkix.Name{CommonName: "User supplied CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	userCA := testpki.Issue(t, tmpl, testpki.NewKey(t, testpki.P384), nil)
	// The user's key files are SEC 1 (EC PRIVATE KEY), which the CA also reads.
	keyDER, err := x509.MarshalECPrivateKey(userCA.Key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	otherDER, _ := x509.MarshalECPrivateKey(testpki.NewKey(t, testpki.P256).(*ecdsa.PrivateKey))
	certPEM := userCA.CertPEM()

	tests := []struct {
		name    string
		files   map[string][]byte
		wantErr string
	}{
		{
			name: "matching key and certificate",
			files: map[string][]byte{
				caKeyFile:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
				caCertFile: certPEM,
			},
		},
		{
			// What "openssl ecparam -genkey" and "openssl x509 -text" write.
			name: "OpenSSL files with EC PARAMETERS and a text dump",
			files: map[string][]byte{
				caKeyFile: append(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}}),
					pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...),
				caCertFile: append([]byte("Certificate:\n    Data:\n        Version: 3 (0x2)\n"), certPEM...),
			},
		},
		{
			name: "encrypted key",
			files: map[string][]byte{
				caKeyFile:  pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x00}}),
				caCertFile: certPEM,
			},
			wantErr: "encrypted PEM private keys are not supported",
		},
		{
			name:    "certificate without key",
			files:   map[string][]byte{caCertFile: certPEM},
			wantErr: "only one of",
		},
		{
			name: "key of another certificate",
			files: map[string][]byte{
				caKeyFile:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: otherDER}),
				caCertFile: certPEM,
			},
			wantErr: "does not belong",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			st, err := loadState(dir, time.Now())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !certificateEqual(st.caCert, userCA.Cert) {
				t.Error("the user's CA certificate was not used")
			}
			if err := st.signerCert.CheckSignatureFrom(st.caCert); err != nil {
				t.Errorf("signer not issued by the user's CA: %v", err)
			}
			if st.signerCert.NotAfter.After(st.caCert.NotAfter) {
				t.Error("signer outlives the CA")
			}
		})
	}
}

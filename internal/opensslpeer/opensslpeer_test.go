package opensslpeer

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunPattern(t *testing.T) {
	tests := []struct{ name, parentRun, want string }{
		{"TestMock", "", "^TestMock$"},
		{"TestMock/pbm_sha1", "", "^TestMock$/^pbm_sha1$"},
		{"TestMock/a.b(c)", "", `^TestMock$/^a\.b\(c\)$`},
		{"TestMock", "Interop", "^TestMock$"},
		{"TestMock", "TestMock/kur", "^TestMock$/kur"},
		{"TestMock", "Test(Mock|X)/k[a/b]r/deep", "^TestMock$/k[a/b]r/deep"},
		{"TestMock/sub", "TestMock/sub", "^TestMock$/^sub$"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"|"+tt.parentRun, func(t *testing.T) {
			if got := runPattern(tt.name, tt.parentRun); got != tt.want {
				t.Errorf("runPattern(%q, %q) = %q, want %q", tt.name, tt.parentRun, got, tt.want)
			}
		})
	}
}

func TestCreds(t *testing.T) {
	c := NewCreds(t)
	for name, cred := range map[string]Cred{"server": c.Server, "client1": c.Client1, "client2": c.Client2, "device": c.Device} {
		if err := cred.Cert.CheckSignatureFrom(c.Root.Cert); err != nil {
			t.Errorf("%s not issued by root: %v", name, err)
		}
		if len(cred.Cert.SubjectKeyId) != 20 {
			t.Errorf("%s: subject key identifier is %d bytes, want 20", name, len(cred.Cert.SubjectKeyId))
		}
		data, err := os.ReadFile(cred.CertFile)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := pem.Decode(data); b == nil || !bytes.Equal(b.Bytes, cred.Cert.Raw) {
			t.Errorf("%s: certificate file does not hold the certificate", name)
		}
	}
	if c.Client1.Cert.Subject.String() != c.Client2.Cert.Subject.String() {
		t.Errorf("client2 subject %q differs from client1 %q", c.Client2.Cert.Subject, c.Client1.Cert.Subject)
	}
}

// TestInteropMockWithOpenSSLClient proves the helpers end to end: the OpenSSL
// client enrolls against the mock inside a private network namespace.
func TestInteropMockWithOpenSSLClient(t *testing.T) {
	if !InNetNS(t) {
		return
	}
	creds := NewCreds(t)
	out := t.TempDir()
	tests := []struct {
		name     string
		mockOpts []MockOption
		args     func(url string) []string
		wantExit int
		wantCert *Cred
		wantErr  string
	}{
		{
			name: "ir_pbm",
			args: func(url string) []string {
				return []string{"-cmd", "ir", "-server", url, "-ref", MockReference, "-secret", "pass:" + MockSecret,
					"-recipient", "/CN=Test CMP Root CA", "-newkey", creds.Client1.KeyFile, "-subject", "/CN=client1",
					"-out_trusted", creds.Root.CertFile}
			},
			wantCert: &creds.Client1,
		},
		{
			name:     "kur_signature_only",
			mockOpts: []MockOption{SignatureOnly(), RspCert(creds.Client2)},
			args: func(url string) []string {
				return []string{"-cmd", "kur", "-server", url, "-cert", creds.Client1.CertFile, "-key", creds.Client1.KeyFile,
					"-trusted", creds.Root.CertFile, "-oldcert", creds.Client2.CertFile, "-newkey", creds.Client2.KeyFile,
					"-out_trusted", creds.Root.CertFile}
			},
			wantCert: &creds.Client2,
		},
		{
			name:     "pbm_refused_by_signature_only",
			mockOpts: []MockOption{SignatureOnly()},
			args: func(url string) []string {
				return []string{"-cmd", "ir", "-server", url, "-ref", MockReference, "-secret", "pass:" + MockSecret,
					"-recipient", "/CN=Test CMP Root CA", "-newkey", creds.Client1.KeyFile, "-subject", "/CN=client1",
					"-trusted", creds.Root.CertFile}
			},
			wantExit: 1,
			wantErr:  "missing secret",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mock := StartMock(t, creds, tt.mockOpts...)
			if !strings.HasPrefix(mock.URL, "http://127.0.0.1:") || !strings.HasSuffix(mock.URL, "/pkix/") {
				t.Fatalf("mock URL %q", mock.URL)
			}
			certOut := filepath.Join(out, tt.name+".crt")
			args := append(tt.args(strings.TrimPrefix(strings.TrimSuffix(mock.URL, "pkix/"), "http://")),
				"-path", "pkix/", "-certout", certOut, "-msg_timeout", "10", "-total_timeout", "30", "-batch")
			res := RunClient(t, args...)
			if res.ExitCode != tt.wantExit {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", res.ExitCode, tt.wantExit, res.Stderr)
			}
			if tt.wantErr != "" && !strings.Contains(res.Stderr+res.Stdout, tt.wantErr) {
				t.Errorf("output does not mention %q:\nstdout:\n%s\nstderr:\n%s", tt.wantErr, res.Stdout, res.Stderr)
			}
			if tt.wantCert != nil {
				data, err := os.ReadFile(certOut)
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := pem.Decode(data); b == nil || !bytes.Equal(b.Bytes, tt.wantCert.Cert.Raw) {
					t.Errorf("enrolled certificate is not the mock's -rsp_cert")
				}
			}
		})
	}
}

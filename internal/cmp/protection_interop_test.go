package cmp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// TestOpenSSLAcceptsOurProtection sends initialization requests protected
// by this package to OpenSSL 3.0's mock server (`openssl cmp -reqin` sends
// our DER instead of a request of its own) and checks the server's answer:
// an ip with status accepted means OpenSSL verified our protection; a wrong
// secret, an altered signature or an untrusted signer must give an error
// answer. (The 3.0 mock does not check the POP: an ir whose POP signature
// was altered is answered with a certificate, so this test proves
// protection only; POP is proven by verifying OpenSSL-made POPs in
// TestOpenSSLPOP and by round trips.)
func TestOpenSSLAcceptsOurProtection(t *testing.T) {
	if !opensslpeer.InNetNS(t) {
		return
	}
	creds := opensslpeer.NewCreds(t)
	mock := opensslpeer.StartMock(t, creds)
	dir := t.TempDir()

	type protect func(t *testing.T, m *Message)
	mac := func(p MACParams, secret string) protect {
		return func(t *testing.T, m *Message) {
			m.Header.SenderKID = []byte(opensslpeer.MockReference)
			if err := ProtectMAC(m, p, []byte(secret)); err != nil {
				t.Fatal(err)
			}
		}
	}
	sig := func(key crypto.Signer, opts SignatureOptions) protect {
		return func(t *testing.T, m *Message) {
			cert := protIssueUnder(t, creds.Root, key)
			m.Header.Sender = NameFromDER(cert.RawSubject)
			if err := ProtectSignature(m, key, []*x509.Certificate{cert}, opts); err != nil {
				t.Fatal(err)
			}
		}
	}
	altered := func(inner protect) protect {
		return func(t *testing.T, m *Message) {
			inner(t, m)
			m.Protection = protFlipBit(m.Protection, len(m.Protection)/2)
		}
	}
	untrusted := func(t *testing.T, m *Message) {
		key := protTestKeys()["P-384"]
		cert := protTestCert(t, key, "self-signed signer", x509.KeyUsageDigitalSignature)
		m.Header.Sender = NameFromDER(cert.RawSubject)
		if err := ProtectSignature(m, key, []*x509.Certificate{cert}, SignatureOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	keys := protTestKeys()
	cases := []struct {
		name     string
		protect  protect
		accepted bool
	}{
		{"PBM hmac-sha1", mac(MACParams{Algorithm: PBMHMACSHA1}, opensslpeer.MockSecret), true},
		{"PBM hmacWithSHA256", mac(MACParams{Algorithm: PBMHMACSHA256}, opensslpeer.MockSecret), true},
		{"PBM wrong secret", mac(MACParams{Algorithm: PBMHMACSHA256}, "wrong"), false},
		{"RSA PKCS#1 v1.5", sig(keys["RSA"], SignatureOptions{}), true},
		{"RSASSA-PSS", sig(keys["RSA"], SignatureOptions{RSAPSS: true}), true},
		{"ECDSA P-256", sig(keys["P-256"], SignatureOptions{}), true},
		{"ECDSA P-384", sig(keys["P-384"], SignatureOptions{}), true},
		{"ECDSA P-521", sig(keys["P-521"], SignatureOptions{}), true},
		{"Ed25519", sig(keys["Ed25519"], SignatureOptions{}), true},
		// Controls: the mock really checks signatures.
		{"ECDSA P-256 altered signature", altered(sig(keys["P-256"], SignatureOptions{})), false},
		{"Ed25519 altered signature", altered(sig(keys["Ed25519"], SignatureOptions{})), false},
		{"signer not under the trusted root", untrusted, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := protInteropIR(t, creds)
			tc.protect(t, m)
			der, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			reqFile := filepath.Join(dir, fmt.Sprintf("req%d.der", i))
			rspFile := filepath.Join(dir, fmt.Sprintf("rsp%d.der", i))
			if err := os.WriteFile(reqFile, der, 0o600); err != nil {
				t.Fatal(err)
			}
			res := opensslpeer.RunClient(t, "-cmd", "ir", "-server", fmt.Sprintf("127.0.0.1:%d", mock.Port), "-path", "pkix/",
				"-reqin", reqFile, "-rspout", rspFile, "-certout", filepath.Join(dir, fmt.Sprintf("cert%d.pem", i)),
				"-ref", opensslpeer.MockReference, "-secret", "pass:"+opensslpeer.MockSecret,
				"-recipient", "/CN=Test CMP Root CA", "-newkey", creds.Client1.KeyFile, "-subject", "/CN=client1",
				"-unprotected_errors", "-msg_timeout", "10", "-total_timeout", "30", "-batch")
			rsp, err := os.ReadFile(rspFile)
			if err != nil {
				t.Fatalf("no response saved (%v); client exit %d, stderr:\n%s", err, res.ExitCode, res.Stderr)
			}
			got, err := Parse(rsp)
			if err != nil {
				t.Fatal(err)
			}
			accepted := got.Body.Type == BodyIP && got.Body.CertRep != nil && len(got.Body.CertRep.Response) == 1 &&
				got.Body.CertRep.Response[0].Status.Status == StatusAccepted
			if accepted != tc.accepted {
				detail := got.Body.Type.String()
				if got.Body.Error != nil {
					detail += ": " + got.Body.Error.Status.String()
				}
				t.Fatalf("OpenSSL answered %s; want accepted=%v\nclient stderr:\n%s\nmock:\n%s", detail, tc.accepted, res.Stderr, mock.Output())
			}
			if !tc.accepted {
				if got.Body.Type != BodyError {
					t.Fatalf("refusal came as %s, want an error message", got.Body.Type)
				}
				t.Logf("OpenSSL refused: %s", got.Body.Error.Status.String())
			}
		})
	}
}

// protInteropIR builds an ir for creds.Client1's key, the certificate the
// mock returns, with a signature POP.
func protInteropIR(t *testing.T, creds *opensslpeer.Creds) *Message {
	t.Helper()
	nonce := func() []byte {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	req := CertReqMsg{Template: CertTemplate{Subject: creds.Client1.Cert.RawSubject, PublicKey: creds.Client1.Cert.RawSubjectPublicKeyInfo}}
	if err := SignPOP(&req, creds.Client1.Key, SignatureOptions{}); err != nil {
		t.Fatal(err)
	}
	return &Message{
		Header: Header{
			PVNO:          PVNO2,
			Sender:        NameFromDER(creds.Client1.Cert.RawSubject),
			Recipient:     NameFromDER(creds.Root.Cert.RawSubject),
			MessageTime:   time.Now().UTC(),
			TransactionID: nonce(),
			SenderNonce:   nonce(),
		},
		Body: Body{Type: BodyIR, CertReq: []CertReqMsg{req}},
	}
}

// protIssueUnder issues a digitalSignature certificate for key under
// issuer, with a subject key identifier.
func protIssueUnder(t *testing.T, issuer opensslpeer.Cred, key crypto.Signer) *x509.Certificate {
	t.Helper()
	var kind string
	switch key.Public().(type) {
	case *rsa.PublicKey:
		kind = "rsa"
	case *ecdsa.PublicKey:
		kind = key.Public().(*ecdsa.PublicKey).Curve.Params().Name
	case ed25519.PublicKey:
		kind = "ed25519"
	}
	// testpki fills in the subject key identifier (SHA-1 of the key).
	return testpki.Issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "external signer " + kind},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}, key, &testpki.Cert{Cert: issuer.Cert, Key: issuer.Key}).Cert
}

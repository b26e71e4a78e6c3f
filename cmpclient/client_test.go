package cmpclient

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestOperationsAgainstScaffold covers the happy path of every operation
// against the in-process responder, so that the negative cases are known
// to differ from a working exchange in one thing only.
func TestOperationsAgainstScaffold(t *testing.T) {
	pki := newTestPKI(t)
	device := func(t *testing.T) SignatureCredentials {
		key := newKey(t)
		cert := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "device"}, KeyUsage: x509.KeyUsageDigitalSignature},
			key.Public(), pki.root, pki.rootKey)
		return SignatureCredentials{Key: key, Chain: []*x509.Certificate{cert}}
	}
	tests := []struct {
		name      string
		client    func(t *testing.T, c *Client)
		run       func(t *testing.T, c *Client, req *CertRequest) (*Enrollment, error)
		wantOp    string
		wantTypes string
	}{
		{
			name: "ir_pbm_hmac_sha256",
			run: func(t *testing.T, c *Client, req *CertRequest) (*Enrollment, error) {
				return c.Enroll(testContext(t), req)
			},
			wantOp:    "ir",
			wantTypes: "ir,ip,certConf,pkiconf",
		},
		{
			name: "ir_pbm_hmac_sha1",
			client: func(t *testing.T, c *Client) {
				c.Credentials = MACCredentials{Reference: pki.reference, Secret: pki.secret, Algorithm: PBMHMACSHA1}
			},
			run: func(t *testing.T, c *Client, req *CertRequest) (*Enrollment, error) {
				return c.Enroll(testContext(t), req)
			},
			wantOp:    "ir",
			wantTypes: "ir,ip,certConf,pkiconf",
		},
		{
			name: "ir_pbmac1",
			client: func(t *testing.T, c *Client) {
				c.Credentials = MACCredentials{Reference: pki.reference, Secret: pki.secret, Algorithm: PBMAC1, Iterations: 1000}
			},
			run: func(t *testing.T, c *Client, req *CertRequest) (*Enrollment, error) {
				return c.Enroll(testContext(t), req)
			},
			wantOp:    "ir",
			wantTypes: "ir,ip,certConf,pkiconf",
		},
		{
			name:   "ir_signed_by_device_certificate",
			client: func(t *testing.T, c *Client) { c.Credentials = device(t) },
			run: func(t *testing.T, c *Client, req *CertRequest) (*Enrollment, error) {
				return c.Enroll(testContext(t), req)
			},
			wantOp:    "ir",
			wantTypes: "ir,ip,certConf,pkiconf",
		},
		{
			name: "ir_pinned_signer",
			client: func(t *testing.T, c *Client) {
				c.Credentials = device(t)
				c.TrustAnchors = nil
				c.ServerCertificate = pki.signer
			},
			run: func(t *testing.T, c *Client, req *CertRequest) (*Enrollment, error) {
				return c.Enroll(testContext(t), req)
			},
			wantOp:    "ir",
			wantTypes: "ir,ip,certConf,pkiconf",
		},
		{
			name: "cr_signed_with_current_certificate",
			run: func(t *testing.T, c *Client, req *CertRequest) (*Enrollment, error) {
				cur := certRequest(t, "current")
				first, err := c.Enroll(testContext(t), cur)
				if err != nil {
					t.Fatal(err)
				}
				return c.Certify(testContext(t), req, first.Certificate, cur.Key)
			},
			wantOp:    "cr",
			wantTypes: "ir,ip,certConf,pkiconf,cr,cp,certConf,pkiconf",
		},
		{
			name: "kur_new_key",
			run: func(t *testing.T, c *Client, req *CertRequest) (*Enrollment, error) {
				old := certRequest(t, "renewed")
				first, err := c.Enroll(testContext(t), old)
				if err != nil {
					t.Fatal(err)
				}
				kur, err := c.UpdateKey(testContext(t), &CertRequest{Key: req.Key}, first.Certificate, old.Key)
				if err == nil && (!bytes.Equal(kur.Certificate.RawSubject, first.Certificate.RawSubject) ||
					!sameSet(kur.Certificate.DNSNames, first.Certificate.DNSNames) || len(kur.Certificate.DNSNames) == 0) {
					t.Errorf("kur without subject and SANs did not request the old ones: %v %v", kur.Certificate.Subject, kur.Certificate.DNSNames)
				}
				return kur, err
			},
			wantOp:    "kur",
			wantTypes: "ir,ip,certConf,pkiconf,kur,kup,certConf,pkiconf",
		},
		{
			name: "p10cr",
			run: func(t *testing.T, c *Client, req *CertRequest) (*Enrollment, error) {
				csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
					Subject: req.Subject, DNSNames: req.DNSNames, IPAddresses: []net.IP{net.ParseIP("192.0.2.7")}}, req.Key)
				if err != nil {
					t.Fatal(err)
				}
				return c.EnrollCSR(testContext(t), csr)
			},
			wantOp:    "p10cr",
			wantTypes: "p10cr,cp,certConf,pkiconf",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &responder{pki: pki}
			c := startResponder(t, r)
			rec := &logRecorder{}
			c.Log = rec.log
			if tt.client != nil {
				tt.client(t, c)
			}
			req := certRequest(t, "leaf")
			enr, err := tt.run(t, c, req)
			if err != nil {
				t.Fatalf("%s: %v", tt.wantOp, err)
			}
			if enr.Operation != tt.wantOp {
				t.Errorf("Operation %q, want %q", enr.Operation, tt.wantOp)
			}
			if !publicKeyMatches(enr.Certificate, req.Key) {
				t.Errorf("issued certificate is not for the requested key")
			}
			if len(enr.Chain) != 1 || !enr.Chain[0].Equal(pki.root) {
				t.Errorf("chain %v, want [root]", enr.Chain)
			}
			var types []string
			for _, m := range rec.msgs {
				types = append(types, m.Type)
			}
			if got := strings.Join(types, ","); got != tt.wantTypes {
				t.Errorf("messages %s, want %s", got, tt.wantTypes)
			}
			// Every request of one transaction shares the transactionID and
			// chains nonces; every transaction has its own ID.
			reqs := r.requests()
			for i, m := range reqs {
				h := m.Header
				if h.PVNO != cmp.PVNO2 || len(h.TransactionID) != 16 || len(h.SenderNonce) != 16 {
					t.Errorf("request %d (%s): pvno %d, transactionID %x, senderNonce %x", i, m.Body.Type, h.PVNO, h.TransactionID, h.SenderNonce)
				}
				first := i == 0 || !bytes.Equal(reqs[i-1].Header.TransactionID, h.TransactionID)
				if first != (h.RecipNonce == nil) {
					t.Errorf("request %d (%s): recipNonce %x on a first=%v message", i, m.Body.Type, h.RecipNonce, first)
				}
				if !first && bytes.Equal(reqs[i-1].Header.SenderNonce, h.SenderNonce) {
					t.Errorf("request %d (%s): senderNonce reused", i, m.Body.Type)
				}
				if cmp.IsMACProtected(h.ProtectionAlg) && string(h.SenderKID) != pki.reference {
					t.Errorf("request %d: senderKID %q, want the reference", i, h.SenderKID)
				}
			}
		})
	}
}

// publicKeyMatches reports whether key is the private key of cert.
func publicKeyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	return err == nil && bytes.Equal(pub, cert.RawSubjectPublicKeyInfo)
}

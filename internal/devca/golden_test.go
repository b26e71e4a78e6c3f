package devca

import (
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// golden reads a message OpenSSL 3.0 made for the codec's tests.
func golden(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "cmp", "testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestOpenSSLGoldenRequests answers requests the OpenSSL client put on the
// wire (captured in internal/cmp/testdata with reference 1234, secret
// test), in order, against one CA that uses that credential and trusts
// the root of those test credentials for signed ir.
func TestOpenSSLGoldenRequests(t *testing.T) {
	root := readCert(t, filepath.Join("..", "cmp", "testdata", "creds", "root.crt"))
	// The messages were recorded earlier: their messageTime is old.
	c := startCA(t, Config{Reference: "1234", Secret: "test", Trusted: []*x509.Certificate{root}, MaxTimeSkew: -1})
	tests := []struct {
		file     string
		want     cmp.BodyType
		status   cmp.PKIStatus
		failInfo cmp.FailureInfo
		check    func(t *testing.T, m *cmp.Message)
	}{
		{file: "ir_pbm_sha1.der", want: cmp.BodyIP, status: cmp.StatusAccepted, check: func(t *testing.T, m *cmp.Message) {
			if !cmp.IsMACProtected(m.Header.ProtectionAlg) {
				t.Error("the answer to a MAC-protected ir is not MAC-protected")
			}
			if len(m.Body.CertRep.CAPubs) != 1 {
				t.Errorf("%d caPubs, want the root", len(m.Body.CertRep.CAPubs))
			}
		}},
		// The certConf of that exchange answered OpenSSL's mock, whose
		// senderNonce was another.
		{file: "certConf_pbm_sha1.der", want: cmp.BodyError, failInfo: cmp.FailBadRecipientNonce},
		{file: "ir_pbm_sha1.der", want: cmp.BodyError, failInfo: cmp.FailTransactionIDInUse},
		{file: "ir_pbm_sha256.der", want: cmp.BodyIP, status: cmp.StatusAccepted},
		{file: "ir_sig_rsa.der", want: cmp.BodyIP, status: cmp.StatusGrantedWithMods, check: func(t *testing.T, m *cmp.Message) {
			if cmp.IsMACProtected(m.Header.ProtectionAlg) || len(m.ExtraCerts) < 2 {
				t.Errorf("the answer to a signed ir: MAC=%v, %d extraCerts", cmp.IsMACProtected(m.Header.ProtectionAlg), len(m.ExtraCerts))
			}
			if string(m.ExtraCerts[0]) != string(c.ca.SignerCertificate().Raw) {
				t.Error("the CMP signer certificate is not first in extraCerts")
			}
		}},
		{file: "ir_pop_ed25519.der", want: cmp.BodyIP, status: cmp.StatusAccepted},
		{file: "p10cr.der", want: cmp.BodyCP, status: cmp.StatusAccepted, check: func(t *testing.T, m *cmp.Message) {
			if id := m.Body.CertRep.Response[0].CertReqID; id != -1 {
				t.Errorf("certReqId %d for a p10cr, want -1", id)
			}
		}},
		{file: "genm_caCerts.der", want: cmp.BodyGenP, check: func(t *testing.T, m *cmp.Message) {
			itav := cmp.FindITAV(m.Body.GenMsg, cmp.OIDCACerts)
			if itav == nil {
				t.Fatal("no caCerts in genp")
			}
			certs, err := cmp.ParseCACertsValue(itav.Value)
			if err != nil || len(certs) != 1 || string(certs[0]) != string(c.ca.CACertificate().Raw) {
				t.Errorf("caCerts: %d certificates, %v", len(certs), err)
			}
		}},
		{file: "genm_signKeyPairTypes.der", want: cmp.BodyGenP, check: func(t *testing.T, m *cmp.Message) {
			itav := cmp.FindITAV(m.Body.GenMsg, cmp.OIDSignKeyPairTypes)
			if itav == nil {
				t.Fatal("no signKeyPairTypes in genp")
			}
			algs, err := cmp.ParseSignKeyPairTypes(itav.Value)
			if err != nil || len(algs) != len(signKeyPairTypes) {
				t.Errorf("signKeyPairTypes: %d algorithms, %v", len(algs), err)
			}
		}},
		{file: "cr.der", want: cmp.BodyError, failInfo: cmp.FailSignerNotTrusted},
		{file: "kur.der", want: cmp.BodyError, failInfo: cmp.FailSignerNotTrusted},
		// A MAC-protected rr is accepted from the reference's end entity,
		// but this one names client1 of OpenSSL's mock, not a certificate
		// of this CA.
		{file: "rr_pbm.der", want: cmp.BodyRP, status: cmp.StatusRejection, failInfo: cmp.FailBadCertID},
		{file: "pollReq_1.der", want: cmp.BodyError, failInfo: cmp.FailBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			rec := post(c.ca, http.MethodPost, "/.well-known/cmp", contentType, golden(t, tc.file))
			if rec.Code != http.StatusOK {
				t.Fatalf("HTTP %d", rec.Code)
			}
			m, err := cmp.Parse(rec.Body.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if m.Body.Type != tc.want {
				t.Fatalf("answer %s, want %s (%+v)", m.Body.Type, tc.want, m.Body.Error)
			}
			switch tc.want {
			case cmp.BodyError:
				if fi := m.Body.Error.Status.FailInfo; !fi.Has(tc.failInfo) {
					t.Errorf("failInfo %v, want %v (%v)", fi, tc.failInfo, m.Body.Error.Status)
				}
			case cmp.BodyIP, cmp.BodyCP:
				if st := m.Body.CertRep.Response[0].Status; st.Status != tc.status {
					t.Errorf("status %v, want %v", st, tc.status)
				}
			case cmp.BodyRP:
				if st := m.Body.RevRep.Status; len(st) != 1 || st[0].Status != tc.status || !st[0].FailInfo.Has(tc.failInfo) {
					t.Errorf("rp statuses %v, want %v with %v", st, tc.status, tc.failInfo)
				}
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

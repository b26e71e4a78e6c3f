package cmpclient

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestRevokeRevCerts: an rp whose revCerts names a certificate other than
// the one to revoke is refused (RFC 9810 5.3.10); one naming it, or none,
// is accepted.
func TestRevokeRevCerts(t *testing.T) {
	pki := newTestPKI(t)
	tests := []struct {
		name    string
		revCert func(issuer []byte, serial *big.Int) []cmp.CertID
		wantErr bool
	}{
		{"no revCerts", func([]byte, *big.Int) []cmp.CertID { return nil }, false},
		{"revCerts naming the certificate", func(issuer []byte, serial *big.Int) []cmp.CertID {
			return []cmp.CertID{{Issuer: cmp.NameFromDER(issuer), Serial: serial}}
		}, false},
		{"revCerts naming another serial", func(issuer []byte, serial *big.Int) []cmp.CertID {
			return []cmp.CertID{{Issuer: cmp.NameFromDER(issuer), Serial: new(big.Int).Add(serial, big.NewInt(1))}}
		}, true},
		{"revCerts naming another issuer", func(issuer []byte, serial *big.Int) []cmp.CertID {
			return []cmp.CertID{{Issuer: cmp.NameFromDER(pki.signer.RawSubject), Serial: serial}}
		}, true},
		{"revCerts naming two certificates", func(issuer []byte, serial *big.Int) []cmp.CertID {
			id := cmp.CertID{Issuer: cmp.NameFromDER(issuer), Serial: serial}
			return []cmp.CertID{id, id}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &responder{pki: pki}
			c := startResponder(t, r)
			req := certRequest(t, "to-revoke")
			enr, err := c.Enroll(testContext(t), req)
			if err != nil {
				t.Fatal(err)
			}
			r.mutate = func(_ int, rq, resp *cmp.Message) {
				if rq.Body.Type == cmp.BodyRR {
					resp.Body.RevRep.RevCerts = tc.revCert(enr.Certificate.RawIssuer, enr.Certificate.SerialNumber)
				}
			}
			err = c.Revoke(testContext(t), enr.Certificate, req.Key, ReasonSuperseded)
			if got := errors.Is(err, ErrRevCerts); got != tc.wantErr || !tc.wantErr && err != nil {
				t.Fatalf("Revoke: %v; want ErrRevCerts: %v", err, tc.wantErr)
			}
			// The error names the certificate to revoke by its serial, in decimal.
			if serial := enr.Certificate.SerialNumber.String(); tc.wantErr && !strings.Contains(err.Error(), "serial "+serial+")") {
				t.Errorf("Revoke: %v; want it to name serial %s", err, serial)
			}
		})
	}
}

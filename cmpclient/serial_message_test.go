package cmpclient

import (
	"crypto/x509"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// Every serial an error names is decimal, as the provider's serial_number
// attribute and the CA's logs show it.
func TestErrorsNameSerialsInDecimal(t *testing.T) {
	serial := big.NewInt(48879) // 0xbeef
	cert := &x509.Certificate{SerialNumber: serial}
	cases := []struct {
		name string
		err  error
	}{
		{"certificate rejected", &CertificateRejectedError{Op: "cr", TransactionID: []byte{1}, Certificate: cert, Reason: "wrong key"}},
		{"unconfirmed", &UnconfirmedError{Op: "kur", TransactionID: []byte{1}, Certificate: cert, Err: errors.New("timeout")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.err.Error()
			if !strings.Contains(msg, "serial 48879") || strings.Contains(msg, "beef") {
				t.Errorf("message %q: want the serial in decimal (48879), not hex", msg)
			}
		})
	}

	t.Run("rp naming another certificate", func(t *testing.T) {
		pki := newTestPKI(t)
		r := &responder{pki: pki}
		c := startResponder(t, r)
		req := certRequest(t, "to-revoke")
		enr, err := c.Enroll(testContext(t), req)
		if err != nil {
			t.Fatal(err)
		}
		r.mutate = func(_ int, rq, resp *cmp.Message) {
			if rq.Body.Type == cmp.BodyRR {
				other := new(big.Int).Add(enr.Certificate.SerialNumber, big.NewInt(1))
				resp.Body.RevRep.RevCerts = []cmp.CertID{{Issuer: cmp.NameFromDER(enr.Certificate.RawIssuer), Serial: other}}
			}
		}
		err = c.Revoke(testContext(t), enr.Certificate, req.Key, ReasonSuperseded)
		if !errors.Is(err, ErrRevCerts) {
			t.Fatalf("Revoke: %v, want ErrRevCerts", err)
		}
		dec, hex := enr.Certificate.SerialNumber.String(), enr.Certificate.SerialNumber.Text(16)
		if !strings.Contains(err.Error(), "serial "+dec) || (hex != dec && strings.Contains(err.Error(), "serial "+hex)) {
			t.Errorf("message %q: want serial %s (decimal)", err, dec)
		}
	})
}

package cmpclient

import (
	"crypto/x509"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// Every serial an error names is decimal, as the provider's serial_number
// attribute and the CA's logs show it (the rp naming another certificate:
// TestRevokeRevCerts).
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
}

package cmpclient

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestGeneralMessageErrors: a genp whose content is wrong fails the
// operation like any other invalid response, with a *ProtocolError that
// names the genm transaction and wraps the cause; a genp that lacks the
// item wraps ErrNotSupported and names the transaction too.
func TestGeneralMessageErrors(t *testing.T) {
	pki := newTestPKI(t)
	stranger := newTestPKI(t)
	selfSigned, err := (&cmp.RootCAKeyUpdate{NewWithNew: stranger.root.Raw}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	notSelfSigned, err := (&cmp.RootCAKeyUpdate{NewWithNew: pki.signer.Raw}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		answer    cmp.InfoTypeAndValue
		call      func(c *Client) error
		wantIs    error
		wantProto bool
	}{
		{"caCerts that do not decode", cmp.InfoTypeAndValue{Type: cmp.OIDCACerts, Value: []byte{0x02, 0x01, 0x01}},
			func(c *Client) error { _, err := c.CACerts(testContext(t)); return err }, ErrMalformedResponse, true},
		{"caCerts holding no certificate", cmp.InfoTypeAndValue{Type: cmp.OIDCACerts, Value: []byte{0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x01}},
			func(c *Client) error { _, err := c.CACerts(testContext(t)); return err }, ErrMalformedResponse, true},
		{"rootCaKeyUpdate that does not decode", cmp.InfoTypeAndValue{Type: cmp.OIDRootCAKeyUpdate, Value: []byte{0x30, 0x00}},
			func(c *Client) error { _, err := c.RootCAUpdate(testContext(t), nil); return err }, ErrMalformedResponse, true},
		{"newWithNew not self-signed", cmp.InfoTypeAndValue{Type: cmp.OIDRootCAKeyUpdate, Value: notSelfSigned},
			func(c *Client) error { _, err := c.RootCAUpdate(testContext(t), nil); return err }, ErrRootCAUpdate, true},
		{"newWithOld missing with an old root", cmp.InfoTypeAndValue{Type: cmp.OIDRootCAKeyUpdate, Value: selfSigned},
			func(c *Client) error { _, err := c.RootCAUpdate(testContext(t), pki.root); return err }, ErrRootCAUpdate, true},
		{"certReqTemplate that does not decode", cmp.InfoTypeAndValue{Type: cmp.OIDCertReqTemplate, Value: []byte{0x04, 0x00}},
			func(c *Client) error { _, err := c.CertReqTemplate(testContext(t)); return err }, ErrMalformedResponse, true},
		{"genp without the item", cmp.InfoTypeAndValue{Type: cmp.OIDSignKeyPairTypes},
			func(c *Client) error { _, err := c.CACerts(testContext(t)); return err }, ErrNotSupported, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &responder{pki: pki, genp: func([]cmp.InfoTypeAndValue) []cmp.InfoTypeAndValue { return []cmp.InfoTypeAndValue{tc.answer} }}
			c := startResponder(t, r)
			err := tc.call(c)
			if !errors.Is(err, tc.wantIs) {
				t.Fatalf("got %v, want an error wrapping %v", err, tc.wantIs)
			}
			reqs := r.requests()
			if len(reqs) == 0 {
				t.Fatal("no genm was sent")
			}
			txID := reqs[len(reqs)-1].Header.TransactionID
			if !strings.Contains(err.Error(), "cmp genm (transaction "+hex.EncodeToString(txID)+")") {
				t.Errorf("%q does not name the genm transaction %x", err, txID)
			}
			var pe *ProtocolError
			if got := errors.As(err, &pe); got != tc.wantProto {
				t.Fatalf("errors.As(*ProtocolError) = %v, want %v (%v)", got, tc.wantProto, err)
			}
			if pe != nil && (pe.Op != "genm" || string(pe.TransactionID) != string(txID)) {
				t.Errorf("ProtocolError op %q transaction %x, want genm %x", pe.Op, pe.TransactionID, txID)
			}
		})
	}
}

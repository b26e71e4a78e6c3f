package cmp_test

import (
	"crypto/x509/pkix"
	"fmt"
	"os"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// Reading a response: the rejection OpenSSL's mock server sent with
// -pkistatus 2 -failure 2 -statusstring "mock says no".
func ExampleParse() {
	der, err := os.ReadFile("testdata/golden/ip_rejection.der")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := cmp.Parse(der)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := m.Body.CertRep.Response[0]
	fmt.Println(m.Body.Type, r.CertReqID, r.Status)
	fmt.Println(r.Status.FailInfo.Has(cmp.FailBadRequest), len(m.Header.TransactionID))
	// Output:
	// ip 0 rejection: badRequest: "mock says no"
	// true 16
}

// Building a request: the order is header (with ProtectionAlg), then
// ProtectedPart, then protection, then Marshal.
func ExampleMessage_ProtectedPart() {
	recipient, err := cmp.NameFromPKIX(pkix.Name{CommonName: "Test CMP Root CA"})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := &cmp.Message{
		Header: cmp.Header{
			PVNO:          cmp.PVNO2,
			Sender:        cmp.NullDN(),
			Recipient:     recipient,
			MessageTime:   time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
			TransactionID: make([]byte, 16),
			SenderNonce:   make([]byte, 16),
			GeneralInfo:   []cmp.InfoTypeAndValue{cmp.ImplicitConfirmITAV()},
		},
		Body: cmp.Body{Type: cmp.BodyGenM, GenMsg: []cmp.InfoTypeAndValue{{Type: cmp.OIDCACerts}}},
	}
	pp, err := m.ProtectedPart() // protect these bytes, then set m.Protection
	if err != nil {
		fmt.Println(err)
		return
	}
	der, err := m.Marshal()
	if err != nil {
		fmt.Println(err)
		return
	}
	back, err := cmp.Parse(der)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back.Body.Type, back.Header.Recipient, back.Header.ImplicitConfirm(), string(back.RawProtectedPart) == string(pp))
	// Output: genm CN=Test CMP Root CA true true
}

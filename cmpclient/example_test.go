package cmpclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"errors"
	"log"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
)

// Enroll a certificate with a shared secret, keeping an issued but
// unconfirmed certificate instead of losing it.
func ExampleClient_Enroll() {
	c := &cmpclient.Client{
		URL:         "https://ca.example/.well-known/cmp/p/tls",
		Credentials: cmpclient.MACCredentials{Reference: "1234", Secret: []byte("from-a-vault")},
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	enr, err := c.Enroll(ctx, &cmpclient.CertRequest{
		Subject:  pkix.Name{CommonName: "www.example"},
		DNSNames: []string{"www.example"},
		Key:      key,
	})
	var unconfirmed *cmpclient.UnconfirmedError
	var cmpErr *cmpclient.Error
	switch {
	case errors.As(err, &unconfirmed):
		log.Printf("issued but not confirmed, keeping it: serial %v: %v", enr.Certificate.SerialNumber, err)
	case errors.As(err, &cmpErr):
		log.Fatalf("the CA refused (failInfo %v): %v", cmpErr.FailInfo.Names(), err)
	case err != nil:
		log.Fatal(err)
	default:
		log.Printf("issued %v", enr.Certificate.Subject)
	}
}

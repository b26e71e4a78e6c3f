package cmpclient

import (
	"context"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
)

func TestOpenSSLMockSmoke(t *testing.T) {
	if !opensslpeer.InNetNS(t) {
		return
	}
	creds := opensslpeer.NewCreds(t)
	mock := opensslpeer.StartMock(t, creds)
	c := &Client{URL: mock.URL, Credentials: MACCredentials{Reference: opensslpeer.MockReference, Secret: []byte(opensslpeer.MockSecret), Algorithm: PBMHMACSHA1}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	enr, err := c.Enroll(ctx, &CertRequest{Subject: creds.Client1.Cert.Subject, Key: creds.Client1.Key})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(enr.Certificate.Subject, len(enr.Chain))
}

package cmpclient

import (
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// TestErrorsHideURLPasswords: a password written into Client.URL (some
// users do, though Username/Password exist) never appears in an error,
// whether the URL does not parse, nobody listens, or the server answers.
func TestErrorsHideURLPasswords(t *testing.T) {
	const password = "hunter2-s3cret"
	closed := testpki.ClosedAddr(t)
	pki := newTestPKI(t)
	live := startResponder(t, &responder{pki: pki, httpCode: 500})

	for _, tc := range []struct{ name, url string }{
		{"unparsable userinfo", "http://user:" + password + "¤@127.0.0.1/"},
		{"invalid port", "http://user:" + password + "@127.0.0.1:port/"},
		{"nobody listening", "http://user:" + password + "@" + closed + "/"},
		{"server answers 500", strings.Replace(live.URL, "http://", "http://user:"+password+"@", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{URL: tc.url, Credentials: MACCredentials{Reference: pki.reference, Secret: pki.secret, Iterations: 500},
				MessageTimeout: 2 * time.Second}
			_, err := c.Enroll(testContext(t), certRequest(t, "device"))
			if err == nil {
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error repeats the URL's password: %s", strings.ReplaceAll(err.Error(), password, "[PASSWORD]"))
			}
		})
	}
}

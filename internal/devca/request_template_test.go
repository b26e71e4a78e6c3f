package devca

import (
	"encoding/asn1"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestRequestTemplate: -template sets what genm certReqTemplate answers
// (RFC 9483 4.3.3), in the order given; a bad template is refused at start.
func TestRequestTemplate(t *testing.T) {
	tmpl, err := ParseRequestTemplate("keys=ec-p384 rsa-3072; subject=O=Example Org,C=DE")
	if err != nil {
		t.Fatal(err)
	}
	c := startCA(t, Config{RequestTemplate: tmpl})
	got, err := c.client(0).CertReqTemplate(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject == nil || got.Subject.String() != "O=Example Org,C=DE" {
		t.Errorf("subject %v, want O=Example Org,C=DE", got.Subject)
	}
	var curve asn1.ObjectIdentifier
	if len(got.KeyAlgorithms) != 1 || !got.KeyAlgorithms[0].Algorithm.Equal(cmp.OIDECPublicKey) {
		t.Fatalf("key algorithms %v, want EC P-384 alone", got.KeyAlgorithms)
	}
	if _, err := asn1.Unmarshal(got.KeyAlgorithms[0].Parameters.FullBytes, &curve); err != nil || !curve.Equal(cmp.OIDCurveP384) {
		t.Errorf("curve %v (%v), want P-384", curve, err)
	}
	if len(got.RSAKeyLengths) != 1 || got.RSAKeyLengths[0] != 3072 {
		t.Errorf("RSA key lengths %v, want 3072", got.RSAKeyLengths)
	}

	for _, bad := range []string{"keys=ec-p999", "keys=rsa-1024", "subject=X=1", "subject=O", "shape=round"} {
		if _, err := ParseRequestTemplate(bad); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
}

package cmpclient

import (
	"crypto"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestUpdateProtection: a cr, kur or rr without the key of the certificate
// it is about is protected by Client.Credentials (a shared secret, RFC 9483
// section 4.1.5), with the reference as senderKID and, for the kur, still
// the oldCertID control (RFC 9483 section 4.1.3); with the key it is signed
// with that certificate. Without either it is refused before anything is
// sent.
func TestUpdateProtection(t *testing.T) {
	pki := newTestPKI(t)
	cases := []struct {
		name    string
		withKey bool
		want    string // "mac" or "signature"
	}{
		{"mac", false, "mac"},
		{"signature", true, "signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &responder{pki: pki}
			c := startResponder(t, r)
			keyOf := func(req *CertRequest) crypto.Signer {
				if tc.withKey {
					return req.Key
				}
				return nil
			}
			first := certRequest(t, "updated")
			ir, err := c.Enroll(testContext(t), first)
			if err != nil {
				t.Fatal(err)
			}
			second := certRequest(t, "updated")
			cr, err := c.Certify(testContext(t), second, ir.Certificate, keyOf(first))
			if err != nil {
				t.Fatalf("cr: %v", err)
			}
			third := &CertRequest{Key: newKey(t)}
			kur, err := c.UpdateKey(testContext(t), third, cr.Certificate, keyOf(second))
			if err != nil {
				t.Fatalf("kur: %v", err)
			}
			if err := c.Revoke(testContext(t), kur.Certificate, keyOf(third), ReasonSuperseded); err != nil {
				t.Fatalf("rr: %v", err)
			}
			var kinds []string
			for _, m := range r.requests() {
				switch m.Body.Type {
				case cmp.BodyCR, cmp.BodyKUR, cmp.BodyRR:
				default:
					continue
				}
				kind := "signature"
				if cmp.IsMACProtected(m.Header.ProtectionAlg) {
					kind = "mac"
					if string(m.Header.SenderKID) != pki.reference {
						t.Errorf("%s senderKID %q, want the reference %q", m.Body.Type, m.Header.SenderKID, pki.reference)
					}
				}
				kinds = append(kinds, m.Body.Type.String()+":"+kind)
				if m.Body.Type == cmp.BodyKUR {
					ctrls := m.Body.CertReq[0].Controls
					if len(ctrls) != 1 || !ctrls[0].Type.Equal(cmp.OIDRegCtrlOldCertID) {
						t.Errorf("kur controls %v, want oldCertID alone", ctrls)
					}
				}
			}
			want := []string{"cr:" + tc.want, "kur:" + tc.want, "rr:" + tc.want}
			if !slices.Equal(kinds, want) {
				t.Errorf("requests %v, want %v", kinds, want)
			}
		})
	}
	t.Run("no key and no credentials", func(t *testing.T) {
		r := &responder{pki: pki}
		c := startResponder(t, r)
		ir, err := c.Enroll(testContext(t), certRequest(t, "alone"))
		if err != nil {
			t.Fatal(err)
		}
		c.Credentials = nil
		sent := len(r.requests())
		_, crErr := c.Certify(testContext(t), certRequest(t, "alone"), ir.Certificate, nil)
		_, kurErr := c.UpdateKey(testContext(t), certRequest(t, "alone"), ir.Certificate, nil)
		for op, err := range map[string]error{"cr": crErr, "kur": kurErr} {
			if err == nil || !strings.Contains(err.Error(), "cmp "+op+": ") || !strings.Contains(err.Error(), "Client.Credentials") {
				t.Errorf("%s without key or credentials: %v, want an error naming Client.Credentials", op, err)
			}
		}
		if n := len(r.requests()); n != sent {
			t.Errorf("%d requests sent without protection", n-sent)
		}
	})
}

// TestCertProfileSent: a CertRequest's Profile goes into the generalInfo of
// its ir, cr and kur as id-it-certProfile with that one name (RFC 9483
// section 4.1.1), beside implicitConfirm when asked; without one there is
// none. (The test responder does not grant implicit confirmation, so every
// enrollment ends with a certConf, which carries no profile.)
func TestCertProfileSent(t *testing.T) {
	pki := newTestPKI(t)
	r := &responder{pki: pki}
	c := startResponder(t, r)
	c.ImplicitConfirm = true
	first := certRequest(t, "profiled")
	first.Profile = "tls-server"
	ir, err := c.Enroll(testContext(t), first)
	if err != nil {
		t.Fatal(err)
	}
	second := certRequest(t, "profiled")
	second.Profile = "tls-client"
	cr, err := c.Certify(testContext(t), second, ir.Certificate, first.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateKey(testContext(t), &CertRequest{Key: newKey(t), Profile: "tls-server"}, cr.Certificate, second.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Enroll(testContext(t), certRequest(t, "unprofiled")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range r.requests() {
		if m.Body.Type == cmp.BodyCertConf {
			continue
		}
		profile := "-"
		if itav := cmp.FindITAV(m.Header.GeneralInfo, cmp.OIDCertProfile); itav != nil {
			names, err := cmp.ParseCertProfile(itav.Value)
			if err != nil {
				t.Fatalf("%s certProfile: %v", m.Body.Type, err)
			}
			profile = strings.Join(names, ",")
		}
		if !m.Header.ImplicitConfirm() {
			t.Errorf("%s without implicitConfirm", m.Body.Type)
		}
		got = append(got, m.Body.Type.String()+":"+profile)
	}
	want := []string{"ir:tls-server", "cr:tls-client", "kur:tls-server", "ir:-"}
	if !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
}

package provider

import (
	"context"
	"crypto/x509"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccCertificateMACUpdates: with update_protection = "mac" the whole
// lifecycle is protected by the shared secret: IR, CR, KUR (the renewal
// window opened), the RR of the certificate the KUR pushes out of the
// state, and destroy's two RRs, each with its certConf. The CA answers
// under the same secret, so the CR needs no trust anchor: here the
// provider's trusted_ca_pem is removed after the IR, which adopted none
// (configured anchors win), and a CR signed with the certificate is
// refused at plan for the lack of one, while the MAC-protected CR goes
// through. Every certificate the CA
// issued reached the state and ends revoked.
func TestAccCertificateMACUpdates(t *testing.T) {
	const cn = "mac-updates.example"
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	now := newTestClock()
	cfg := func(anchors bool, protection string, dns ...string) string {
		c := hclConfig{url: e.url, reference: e.reference, secret: e.secret, messageTimeout: "5s",
			body: fmt.Sprintf("subject = { common_name = %q }\ndns_names = %s\nvalidity_period_hours = 2160\n"+
				"update_protection = %q", cn, `["`+strings.Join(dns, `", "`)+`"]`, protection)}
		if anchors {
			c.trustedCAPEM = e.caPEM
		}
		return c.String()
	}
	var mark int
	setMark := func() { mark = e.mark() }
	seen := map[string]bool{}
	saw := func(want ...string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			if got := e.events3(mark); !slices.Equal(got, want) {
				return fmt.Errorf("the CA saw %v, want %v", got, want)
			}
			seen[stateAttr(s, certAddr, "serial_number")] = true
			return nil
		}
	}
	enrolled := func(op string) []string { return []string{op + ":accepted:mac", "certConf:confirmed:mac"} }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: now.Now}),
		Steps: []resource.TestStep{
			{PreConfig: setMark, Config: cfg(true, "mac", cn), ConfigPlanChecks: emptyPlanAfterApply, Check: saw(enrolled("ir")...)},
			// Without any trust anchor a signed CR is refused at plan...
			{
				PreConfig: setMark, Config: cfg(false, "signature", cn, "www."+cn),
				ExpectError: regexp.MustCompile(`(?s)No trust anchor for the CA's answer to the planned certification request`),
			},
			// ...and the MAC-protected one is answered under the secret.
			{
				PreConfig: func() {
					if got := e.ops(mark); len(got) != 0 {
						t.Errorf("a plan refused for its missing trust anchor sent %v", got)
					}
					setMark()
				},
				Config: cfg(false, "mac", cn, "www."+cn), ConfigPlanChecks: emptyPlanAfterApply, Check: saw(enrolled("cr")...),
			},
			{
				PreConfig: func() { setMark(); now.Add(1500 * time.Hour) },
				Config:    cfg(false, "mac", cn, "www."+cn),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(func(*terraform.State) error {
					now.Set(time.Now())
					return nil
				}, saw(append(enrolled("kur"), "rr:accepted:mac")...), func(*terraform.State) error {
					setMark()
					return nil
				}),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if got, want := e.events3(mark), []string{"rr:accepted:mac", "rr:accepted:mac"}; !slices.Equal(got, want) {
				return fmt.Errorf("destroy: the CA saw %v, want %v", got, want)
			}
			issued := e.issuedFor(cn)
			if len(issued) != 3 {
				return fmt.Errorf("the CA issued %v, want 3 certificates", issued)
			}
			for _, serial := range issued {
				if !seen[serial] || !e.revoked(t, serial) {
					return fmt.Errorf("certificate %s: in state %t, revoked %t; want both", serial, seen[serial], e.revoked(t, serial))
				}
			}
			return nil
		},
	})
}

// TestTrustUnderMAC: an update or revocation answered under the shared
// secret (update_protection = "mac") needs no trust anchor; a signed one
// still does, and an anchor that is there is still used.
func TestTrustUnderMAC(t *testing.T) {
	ctx := context.Background()
	noServer := types.ObjectNull(connectionAttrTypes)
	d := &Defaults{URL: "http://127.0.0.1:1/cmp"}
	mac, signature := types.StringValue(updateProtectionMAC), types.StringValue(updateProtectionSignature)
	for _, tc := range []struct {
		name       string
		protection types.String
		wantErr    bool
	}{
		{"mac", mac, false},
		{"signature", signature, true},
		{"unset (signature)", types.StringNull(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, _, diags := certificateConnection(ctx, noServer, d, certificateModel{}, tc.protection)
			if diags.HasError() != tc.wantErr {
				t.Errorf("certificateConnection errors %v, want error %t", diags, tc.wantErr)
			}
			if !tc.wantErr && len(conn.TrustedCAs) != 0 {
				t.Errorf("anchors %v from nowhere", conn.TrustedCAs)
			}
			r := &certificateResource{defaults: d}
			var planDiags diag.Diagnostics
			r.checkTrustForUpdate(ctx, certificateModel{Server: noServer, UpdateProtection: tc.protection}, certificateModel{}, "CR", &planDiags)
			if planDiags.HasError() != tc.wantErr {
				t.Errorf("checkTrustForUpdate errors %v, want error %t", planDiags, tc.wantErr)
			}
		})
	}
	// A configured anchor still verifies the answer's certificate.
	rootPEM, _ := testCertificate(t, "configured")
	root, _ := parseCertificatePEM(rootPEM)
	withAnchor := &Defaults{URL: d.URL, TrustedCAs: []*x509.Certificate{root}}
	conn, _, diags := certificateConnection(ctx, noServer, withAnchor, certificateModel{}, mac)
	if diags.HasError() || len(conn.TrustedCAs) != 1 || !conn.TrustedCAs[0].Equal(root) {
		t.Errorf("under mac with a configured anchor: %v %v; want it used", conn.TrustedCAs, diags)
	}
}

package provider

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccCertificateRevokeSupersededFalse: with revoke_superseded = false a
// CR or KUR never sends an RR for the certificate it replaces, nor does
// destroy for previous_certificate_pem, so a CA without revocation never
// sees one. Through IR, CR, KUR, a second CR and destroy, the CA sees
// exactly the enrollments and, with revoke_on_destroy, the one RR for the
// current certificate; every replaced certificate stays live.
func TestAccCertificateRevokeSupersededFalse(t *testing.T) {
	cases := []struct {
		name            string
		revokeOnDestroy bool
	}{
		{"revoke_on_destroy false: no rr at all", false},
		{"revoke_on_destroy true: only the current certificate's rr", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const cn = "keep-replaced.example"
			f := newWindowRun(t, devca.Config{}, cn)
			body := func(dns, epoch string) string {
				return fmt.Sprintf("subject = { common_name = %q }\ndns_names = [%q]\nrotation_triggers = { epoch = %q }\n"+
					"revoke_superseded = false\nrevoke_on_destroy = %t", cn, dns, epoch, tc.revokeOnDestroy)
			}
			var current string
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
				Steps: []resource.TestStep{
					f.step(0, body("a.keep.example", "1"), sentIR),
					crKeepsKey(f.step(0, body("b.keep.example", "1"), sentCR)),
					// A KUR with a previous certificate in state: it leaves
					// the state unrevoked.
					f.step(0, body("b.keep.example", "2"), sentKUR),
					{
						PreConfig:        func() { f.mark = f.e.mark() },
						Config:           f.config(body("c.keep.example", "2")),
						ConfigPlanChecks: emptyPlanAfterApply,
						Check: resource.ComposeTestCheckFunc(f.saw(sentCR), func(s *terraform.State) error {
							current = stateAttr(s, certAddr, "serial_number")
							return nil
						}),
					},
				},
				CheckDestroy: func(*terraform.State) error {
					want := slices.Concat(sentIR, sentCR, sentKUR, sentCR)
					if tc.revokeOnDestroy {
						want = append(want, sentRR...)
					}
					if err := f.e.sawSince(0, want); err != nil {
						return err
					}
					serials := f.e.issuedFor(cn)
					if len(serials) != 4 {
						return fmt.Errorf("the CA issued %v for %s, want 4 certificates", serials, cn)
					}
					for _, serial := range serials {
						wantRevoked := tc.revokeOnDestroy && serial == current
						if got := f.e.revoked(t, serial); got != wantRevoked {
							return fmt.Errorf("certificate %s revoked = %t, want %t (current %s)", serial, got, wantRevoked, current)
						}
					}
					return nil
				},
			})
		})
	}
}

// TestSupersededNote: the plan of a CR or KUR names the certificate it
// revokes, or says with revoke_superseded = false that replaced
// certificates stay valid until they expire.
func TestSupersededNote(t *testing.T) {
	prev, _ := testCertificate(t, "previous")
	cases := []struct {
		name      string
		previous  string
		revoke    bool
		want, not string
	}{
		{"revokes the previous certificate", prev, true, "is revoked (superseded)", "stays valid"},
		{"nothing held, revoking", "", true, "", "revoke"},
		{"keeps the previous certificate", prev, false, "stays valid until it expires", "(superseded)"},
		{"nothing held, not revoking", "", false, "once replaced, stays valid until it expires", "(superseded)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := certificateModel{PreviousCertificatePEM: types.StringNull()}
			if tc.previous != "" {
				state.PreviousCertificatePEM = types.StringValue(tc.previous)
			}
			got := supersededNote(state, tc.revoke)
			if !strings.Contains(got, tc.want) || (tc.want == "" && got != "") || strings.Contains(got, tc.not) {
				t.Errorf("supersededNote = %q, want it to hold %q and not %q", got, tc.want, tc.not)
			}
			if !tc.revoke && !strings.Contains(got, "revoke_superseded = false") {
				t.Errorf("supersededNote = %q does not name revoke_superseded", got)
			}
		})
	}
}

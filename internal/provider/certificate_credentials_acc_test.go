package provider

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccCertificateWriteOnlySecretOnlyForIR: enrollment.secret_wo from an
// ephemeral variable is needed by the IR only. With the variable unset
// (null) afterwards, plan, a CR and destroy work; a replacement (expired
// certificate, tainted resource) needs it again and is refused at plan
// time, naming it; with the variable set the replacement sends an IR.
func TestAccCertificateWriteOnlySecretOnlyForIR(t *testing.T) {
	clearProviderEnv(t)
	now := newTestClock()
	e := startCA(t, devca.Config{})
	cfg := func(dns string) string {
		return e.providerBlock(false) + fmt.Sprintf(`
variable "enrollment_secret" {
  type      = string
  ephemeral = true
  sensitive = true
  default   = null
}
resource "cmpv2_certificate" "test" {
  subject    = { common_name = "wo.example" }
  dns_names  = [%q]
  enrollment = { reference = %q, secret_wo = var.enrollment_secret }
}`, dns, e.reference)
	}
	withSecret := config.Variables{"enrollment_secret": config.StringVariable(e.secret)}
	var mark int
	var serials []string // every certificate issued, all revoked in the end
	setMark := func() { mark = e.mark() }
	// saw checks that the CA handled exactly the requests want (ir, cr,
	// kur, rr, each as "op:status") since the mark; confirmations aside.
	saw := func(want ...string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			var got []string
			for _, op := range e.ops(mark) {
				if name, _, _ := strings.Cut(op, ":"); slices.Contains([]string{"ir", "cr", "kur", "rr"}, name) {
					got = append(got, op)
				}
			}
			if !slices.Equal(got, want) {
				return fmt.Errorf("the CA saw %v, want %v", e.ops(mark), want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: now.Now}),
		Steps: []resource.TestStep{
			{
				PreConfig:       setMark,
				Config:          cfg("wo.example"),
				ConfigVariables: withSecret,
				Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "ir", "wo.example"), saw("ir:accepted"),
					record(&serials)),
			},
			// The variable unset: plan finds nothing to do and asks for no secret.
			{PreConfig: setMark, Config: cfg("wo.example"), PlanOnly: true},
			{RefreshState: true, Check: saw()},
			// A CR is signed with the certificate in state.
			{
				PreConfig: setMark,
				Config:    cfg("www.wo.example"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "cr", "wo.example"), saw("cr:accepted"),
					record(&serials)),
			},
			// Expired: the replacement is an IR, which needs the secret.
			{
				PreConfig: func() { now.Add(400 * 24 * time.Hour); setMark() },
				Config:    cfg("www.wo.example"),
				PlanOnly:  true,
				ExpectError: regexp.MustCompile(`(?s)Missing enrollment secret.*expired.*enrollment\.reference\s+needs` +
					`\s+enrollment\.secret_wo\s+or\s+enrollment\.secret`),
			},
			// Tainted: the same.
			{
				PreConfig:   func() { now.Set(time.Now()) },
				Config:      cfg("www.wo.example"),
				Taint:       []string{certAddr},
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Missing enrollment secret.*enrollment\.secret_wo\s+or\s+enrollment\.secret`),
			},
			// With the variable set, the replacement revokes the certificate and
			// the one the CR replaced, then sends an IR; the refused plans
			// before it sent nothing.
			{
				Config:          cfg("www.wo.example"),
				ConfigVariables: withSecret,
				Taint:           []string{certAddr},
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "ir", "wo.example"), saw("rr:accepted", "rr:accepted", "ir:accepted"),
					func(s *terraform.State) error {
						if got := stateAttr(s, certAddr, "serial_number"); slices.Contains(serials, got) {
							return fmt.Errorf("the tainted certificate %s was kept", got)
						}
						return nil
					}, record(&serials)),
			},
			// Destroy with the variable unset: an RR signed with the certificate.
			{PreConfig: setMark, Config: cfg("www.wo.example"), Destroy: true, Check: saw("rr:accepted")},
		},
		CheckDestroy: revokedOnDestroy(t, e, &serials),
	})
}

// TestAccCertificateNoIRCredentials: a create with no IR credentials at
// all, or with a reference whose secret_wo variable is unset, fails at plan
// time naming the attributes to set, and the CA sees nothing.
func TestAccCertificateNoIRCredentials(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	for _, tc := range []struct{ name, body, want string }{
		{"no enrollment and no provider credentials", ``,
			`No credentials for the initialization request.*enrollment\.secret\s+or\s+enrollment\.secret_wo`},
		{"reference with its secret_wo variable unset", fmt.Sprintf(`
  enrollment = { reference = %q, secret_wo = var.enrollment_secret }`, e.reference),
			`Missing enrollment secret.*enrollment\.secret_wo\s+or\s+enrollment\.secret`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := e.mark()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config: e.providerBlock(false) + `
variable "enrollment_secret" {
  type      = string
  ephemeral = true
  default   = null
}
resource "cmpv2_certificate" "test" {
  subject = { common_name = "none.example" }` + tc.body + `
}`,
					PlanOnly:           true,
					ExpectNonEmptyPlan: true,
					ExpectError:        regexp.MustCompile(`(?s)` + tc.want),
				}},
			})
			if ops := e.ops(mark); len(ops) != 0 {
				t.Errorf("the CA saw %v during a refused plan", ops)
			}
		})
	}
}

package provider

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// The CMP messages of one enrollment and of the revocation of the
// certificate a CR or KUR pushed out of the state, as caEnv.ops lists them.
var (
	sentIR  = []string{"ir:accepted", "certConf:confirmed"}
	sentCR  = []string{"cr:accepted", "certConf:confirmed"}
	sentKUR = []string{"kur:accepted", "certConf:confirmed"}
	sentRR  = []string{"rr:accepted"}
)

// windowRun is one resource under a development CA, the provider's clock
// (which starts at the CA's real time and moves only forward) and what the
// CA saw since the last mark. The CA keeps the real time: it refuses
// messages whose messageTime is far from its clock.
type windowRun struct {
	t    *testing.T
	e    *caEnv
	now  *testClock
	cn   string
	mark int
}

func newWindowRun(t *testing.T, cfg devca.Config, cn string) *windowRun {
	clearProviderEnv(t)
	return &windowRun{t: t, e: startCA(t, cfg), now: newTestClock(), cn: cn}
}

// step returns a test step applying body after moving the clock by
// advance, and checking that the CA saw exactly want (each message as
// "op:status", in order) during that step's plans and applies.
func (f *windowRun) step(advance time.Duration, body string, want ...[]string) resource.TestStep {
	return resource.TestStep{
		PreConfig: func() {
			f.now.Add(advance)
			f.mark = f.e.mark()
		},
		Config:           f.config(body),
		ConfigPlanChecks: emptyPlanAfterApply,
		Check:            f.saw(slices.Concat(want...)),
	}
}

// config is the provider block for the CA and the resource with body.
func (f *windowRun) config(body string) string {
	return f.e.providerBlock(true) + "resource \"cmpv2_certificate\" \"test\" {\n" + body + "\n}\n"
}

// saw checks that the CA handled exactly want since the mark.
func (f *windowRun) saw(want []string) resource.TestCheckFunc {
	return func(*terraform.State) error { return f.e.sawSince(f.mark, want) }
}

// allRevoked checks after destroy that the CA revoked every certificate it
// issued for the resource, and that it issued issued of them.
func (f *windowRun) allRevoked(issued int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		serials := f.e.issuedFor(f.cn)
		if len(serials) != issued {
			return fmt.Errorf("the CA issued %d certificates for %s (%v), want %d", len(serials), f.cn, serials, issued)
		}
		for _, serial := range serials {
			if !f.e.revoked(f.t, serial) {
				return fmt.Errorf("certificate %s is live after destroy", serial)
			}
		}
		return nil
	}
}

// TestAccFirstDayRenewalWindows: renewal windows at, just under and just
// over the validity the CA grants (its policy plus the minute it backdates
// not_before), with renew_before_expiry and with renew_after_issue. After
// each enrollment (IR, CR, KUR) a second apply, later by a tenth of the
// validity (for 90-second certificates, by two seconds), sends nothing: a
// window that does not fit is set aside (renewalFits), so no certificate
// is due when it is issued. Destroy revokes every certificate the CA
// issued.
func TestAccFirstDayRenewalWindows(t *testing.T) {
	cases := []struct {
		name    string
		cfg     devca.Config
		setting string
		window  string
		advance time.Duration // between applies
		// extra goes into the resource; granted is the status of the CA's
		// answers to IR, CR and KUR ("": accepted).
		extra, granted string
	}{
		// The CA's default 90 days, granted as 2160h1m.
		{"90 days, renew_before_expiry just under the granted validity", devca.Config{}, "renew_before_expiry", "2160h", 216 * time.Hour, "", ""},
		{"90 days, renew_before_expiry at the granted validity", devca.Config{}, "renew_before_expiry", "2160h1m", 216 * time.Hour, "", ""},
		{"90 days, renew_before_expiry just over the granted validity", devca.Config{}, "renew_before_expiry", "2161h", 216 * time.Hour, "", ""},
		{"90 days, renew_after_issue just under the granted validity", devca.Config{}, "renew_after_issue", "2160h", 216 * time.Hour, "", ""},
		{"90 days, renew_after_issue at the granted validity", devca.Config{}, "renew_after_issue", "2160h1m", 216 * time.Hour, "", ""},
		{"90 days, renew_after_issue just over the granted validity", devca.Config{}, "renew_after_issue", "2161h", 216 * time.Hour, "", ""},
		// A CA whose policy caps validity at 30 days, with a window written
		// for longer certificates.
		{"30-day policy, renew_before_expiry 720h", devca.Config{MaxValidity: 720 * time.Hour}, "renew_before_expiry", "720h", 72 * time.Hour, "", ""},
		{"30-day policy, renew_after_issue 720h", devca.Config{MaxValidity: 720 * time.Hour}, "renew_after_issue", "720h", 72 * time.Hour, "", ""},
		// The CA grants less than validity_period_hours asks for, which
		// the window fits.
		{"30-day policy, 90 days requested, renew_before_expiry 720h", devca.Config{MaxValidity: 720 * time.Hour},
			"renew_before_expiry", "720h", 72 * time.Hour, "validity_period_hours = 2160", "grantedWithMods"},
		// Short-lived certificates: 90 seconds, backdated by a minute.
		{"90-second policy, renew_before_expiry 90s", devca.Config{MaxValidity: 90 * time.Second}, "renew_before_expiry", "90s", 2 * time.Second, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const cn = "window.example"
			f := newWindowRun(t, tc.cfg, cn)
			body := func(dns, epoch string) string {
				return fmt.Sprintf("subject = { common_name = %q }\ndns_names = [%q]\nrotation_triggers = { epoch = %q }\n%s = %q\n%s",
					cn, dns, epoch, tc.setting, tc.window, tc.extra)
			}
			sent := func(msgs []string) []string {
				if tc.granted == "" {
					return msgs
				}
				out := slices.Clone(msgs)
				out[0] = strings.Replace(out[0], ":accepted", ":"+tc.granted, 1)
				return out
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
				Steps: []resource.TestStep{
					f.step(0, body("a.window.example", "1"), sent(sentIR)),
					f.step(tc.advance, body("a.window.example", "1")),
					crKeepsKey(f.step(tc.advance, body("b.window.example", "1"), sent(sentCR))),
					f.step(tc.advance, body("b.window.example", "1")),
					// The KUR pushes the IR's certificate out of the state: revoked.
					f.step(tc.advance, body("b.window.example", "2"), sent(sentKUR), sentRR),
					f.step(tc.advance, body("b.window.example", "2")),
				},
				CheckDestroy: f.allRevoked(3),
			})
		})
	}
}

// crKeepsKey adds to a step whose plan is a CR keeping the key the checks
// that the plan shows private_key_pem known (the key does not change, so
// neither does the public key certificate_info will show) and the issuer
// chain unknown (the CA chooses the issuer).
func crKeepsKey(s resource.TestStep) resource.TestStep {
	s.ConfigPlanChecks.PreApply = append(s.ConfigPlanChecks.PreApply,
		plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionUpdate),
		plancheck.ExpectKnownValue(certAddr, tfjsonpath.New("private_key_pem"), knownvalue.StringRegexp(regexp.MustCompile("PRIVATE KEY"))),
		plancheck.ExpectKnownValue(certAddr, tfjsonpath.New("last_operation"), knownvalue.StringExact("cr")),
		plancheck.ExpectUnknownValue(certAddr, tfjsonpath.New("ca_chain_pem")),
		plancheck.ExpectUnknownValue(certAddr, tfjsonpath.New("certificate_pem")))
	return s
}

// TestAccFirstDayRenewalWindowValidation: a window as long as the requested
// validity_period_hours fails at plan, before any message is sent, naming
// the fix.
func TestAccFirstDayRenewalWindowValidation(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"renew_before_expiry as long as validity_period_hours", `validity_period_hours = 720
renew_before_expiry = "720h"`,
			`(?s)Renewal window longer than the validity.*renew_before_expiry.*To fix\s+it,\s+set\s+renew_before_expiry\s+to\s+at\s+most\s+half\s+of\s+the\s+validity\s+\(360h0m0s\),\s+request\s+validity_period_hours\s+=\s+1440\s+or\s+more,\s+or\s+remove\s+renew_before_expiry`},
		{"renew_after_issue as long as validity_period_hours", `validity_period_hours = 720
renew_after_issue = "720h"`,
			`(?s)Renewal window longer than the validity.*renew_after_issue.*expired.*To fix\s+it,\s+set\s+renew_after_issue\s+to\s+less\s+than\s+the\s+validity\s+\(720h0m0s\),\s+request\s+validity_period_hours\s+=\s+721\s+or\s+more,\s+or\s+remove\s+renew_after_issue`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newWindowRun(t, devca.Config{}, "validation.example")
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
				Steps: []resource.TestStep{{
					PreConfig:   func() { f.mark = f.e.mark() },
					Config:      f.config("subject = { common_name = \"validation.example\" }\n" + tc.body),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
				CheckDestroy: func(*terraform.State) error {
					if ops := f.e.ops(0); len(ops) != 0 {
						return fmt.Errorf("the CA saw %v, want nothing", ops)
					}
					return nil
				},
			})
		})
	}
}

// TestAccFirstDayExpiredReplacement: an expired certificate is replaced by
// a new IR, destroy-then-create by default and create-then-destroy with
// lifecycle { create_before_destroy = true }. Either way the expired
// certificate gets no RR (it cannot sign one, and the CA no longer lists
// it). What the order changes shows when the IR fails: destroy-then-create
// has already dropped the expired certificate from the state, so the next
// plan creates; create-then-destroy keeps it, so the next plan replaces
// again. The provider's clock moves past the expiry of the CA's 90-day
// certificates; the CA keeps the real time, so under the moved clock the
// replacement is expired at once too, until the clock is set back.
func TestAccFirstDayExpiredReplacement(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lifecycle string
		replace   plancheck.ResourceActionType
		afterFail plancheck.ResourceActionType
	}{
		{"destroy then create (default)", "", plancheck.ResourceActionDestroyBeforeCreate, plancheck.ResourceActionCreate},
		{"create before destroy", "lifecycle {\n  create_before_destroy = true\n}", plancheck.ResourceActionCreateBeforeDestroy,
			plancheck.ResourceActionCreateBeforeDestroy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const cn = "expired.example"
			clearProviderEnv(t)
			now := newTestClock()
			e := startCA(t, devca.Config{})
			f := &windowRun{t: t, e: e, now: now, cn: cn}
			body := func(secret string) string {
				return fmt.Sprintf("subject = { common_name = %q }\nenrollment = { reference = %q, secret = %q }\n%s",
					cn, e.reference, secret, tc.lifecycle)
			}
			var first string
			failed := f.step(2184*time.Hour, body("wrong secret"))
			failed.ConfigPlanChecks = resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, tc.replace)}}
			failed.ExpectError = regexp.MustCompile(`initialization request \(IR\) failed`)
			failed.Check = nil
			again := f.step(0, body(e.secret), sentIR)
			again.ConfigPlanChecks = resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, tc.afterFail)}}
			again.ExpectNonEmptyPlan = true // the replacement is expired under the moved clock
			again.Check = resource.ComposeTestCheckFunc(again.Check, checkIssued(t, e, "ir", cn),
				func(s *terraform.State) error {
					if stateAttr(s, certAddr, "serial_number") == first {
						return fmt.Errorf("the expired certificate %s is still in state", first)
					}
					if n := e.rrCount()[first]; n != 0 {
						return fmt.Errorf("the expired certificate %s got %d RR", first, n)
					}
					return nil
				})
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: providersAt(clock{Now: now.Now}),
				Steps: []resource.TestStep{
					func() resource.TestStep {
						s := f.step(0, body(e.secret), sentIR)
						s.Check = resource.ComposeTestCheckFunc(s.Check, func(s *terraform.State) error {
							first = stateAttr(s, certAddr, "serial_number")
							return nil
						})
						return s
					}(),
					failed,
					again,
					// Back at the real time, refresh and plan find nothing to do.
					{PreConfig: func() { now.Set(time.Now()) }, RefreshState: true},
					{Config: f.config(body(e.secret)), PlanOnly: true},
				},
				// The expired certificate is not revoked; every other one is.
				CheckDestroy: func(*terraform.State) error {
					serials := e.issuedFor(cn)
					if len(serials) != 2 || serials[0] != first {
						return fmt.Errorf("the CA issued %v for %s, want the first (%s) and its replacement", serials, cn, first)
					}
					if e.revoked(t, first) || !e.revoked(t, serials[1]) {
						return fmt.Errorf("revoked: expired %v, replacement %v; want false, true",
							e.revoked(t, first), e.revoked(t, serials[1]))
					}
					return nil
				},
			})
		})
	}
}

// TestAccFirstDayDestroyExpiredRevokesPrevious: a CR that shortened the
// validity leaves the certificate it replaced (previous_certificate_pem)
// outliving the current one. Destroying the resource once the current
// certificate has expired (it can no longer sign an RR) still revokes that
// previous certificate, which is valid, with its own key.
func TestAccFirstDayDestroyExpiredRevokesPrevious(t *testing.T) {
	const cn = "outlived.example"
	clearProviderEnv(t)
	now := newTestClock()
	e := startCA(t, devca.Config{})
	f := &windowRun{t: t, e: e, now: now, cn: cn}
	body := func(hours int) string {
		return fmt.Sprintf("subject = { common_name = %q }\nvalidity_period_hours = %d\n", cn, hours)
	}
	serial := func(into *string) resource.TestCheckFunc {
		return func(s *terraform.State) error { *into = stateAttr(s, certAddr, "serial_number"); return nil }
	}
	var first, second string
	ir := f.step(0, body(48), sentIR)
	ir.Check = resource.ComposeTestCheckFunc(ir.Check, serial(&first))
	cr := f.step(0, body(1), sentCR)
	cr.Check = resource.ComposeTestCheckFunc(cr.Check, serial(&second))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: now.Now}),
		Steps: []resource.TestStep{ir, cr,
			// Two hours on, the current certificate has expired (the plan
			// replaces it); the test's destroy runs at that time.
			{PreConfig: func() { now.Add(2 * time.Hour) }, Config: f.config(body(1)), PlanOnly: true,
				ExpectNonEmptyPlan: true},
		},
		CheckDestroy: func(*terraform.State) error {
			rr := e.rrCount()
			if rr[first] != 1 || rr[second] != 0 {
				return fmt.Errorf("RRs: previous %s got %d, expired current %s got %d; want 1 and 0",
					first, rr[first], second, rr[second])
			}
			if !e.revoked(t, first) {
				return fmt.Errorf("the previous certificate %s is live after destroy", first)
			}
			return nil
		},
	})
}

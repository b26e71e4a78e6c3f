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

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccCertificateStateOnly: changes of settings that send nothing are
// applied without a single message reaching the CA (its Events hook proves
// it), and keep the certificate.
func TestAccCertificateStateOnly(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	base := `subject = { common_name = "quiet.example" }
validity_period_hours = 48`
	cfg := func(extra string) string {
		return e.providerBlock(false) + fmt.Sprintf(`resource "cmpv2_certificate" "test" {
%s
%s
}`, base, extra)
	}
	enrollment := fmt.Sprintf("enrollment = {\n reference = %q\n secret_wo = %q\n}", e.reference, e.secret)
	var serial string
	var mark int
	nothingSent := func(s *terraform.State) error {
		if ops := e.ops(mark); len(ops) > 0 {
			return fmt.Errorf("a state-only update sent CMP messages: %v", ops)
		}
		if got := stateAttr(s, certAddr, "serial_number"); got != serial {
			return fmt.Errorf("serial changed from %s to %s", serial, got)
		}
		return nil
	}
	steps := []resource.TestStep{{
		Config:           cfg(enrollment),
		ConfigPlanChecks: emptyPlanAfterApply,
		Check: func(s *terraform.State) error {
			serial = stateAttr(s, certAddr, "serial_number")
			return nil
		},
	}}
	for _, extra := range []string{
		enrollment + "\nrevoke_on_destroy = true\nrevocation_reason = \"superseded\"",
		enrollment + "\nrevocation_reason = \"superseded\"\nrenew_before_expiry = \"12h\"",
		enrollment + "\nrevocation_reason = \"superseded\"\nrenew_after_issue = \"30h\"",
		fmt.Sprintf("enrollment = {\n reference = %q\n secret = %q\n}\nserver = { message_timeout = \"9s\", implicit_confirm = true }", e.reference, e.secret),
		"server = { message_timeout = \"9s\" }\nenrollment = { reference = \"other\", secret_wo = \"changed\" }",
	} {
		steps = append(steps, resource.TestStep{
			PreConfig: func() { mark = e.mark() },
			Config:    cfg(extra),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionUpdate)},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			Check: nothingSent,
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps:                    steps,
		CheckDestroy: func(*terraform.State) error {
			if !e.revoked(t, serial) {
				return fmt.Errorf("certificate %s not revoked", serial)
			}
			return nil
		},
	})
}

// TestAccCertificateRevokeOnDestroyFalse: destroy only forgets.
func TestAccCertificateRevokeOnDestroyFalse(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	var serial string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: e.providerBlock(true) + `resource "cmpv2_certificate" "test" {
  subject           = { common_name = "keep.example" }
  revoke_on_destroy = false
}`,
			Check: func(s *terraform.State) error { serial = stateAttr(s, certAddr, "serial_number"); return nil },
		}},
		CheckDestroy: func(*terraform.State) error {
			if e.revoked(t, serial) {
				return fmt.Errorf("certificate %s revoked although revoke_on_destroy = false", serial)
			}
			return nil
		},
	})
}

// TestAccCertificateExpired: a certificate expired at plan time is
// replaced by a new IR when IR credentials are at hand, and is a plan-time
// error naming them when not.
func TestAccCertificateExpired(t *testing.T) {
	clearProviderEnv(t)
	now := newTestClock()
	e := startCA(t, devca.Config{})
	withCreds := e.providerBlock(false) + fmt.Sprintf(`resource "cmpv2_certificate" "test" {
  subject    = { common_name = "old.example" }
  enrollment = { reference = %q, secret_wo = %q }
}`, e.reference, e.secret)
	noCreds := e.providerBlock(false) + `resource "cmpv2_certificate" "test" {
  subject = { common_name = "old.example" }
}`
	var first string
	var mark int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: now.Now}),
		Steps: []resource.TestStep{
			{Config: withCreds, Check: func(s *terraform.State) error { first = stateAttr(s, certAddr, "serial_number"); return nil }},
			{
				PreConfig:   func() { now.Add(400 * 24 * time.Hour) },
				Config:      noCreds,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)No credentials for the initialization request.*expired.*enrollment\.reference`),
			},
			{
				PreConfig: func() { mark = e.mark() },
				Config:    withCreds,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				// Under the moved clock the new certificate is expired at once.
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(
					checkIssued(t, e, "ir", "old.example"),
					func(s *terraform.State) error {
						if stateAttr(s, certAddr, "serial_number") == first {
							return fmt.Errorf("the expired certificate was kept")
						}
						ops := e.ops(mark)
						if !slices.Contains(ops, "ir:accepted") || slices.ContainsFunc(ops, func(op string) bool {
							return strings.HasPrefix(op, "kur") || strings.HasPrefix(op, "rr")
						}) {
							return fmt.Errorf("want one IR and no KUR or RR for the expired certificate, the CA saw %v", ops)
						}
						return nil
					}),
			},
			// Back at the real time, refresh and plan find nothing to do.
			{PreConfig: func() { now.Set(time.Now()) }, RefreshState: true},
			{Config: withCreds, PlanOnly: true},
		},
	})
}

// TestAccCertificateFailures: what the CA refuses becomes a diagnostic
// naming the status, the failInfo bits and the transaction, and the state
// keeps what it must.
func TestAccCertificateFailures(t *testing.T) {
	t.Run("IR rejected", func(t *testing.T) {
		clearProviderEnv(t)
		e := startCA(t, devca.Config{Faults: []devca.Fault{devca.FaultRejectAll}})
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []resource.TestStep{{
				Config:      e.providerBlock(true) + `resource "cmpv2_certificate" "test" { subject = { common_name = "no.example" } }`,
				ExpectError: regexp.MustCompile(`(?s)initialization request \(IR\) failed.*transaction [0-9a-f]+.*rejection: badRequest.*rejected by fault mode`),
			}},
		})
	})

	t.Run("CA issues a certificate for another key: rejected with certConf", func(t *testing.T) {
		clearProviderEnv(t)
		e := startCA(t, devca.Config{Faults: []devca.Fault{devca.FaultWrongCertificate}})
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []resource.TestStep{{
				Config:      e.providerBlock(true) + `resource "cmpv2_certificate" "test" { subject = { common_name = "wrong.example" } }`,
				ExpectError: regexp.MustCompile(`(?s)initialization request \(IR\) failed.*transaction [0-9a-f]+.*issued certificate\s+rejected`),
			}},
			CheckDestroy: func(*terraform.State) error {
				if slices.Contains(e.ops(0), "certConf:rejected") {
					return nil
				}
				return fmt.Errorf("no certConf rejected the wrong certificate: %v", e.ops(0))
			},
		})
	})

	t.Run("certConf fails after issue: tainted with the certificate", func(t *testing.T) {
		clearProviderEnv(t)
		e := startCA(t, devca.Config{Faults: []devca.Fault{devca.FaultCertConfError}})
		cfg := e.providerBlock(true) + `resource "cmpv2_certificate" "test" { subject = { common_name = "taint.example" } }`
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []resource.TestStep{
				{Config: cfg, ExpectError: regexp.MustCompile(`(?s)issued but not confirmed.*systemFailure.*saved in\s+the\s+state`)},
				{
					RefreshState: true, ExpectNonEmptyPlan: true,
					Check: func(s *terraform.State) error {
						rs := s.RootModule().Resources[certAddr]
						if rs == nil || !rs.Primary.Tainted || rs.Primary.Attributes["serial_number"] == "" ||
							rs.Primary.Attributes["private_key_pem"] == "" {
							return fmt.Errorf("want a tainted resource holding the certificate and its key, got %v", rs)
						}
						return nil
					},
				},
			},
			CheckDestroy: func(*terraform.State) error {
				for _, ev := range e.events {
					if ev.Op == "ir" && ev.Serial != "" && !e.revoked(t, ev.Serial) {
						return fmt.Errorf("issued certificate %s neither in state nor revoked", ev.Serial)
					}
				}
				return nil
			},
		})
	})

	for _, op := range []struct{ name, change, want string }{
		{"KUR", `rotation_triggers = { epoch = "2" }`, `key update request \(KUR\) failed`},
		{"CR", `dns_names = ["revoked.example"]`, `certification request \(CR\) failed`},
	} {
		t.Run(op.name+" rejected: old certificate and key kept", func(t *testing.T) {
			clearProviderEnv(t)
			e := startCA(t, devca.Config{})
			cfg := func(change string) string {
				return e.providerBlock(true) + `resource "cmpv2_certificate" "test" {
  subject           = { common_name = "revoked.example" }
  revoke_on_destroy = false
  ` + change + `
}`
			}
			var cert, key string
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{
					{Config: cfg(""), Check: func(s *terraform.State) error {
						cert, key = stateAttr(s, certAddr, "certificate_pem"), stateAttr(s, certAddr, "private_key_pem")
						return nil
					}},
					{
						// Revoked behind Terraform's back, the certificate can no
						// longer sign a CR or KUR: the CA refuses it.
						PreConfig:   func() { revokeOutOfBand(t, e, cert, key) },
						Config:      cfg(op.change),
						ExpectError: regexp.MustCompile(`(?s)` + op.want + `.*keeps the current certificate.*transaction [0-9a-f]+.*certRevoked`),
					},
					{
						Config: cfg(op.change), PlanOnly: true, ExpectNonEmptyPlan: true,
						Check: func(s *terraform.State) error {
							if stateAttr(s, certAddr, "certificate_pem") != cert || stateAttr(s, certAddr, "private_key_pem") != key {
								return fmt.Errorf("the old certificate and key are not in state")
							}
							return nil
						},
					},
				},
			})
		})
	}
}

// revokeOutOfBand revokes a certificate at the CA, as an administrator would.
func revokeOutOfBand(t *testing.T, e *caEnv, certPEM, keyPEM string) {
	t.Helper()
	cert, err := parseCertificatePEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := &cmpclient.Client{URL: e.url, TrustAnchors: []*x509.Certificate{e.ca.CACertificate()}}
	if err := c.Revoke(context.Background(), cert, key, cmpclient.ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
}

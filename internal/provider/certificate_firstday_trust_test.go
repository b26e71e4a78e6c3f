package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// First-day trust: what a new user configures first (the provider from
// CMPV2_* variables, with or without a trust anchor) goes through IR, CR,
// KUR and destroy; a wrong or missing anchor fails before a certificate is
// left live.

// firstDayBody is the certificate of these tests; extra is added inside.
func firstDayBody(extra string) string {
	return "resource \"cmpv2_certificate\" \"test\" {\n" +
		"subject = { common_name = \"firstday.example\" }\n" + extra + "\n}\n"
}

// firstDayConfig is that certificate under a provider block configured by
// the environment alone.
func firstDayConfig(extra string) string { return "provider \"cmpv2\" {}\n" + firstDayBody(extra) }

// saw checks that the CA handled exactly want (each "op:status") since
// *mark, and moves *mark past them.
func saw(e *caEnv, mark *int, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		since := *mark
		*mark = e.mark()
		return e.sawSince(since, want)
	}
}

// issuedSerials lists the serials of every certificate the CA issued.
func (e *caEnv) issuedSerials() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		if (ev.Op == "ir" || ev.Op == "cr" || ev.Op == "kur") && ev.Serial != "" && !slices.Contains(out, ev.Serial) {
			out = append(out, ev.Serial)
		}
	}
	return out
}

// noneLiveOutsideState checks that every certificate the CA issued is the
// state's current or previous certificate, or revoked (s nil: the state is
// gone, so every one must be revoked).
func noneLiveOutsideState(t *testing.T, e *caEnv) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		if len(e.issuedSerials()) == 0 {
			return fmt.Errorf("the CA issued nothing")
		}
		return e.accountedFor(t, s)
	}
}

// firstDayIR is the first step of a first-day configuration: an IR and its
// certConf, adopting the CA's caPubs root when adopted is true.
func firstDayIR(e *caEnv, mark *int, adopted bool) resource.TestStep {
	return resource.TestStep{
		Config: firstDayConfig(`dns_names = ["firstday.example"]`),
		Check:  resource.ComposeTestCheckFunc(anchorIs(e, adopted), saw(e, mark, "ir:accepted", "certConf:confirmed")),
	}
}

// anchorIs checks trust_anchor_sha256: the devca's root, which must also
// end ca_chain_pem, or null (want false).
func anchorIs(e *caEnv, want bool) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		got := stateAttr(s, certAddr, "trust_anchor_sha256")
		if !want {
			if got != "" {
				return fmt.Errorf("trust_anchor_sha256 = %q with a configured trust anchor, want null", got)
			}
			return nil
		}
		sum := sha256.Sum256(e.ca.CACertificate().Raw)
		if got != hex.EncodeToString(sum[:]) {
			return fmt.Errorf("trust_anchor_sha256 = %q, want the CA root's %x", got, sum)
		}
		chain, err := parseCertificatesPEM(stateAttr(s, certAddr, "ca_chain_pem"))
		if err != nil || len(chain) == 0 || !chain[len(chain)-1].Equal(e.ca.CACertificate()) {
			return fmt.Errorf("ca_chain_pem does not end with the adopted anchor (%v)", err)
		}
		return nil
	}
}

// firstDayEnv configures the provider from the environment alone: URL,
// reference and secret, and the CA certificate when withAnchor.
func firstDayEnv(t *testing.T, e *caEnv, withAnchor bool) {
	clearProviderEnv(t)
	t.Setenv(envURL, e.url)
	t.Setenv(envReference, e.reference)
	t.Setenv(envSecret, e.secret)
	if withAnchor {
		t.Setenv(envTrustedCAPEM, e.caPEM)
	}
}

// TestAccFirstDayEnvOnly: the provider configured by CMPV2_* variables
// only, with and without CMPV2_TRUSTED_CA_PEM: IR, an empty second plan,
// CR, KUR and destroy, with exactly the CMP messages each needs. Without
// an anchor, the IR adopts the root from caPubs and every later signed
// answer is verified against it.
func TestAccFirstDayEnvOnly(t *testing.T) {
	for _, tc := range []struct {
		name       string
		withAnchor bool
	}{{"without trust anchors", false}, {"with CMPV2_TRUSTED_CA_PEM", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := startCA(t, devca.Config{})
			firstDayEnv(t, e, tc.withAnchor)
			adopted := !tc.withAnchor
			mark := 0
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{
					{
						Config:           firstDayConfig(`dns_names = ["firstday.example"]`),
						ConfigPlanChecks: emptyPlanAfterApply,
						Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "ir", "firstday.example"),
							anchorIs(e, adopted), saw(e, &mark, "ir:accepted", "certConf:confirmed"),
							noneLiveOutsideState(t, e)),
					},
					{
						// The second plan: nothing to do, nothing sent.
						Config:   firstDayConfig(`dns_names = ["firstday.example"]`),
						PlanOnly: true,
					},
					{
						Config:           firstDayConfig(`dns_names = ["firstday.example", "www.firstday.example"]`),
						ConfigPlanChecks: emptyPlanAfterApply,
						Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "cr", "firstday.example"),
							anchorIs(e, adopted), saw(e, &mark, "cr:accepted", "certConf:confirmed"),
							noneLiveOutsideState(t, e)),
					},
					{
						Config: firstDayConfig(`dns_names = ["firstday.example", "www.firstday.example"]
rotation_triggers = { epoch = "2" }`),
						ConfigPlanChecks: emptyPlanAfterApply,
						// The KUR's predecessor stays in previous_certificate_pem;
						// the IR's certificate leaves the state and is revoked.
						Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "kur", "firstday.example"),
							anchorIs(e, adopted), saw(e, &mark, "kur:accepted", "certConf:confirmed", "rr:accepted"),
							noneLiveOutsideState(t, e)),
					},
				},
				CheckDestroy: resource.ComposeTestCheckFunc(saw(e, &mark, "rr:accepted", "rr:accepted"),
					noneLiveOutsideState(t, e)),
			})
		})
	}
}

// TestAccFirstDayNoTrust: a certificate with no trust anchor at all (it
// was enrolled with one that is gone now) plans no CR and no destroy: both
// fail at plan time naming trusted_ca_pem, and the CA sees nothing.
func TestAccFirstDayNoTrust(t *testing.T) {
	e := startCA(t, devca.Config{})
	firstDayEnv(t, e, true)
	dropAnchor := func() { os.Setenv(envTrustedCAPEM, "") }
	restoreAnchor := func() { os.Setenv(envTrustedCAPEM, e.caPEM) }
	noAnchor := regexp.MustCompile(`(?s)No trust anchor.*trusted_ca_pem.*server_certificate_pem`)
	mark := 0
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			firstDayIR(e, &mark, false),
			{
				PreConfig:   dropAnchor,
				Config:      firstDayConfig(`dns_names = ["firstday.example", "www.firstday.example"]`),
				ExpectError: regexp.MustCompile(`(?s)planned certification request \(CR\).*Nothing was sent.*trusted_ca_pem`),
			},
			{
				PreConfig:   dropAnchor,
				Config:      firstDayConfig(`dns_names = ["firstday.example"]`),
				Destroy:     true,
				ExpectError: noAnchor,
			},
			{
				PreConfig: restoreAnchor,
				Config:    firstDayConfig(`dns_names = ["firstday.example"]`),
				Check:     resource.ComposeTestCheckFunc(saw(e, &mark), noneLiveOutsideState(t, e)),
			},
		},
		CheckDestroy: resource.ComposeTestCheckFunc(saw(e, &mark, "rr:accepted"), noneLiveOutsideState(t, e)),
	})
}

// TestAccFirstDayWrongTrustAnchor: another CA's certificate as the trust
// anchor fails naming trusted_ca_pem, and leaves no certificate live: on
// cmpv2_server at its genm; on a certificate at the IR, whose certificate
// is rejected with a certConf; and on a CR of a certificate that adopted
// the right root, since configured anchors win: the cp cannot be verified,
// so its certificate is rejected and its serial named.
func TestAccFirstDayWrongTrustAnchor(t *testing.T) {
	t.Run("server", func(t *testing.T) {
		e := startCA(t, devca.Config{})
		other := startCA(t, devca.Config{})
		firstDayEnv(t, e, false)
		mark := 0
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []resource.TestStep{{
				Config: "provider \"cmpv2\" {}\nresource \"cmpv2_server\" \"ca\" {\nurl = " + fmt.Sprintf("%q", e.url) +
					"\ntrusted_ca_pem = <<EOT\n" + other.caPEM + "EOT\n}\n",
				ExpectError: regexp.MustCompile(`(?s)trusted_ca_pem is not this CA's.*None of the`),
			}},
			CheckDestroy: saw(e, &mark, "genm:accepted"),
		})
	})
	t.Run("certificate IR", func(t *testing.T) {
		e := startCA(t, devca.Config{})
		other := startCA(t, devca.Config{})
		firstDayEnv(t, e, false)
		t.Setenv(envTrustedCAPEM, other.caPEM)
		mark := 0
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []resource.TestStep{{
				Config:      firstDayConfig(""),
				ExpectError: regexp.MustCompile(`(?s)does not verify to the trust anchors.*trusted_ca_pem`),
			}},
			CheckDestroy: resource.ComposeTestCheckFunc(saw(e, &mark, "ir:accepted", "certConf:rejected"),
				noneLiveOutsideState(t, e)),
		})
	})
	t.Run("certificate CR", func(t *testing.T) {
		e := startCA(t, devca.Config{})
		other := startCA(t, devca.Config{})
		firstDayEnv(t, e, false)
		var crSerial string
		mark := 0
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []resource.TestStep{
				firstDayIR(e, &mark, true),
				{
					PreConfig: func() { os.Setenv(envTrustedCAPEM, other.caPEM) },
					Config:    firstDayConfig(`dns_names = ["firstday.example", "www.firstday.example"]`),
					ExpectError: regexp.MustCompile(`(?s)unverified\s+answer:\s+the\s+cp\s+claims\s+accepted\s+with\s+` +
						`certificate\s+serial\s+[0-9]+.*rejected\s+with\s+a\s+certConf.*check\s+at\s+the\s+CA\s+that\s+` +
						`serial\s+[0-9]+\s+is\s+revoked`),
				},
				{
					// Back to the adopted anchor: the state kept the IR's
					// certificate, and the CR's is revoked.
					PreConfig: func() { os.Setenv(envTrustedCAPEM, "") },
					Config:    firstDayConfig(`dns_names = ["firstday.example"]`),
					Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "ir", "firstday.example"),
						func(*terraform.State) error {
							got := e.ops(mark)
							if !slices.Equal(got, []string{"cr:accepted", "certConf:rejected"}) {
								return fmt.Errorf("the CA saw %q for the CR, want the cp's certificate rejected", got)
							}
							issued := e.issuedSerials()
							crSerial = issued[len(issued)-1]
							if !e.revoked(t, crSerial) {
								return fmt.Errorf("the CR's certificate %s is live", crSerial)
							}
							mark = e.mark()
							return nil
						},
						noneLiveOutsideState(t, e)),
				},
			},
			CheckDestroy: resource.ComposeTestCheckFunc(saw(e, &mark, "rr:accepted"), noneLiveOutsideState(t, e),
				func(*terraform.State) error {
					if crSerial == "" || !e.revoked(t, crSerial) {
						return fmt.Errorf("the CR's certificate %q is not revoked after destroy", crSerial)
					}
					return nil
				}),
		})
	})
}

// TestAccFirstDayUnverifiedRevocation: a destroy whose rp cannot be
// verified (another CA's anchor configured, which wins over the adopted
// one) says so, with what the CA claimed, never "not revoked"; the
// destroy with the right anchor then finishes on the CA's certRevoked.
func TestAccFirstDayUnverifiedRevocation(t *testing.T) {
	e := startCA(t, devca.Config{})
	other := startCA(t, devca.Config{})
	firstDayEnv(t, e, false)
	mark := 0
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			firstDayIR(e, &mark, true),
			{
				PreConfig: func() { os.Setenv(envTrustedCAPEM, other.caPEM) },
				Config:    firstDayConfig(`dns_names = ["firstday.example"]`),
				Destroy:   true,
				ExpectError: regexp.MustCompile(`(?s)could\s+not\s+be\s+verified.*claims\s+accepted.*whether\s+the\s+` +
					`certificate\s+is\s+revoked\s+is\s+not\s+known`),
			},
			{
				PreConfig: func() { os.Setenv(envTrustedCAPEM, "") },
				Config:    firstDayConfig(`dns_names = ["firstday.example"]`),
				Check:     resource.ComposeTestCheckFunc(saw(e, &mark, "rr:accepted"), noneLiveOutsideState(t, e)),
			},
		},
		// The CA refuses the RR signed by a revoked certificate: certRevoked, done.
		CheckDestroy: resource.ComposeTestCheckFunc(saw(e, &mark, "rr:error"), noneLiveOutsideState(t, e)),
	})
}

// TestAccFirstDayNoTrustSignedIR: an IR signed with an externally issued
// certificate is answered with a signature, so without a trust anchor its
// plan fails naming trusted_ca_pem, and the CA sees nothing.
func TestAccFirstDayNoTrustSignedIR(t *testing.T) {
	_, deviceCert, deviceKey := testExternalCredential(t)
	e := startCA(t, devca.Config{})
	clearProviderEnv(t)
	t.Setenv(envURL, e.url)
	mark := 0
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: firstDayConfig("enrollment = {\ncertificate_pem = <<EOT\n" + deviceCert +
				"EOT\nprivate_key_pem = <<EOT\n" + deviceKey + "EOT\n}"),
			ExpectError: regexp.MustCompile(`(?s)No trust anchor for the CA's answer to the initialization request.*` +
				`Nothing was sent.*trusted_ca_pem`),
		}},
		CheckDestroy: saw(e, &mark),
	})
}

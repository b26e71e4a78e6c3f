package provider

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// The first configurations a new user writes: the provider configured from
// CMPV2_* environment variables alone (an empty provider block), no optional
// attribute, the enrollment secret from an ephemeral variable. Every case
// asserts each message the CA handled and that every certificate the CA
// issued is in state or revoked.

// firstDay is a development CA for one test, with the provider configured
// from the environment as a CI pipeline does: CMPV2_URL and
// CMPV2_TRUSTED_CA_PEM, plus CMPV2_REFERENCE and CMPV2_SECRET when
// withCredentials. The CA listens on a port the test can close and reopen
// (down, up): while it is down a connection is refused, as for a CA that is
// not running.
type firstDay struct {
	*caEnv
	t    *testing.T
	addr string
	srv  *httptest.Server
	// since is the position in the CA's event record saw counts from.
	since int
}

func startFirstDay(t *testing.T, withCredentials bool) *firstDay {
	t.Helper()
	clearProviderEnv(t)
	f := &firstDay{caEnv: startCA(t, devca.Config{}), t: t, addr: testpki.ClosedAddr(t)}
	f.up()
	t.Cleanup(f.down)
	f.url = "http://" + f.addr + "/.well-known/cmp"
	t.Setenv(envURL, f.url)
	t.Setenv(envTrustedCAPEM, f.caPEM)
	if withCredentials {
		t.Setenv(envReference, f.reference)
		t.Setenv(envSecret, f.secret)
	}
	return f
}

// up serves the CA on its address again.
func (f *firstDay) up() {
	if f.srv != nil {
		return
	}
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		f.t.Fatalf("bringing the CA back on %s: %v", f.addr, err)
	}
	f.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: f.ca}}
	f.srv.Start()
}

// down closes the CA's port.
func (f *firstDay) down() {
	if f.srv != nil {
		f.srv.Close()
		f.srv = nil
	}
}

// setMark starts a new count of the messages the CA handles.
func (f *firstDay) setMark() { f.since = f.mark() }

// saw checks that the CA handled exactly want since the mark, each as
// "op:status" (confirmations included), and that every certificate it
// issued is in state or revoked.
func (f *firstDay) saw(want ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		if err := f.sawSince(f.since, want); err != nil {
			return err
		}
		return f.nothingLost(s)
	}
}

// nothingLost: every certificate the CA issued is in state or revoked.
func (f *firstDay) nothingLost(s *terraform.State) error { return f.accountedFor(f.t, s) }

// create is the step that enrolls the certificate with cfg: one IR
// (confirmed) for common name cn, an empty plan after it; it records the
// serial in *serials and what the state holds in *h.
func (f *firstDay) create(cfg, cn string, serials *[]string, h *held) resource.TestStep {
	return resource.TestStep{
		PreConfig:        f.setMark,
		Config:           cfg,
		ConfigPlanChecks: emptyPlanAfterApply,
		Check: resource.ComposeTestCheckFunc(checkIssued(f.t, f.caEnv, "ir", cn),
			f.saw("ir:accepted", "certConf:confirmed"), record(serials), keep(h)),
	}
}

// held is what the state holds for the certificate after an apply.
type held struct{ serial, certificatePEM, privateKeyPEM string }

// keep records what the state holds in *h.
func keep(h *held) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		*h = held{stateAttr(s, certAddr, "serial_number"), stateAttr(s, certAddr, "certificate_pem"),
			stateAttr(s, certAddr, "private_key_pem")}
		return nil
	}
}

// unchanged checks that the state still holds *h untouched, with the
// dns_names it was issued for.
func unchanged(h *held, dnsNames ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		var now held
		if err := keep(&now)(s); err != nil {
			return err
		}
		if now != *h {
			return fmt.Errorf("state holds serial %q, want serial %q with its certificate and key untouched", now.serial, h.serial)
		}
		var got []string
		for i := range len(dnsNames) + 1 {
			if v, ok := s.RootModule().Resources[certAddr].Primary.Attributes[fmt.Sprintf("dns_names.%d", i)]; ok {
				got = append(got, v)
			}
		}
		if !slices.Equal(got, dnsNames) {
			return fmt.Errorf("state dns_names %v, want %v", got, dnsNames)
		}
		return nil
	}
}

// wrapped matches words in a diagnostic, which Terraform wraps: any space
// may be a line break.
func wrapped(words ...string) *regexp.Regexp {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = strings.ReplaceAll(regexp.QuoteMeta(w), " ", `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, ".*"))
}

// TestAccFirstDayWriteOnlySecretKUR: the secret from an ephemeral variable,
// given for the create only; afterwards the variable is null and a plan, a
// key update (rotation_triggers) and the destroy neither ask for it nor send
// anything but what they must. The CR with the variable null is
// TestAccCertificateWriteOnlySecretOnlyForIR.
func TestAccFirstDayWriteOnlySecretKUR(t *testing.T) {
	f := startFirstDay(t, false)
	// The reference from the environment alone, as CI passes it; the
	// secret, per certificate, from the ephemeral variable.
	t.Setenv(envReference, f.reference)
	cfg := func(extra string) string {
		return hclConfig{}.provider() + fmt.Sprintf(`
variable "enrollment_secret" {
  type      = string
  sensitive = true
  ephemeral = true
  default   = null
}

resource "cmpv2_certificate" "test" {
  subject    = { common_name = "first.example" }
  dns_names  = ["first.example"]
  enrollment = { secret_wo = var.enrollment_secret }
%s}
`, extra)
	}
	rotated := cfg("  rotation_triggers = { epoch = \"2\" }\n")
	// quiet: with the variable null, a plan, then an apply with nothing to
	// do; the CA sees nothing.
	quiet := func(c string) []resource.TestStep {
		return []resource.TestStep{
			{PreConfig: f.setMark, Config: c, PlanOnly: true},
			{Config: c, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}, Check: f.saw()},
		}
	}
	var serials []string
	var first held
	steps := []resource.TestStep{f.create(cfg(""), "first.example", &serials, &first)}
	steps[0].ConfigVariables = config.Variables{"enrollment_secret": config.StringVariable(f.secret)}
	steps = append(steps, quiet(cfg(""))...)
	// A new rotation_triggers value: one KUR, in place, signed with the
	// certificate; the plan after it is empty.
	steps = append(steps, resource.TestStep{
		PreConfig: f.setMark,
		Config:    rotated,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionUpdate)},
			PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
		},
		Check: resource.ComposeTestCheckFunc(checkIssued(t, f.caEnv, "kur", "first.example"),
			f.saw("kur:accepted", "certConf:confirmed"), record(&serials)),
	})
	steps = append(steps, quiet(rotated)...)
	// Destroy with the variable null: the certificate and the one the KUR
	// replaced are revoked, each by one RR.
	steps = append(steps, resource.TestStep{PreConfig: f.setMark, Config: rotated, Destroy: true,
		Check: f.saw("rr:accepted", "rr:accepted")})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps:                    steps,
		CheckDestroy:             resource.ComposeTestCheckFunc(revokedOnDestroy(t, f.caEnv, &serials), f.nothingLost),
	})
}

// TestAccFirstDayCADown: the CA is down. A plan still works, with or
// without changes (refresh never contacts the CA); an apply that needs the
// CA fails naming its URL and leaves the certificate in state untouched;
// with the CA back the same apply sends exactly one CR.
func TestAccFirstDayCADown(t *testing.T) {
	f := startFirstDay(t, true)
	cfg := func(dns string) string {
		return hclConfig{body: fmt.Sprintf(`  subject   = { common_name = "down.example" }
  dns_names = [%s]`, dns)}.String()
	}
	one, two := `"down.example"`, `"down.example", "www.down.example"`
	var serials []string
	var first held
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			f.create(cfg(one), "down.example", &serials, &first),
			// Down during plan: refresh and an empty plan succeed.
			{PreConfig: func() { f.down(); f.setMark() }, Config: cfg(one), PlanOnly: true},
			// Down during plan: a plan that shows a CR succeeds too.
			{Config: cfg(two), PlanOnly: true, ExpectNonEmptyPlan: true},
			// Down during apply: the CR fails naming the CA's URL; the state
			// keeps the certificate it had.
			{
				Config:      cfg(two),
				ExpectError: wrapped("certification request (CR) failed", "keeps the current certificate", f.url, "connection refused"),
			},
			{
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check:              resource.ComposeTestCheckFunc(unchanged(&first, "down.example"), f.saw()),
			},
			// The CA back: the same apply sends exactly one CR.
			{
				PreConfig:        func() { f.up(); f.setMark() },
				Config:           cfg(two),
				ConfigPlanChecks: emptyPlanAfterApply,
				Check: resource.ComposeTestCheckFunc(checkIssued(t, f.caEnv, "cr", "down.example"),
					f.saw("cr:accepted", "certConf:confirmed"), record(&serials)),
			},
		},
		CheckDestroy: resource.ComposeTestCheckFunc(revokedOnDestroy(t, f.caEnv, &serials), f.nothingLost),
	})
}

// TestAccFirstDayCADownDestroy: the CA is down during destroy: the destroy
// fails naming the CA's URL and the certificate stays in state; with the CA
// back a destroy revokes it with exactly one RR.
func TestAccFirstDayCADownDestroy(t *testing.T) {
	f := startFirstDay(t, true)
	cfg := hclConfig{body: `  subject = { common_name = "gone.example" }`}.String()
	var serials []string
	var first held
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			f.create(cfg, "gone.example", &serials, &first),
			{
				PreConfig:   func() { f.down(); f.setMark() },
				Config:      cfg,
				Destroy:     true,
				ExpectError: wrapped("revocation request (RR) failed", "stays in state", f.url, "connection refused"),
			},
			{RefreshState: true, Check: resource.ComposeTestCheckFunc(unchanged(&first), f.saw())},
			{
				PreConfig: func() { f.up(); f.setMark() },
				Config:    cfg,
				Destroy:   true,
				Check:     f.saw("rr:accepted"),
			},
		},
		CheckDestroy: resource.ComposeTestCheckFunc(revokedOnDestroy(t, f.caEnv, &serials), f.nothingLost),
	})
}

// TestAccFirstDayWrongSecret: a wrong secret on create fails the apply with
// an error that names where the secret came from; the CA saw exactly the
// refused IR and issued nothing.
func TestAccFirstDayWrongSecret(t *testing.T) {
	for _, tc := range []struct {
		name string
		// env sets CMPV2_SECRET (wrong) with CMPV2_REFERENCE; otherwise the
		// wrong secret is enrollment.secret_wo from an ephemeral variable.
		env  bool
		want string
	}{
		{name: "CMPV2_SECRET", env: true, want: "CMPV2_SECRET"},
		{name: "enrollment.secret_wo", want: "enrollment.secret_wo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFirstDay(t, tc.env)
			body := `  subject = { common_name = "wrong.example" }`
			vars := config.Variables{}
			if tc.env {
				t.Setenv(envSecret, "not-"+f.secret)
			} else {
				body += fmt.Sprintf("\n  enrollment = { reference = %q, secret_wo = var.enrollment_secret }", f.reference)
				vars["enrollment_secret"] = config.StringVariable("not-" + f.secret)
			}
			cfg := `
variable "enrollment_secret" {
  type      = string
  sensitive = true
  ephemeral = true
  default   = null
}
` + hclConfig{body: body}.String()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{
					{
						PreConfig:       f.setMark,
						Config:          cfg,
						ConfigVariables: vars,
						ExpectError:     wrapped("initialization request (IR) failed", "secret", tc.want),
					},
					{
						Config:          cfg,
						ConfigVariables: vars,
						PlanOnly:        true, ExpectNonEmptyPlan: true,
					},
				},
				CheckDestroy: resource.ComposeTestCheckFunc(f.saw("ir:error"), func(s *terraform.State) error {
					f.mu.Lock()
					defer f.mu.Unlock()
					for _, ev := range f.events {
						if ev.Serial != "" {
							return fmt.Errorf("the CA issued %s (%s) for a refused IR", ev.Serial, ev.Op)
						}
					}
					return nil
				}),
			})
		})
	}
}

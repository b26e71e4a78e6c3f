package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// The guides (docs/guides/<name>.md) include their configuration from
// examples/guides/<name>/main.tf; these tests apply that same file, with
// only the variables it declares set for the CA under test, through a
// whole lifecycle.

// guideAddr is the certificate every guide's configuration declares.
const guideAddr = "cmpv2_certificate.web"

// guideExample reads a guide's configuration without its terraform block:
// the test framework serves the provider under test instead of the
// registry's. Nothing else is changed.
func guideExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "guides", name, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\nterraform {\n")
	end := strings.Index(text[start+1:], "\n}\n")
	if start < 0 || end < 0 || !strings.Contains(text[start:start+1+end], `source = "cmpv2/cmpv2"`) {
		t.Fatalf("examples/guides/%s/main.tf has no terraform block requiring cmpv2/cmpv2", name)
	}
	return text[:start] + text[start+1+end+3:]
}

// writeFiles writes each content to a file of its name in a temporary
// directory and returns the paths by name.
func writeFiles(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

// guideLifecycle is one guide's configuration under a development CA and
// what the CA must see at each step: create, CR (another DNS name), KUR
// (the default renewal window opened on the provider's clock) and destroy.
type guideLifecycle struct {
	e      *caEnv
	config string
	// vars are the variables of the configuration for the DNS names.
	vars func(dns ...string) config.Variables
	// Each step's messages, as "op:status:protection", in order.
	create, cr, kur, destroy []string
	// revokedAtEnd says whether destroy leaves every certificate revoked
	// (else none is).
	revokedAtEnd bool
	// profile, when set, is the profile every event names.
	profile string
}

// events lists the CA's events since mark as "op:status:protection".
func (e *caEnv) events3(mark int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events[mark:] {
		out = append(out, ev.Op+":"+ev.Status+":"+ev.Protection)
	}
	return out
}

// run drives the lifecycle through Terraform. Every certificate the CA
// issues must reach the state (no certificate lost), and after destroy
// be revoked when revokedAtEnd, else stay live (a CA without revocation).
func (g *guideLifecycle) run(t *testing.T) {
	clearProviderEnv(t)
	now := newTestClock()
	var mark int
	seen := map[string]bool{}
	saw := func(want []string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			if got := g.e.events3(mark); !slices.Equal(got, want) {
				return fmt.Errorf("the CA saw %v, want %v", got, want)
			}
			serial := stateAttr(s, guideAddr, "serial_number")
			if serial == "" {
				return fmt.Errorf("no serial_number in state")
			}
			seen[serial] = true
			return nil
		}
	}
	setMark := func() { mark = g.e.mark() }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: now.Now}),
		Steps: []resource.TestStep{
			{
				PreConfig: setMark, Config: g.config, ConfigVariables: g.vars("web-01.example.com"),
				ConfigPlanChecks: emptyPlanAfterApply, Check: saw(g.create),
			},
			{
				PreConfig: setMark, Config: g.config, ConfigVariables: g.vars("web-01.example.com", "www.example.com"),
				ConfigPlanChecks: emptyPlanAfterApply, Check: saw(g.cr),
			},
			{
				// The default window opens when a third of the 90 days the
				// CA grants remains.
				PreConfig: func() { setMark(); now.Add(1500 * time.Hour) },
				Config:    g.config, ConfigVariables: g.vars("web-01.example.com", "www.example.com"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(guideAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(func(*terraform.State) error {
					now.Set(time.Now()) // the new certificate's window is not open
					return nil
				}, saw(g.kur)),
			},
			{PreConfig: setMark, Config: g.config, ConfigVariables: g.vars("web-01.example.com", "www.example.com"), Destroy: true},
		},
		CheckDestroy: func(*terraform.State) error {
			if got := g.e.events3(mark); !slices.Equal(got, g.destroy) {
				return fmt.Errorf("destroy: the CA saw %v, want %v", got, g.destroy)
			}
			issued := g.e.issuedFor("web-01.example.com")
			if len(issued) != 3 {
				return fmt.Errorf("the CA issued %v, want 3 certificates (IR, CR, KUR)", issued)
			}
			for _, serial := range issued {
				if !seen[serial] {
					return fmt.Errorf("certificate %s never reached the state", serial)
				}
				if got := g.e.revoked(t, serial); got != g.revokedAtEnd {
					return fmt.Errorf("certificate %s revoked = %t, want %t", serial, got, g.revokedAtEnd)
				}
			}
			if g.profile == "" {
				return nil
			}
			g.e.mu.Lock()
			defer g.e.mu.Unlock()
			for _, ev := range g.e.events {
				if ev.Profile != g.profile {
					return fmt.Errorf("event %s:%s names profile %q, want %q", ev.Op, ev.Status, ev.Profile, g.profile)
				}
			}
			return nil
		},
	})
}

// dnsVariable is the dns_names variable of a guide's configuration.
func dnsVariable(dns ...string) config.Variable {
	vs := make([]config.Variable, len(dns))
	for i, d := range dns {
		vs[i] = config.StringVariable(d)
	}
	return config.ListVariable(vs...)
}

// withVars returns vars with dns_names set.
func withVars(vars config.Variables) func(dns ...string) config.Variables {
	return func(dns ...string) config.Variables {
		out := config.Variables{"dns_names": dnsVariable(dns...)}
		for k, v := range vars {
			out[k] = v
		}
		return out
	}
}

// serveAt serves the CA of e on another loopback server whose handler
// gets each request first, and returns its URL.
func serveAt(t *testing.T, e *caEnv, handler func(ca http.Handler) http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(handler(e.ca))
	t.Cleanup(srv.Close)
	return srv.URL
}

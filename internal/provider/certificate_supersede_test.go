package provider

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// issuedFor lists the serials of the certificates the CA issued for
// subjects holding cn, in the order it issued them.
func (e *caEnv) issuedFor(cn string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		issued := ev.Status == "accepted" || ev.Status == "grantedWithMods"
		if slices.Contains([]string{"ir", "cr", "kur", "p10cr"}, ev.Op) && issued && ev.Serial != "" &&
			strings.Contains(ev.Subject, "CN="+cn) && !slices.Contains(out, ev.Serial) {
			out = append(out, ev.Serial)
		}
	}
	return out
}

// rrCount counts the rr messages the CA handled for each serial.
func (e *caEnv) rrCount() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := map[string]int{}
	for _, ev := range e.events {
		if ev.Op == "rr" && ev.Serial != "" {
			n[ev.Serial]++
		}
	}
	return n
}

// TestAccCertificateSupersededRevoked: a CR or KUR moves the current
// certificate to previous_certificate_pem, and the one that held before
// leaves the state; it is revoked then, signed with its own key (the
// current key after a CR that kept it, the recorded previous key after a
// KUR). Through IR, CR, KUR, CR and destroy, after each apply only the
// current and the previous certificate are live at the CA, and destroy
// leaves every certificate the resource ever had revoked, none twice.
func TestAccCertificateSupersededRevoked(t *testing.T) {
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	const cn = "superseded.example"
	cfg := func(sans, epoch string) string {
		return e.providerBlock(true) + fmt.Sprintf(`resource "cmpv2_certificate" "test" {
  subject           = { common_name = %q }
  dns_names         = [%s]
  rotation_triggers = { epoch = %q }
}`, cn, sans, epoch)
	}
	// liveAreStateOnly: the live certificates of the resource at the CA are
	// exactly the current and the previous one of the state, and the apply
	// revoked wantRevoked (the serial the state dropped), if any.
	var history []string // serials in state order: each apply's current
	liveAreStateOnly := func(wantOp string, wantRevokedIdx int) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			current := stateAttr(s, certAddr, "serial_number")
			if got := stateAttr(s, certAddr, "last_operation"); got != wantOp {
				return fmt.Errorf("last_operation %q, want %q", got, wantOp)
			}
			history = append(history, current)
			keep := history[max(0, len(history)-2):]
			var live []string
			for _, serial := range e.issuedFor(cn) {
				if !e.revoked(t, serial) {
					live = append(live, serial)
				}
			}
			slices.Sort(live)
			want := slices.Sorted(slices.Values(keep))
			if !slices.Equal(live, want) {
				return fmt.Errorf("live certificates at the CA %v, want the current and previous %v", live, want)
			}
			if wantRevokedIdx >= 0 && e.rrCount()[history[wantRevokedIdx]] != 1 {
				return fmt.Errorf("certificate %s (apply %d) left the state but was not revoked once: %v",
					history[wantRevokedIdx], wantRevokedIdx+1, e.rrCount())
			}
			return nil
		}
	}
	const sans1, sans2, sans3 = `"a.superseded.example"`, `"a.superseded.example", "b.superseded.example"`,
		`"c.superseded.example"`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: cfg(sans1, "1"), ConfigPlanChecks: emptyPlanAfterApply, Check: liveAreStateOnly("ir", -1)},
			{Config: cfg(sans2, "1"), ConfigPlanChecks: emptyPlanAfterApply, Check: liveAreStateOnly("cr", -1)},
			// KUR: the IR certificate leaves; the current key (kept by the CR) signs its RR.
			{Config: cfg(sans2, "2"), ConfigPlanChecks: emptyPlanAfterApply, Check: liveAreStateOnly("kur", 0)},
			// CR: the CR certificate leaves; the recorded previous key signs its RR.
			{Config: cfg(sans3, "2"), ConfigPlanChecks: emptyPlanAfterApply, Check: liveAreStateOnly("cr", 1)},
			// KUR after a CR that kept the key: the KUR certificate leaves, signed with the current key.
			{Config: cfg(sans3, "3"), ConfigPlanChecks: emptyPlanAfterApply, Check: liveAreStateOnly("kur", 2)},
		},
		CheckDestroy: func(*terraform.State) error {
			issued := e.issuedFor(cn)
			if len(issued) != 5 {
				return fmt.Errorf("the CA issued %d certificates for the resource (%v), want 5", len(issued), issued)
			}
			counts := e.rrCount()
			for _, serial := range issued {
				if !e.revoked(t, serial) {
					return fmt.Errorf("certificate %s is live after destroy", serial)
				}
				if counts[serial] != 1 {
					return fmt.Errorf("certificate %s got %d rr, want 1", serial, counts[serial])
				}
			}
			return nil
		},
	})
}

package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// otherCLI finds the Terraform-compatible CLI the acceptance tests do not
// run with: OpenTofu when they run Terraform (on PATH, or the one
// scripts/terraform.sh builds into its cache; the script is the one place
// that knows where), Terraform when they run OpenTofu. It returns "" when
// there is none.
func otherCLI(current string) (path string, tofu bool) {
	out, _ := exec.Command(current, "version").Output()
	if strings.HasPrefix(string(out), "OpenTofu") {
		p, _ := exec.LookPath("terraform")
		return p, false
	}
	out, err := exec.Command(filepath.Join("..", "..", "scripts", "terraform.sh"), "--tofu", "--cached").Output()
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(out)), true
}

// eachCLI runs test, as a subtest named after the CLI, with the CLI the
// acceptance tests run with and with the other one (otherCLI) where it is
// at hand; it skips t outside acceptance tests.
func eachCLI(t *testing.T, test func(t *testing.T, cli string)) {
	current := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || current == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make test does)")
	}
	clis := []string{current}
	if other, _ := otherCLI(current); other != "" {
		clis = append(clis, other)
	}
	for _, cli := range clis {
		t.Run(filepath.Base(cli), func(t *testing.T) { test(t, cli) })
	}
}

// useOtherCLI makes the rest of test t run with the CLI the acceptance
// tests do not run with (otherCLI), and skips it where there is none
// (outside CI); what names what the test proves, for the skip.
func useOtherCLI(t *testing.T, what string) {
	current := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || current == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make test does)")
	}
	other, tofu := otherCLI(current)
	if other == "" && os.Getenv("CI") != "" {
		// .ci/run builds OpenTofu first, so CI proves both CLIs every run.
		t.Fatalf("CI runs %s with Terraform and OpenTofu, but only %s is at hand: "+
			".ci/run builds OpenTofu with scripts/terraform.sh --tofu", what, current)
	}
	if other == "" {
		t.Skip("ONLY ONE CLI: no second Terraform-compatible CLI (tofu on PATH or in the scripts/terraform.sh " +
			"cache, or terraform) to run " + what + " with; it ran with " + current + " only")
	}
	t.Logf("%s with %s", what, other)
	t.Setenv("TF_ACC_TERRAFORM_PATH", other)
	if tofu {
		t.Setenv("TF_ACC_PROVIDER_HOST", "registry.opentofu.org")
	} else {
		t.Setenv("TF_ACC_PROVIDER_HOST", "registry.terraform.io")
	}
}

// TestAccCertificateOtherCLI runs the lifecycle (IR with a write-only
// secret, CR, RR) with the other CLI, so the provider is proven with both
// Terraform and OpenTofu where both are at hand.
func TestAccCertificateOtherCLI(t *testing.T) {
	useOtherCLI(t, "the lifecycle")
	clearProviderEnv(t)
	e := startCA(t, devca.Config{})
	cfg := func(names string) string {
		return e.providerBlock(false) + fmt.Sprintf(`resource "cmpv2_certificate" "test" {
  subject    = { common_name = "cli.example" }
  dns_names  = %s
  enrollment = { reference = %q, secret_wo = %q }
}`, names, e.reference, e.secret)
	}
	var serials []string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: cfg(`["cli.example"]`), ConfigPlanChecks: emptyPlanAfterApply,
				Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "ir", "cli.example"), record(&serials))},
			{Config: cfg(`["cli.example", "www.cli.example"]`), ConfigPlanChecks: emptyPlanAfterApply,
				Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "cr", "cli.example"), record(&serials),
					func(s *terraform.State) error {
						if stateAttr(s, certAddr, "enrollment.secret_wo") != "" {
							return fmt.Errorf("the write-only secret is in state")
						}
						return nil
					})},
		},
		CheckDestroy: revokedOnDestroy(t, e, &serials),
	})
}

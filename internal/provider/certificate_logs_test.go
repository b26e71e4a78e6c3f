package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccLifecycleLogs runs IR, CR, KUR and RR with Terraform and the
// provider logging at TRACE into one file, and checks that every CMP
// message is logged (type, transaction, status) while the PBM secret and
// the private keys the lifecycle used are not.
func TestAccLifecycleLogs(t *testing.T) {
	clearProviderEnv(t)
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	t.Setenv("TF_LOG", "TRACE")
	e := startCA(t, devca.Config{Secret: "pbm¤S3cret-lifecycle"})
	_, userKey := testCertificate(t, "own")
	cfg := func(names, epoch string) string {
		return e.providerBlock(false) + fmt.Sprintf(`resource "cmpv2_certificate" "test" {
  subject           = { common_name = "log.example" }
  dns_names         = %s
  enrollment        = { reference = %q, secret_wo = %q }
  rotation_triggers = { epoch = %q }
}
resource "cmpv2_certificate" "own" {
  subject         = { common_name = "own.example" }
  enrollment      = { reference = %q, secret_wo = %q }
  private_key_pem = <<EOT
%sEOT
}`, names, e.reference, e.secret, epoch, e.reference, e.secret, userKey)
	}
	keys := []string{userKey}
	keep := func(s *terraform.State) error {
		keys = append(keys, stateAttr(s, certAddr, "private_key_pem"))
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: cfg(`["log.example"]`, "1"), Check: keep},
			{Config: cfg(`["log.example", "www.log.example"]`, "1"), Check: keep},
			{Config: cfg(`["log.example", "www.log.example"]`, "2"), Check: keep},
		},
	})

	b, err := os.ReadFile(logFile)
	if d := os.Getenv("KEEP_TRACE"); d != "" {
		_ = os.WriteFile(d, b, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
	// The harness logs the configuration it writes (secrets included, as
	// the user wrote them); what counts is everything else.
	log := withoutConfigDump(string(b))
	for _, op := range []string{"ir", "cr", "kur", "rr"} {
		if !strings.Contains(log, `operation=`+op) && !strings.Contains(log, `"operation":"`+op+`"`) {
			t.Errorf("no CMP message of operation %s in the TRACE log", op)
		}
	}
	if strings.Contains(log, "¤") {
		t.Errorf("the PBM secret is in the TRACE log")
	}
	for i, key := range keys {
		for _, line := range strings.Split(key, "\n") {
			if len(line) >= 40 && strings.Contains(log, line) {
				t.Errorf("a line of private key %d is in the TRACE log", i)
				break
			}
		}
	}
}

package provider

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/bcpeer"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccCertificateBouncyCastleInterop: the provider enrolls a certificate
// at a Bouncy Castle CMP server (IR with the shared secret, certConf) and
// revokes it on destroy (RR signed with it).
func TestAccCertificateBouncyCastleInterop(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	clearProviderEnv(t)
	const reference = "bc-ref"
	secret := rand.Text()
	srv := bcpeer.StartCMPServer(t, reference, secret, bcpeer.AnswerMAC)
	config := hclConfig{url: srv.URL, reference: reference, secret: secret, messageTimeout: "20s", trustedCAPEM: srv.CAPEM,
		body: `subject = { common_name = "bc-provider" }`}.String()
	var serial string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:           config,
			ConfigPlanChecks: emptyPlanAfterApply,
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr(certAddr, "last_operation", "ir"),
				func(s *terraform.State) error {
					serial = stateAttr(s, certAddr, "serial_number")
					if !srv.Logged("EVENT certConf confirmed serial=" + serial) {
						return fmt.Errorf("the server confirmed no certificate %s:\n%s", serial, srv.Stderr())
					}
					if !strings.Contains(stateAttr(s, certAddr, "ca_chain_pem"), strings.TrimSpace(srv.CAPEM)) {
						return fmt.Errorf("ca_chain_pem does not hold the server's CA")
					}
					return nil
				},
			),
		}},
		CheckDestroy: func(*terraform.State) error {
			if !srv.Logged("EVENT rr accepted serial=" + serial) {
				return fmt.Errorf("the server revoked no certificate %s on destroy:\n%s", serial, srv.Stderr())
			}
			if strings.Contains(srv.Stderr(), " refused ") {
				return fmt.Errorf("the server refused requests:\n%s", srv.Stderr())
			}
			return nil
		},
	})
}

package provider

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccCertificateOpenSSLMock: the provider enrolls a supplied key with
// OpenSSL's mock CMP server (IR with PBM, certConf) and revokes the
// certificate on destroy (RR signed with it). The mock binds every
// interface, so the test runs inside a private network namespace.
func TestAccCertificateOpenSSLMock(t *testing.T) {
	creds, ok := openSSLMockAcc(t)
	if !ok {
		return
	}
	mock := opensslpeer.StartMock(t, creds)
	keyPEM, err := marshalPrivateKeyPEM(creds.Client1.Key)
	if err != nil {
		t.Fatal(err)
	}
	rootPEM := certificatePEM(creds.Root.Cert)
	// The mock returns its fixed certificate (CN=client1, Client1's key)
	// for every request, so that is what the configuration asks for.
	config := hclConfig{url: mock.URL, reference: opensslpeer.MockReference, secret: opensslpeer.MockSecret,
		messageTimeout: "10s", trustedCAPEM: rootPEM, body: fmt.Sprintf(`subject         = { common_name = "client1" }
private_key_pem = <<EOT
%sEOT`, keyPEM)}.String()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:           config,
			ConfigPlanChecks: emptyPlanAfterApply,
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr(certAddr, "last_operation", "ir"),
				resource.TestCheckResourceAttr(certAddr, "serial_number", creds.Client1.Cert.SerialNumber.String()),
				resource.TestCheckResourceAttr(certAddr, "private_key_pem", keyPEM),
				resource.TestCheckResourceAttr(certAddr, "key_algorithm", "ECDSA"),
				func(s *terraform.State) error {
					if !strings.Contains(stateAttr(s, certAddr, "ca_chain_pem"), strings.TrimSpace(rootPEM)) {
						return fmt.Errorf("ca_chain_pem does not hold the mock's root")
					}
					return nil
				},
			),
		}},
		// The destroy succeeded, so the mock answered the RR; it logs no
		// message types, only that ir, certConf and rr arrived.
		CheckDestroy: func(*terraform.State) error {
			if n := strings.Count(mock.Output(), "Received request"); n != 3 {
				return fmt.Errorf("the mock received %d requests, want 3 (ir, certConf, rr):\n%s", n, mock.Output())
			}
			return nil
		},
	})
}

// openSSLMockAcc starts an acceptance test against OpenSSL's mock server:
// it skips without TF_ACC, runs the test again inside a private network
// namespace (the mock binds every interface; ok is false in the process
// that started it), clears the CMPV2_* variables and makes the mock's
// credentials.
func openSSLMockAcc(t *testing.T) (creds *opensslpeer.Creds, ok bool) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	if !opensslpeer.InNetNS(t) {
		return nil, false
	}
	clearProviderEnv(t)
	return opensslpeer.NewCreds(t), true
}

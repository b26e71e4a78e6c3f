package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// testAccProviders runs the provider in-process for terraform-plugin-testing.
var testAccProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"cmpv2": providerserver.NewProtocol6WithError(New("test")()),
}

// A provider is configured only when a resource uses it, so these configs
// plan one cmpv2_server (plan only: creating it needs a CA).
const accServerConfig = `
resource "cmpv2_server" "ca" {
  url = "http://127.0.0.1:8829/.well-known/cmp"
}
`

func TestAccProviderConfigure(t *testing.T) {
	cases := []struct {
		name    string
		config  string
		env     map[string]string
		wantErr *regexp.Regexp
	}{
		{
			name:   "valid provider block plans",
			config: hclConfig{url: "https://ca.example/.well-known/cmp/p/tls", messageTimeout: "30s"}.provider() + accServerConfig,
		},
		{
			name:    "bad url in the provider block fails validation",
			config:  hclConfig{url: "ftp://ca.example/cmp"}.provider() + accServerConfig,
			wantErr: regexp.MustCompile(`(?s)Invalid CMP server URL.*scheme must be http or https`),
		},
		{
			// Validators never see environment variables: this error can only
			// come from Configure.
			name:    "bad url from CMPV2_URL fails configure",
			config:  accServerConfig,
			env:     map[string]string{envURL: "ca.example/cmp"},
			wantErr: regexp.MustCompile(`(?s)Invalid CMP server URL.*from the CMPV2_URL\s+environment\s+variable`),
		},
		{
			name:    "secret without reference fails configure",
			config:  accServerConfig,
			env:     map[string]string{envSecret: "s3cret"},
			wantErr: regexp.MustCompile(`(?s)Missing reference`),
		},
		{
			name:    "bad message_timeout from the environment fails configure",
			config:  accServerConfig,
			env:     map[string]string{envMessageTimeout: "10 minutes"},
			wantErr: regexp.MustCompile(`(?s)Invalid duration.*CMPV2_MESSAGE_TIMEOUT`),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, name := range []string{envURL, envReference, envSecret, envTrustedCAPEM, envUsername, envPassword, envMessageTimeout, envImplicitConfirm} {
				t.Setenv(name, tc.env[name])
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config:             tc.config,
					PlanOnly:           true,
					ExpectNonEmptyPlan: true,
					ExpectError:        tc.wantErr,
				}},
			})
		})
	}
}

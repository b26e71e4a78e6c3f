package provider

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// runCertificateInfo calls certificate_info's Run as Terraform would.
func runCertificateInfo(t *testing.T, pem string) (map[string]attr.Value, *function.FuncError) {
	t.Helper()
	ctx := context.Background()
	req := function.RunRequest{Arguments: function.NewArgumentsData([]attr.Value{types.StringValue(pem)})}
	resp := function.RunResponse{Result: function.NewResultData(types.ObjectUnknown(certificateInfoTypes))}
	certificateInfoFunction{}.Run(ctx, req, &resp)
	if resp.Error != nil {
		return nil, resp.Error
	}
	obj, ok := resp.Result.Value().(types.Object)
	if !ok {
		t.Fatalf("certificate_info returned %T, want an object", resp.Result.Value())
	}
	return obj.Attributes(), nil
}

func TestCertificateInfoFunction(t *testing.T) {
	root := testpki.Root(t, "Info Root")
	inter := testpki.Intermediate(t, "Info Issuing CA", root)
	notBefore := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	leaf := testpki.Issue(t, &x509.Certificate{
		Subject:        pkix.Name{CommonName: "web.example", Organization: []string{"Example"}},
		DNSNames:       []string{"web.example", "api.example"},
		IPAddresses:    []net.IP{net.ParseIP("192.0.2.7"), net.ParseIP("2001:db8::7")},
		URIs:           []*url.URL{{Scheme: "spiffe", Host: "example", Path: "/web"}},
		EmailAddresses: []string{"ops@example.com"},
		NotBefore:      notBefore, NotAfter: notBefore.Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}, testpki.NewKey(t, testpki.RSA2048), inter)
	leafPEM := string(leaf.CertPEM())
	pub, err := pemkey.MarshalPublicKey(leaf.Cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.Cert.Raw)
	list := func(ss ...string) attr.Value { return stringList(ss) }
	leafWant := map[string]attr.Value{
		"subject":            types.StringValue("CN=web.example,O=Example"),
		"issuer":             types.StringValue("CN=Info Issuing CA"),
		"serial_number":      types.StringValue(leaf.Cert.SerialNumber.String()),
		"not_before":         types.StringValue("2026-01-02T03:04:05Z"),
		"not_after":          types.StringValue("2026-04-02T03:04:05Z"),
		"public_key_pem":     types.StringValue(string(pub)),
		"fingerprint_sha256": types.StringValue(hex.EncodeToString(sum[:])),
		"dns_names":          list("web.example", "api.example"),
		"ip_addresses":       list("192.0.2.7", "2001:db8::7"),
		"uris":               list("spiffe://example/web"),
		"email_addresses":    list("ops@example.com"),
		"is_ca":              types.BoolValue(false),
	}
	for _, tc := range []struct {
		name    string
		pem     string
		want    map[string]attr.Value // only these attributes are compared
		wantErr string
	}{
		{name: "leaf with every kind of SAN", pem: leafPEM, want: leafWant},
		{name: "a chain decodes its first certificate", pem: leafPEM + string(inter.CertPEM()) + string(root.CertPEM()), want: leafWant},
		{name: "a CA certificate without SANs: is_ca, empty lists", pem: string(root.CertPEM()), want: map[string]attr.Value{
			"subject": types.StringValue("CN=Info Root"), "issuer": types.StringValue("CN=Info Root"),
			"is_ca": types.BoolValue(true), "dns_names": list(), "ip_addresses": list(), "uris": list(),
			"email_addresses": list(),
		}},
		{name: "empty string", pem: "", wantErr: "no PEM"},
		{name: "a private key, no certificate", pem: string(leaf.KeyPEM()), wantErr: "pem"},
		{name: "not PEM", pem: "certificate", wantErr: "pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ferr := runCertificateInfo(t, tc.pem)
			if tc.wantErr != "" {
				if ferr == nil || !strings.Contains(ferr.Text, tc.wantErr) || ferr.FunctionArgument == nil || *ferr.FunctionArgument != 0 {
					t.Fatalf("error = %v, want one about argument 0 containing %q", ferr, tc.wantErr)
				}
				if strings.Contains(ferr.Text, "PRIVATE KEY-----") {
					t.Fatalf("the error repeats the argument: %s", ferr.Text)
				}
				return
			}
			if ferr != nil {
				t.Fatalf("error: %s", ferr.Text)
			}
			if len(got) != len(certificateInfoTypes) {
				t.Errorf("returned %d attributes, want %d", len(got), len(certificateInfoTypes))
			}
			for name, want := range tc.want {
				if !got[name].Equal(want) {
					t.Errorf("%s = %v, want %v", name, got[name], want)
				}
			}
		})
	}
}

// TestAccCertificateInfoFunction calls provider::cmpv2::certificate_info (and
// certificate_chain) on
// an enrolled certificate through the CLI the acceptance tests run and,
// where it is at hand, the other one (Terraform and OpenTofu): what the
// resource's former issuer, public_key_pem and fingerprint_sha256 gave,
// and certificate_chain for what certificate_chain_pem gave.
func TestAccCertificateInfoFunction(t *testing.T) {
	current := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || current == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make test does)")
	}
	clis := []struct {
		name, path string
		tofu       bool
	}{{name: "current", path: current}}
	if other, tofu := otherCLI(current); other != "" {
		clis = append(clis, struct {
			name, path string
			tofu       bool
		}{name: "other", path: other, tofu: tofu})
	} else {
		t.Log("no second CLI at hand: certificate_info runs with " + current + " only")
	}
	for _, cli := range clis {
		t.Run(cli.name, func(t *testing.T) {
			t.Setenv("TF_ACC_TERRAFORM_PATH", cli.path)
			if cli.path != current {
				host := "registry.terraform.io"
				if cli.tofu {
					host = "registry.opentofu.org"
				}
				t.Setenv("TF_ACC_PROVIDER_HOST", host)
			}
			clearProviderEnv(t)
			e := startCA(t, devca.Config{})
			config := e.providerBlock(true) + `resource "cmpv2_certificate" "test" {
  subject   = { common_name = "info.example" }
  dns_names = ["info.example"]
}

locals {
  info = provider::cmpv2::certificate_info(cmpv2_certificate.test.certificate_pem)
}

output "issuer" { value = local.info.issuer }
output "public_key_pem" { value = local.info.public_key_pem }
output "fingerprint_sha256" { value = local.info.fingerprint_sha256 }
output "serial_number" { value = local.info.serial_number }
output "not_after" { value = local.info.not_after }
output "dns_names" { value = join(",", local.info.dns_names) }
output "served_chain" {
  value = provider::cmpv2::certificate_chain(cmpv2_certificate.test.certificate_pem, cmpv2_certificate.test.ca_chain_pem)
}
`
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config: config, ConfigPlanChecks: emptyPlanAfterApply,
					Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "ir", "info.example"), checkInfoOutputs),
				}},
			})
		})
	}
}

// checkInfoOutputs compares certificate_info's outputs with the
// certificate in state, decoded here.
func checkInfoOutputs(s *terraform.State) error {
	c, err := certOf(s)
	if err != nil {
		return err
	}
	pub, err := pemkey.MarshalPublicKey(c.PublicKey)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(c.Raw)
	want := map[string]string{
		"issuer":             c.Issuer.String(),
		"public_key_pem":     string(pub),
		"fingerprint_sha256": hex.EncodeToString(sum[:]),
		"serial_number":      stateAttr(s, certAddr, "serial_number"),
		"not_after":          stateAttr(s, certAddr, "not_after"),
		"dns_names":          "info.example",
		// The development CA issues from its root, which the served
		// chain leaves out.
		"served_chain": stateAttr(s, certAddr, "certificate_pem"),
	}
	if stateAttr(s, certAddr, "ca_chain_pem") == "" {
		return fmt.Errorf("ca_chain_pem is empty, want the CA's root")
	}
	for name, w := range want {
		o := s.RootModule().Outputs[name]
		if o == nil {
			return fmt.Errorf("output %s missing", name)
		}
		if got, _ := o.Value.(string); got != w || w == "" {
			return fmt.Errorf("output %s = %q, want %q", name, got, w)
		}
	}
	return nil
}

package main

import (
	"fmt"
	"strings"
)

// kind is what a workspace's N resources are.
type kind string

const (
	// kindCore is Terraform's built-in terraform_data: the core floor.
	kindCore kind = "terraform_data"
	// kindPlugin is cmpv2floor_certificate: the plugin floor.
	kindPlugin kind = "plugin_floor"
	// kindCMPv2 is cmpv2_certificate enrolled at the development CA.
	kindCMPv2 kind = "cmpv2_certificate"
	// kindBaseline is cmpv2_certificate as the provider of another
	// revision (BENCH_BASELINE_REV) serves it: before and after a change,
	// in one run.
	kindBaseline kind = "cmpv2_baseline"
	// kindMinimal is cmpv2floor_minimal, one string attribute: the plugin
	// floor without the certificate schema.
	kindMinimal kind = "plugin_minimal"
	// kindTLSChain is the hashicorp/tls chain that makes the same
	// certificates locally: tls_private_key + tls_cert_request +
	// tls_locally_signed_cert per certificate (3N resources), signed by a
	// CA given as literals.
	kindTLSChain kind = "tls_chain"
	// kindTLSKey, kindTLSRequest and kindTLSSigned are the three tls
	// resource types one at a time, N of one type; the inputs the chain
	// would pass between them are literals.
	kindTLSKey     kind = "tls_private_key"
	kindTLSRequest kind = "tls_cert_request"
	kindTLSSigned  kind = "tls_locally_signed_cert"
)

// kinds are measured at every N; renewalKinds also go through the renewal
// scenario.
var (
	renewalKinds = []kind{kindCore, kindPlugin, kindCMPv2}
	tlsTypes     = []kind{kindTLSKey, kindTLSRequest, kindTLSSigned}
)

// kindsAt is what the scale scenario measures at n: the floors, cmpv2 and
// the tls comparison, which is the chain up to chainMax and the three tls
// types one at a time above it (Terraform's graph of 3N chained
// resources grows past memory and hours at N=1000).
func kindsAt(n, chainMax int, baseline bool) []kind {
	ks := []kind{kindCore, kindPlugin, kindMinimal, kindCMPv2}
	if baseline {
		ks = append(ks, kindBaseline)
	}
	if n <= chainMax {
		return append(ks, kindTLSChain)
	}
	return append(ks, tlsTypes...)
}

// isTLS reports whether k runs the hashicorp/tls provider.
func isTLS(k kind) bool {
	return k == kindTLSChain || k == kindTLSKey || k == kindTLSRequest || k == kindTLSSigned
}

// certificateBody is the configuration every certificate shares: an
// ECDSA P-256 key, a subject and a SAN with the index in them, key usages.
// epoch feeds rotation_triggers; the renewal variant raises it for the
// first tenth of the resources.
const certificateBody = `  subject = {
    common_name  = "host-${format("%%04d", count.index)}.bench.example"
    organization = "Bench"
  }
  dns_names             = ["host-${format("%%04d", count.index)}.bench.example"]
  key_usages            = ["digital_signature"]
  extended_key_usages   = ["server_auth", "client_auth"]
  validity_period_hours = %s
  key_algorithm         = "ECDSA"
  ecdsa_curve           = "P256"
  revoke_on_destroy     = false
%s`

// variant says which of the N resources change after the first apply.
type variant struct {
	// renew: the first tenth of the resources get a new rotation trigger
	// (terraform_data: a new input value).
	renew bool
	// validity is validity_period_hours as an HCL expression.
	validity string
}

// configuration is main.tf for n resources of kind k; tls kinds take
// their literal inputs from fx.
func configuration(k kind, n int, v variant, fx tlsFixtures) string {
	epoch := `"1"`
	if v.renew {
		epoch = fmt.Sprintf(`count.index < %d ? "2" : "1"`, n/10)
	}
	validity := v.validity
	if validity == "" {
		validity = "2160"
	}
	extra := fmt.Sprintf("  rotation_triggers = { epoch = %s }\n", epoch)
	var b strings.Builder
	switch k {
	case kindCore:
		fmt.Fprintf(&b, `resource "terraform_data" "c" {
  count = %d
  input = {
    common_name           = "host-${format("%%04d", count.index)}.bench.example"
    organization          = "Bench"
    dns_names             = ["host-${format("%%04d", count.index)}.bench.example"]
    key_usages            = ["digital_signature"]
    extended_key_usages   = ["server_auth", "client_auth"]
    validity_period_hours = 2160
    key_algorithm         = "ECDSA"
    ecdsa_curve           = "P256"
    epoch                 = %s
  }
}
`, n, epoch)
	case kindPlugin:
		fmt.Fprintf(&b, `terraform {
  required_providers {
    cmpv2floor = { source = "cmpv2/cmpv2floor" }
  }
}

resource "cmpv2floor_certificate" "c" {
  count = %d
%s
}
`, n, fmt.Sprintf(certificateBody, "2160", extra))
	case kindCMPv2, kindBaseline:
		// The provider reads url, reference, secret and trusted_ca_pem
		// from CMPV2_* variables the harness sets to the devca's.
		fmt.Fprintf(&b, `terraform {
  required_providers {
    cmpv2 = { source = "cmpv2/cmpv2" }
  }
}

provider "cmpv2" {}

resource "cmpv2_certificate" "c" {
  count = %d
%s
}
`, n, fmt.Sprintf(certificateBody, validity, extra))
	case kindMinimal:
		fmt.Fprintf(&b, `terraform {
  required_providers {
    cmpv2floor = { source = "cmpv2/cmpv2floor" }
  }
}

resource "cmpv2floor_minimal" "c" {
  count = %d
  input = "host-${format("%%04d", count.index)}.bench.example-${%s}"
}
`, n, epoch)
	default:
		b.WriteString(tlsConfiguration(k, n, fx))
	}
	return b.String()
}

// tlsConfiguration is main.tf of a tls kind. The certificates match
// cmpv2's: ECDSA P-256 keys, the same subject and SAN, 90 days.
func tlsConfiguration(k kind, n int, fx tlsFixtures) string {
	var b strings.Builder
	b.WriteString(`terraform {
  required_providers {
    tls = { source = "hashicorp/tls" }
  }
}

`)
	fmt.Fprintf(&b, "locals {\n  ca_key  = <<-EOT\n%s  EOT\n  ca_cert = <<-EOT\n%s  EOT\n  key     = <<-EOT\n%s  EOT\n  csr     = <<-EOT\n%s  EOT\n}\n\n",
		fx.caKeyPEM, fx.caCertPEM, fx.keyPEM, fx.csrPEM)
	key := `resource "tls_private_key" "k" {
  count       = %d
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}
`
	request := `resource "tls_cert_request" "r" {
  count           = %d
  private_key_pem = %s
  subject {
    common_name  = "host-${format("%%04d", count.index)}.bench.example"
    organization = "Bench"
  }
  dns_names = ["host-${format("%%04d", count.index)}.bench.example"]
}
`
	signed := `resource "tls_locally_signed_cert" "c" {
  count                 = %d
  cert_request_pem      = %s
  ca_private_key_pem    = local.ca_key
  ca_cert_pem           = local.ca_cert
  validity_period_hours = 2160
  allowed_uses          = ["digital_signature", "server_auth", "client_auth"]
}
`
	switch k {
	case kindTLSChain:
		fmt.Fprintf(&b, key, n)
		fmt.Fprintf(&b, request, n, "tls_private_key.k[count.index].private_key_pem")
		fmt.Fprintf(&b, signed, n, "tls_cert_request.r[count.index].cert_request_pem")
	case kindTLSKey:
		fmt.Fprintf(&b, key, n)
	case kindTLSRequest:
		fmt.Fprintf(&b, request, n, "local.key")
	case kindTLSSigned:
		fmt.Fprintf(&b, signed, n, "local.csr")
	}
	return b.String()
}

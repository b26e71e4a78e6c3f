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
)

var kinds = []kind{kindCore, kindPlugin, kindCMPv2}

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

// configuration is main.tf for n resources of kind k.
func configuration(k kind, n int, v variant) string {
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
	case kindCMPv2:
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
	}
	return b.String()
}

# The quick start `make demo` applies against the development CA.
# The provider takes the CA's URL and PBM credential from CMPV2_URL,
# CMPV2_REFERENCE, CMPV2_SECRET and its CA certificate from
# CMPV2_TRUSTED_CA_PEM, as a CI pipeline would.
terraform {
  required_providers {
    cmpv2 = {
      source = "cmpv2/cmpv2"
    }
  }
}

provider "cmpv2" {}

resource "cmpv2_certificate" "demo" {
  subject = {
    common_name  = "demo.example"
    organization = "cmpv2 quick start"
  }
  dns_names           = ["demo.example", "www.demo.example"]
  key_usages          = ["digital_signature"]
  extended_key_usages = ["server_auth"]

  validity_period_hours = 24
  renew_before_expiry   = "8h"
}

output "certificate_pem" {
  value = cmpv2_certificate.demo.certificate_pem
}

output "serial_number" {
  value = cmpv2_certificate.demo.serial_number
}

output "not_after" {
  value = cmpv2_certificate.demo.not_after
}

output "renewal_time" {
  value = cmpv2_certificate.demo.renewal_time
}

output "last_operation" {
  value = cmpv2_certificate.demo.last_operation
}

# The quick start `make demo` applies against the development CA.
# The provider takes the CA's PBM credential from CMPV2_REFERENCE and
# CMPV2_SECRET and its CA certificate from CMPV2_TRUSTED_CA_PEM, as a CI
# pipeline would; the CMP endpoint is a variable (TF_VAR_cmp_url).
terraform {
  required_providers {
    cmpv2 = {
      source = "cmpv2/cmpv2"
    }
  }
}

provider "cmpv2" {}

variable "cmp_url" {
  type        = string
  description = "CMP endpoint of the CA, for example http://127.0.0.1:8829/.well-known/cmp"
}

variable "extra_dns_names" {
  type        = list(string)
  default     = []
  description = "More DNS names: changing them updates the certificate with a CR."
}

variable "rotation_epoch" {
  type        = string
  default     = "1"
  description = "Change it to rotate the key now: the update is a KUR."
}

# The CMP endpoint, asked for its CA certificates (genm).
resource "cmpv2_server" "ca" {
  url = var.cmp_url
}

resource "cmpv2_certificate" "demo" {
  server = cmpv2_server.ca.endpoint

  subject = {
    common_name  = "demo.example"
    organization = "cmpv2 quick start"
  }
  dns_names           = concat(["demo.example"], var.extra_dns_names)
  key_usages          = ["digital_signature"]
  extended_key_usages = ["server_auth"]

  validity_period_hours = 24
  renew_before_expiry   = "8h"

  rotation_triggers = {
    epoch = var.rotation_epoch
  }
}

output "ca_certificates_pem" {
  value = cmpv2_server.ca.ca_certificates_pem
}

output "certificate_pem" {
  value = cmpv2_certificate.demo.certificate_pem
}

# The certificate and its intermediates without the root: what a TLS
# server sends (a Kubernetes tls.crt, a load balancer's chain).
output "certificate_chain_pem" {
  value = provider::cmpv2::certificate_chain(cmpv2_certificate.demo.certificate_pem, cmpv2_certificate.demo.ca_chain_pem)
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

# A module that enrolls one certificate per host name through the CMP
# server it is given: pass it a cmpv2_server's endpoint object as is.
terraform {
  required_providers {
    cmpv2 = {
      source = "cmpv2/cmpv2"
    }
  }
}

variable "server" {
  description = "The endpoint object of a cmpv2_server (cmpv2_server.<name>.endpoint)."
  type        = any
}

variable "hosts" {
  description = "Host names: each gets a TLS server certificate with that name as CN and DNS SAN."
  type        = set(string)
}

variable "renew_before_expiry" {
  type    = string
  default = "720h"
}

resource "cmpv2_certificate" "host" {
  for_each = var.hosts

  server              = var.server
  subject             = { common_name = each.key }
  dns_names           = [each.key]
  key_usages          = ["digital_signature"]
  extended_key_usages = ["server_auth"]
  renew_before_expiry = var.renew_before_expiry
}

output "certificates_pem" {
  description = "Certificate PEM by host name."
  value       = { for host, cert in cmpv2_certificate.host : host => cert.certificate_pem }
}

output "private_keys_pem" {
  description = "Private key PEM by host name."
  value       = { for host, cert in cmpv2_certificate.host : host => cert.private_key_pem }
  sensitive   = true
}

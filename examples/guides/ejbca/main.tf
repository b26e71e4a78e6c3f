# A web server certificate from EJBCA over CMP, through a configuration
# alias in RA mode with the HMAC authentication module: the alias maps the
# request to its CA, end entity profile and certificate profile, creates
# the end entity, and answers under the same shared secret.
terraform {
  required_providers {
    cmpv2 = {
      source = "cmpv2/cmpv2"
    }
  }
}

variable "cmp_url" {
  type        = string
  description = "EJBCA's CMP endpoint of the alias: https://<ejbca>/ejbca/publicweb/cmp/<alias>."
  default     = "https://ejbca.example.com/ejbca/publicweb/cmp/web-ra"
}

variable "cmp_reference" {
  type        = string
  description = "The senderKID sent with the HMAC protection."
  default     = "terraform"
}

variable "cmp_secret" {
  type        = string
  sensitive   = true
  description = "The alias's HMAC shared secret (its authentication parameter)."
}

variable "ca_certificate_file" {
  type        = string
  description = "PEM file of the CA certificate the issued certificates chain to."
}

variable "dns_names" {
  type        = list(string)
  description = "DNS names of the certificate; changing them sends a CR."
  default     = ["web-01.example.com"]
}

provider "cmpv2" {
  url            = var.cmp_url
  trusted_ca_pem = file(var.ca_certificate_file)
  reference      = var.cmp_reference
  secret         = var.cmp_secret
}

resource "cmpv2_certificate" "web" {
  subject = {
    common_name = var.dns_names[0]
  }
  dns_names           = var.dns_names
  key_usages          = ["digital_signature"]
  extended_key_usages = ["server_auth"]
  # 90 days, renewed (KUR) when a third is left; the CA's policy may grant
  # less.
  validity_period_hours = 2160

  # An RA-mode HMAC alias authenticates every request by the shared
  # secret: CR, KUR and RR are MAC-protected too, like the IR.
  update_protection = "mac"
}

output "certificate_pem" {
  value = cmpv2_certificate.web.certificate_pem
}

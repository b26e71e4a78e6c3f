# A web server certificate from MTG CLM's CMP server. The end entity is
# registered in CLM: its UUID is the PBM reference (senderKID) and the HTTP
# basic-auth user; the policy is chosen by the URL path.
terraform {
  required_providers {
    cmpv2 = {
      source = "cmpv2/cmpv2"
    }
  }
}

variable "cmp_url" {
  type        = string
  description = "CLM's CMP endpoint with the policy: BASE/cmp/<policy-id>, BASE/<policy-id>/cmp, or BASE/cmp for the API client's default policy."
  default     = "https://clm.example.com/cmp/web-server"
}

variable "end_entity_id" {
  type        = string
  description = "UUID of the end entity registered in CLM."
}

variable "cmp_secret" {
  type        = string
  sensitive   = true
  description = "The end entity's shared secret for PasswordBasedMac."
}

variable "end_entity_password" {
  type        = string
  sensitive   = true
  description = "The end entity's password for HTTP basic authentication."
}

variable "ca_certificate_file" {
  type        = string
  description = "PEM file of the CLM CA certificate that verifies its signed CMP answers."
}

variable "dns_names" {
  type        = list(string)
  description = "DNS names of the certificate; changing them sends a CR."
  default     = ["web-01.example.com"]
}

provider "cmpv2" {
  url            = var.cmp_url
  trusted_ca_pem = file(var.ca_certificate_file)
  # The IR is MAC-protected with the end entity's UUID as senderKID. CLM
  # takes PasswordBasedMac (1.2.840.113533.7.66.13) only, not PBMAC1.
  reference     = var.end_entity_id
  secret        = var.cmp_secret
  mac_algorithm = "pbm-hmac-sha256"
  basic_auth = {
    username = var.end_entity_id
    password = var.end_entity_password
  }
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
  # CLM signs with SHA-256/384/512 and RSA or ECDSA; the default ECDSA
  # P-256 key signs CR, KUR, RR and POP with SHA-256.
  key_algorithm = "ECDSA"
}

output "certificate_pem" {
  value = cmpv2_certificate.web.certificate_pem
}

# A web server certificate from Vault Enterprise's PKI secrets engine over
# CMP. Vault authenticates the client by its TLS client certificate (a cert
# auth mount), accepts only signed CMP requests (ir, cr, kur), offers no
# revocation over CMP and signs its answers with the issuing CA's key.
terraform {
  required_providers {
    cmpv2 = {
      source = "cmpv2/cmpv2"
    }
  }
}

variable "cmp_url" {
  type        = string
  description = "Vault's CMP endpoint of a PKI role: https://<vault>/v1/<mount>/roles/<role>/cmp (or /v1/<mount>/cmp)."
  default     = "https://vault.example.com:8200/v1/pki/roles/web-server/cmp"
}

variable "issuing_ca_file" {
  type        = string
  description = "PEM file of the mount's issuing CA certificate: it signs Vault's CMP answers and the certificates."
}

variable "tls_ca_file" {
  type        = string
  description = "PEM file of the CA that issued Vault's HTTPS listener certificate."
}

variable "client_certificate_file" {
  type        = string
  description = "PEM file of the client certificate the cert auth mount accepts."
}

variable "client_key_file" {
  type        = string
  description = "PEM file of that client certificate's private key."
}

variable "dns_names" {
  type        = list(string)
  description = "DNS names of the certificate; changing them sends a CR."
  default     = ["web-01.example.com"]
}

provider "cmpv2" {
  url = var.cmp_url
  # Vault signs its CMP answers with the issuing CA's key.
  trusted_ca_pem = file(var.issuing_ca_file)
  # Vault's cert auth method: mutual TLS with the client certificate.
  tls = {
    ca_pem                 = file(var.tls_ca_file)
    client_certificate_pem = file(var.client_certificate_file)
    client_private_key_pem = file(var.client_key_file)
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

  # Vault has no shared secrets: the IR is signed with the client
  # certificate; CR and KUR are signed with the current certificate.
  enrollment = {
    certificate_pem = file(var.client_certificate_file)
    private_key_pem = file(var.client_key_file)
  }

  # Vault offers no revocation over CMP: send no RR, neither for a replaced
  # certificate nor on destroy. Replaced certificates stay valid until they
  # expire; revoke them in Vault (pki/revoke) if they must not.
  revoke_superseded = false
  revoke_on_destroy = false
}

output "certificate_pem" {
  value = cmpv2_certificate.web.certificate_pem
}

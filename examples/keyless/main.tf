# A certificate whose private key lives in Vault's KV store and reaches
# Terraform only as an ephemeral value (Terraform 1.11 or later, OpenTofu
# 1.11 or later): the key is in no plan and no state. The state keeps the
# certificate, whose public key identifies the key, and the key's version.
#
# Store the key first, for example:
#   vault kv put -mount=secret pki/web-example private_key_pem=@web.key version=1
# To rotate, store the new key with version=2 and the old one as
# previous_private_key_pem, apply once (a KUR for the new key signed with the
# old one), then remove previous_private_key_pem.
terraform {
  required_version = ">= 1.11"
  required_providers {
    cmpv2 = {
      source = "cmpv2/cmpv2"
    }
    vault = {
      source  = "hashicorp/vault"
      version = ">= 4.7"
    }
  }
}

provider "cmpv2" {
  url            = "https://ca.example/.well-known/cmp/p/tls"
  trusted_ca_pem = file("${path.module}/ca.pem")
}

provider "vault" {}

variable "enrollment_secret" {
  type        = string
  ephemeral   = true
  sensitive   = true
  description = "The CA's pre-shared secret for the IR (TF_VAR_enrollment_secret)."
}

# Read at every plan and apply, never written to a plan or the state.
ephemeral "vault_kv_secret_v2" "web_key" {
  mount = "secret"
  name  = "pki/web-example"
}

locals {
  key = ephemeral.vault_kv_secret_v2.web_key.data
}

resource "cmpv2_certificate" "web" {
  enrollment = {
    reference = "web-enrollment"
    secret_wo = var.enrollment_secret
  }

  subject   = { common_name = "web.example" }
  dns_names = ["web.example", "www.web.example"]

  # The key signs the IR's POP, and the CR, KUR and RR of this certificate.
  private_key_wo = local.key["private_key_pem"]
  # Kept in state; a new version is a rotation. The version is not secret,
  # so it is kept in the configuration rather than read from the store.
  private_key_wo_version = 1
  # Only for the apply of a rotation: the key being replaced signs the KUR.
  previous_private_key_wo = lookup(local.key, "previous_private_key_pem", null)

  renew_before_expiry = "720h"

  # A destroy gets no write-only value, so its RR cannot be signed with the
  # key: it is sent only with update_protection = "mac" and a stored secret.
  # Otherwise the destroy warns that the certificate stays valid until it
  # expires, and names its serial.
  revoke_on_destroy = true
}

output "certificate_pem" {
  value = cmpv2_certificate.web.certificate_pem
}

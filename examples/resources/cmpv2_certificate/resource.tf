resource "cmpv2_server" "ca" {
  url = "https://ca.example/.well-known/cmp/p/tls"
}

# A TLS server certificate with a key the provider generates and rotates:
# created by an IR, renewed in place by a KUR when 30 days of validity remain.
resource "cmpv2_certificate" "web" {
  server = cmpv2_server.ca.endpoint

  enrollment = {
    reference = "web-enrollment"
    secret_wo = var.enrollment_secret # write-only: never stored in state
  }

  subject = {
    common_name  = "web.example"
    organization = "Example Ltd"
  }
  dns_names           = ["web.example", "www.web.example"]
  key_usages          = ["digital_signature"]
  extended_key_usages = ["server_auth"]

  validity_period_hours = 2160 # 90 days requested; the CA may grant less
  renew_before_expiry   = "720h"

  # Change a value to rotate the key now (KUR), without replacing the resource.
  rotation_triggers = {
    epoch = "1"
  }

  revocation_reason = "cessation_of_operation"
}

# The certificate and key as a Kubernetes TLS secret: tls.crt is the
# certificate followed by its intermediates (the certificate_chain function),
# without the root, which clients hold as their trust anchor.
resource "kubernetes_secret_v1" "web_tls" {
  metadata {
    name = "web-tls"
  }
  type = "kubernetes.io/tls"
  data = {
    "tls.crt" = provider::cmpv2::certificate_chain(cmpv2_certificate.web.certificate_pem, cmpv2_certificate.web.ca_chain_pem)
    "tls.key" = cmpv2_certificate.web.private_key_pem
  }
}

# Needed for the create (IR) only: later plans, updates and destroy run with
# it unset, hence the null default.
variable "enrollment_secret" {
  type      = string
  sensitive = true
  ephemeral = true
  default   = null
}

# Bring your own key: a new tls_private_key sends a KUR with that key.
resource "tls_private_key" "device" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P384"
}

resource "cmpv2_certificate" "device" {
  server          = cmpv2_server.ca.endpoint
  subject         = { common_name = "device-17" }
  private_key_pem = tls_private_key.device.private_key_pem
}

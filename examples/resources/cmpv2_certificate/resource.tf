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

# A key that never reaches Terraform: the CSR is made where the key lives (a
# host, an HSM: `openssl req -new -key host.key -subj /CN=host-17.example
# -addext subjectAltName=DNS:host-17.example -out host-17.csr`) and only the
# CSR is given. Create sends it in a p10cr; a new CSR, a changed
# rotation_triggers or the renewal window sends a new p10cr in place, each
# protected by the enrollment's secret (given again, since secret_wo is never
# stored). Subject and SANs come from the CSR; private_key_pem stays null.
# (A CSR from tls_cert_request works too, but tls_private_key keeps its key
# in the state, which is what this avoids.) No RR can be signed for this
# certificate: with update_protection = "mac" a CA that accepts MAC-protected
# RRs revokes replaced and destroyed ones; otherwise they expire, and the
# plan names their serials.
resource "cmpv2_certificate" "host" {
  server                  = cmpv2_server.ca.endpoint
  certificate_request_pem = file("${path.module}/host-17.csr")

  enrollment = {
    reference = "host-enrollment"
    secret_wo = var.enrollment_secret
  }
}
# A PKCS#12 keystore for a Java service, under a password the state never
# holds (write-only): the service reads the same password from its own
# secret. Every apply must give the password; raise the version to re-make
# the keystore under a new one. The keystore is made again at every renewal.
# The bundle is one more copy of the key: the generated key itself is still
# in the state (private_key_pem), as for every certificate whose key the
# provider generates.
resource "cmpv2_certificate" "api" {
  server              = cmpv2_server.ca.endpoint
  subject             = { common_name = "api.example" }
  dns_names           = ["api.example"]
  extended_key_usages = ["server_auth"]

  certificate_p12_password_wo         = var.keystore_password
  certificate_p12_password_wo_version = 1
  # certificate_p12_encoding = "legacy" # for Java before 12 or Windows before Server 2019
}

resource "kubernetes_secret_v1" "api_keystore" {
  metadata {
    name = "api-keystore"
  }
  binary_data = {
    "keystore.p12" = cmpv2_certificate.api.certificate_p12 # base64, as binary_data takes it
  }
}

variable "keystore_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Let the CA's certificate request template (RFC 9483 section 4.3.3) choose
# what is left unset: the key type (key_algorithm with ecdsa_curve or
# rsa_bits) and the subject. The plan that creates the certificate asks the
# CA once and shows the values taken; configured values always win, and the
# state keeps the values taken, so later plans ask nothing.
resource "cmpv2_certificate" "templated" {
  server               = cmpv2_server.ca.endpoint
  use_request_template = true
  dns_names            = ["templated.example"]
}

# Register a CMP endpoint once and pass its endpoint object to many
# certificates.
resource "cmpv2_server" "ca" {
  url            = "https://ca.example/.well-known/cmp/p/tls"
  trusted_ca_pem = file("${path.module}/cmp-trust-anchors.pem")
  # The name of the CA's CMP signer: the only sender accepted in responses,
  # so no other certificate under the trust anchors can answer for the CA.
  # (Or pin its certificate with server_certificate_pem.)
  recipient = "CN=Issuing CA,O=Example"
  # Credentials of its own protect the general messages of discovery, so the
  # provider block needs none. secret_wo is write-only (Terraform >= 1.11):
  # it is used at create and update and stored nowhere; a CA that verifies no
  # MAC (Vault) takes certificate_pem with private_key_pem instead.
  credentials = {
    reference = "discovery"
    secret_wo = var.cmp_discovery_secret
  }
  # For a CA behind HTTP basic auth (MTG CLM): the password is write-only, so
  # endpoint carries the user name alone, and certificates take the password
  # for that user from the provider block or CMPV2_USERNAME/CMPV2_PASSWORD.
  # basic_auth = {
  #   username    = "ee-4711"
  #   password_wo = var.cmp_basic_auth_password
  # }
}

variable "cmp_discovery_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

output "ca_certificates" {
  value = cmpv2_server.ca.ca_certificates_pem
}

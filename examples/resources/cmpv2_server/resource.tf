# Register a CMP endpoint once and pass its endpoint object to many
# certificates.
resource "cmpv2_server" "ca" {
  url            = "https://ca.example/.well-known/cmp/p/tls"
  trusted_ca_pem = file("${path.module}/cmp-trust-anchors.pem")
  # The name of the CA's CMP signer: the only sender accepted in responses,
  # so no other certificate under the trust anchors can answer for the CA.
  # (Or pin its certificate with server_certificate_pem.)
  recipient = "CN=Issuing CA,O=Example"
}

output "ca_certificates" {
  value = cmpv2_server.ca.ca_certificates_pem
}

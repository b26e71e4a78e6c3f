# Register a CMP endpoint once and pass its endpoint object to many
# certificates.
resource "cmpv2_server" "ca" {
  url            = "https://ca.example/.well-known/cmp/p/tls"
  trusted_ca_pem = file("${path.module}/cmp-trust-anchors.pem")
  recipient      = "CN=Issuing CA,O=Example"
}

output "ca_certificates" {
  value = cmpv2_server.ca.ca_certificates_pem
}

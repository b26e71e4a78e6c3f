# What the certificate says, decoded when a configuration asks for it:
# issuer, public key and fingerprint are not stored in the resource.
locals {
  web = provider::cmpv2::certificate_info(cmpv2_certificate.web.certificate_pem)
}

output "web_issuer" {
  value = local.web.issuer
}

output "web_fingerprint_sha256" {
  value = local.web.fingerprint_sha256
}

# The public key, for pinning or for a peer's allow list.
output "web_public_key_pem" {
  value = local.web.public_key_pem
}

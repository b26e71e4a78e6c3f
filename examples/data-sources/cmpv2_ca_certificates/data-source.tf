# Read the CA certificates a CMP server publishes (genm caCerts) at plan
# time, for example to fill a trust store that other resources consume.
# The answer's protection is verified; with trusted_ca_pem the published
# certificates must also chain to it.
data "cmpv2_ca_certificates" "ca" {
  server = {
    url            = "https://ca.example/.well-known/cmp/p/tls"
    trusted_ca_pem = file("${path.module}/cmp-trust-anchors.pem")
  }
  # Unset, the provider's reference and secret (CMPV2_REFERENCE,
  # CMPV2_SECRET) protect the general messages; a data source keeps its
  # arguments in state, so prefer those over a secret here.
}

# A CA that answers support messages to anyone needs no credentials: with
# none here and none in the provider, the genm goes unprotected and the
# answer must be signed by a certificate chaining to trusted_ca_pem, or,
# when unprotected, list only certificates chaining to it. trusted_ca_pem
# (or server_certificate_pem) is then required.
data "cmpv2_ca_certificates" "public" {
  server = {
    url            = "https://ca.example/.well-known/cmp/p/public"
    trusted_ca_pem = file("${path.module}/cmp-trust-anchors.pem")
  }
}

output "ca_bundle" {
  value = data.cmpv2_ca_certificates.ca.bundle_pem
}

# When the CA announces a root CA key update (RFC 9483 section 4.3.2),
# new_root_pem holds the new root: add it to trust stores before the old
# root is retired. new_with_old_pem and old_with_new_pem are the link
# certificates that bridge the two roots.
output "trust_store" {
  value = join("", compact([
    data.cmpv2_ca_certificates.ca.root_pem,
    data.cmpv2_ca_certificates.ca.new_root_pem,
  ]))
}

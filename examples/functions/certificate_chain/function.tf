# The chain a TLS server sends: the certificate, then its intermediates,
# without the root its clients already trust.
resource "kubernetes_secret_v1" "web_tls" {
  metadata {
    name = "web-tls"
  }
  type = "kubernetes.io/tls"
  data = {
    "tls.crt" = provider::cmpv2::certificate_chain(
      cmpv2_certificate.web.certificate_pem,
      cmpv2_certificate.web.ca_chain_pem,
    )
    "tls.key" = cmpv2_certificate.web.private_key_pem
  }
}

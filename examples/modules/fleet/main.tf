# One CMP server, several certificates through a module. The provider's
# reference and secret (or CMPV2_REFERENCE / CMPV2_SECRET) protect the IRs;
# the server's endpoint object carries the URL and trust anchors.
terraform {
  required_providers {
    cmpv2 = {
      source = "cmpv2/cmpv2"
    }
  }
}

provider "cmpv2" {}

resource "cmpv2_server" "ca" {
  url            = "https://ca.example/.well-known/cmp/p/tls"
  trusted_ca_pem = file("${path.module}/cmp-trust-anchors.pem")
}

module "web" {
  source = "../certificates"
  server = cmpv2_server.ca.endpoint
  hosts  = ["web-1.example", "web-2.example", "web-3.example"]
}

module "api" {
  source              = "../certificates"
  server              = cmpv2_server.ca.endpoint
  hosts               = ["api.example"]
  renew_before_expiry = "168h"
}

output "web_certificates" {
  value = module.web.certificates_pem
}

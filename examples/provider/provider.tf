terraform {
  required_providers {
    cmpv2 = {
      source = "cmpv2/cmpv2"
    }
  }
}

# Every attribute is optional and falls back to an environment variable
# (CMPV2_URL, CMPV2_REFERENCE, CMPV2_SECRET, ...), so CI pipelines can keep
# credentials out of the configuration.
provider "cmpv2" {
  url             = "https://ca.example/.well-known/cmp/p/tls"
  reference       = "device-enrollment"
  secret          = var.cmp_secret
  trusted_ca_pem  = file("${path.module}/cmp-trust-anchors.pem")
  message_timeout = "30s"

  tls = {
    ca_pem = file("${path.module}/tls-ca.pem")
  }
}

variable "cmp_secret" {
  type      = string
  sensitive = true
}

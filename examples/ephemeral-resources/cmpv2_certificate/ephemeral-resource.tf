# A short-lived client certificate for this run only (Terraform >= 1.10):
# enrolled when Terraform opens it, never written to the plan or the state,
# and revoked when the run ends. Terraform opens it in the plan and again in
# the apply, and each open enrolls a certificate of its own.
ephemeral "cmpv2_certificate" "admin" {
  subject = {
    common_name  = "terraform"
    organization = "system:masters"
  }
  extended_key_usages   = ["client_auth"]
  validity_period_hours = 1 # the default
  revoke_on_close       = true
}

# It configures another provider: here a Kubernetes API server that trusts
# the CMP CA for client certificates. Provider blocks accept ephemeral values.
provider "kubernetes" {
  host                   = "https://k8s.example:6443"
  cluster_ca_certificate = file("${path.module}/k8s-ca.pem")
  client_certificate     = ephemeral.cmpv2_certificate.admin.certificate_pem
  client_key             = ephemeral.cmpv2_certificate.admin.private_key_pem
}

# A module output that passes it on must be ephemeral too.
# output "client_certificate" {
#   value     = ephemeral.cmpv2_certificate.admin.certificate_pem
#   ephemeral = true
# }

# A certificate enrolled elsewhere is imported from a PEM file holding the
# certificate, optionally its issuer chain, and its private key. Terraform
# then renews it with KUR, signed with that certificate, instead of a new IR.
terraform import cmpv2_certificate.device ./device-cert-and-key.pem

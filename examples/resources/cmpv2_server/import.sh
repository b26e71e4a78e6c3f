# A CMP server is imported by its URL.
terraform import cmpv2_server.ca https://ca.example/.well-known/cmp/p/tls

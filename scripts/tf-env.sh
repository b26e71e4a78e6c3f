# Sourced by the make targets that run Terraform (bash): picks the CLI with
# scripts/terraform.sh and exports what terraform-plugin-testing needs.
tf_path=$(scripts/terraform.sh)
export TF_ACC_TERRAFORM_PATH="$tf_path"
# Configurations without required_providers resolve to the CLI's default
# registry host; for OpenTofu that is registry.opentofu.org.
if "$tf_path" version 2>/dev/null | grep -q '^OpenTofu'; then
	export TF_ACC_PROVIDER_HOST=registry.opentofu.org
fi
# A TF_CLI_CONFIG_FILE naming a missing file makes every run warn; tests
# need no CLI configuration.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
	unset TF_CLI_CONFIG_FILE
fi
export CHECKPOINT_DISABLE=1

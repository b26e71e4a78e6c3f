#!/usr/bin/env bash
# Renders docs/ from templates/, examples/ and the provider's schema with
# tfplugindocs, then validates it. With --check it renders into a scratch
# directory instead and fails when docs/ differs from what it rendered.
#
# The schema is read here and handed to tfplugindocs (--providers-schema),
# because tfplugindocs otherwise looks for `terraform` on PATH (or downloads
# it) and installs the provider under registry.terraform.io, which OpenTofu
# does not find without an explicit source address.
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
[ "${1:-}" = "--check" ] && check=true
. scripts/tf-env.sh

work=$(mktemp -d)
trap 'rm -rf "$work" .cache/docs-check' EXIT
plugin_dir="$work/plugins/registry.terraform.io/hashicorp/cmpv2/0.0.1/$(go env GOOS)_$(go env GOARCH)"
mkdir -p "$plugin_dir"
go build -o "$plugin_dir/terraform-provider-cmpv2" .
cat >"$work/provider.tf" <<'TF'
terraform {
  required_providers {
    cmpv2 = { source = "registry.terraform.io/hashicorp/cmpv2" }
  }
}
TF
(cd "$work" && "$TF_ACC_TERRAFORM_PATH" init -input=false -no-color -plugin-dir=./plugins >/dev/null &&
	"$TF_ACC_TERRAFORM_PATH" providers schema -json >schema.json)

# tfplugindocs joins the output directory to the provider directory, so it
# must be relative.
out=docs
$check && out=.cache/docs-check && rm -rf "$out" && mkdir -p .cache
log=$(go tool tfplugindocs generate --provider-name cmpv2 --rendered-provider-name CMPv2 \
	--providers-schema "$work/schema.json" --rendered-website-dir "$out" 2>&1) || {
	echo "$log"
	exit 1
}
if $check && ! diff -ru docs "$out"; then
	echo "docs/ is not what tfplugindocs generates: run make docs and commit docs/"
	exit 1
fi
log=$(go tool tfplugindocs validate --provider-name cmpv2 --providers-schema "$work/schema.json" 2>&1) || {
	echo "$log"
	exit 1
}
if $check; then echo "docs/ is up to date"; else echo "docs/ generated"; fi

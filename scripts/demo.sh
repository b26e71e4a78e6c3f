#!/usr/bin/env bash
# make demo: starts the development CA, builds the provider, runs terraform
# apply on examples/quickstart through a CLI config with dev_overrides in a
# temporary directory, prints the certificate, destroys it (revocation) and
# cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tf-env.sh
tf="$TF_ACC_TERRAFORM_PATH"

work=$(mktemp -d)
devca_pid=""
cleanup() {
	if [ -n "$devca_pid" ]; then
		kill "$devca_pid" 2>/dev/null || true
		wait "$devca_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "==> building the provider"
mkdir -p "$work/bin"
go build -ldflags "-X main.version=demo" -o "$work/bin/terraform-provider-cmpv2" .

echo "==> starting the development CA"
"$work/bin/terraform-provider-cmpv2" devca -listen 127.0.0.1:0 -dir "$work/devca" >"$work/devca.jsonl" 2>"$work/devca.err" &
devca_pid=$!
for _ in $(seq 1 150); do
	[ -s "$work/devca.jsonl" ] && break
	kill -0 "$devca_pid" 2>/dev/null || { cat "$work/devca.err" >&2; exit 1; }
	sleep 0.2
done
ready=$(head -n 1 "$work/devca.jsonl")
field() { printf '%s' "$ready" | grep -o "\"$1\":\"[^\"]*\"" | head -n 1 | cut -d'"' -f4; }
url=$(field url)
[ -n "$url" ] || { echo "the development CA did not report its URL:" >&2; cat "$work/devca.err" >&2; exit 1; }
echo "    $url"

# Credentials reach the provider the way CI passes them: environment variables.
export CMPV2_URL="$url"
export CMPV2_REFERENCE="$(field reference)"
export CMPV2_SECRET="$(field secret)"
export CMPV2_TRUSTED_CA_PEM="$(cat "$(field ca_certificate_file)")"

cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "cmpv2/cmpv2" = "$work/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc"
cp examples/quickstart/*.tf "$work/"

echo "==> $(basename "$tf") apply (examples/quickstart)"
(cd "$work" && "$tf" apply -auto-approve -input=false -no-color)

echo "==> the certificate"
(cd "$work" && "$tf" output -raw certificate_pem) >"$work/cert.pem"
if command -v openssl >/dev/null; then
	openssl x509 -in "$work/cert.pem" -noout -subject -issuer -serial -dates -ext subjectAltName,extendedKeyUsage
else
	cat "$work/cert.pem"
fi
(cd "$work" && "$tf" output -no-color)

echo "==> $(basename "$tf") destroy (revokes the certificate)"
(cd "$work" && "$tf" destroy -auto-approve -input=false -no-color)

echo "==> what the development CA handled"
cat "$work/devca.jsonl" | tail -n +2

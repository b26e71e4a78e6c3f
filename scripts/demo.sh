#!/usr/bin/env bash
# make demo: starts the development CA, builds the provider, and runs
# examples/quickstart through a CLI config with dev_overrides in a temporary
# directory: apply (IR), apply with another SAN (CR), apply with a new
# rotation trigger (KUR), destroy (RR). After each step it prints the
# certificate and the CMP messages the CA handled. Cleans up and stops the
# CA by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
# tf-env.sh picks terraform from PATH (else the OpenTofu the scripts build)
# and drops a TF_CLI_CONFIG_FILE that names a missing file.
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
# field prints the string value of a key of a one-line JSON object ("" when absent).
field() { printf '%s' "$1" | { grep -o "\"$2\":\"[^\"]*\"" || true; } | head -n 1 | cut -d'"' -f4; }
url=$(field "$ready" url)
[ -n "$url" ] || { echo "the development CA did not report its URL:" >&2; cat "$work/devca.err" >&2; exit 1; }
echo "    $url (PID $devca_pid)"

# Credentials reach the provider the way CI passes them: environment variables.
export CMPV2_REFERENCE="$(field "$ready" reference)"
export CMPV2_SECRET="$(field "$ready" secret)"
export CMPV2_TRUSTED_CA_PEM="$(cat "$(field "$ready" ca_certificate_file)")"
export TF_VAR_cmp_url="$url"
export TF_IN_AUTOMATION=1

cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "cmpv2/cmpv2" = "$work/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc"
mkdir -p "$work/quickstart"
cp examples/quickstart/*.tf "$work/quickstart/"
cd "$work/quickstart"

# infotypes names the InfoTypeAndValue types a genm event asked for (its
# info_types), by their RFC 9810 section 5.3.19 names (id-it-caCerts is
# "caCerts"); an OID without a name here is printed as it is.
infotypes() {
	local oid names=""
	for oid in $(printf '%s' "$1" | { grep -o '"info_types":\[[^]]*\]' || true; } | { grep -o '[0-9][0-9.]*' || true; }); do
		case "$oid" in
		1.3.6.1.5.5.7.4.17) oid=caCerts ;;
		1.3.6.1.5.5.7.4.18) oid=rootCaKeyUpdate ;;
		1.3.6.1.5.5.7.4.19) oid=certReqTemplate ;;
		1.3.6.1.5.5.7.4.20) oid=rootCaCert ;;
		1.3.6.1.5.5.7.4.21) oid=certProfile ;;
		1.3.6.1.5.5.7.4.22) oid=crlStatusList ;;
		1.3.6.1.5.5.7.4.23) oid=crls ;;
		esac
		names="${names:+$names,}$oid"
	done
	printf '%s' "$names"
}

seen=1 # lines of devca.jsonl already shown (the ready line)
# messages prints the CMP messages the CA handled since the last call, one
# line each: the message (a genm with the types it asked for), the CA's
# answer, and the certificate's serial (decimal) and subject.
messages() {
	local total line op status serial subject
	total=$(wc -l <"$work/devca.jsonl")
	echo "    CMP messages the development CA handled:"
	tail -n +"$((seen + 1))" "$work/devca.jsonl" | head -n "$((total - seen))" | while IFS= read -r line; do
		op=$(field "$line" op)
		[ "$op" = genm ] && op="genm $(infotypes "$line")"
		status=$(field "$line" status)
		serial=$(field "$line" serial)
		subject=$(field "$line" subject)
		printf '      %-20s %-10s %s %s\n' "$op" "$status" "${serial:+serial $serial}" "$subject"
	done
	seen=$total
}

# certificate prints what the state holds about the certificate.
certificate() {
	"$tf" output -raw certificate_pem >"$work/cert.pem"
	echo "    last_operation: $("$tf" output -raw last_operation)   serial_number: $("$tf" output -raw serial_number)   renewal_time: $("$tf" output -raw renewal_time)"
	if command -v openssl >/dev/null; then
		# The serial is the decimal serial_number above; openssl would print it in hex.
		openssl x509 -in "$work/cert.pem" -noout -subject -dates -ext subjectAltName | sed 's/^/    /'
	else
		echo "    serial $("$tf" output -raw serial_number), valid until $("$tf" output -raw not_after)"
	fi
}

step() {
	echo
	echo "==> $1"
	shift
	"$tf" "$@" -auto-approve -input=false -no-color | grep -E '^(Plan|Apply complete|Destroy complete|Warning|│)' || true
}

step "$(basename "$tf") apply: create, an initialization request (IR)" apply
certificate
messages

step "$(basename "$tf") apply with another DNS name: a certification request (CR)" apply -var 'extra_dns_names=["www.demo.example"]'
certificate
messages

step "$(basename "$tf") apply with a new rotation trigger: a key update request (KUR)" apply -var 'extra_dns_names=["www.demo.example"]' -var rotation_epoch=2
certificate
messages

step "$(basename "$tf") destroy: a revocation request (RR)" destroy -var 'extra_dns_names=["www.demo.example"]' -var rotation_epoch=2
messages

echo
echo "==> done; stopping the development CA (PID $devca_pid) and removing $work"

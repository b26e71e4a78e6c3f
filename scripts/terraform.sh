#!/usr/bin/env bash
# Prints the path of a Terraform-compatible CLI for the tests and the demo.
#
# Order: $TERRAFORM (if set), `terraform` on PATH, `tofu` on PATH, then an OpenTofu
# built from the Go module proxy into a cache directory outside the repository.
# A CLI older than 1.11 is passed over: write-only attributes need 1.11.
# Progress goes to stderr; stdout carries only the path.
#
#   scripts/terraform.sh --tofu           OpenTofu only: `tofu` on PATH, else the cached
#                                         build, else build it (CI runs the lifecycle
#                                         under both CLIs with this)
#   scripts/terraform.sh --tofu --cached  the same without building: prints nothing
#                                         and fails when there is none
set -euo pipefail

mode=any
build=true
for arg in "$@"; do
	case "$arg" in
	--tofu) mode=tofu ;;
	--cached) build=false ;;
	*) echo "scripts/terraform.sh: unknown argument $arg" >&2; exit 2 ;;
	esac
done

TOFU_VERSION="${TOFU_VERSION:-v1.12.6}"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-cmpv2"
cached="$cache_root/tofu-$TOFU_VERSION/tofu"

# recent_enough CLI: its version is at least 1.11.
recent_enough() {
	local v
	v=$(TF_CLI_CONFIG_FILE=/dev/null "$1" version -json 2>/dev/null |
		sed -n 's/.*"terraform_version": *"\([0-9]*\.[0-9]*\).*/\1/p' | head -n 1)
	[ -n "$v" ] || return 1
	[ "${v%%.*}" -gt 1 ] || { [ "${v%%.*}" -eq 1 ] && [ "${v#*.}" -ge 11 ]; }
}

candidates="terraform tofu"
if [ "$mode" = tofu ]; then
	candidates=tofu
elif [ -n "${TERRAFORM:-}" ]; then
	command -v "$TERRAFORM"
	exit 0
fi
for candidate in $candidates; do
	if path=$(command -v "$candidate" 2>/dev/null); then
		if recent_enough "$path"; then
			echo "$path"
			exit 0
		fi
		echo "scripts/terraform.sh: $path is older than 1.11, not used" >&2
	fi
done
if [ -x "$cached" ]; then
	echo "$cached"
	exit 0
fi
if [ "$build" = false ]; then
	exit 1
fi

echo "scripts/terraform.sh: no terraform or tofu >= 1.11 on PATH; building OpenTofu $TOFU_VERSION into $cached (a few minutes, once)" >&2
# `go install module@version` refuses modules with replace directives, so build a copy of
# the downloaded module in a scratch directory instead.
dir=$(go mod download -json "github.com/opentofu/opentofu@$TOFU_VERSION" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
	echo "scripts/terraform.sh: go mod download of github.com/opentofu/opentofu@$TOFU_VERSION failed" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -R "$dir/." "$work/"
chmod -R u+w "$work"
mkdir -p "$(dirname "$cached")"
# Build next to the final path and rename, so a concurrent run never sees a partial binary.
(cd "$work" && GOFLAGS=-mod=mod go build -trimpath -o "$work/tofu" ./cmd/tofu)
tmp=$(mktemp "$cached.XXXXXX")
cp "$work/tofu" "$tmp"
chmod 755 "$tmp"
mv -f "$tmp" "$cached"
echo "$cached"

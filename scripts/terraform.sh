#!/usr/bin/env bash
# Prints the path of a Terraform-compatible CLI for the tests and the demo.
#
# Order: $TERRAFORM (if set), `terraform` on PATH, `tofu` on PATH, then an OpenTofu
# built from the Go module proxy into a cache directory outside the repository.
# Progress goes to stderr; stdout carries only the path.
set -euo pipefail

TOFU_VERSION="${TOFU_VERSION:-v1.12.6}"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-cmpv2"
cached="$cache_root/tofu-$TOFU_VERSION/tofu"

if [ -n "${TERRAFORM:-}" ]; then
	command -v "$TERRAFORM"
	exit 0
fi
for candidate in terraform tofu; do
	if path=$(command -v "$candidate" 2>/dev/null); then
		echo "$path"
		exit 0
	fi
done
if [ -x "$cached" ]; then
	echo "$cached"
	exit 0
fi

echo "scripts/terraform.sh: no terraform or tofu on PATH; building OpenTofu $TOFU_VERSION into $cached (a few minutes, once)" >&2
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
(cd "$work" && GOFLAGS=-mod=mod go build -trimpath -o "$cached.tmp" ./cmd/tofu)
mv "$cached.tmp" "$cached"
echo "$cached"

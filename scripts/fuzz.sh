#!/usr/bin/env bash
# Runs every Fuzz target in the module for $1 (a -fuzztime, default 5s) each.
# `go test -fuzz` takes one target in one package at a time, so the targets
# are discovered with `go test -list` and run one by one.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-5s}"
count=0
while read -r pkg; do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
		count=$((count + 1))
	done
done < <(go list ./...)
echo "fuzz: $count targets ran"

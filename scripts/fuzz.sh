#!/usr/bin/env bash
# Runs every Fuzz target in the module for $1 (a -fuzztime, default 5s) each
# and prints, per target, the executions and whether it found a crash; exits
# non-zero when any target crashed (the failing input is then in the
# package's testdata/fuzz/<FuzzName>/, where `go test` replays it).
# `go test -fuzz` takes one target in one package at a time, so the targets
# are discovered with `go test -list` and run one by one. Seed corpora are
# in testdata/fuzz/ (written by scripts/fuzzcorpus from OpenSSL's messages).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-5s}"
# New inputs that widen coverage are minimized before they are kept, by
# default for up to 60s each, and executions spent minimizing are not
# counted; in a run of seconds that leaves a target little time to explore.
minimize="${FUZZMINIMIZETIME:-1s}"
count=0
crashed=0
total_execs=0
summary=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while read -r pkg; do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $target ($fuzztime)"
		status=ok
		for try in 1 2; do
			# -parallel 1: the machine is shared; one worker keeps the load bounded.
			if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" -parallel 1 "$pkg" >"$log" 2>&1; then
				status=ok
				break
			fi
			# Go 1.26's fuzz coordinator can fail a target with a bare "context
			# deadline exceeded" when -fuzztime expires while a worker is busy
			# (golang/go#75804, fixed in Go 1.27). A real finding always writes
			# its failing input; a bare deadline is retried once, then reported.
			if ! grep -q 'Failing input written to' "$log" && grep -q 'context deadline exceeded' "$log"; then
				status="FLAKE (fuzz deadline, golang/go#75804)"
				echo "fuzz: $target: bare context deadline exceeded, no failing input (try $try)"
				continue
			fi
			status=CRASH
			if grep -q '\[build failed\]' "$log"; then
				status="BUILD FAILED"
			fi
			crashed=$((crashed + 1))
			cat "$log"
			break
		done
		# The last progress line holds the total: "fuzz: elapsed: 5s, execs: 12345 (2469/sec), ..."
		execs=$(sed -n 's/.*execs: \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
		execs=${execs:-0}
		interesting=$(sed -n 's/.*new interesting: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
		total_execs=$((total_execs + execs))
		crash_file=$(sed -n 's/.*Failing input written to \(.*\)$/\1/p' "$log" | head -n 1)
		line=$(printf '%-52s %10s execs %5s new  %s' "${pkg#github.com/cmpv2/terraform-provider-cmpv2/} $target" "$execs" "${interesting:-0}" "$status${crash_file:+ ($crash_file)}")
		echo "$line"
		summary+=("$line")
		count=$((count + 1))
	done
done < <(go list ./...)
echo
echo "fuzz summary ($fuzztime per target):"
printf '%s\n' "${summary[@]}"
echo "fuzz: $count targets ran, $total_execs executions, $crashed failed"
[ "$crashed" -eq 0 ]

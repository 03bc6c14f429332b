#!/usr/bin/env bash
# smsgate-throughput.sh [SMPPLOAD ARGS...]: smppd in front of the fake
# SMSGate (answering at once), driven by smppload with the SMPP window kept
# full and every receipt awaited. Default load: -conns 4 -window 100
# -duration 5s. The figures are smppload's summary line (rate, latencies,
# receipts, smppd's CPU per message); see interop/smsgate/throughput_test.go.
#
# PERF_TOOLS is the directory of the perf tools module (with ./cmd/smppload);
# it defaults to ../shared/perf-tools beside this repository.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tools=${PERF_TOOLS:-$top/../shared/perf-tools}
if [ ! -d "$tools/cmd/smppload" ]; then
	echo "smsgate-throughput.sh: no perf tools in $tools; set PERF_TOOLS to the directory of the module with cmd/smppload" >&2
	exit 2
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd "$tools" && go build -o "$bin/" ./cmd/smppload)
cd "$top"
SMPPLOAD="$bin/smppload" SMPPLOAD_ARGS="${*:-}" \
	go test -count=1 -run '^TestThroughput$' -v ./interop/smsgate | grep -vE '^(=== RUN|PASS$|ok )' || true

#!/usr/bin/env bash
# smppd-throughput.sh [CONNS] [DURATION]: smppd with no configuration
# (durable SQLite store, simulator delivering at once) against the neutral
# yardstick smppsink -dlr, both loaded by smppload as transceivers waiting
# for every receipt, in one run because the machine is shared and noisy.
# Prints both rates, the ratio, smppd's latencies and its CPU per message.
#
# PERF_TOOLS is the directory of the perf tools module (cmd/smppload,
# cmd/smppsink); it defaults to ../shared/perf-tools beside this repository.
set -euo pipefail
conns=${1:-4}
dur=${2:-5s}
top=$(cd "$(dirname "$0")/.." && pwd)
tools=${PERF_TOOLS:-$top/../shared/perf-tools}
if [ ! -d "$tools/cmd/smppload" ] || [ ! -d "$tools/cmd/smppsink" ]; then
	echo "smppd-throughput.sh: no perf tools in $tools; set PERF_TOOLS to the directory of the module with cmd/smppload and cmd/smppsink" >&2
	exit 2
fi
bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$bin"' EXIT
(cd "$tools" && go build -o "$bin/" ./cmd/smppload ./cmd/smppsink)
(cd "$top" && go build -o "$bin/smppd" ./cmd/smppd)
load() { "$bin/smppload" -addr "$1" -bind trx -conns "$conns" -window 100 -duration "$dur" -wait-dlr -q "${@:2}" | tail -1; }
rate() { sed -E 's/^rate=([0-9]+).*/\1/'; }

"$bin/smppsink" -addr 127.0.0.1:2793 -dlr >/dev/null 2>&1 &
sink=$!
sleep 0.5
base=$(load 127.0.0.1:2793)
kill $sink

"$bin/smppd" --smpp-addr 127.0.0.1:2794 --http-addr 127.0.0.1:3094 --data-dir "$bin/data" >"$bin/smppd.log" 2>&1 &
srv=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:3094/ready >/dev/null 2>&1 && break; sleep 0.1; done
ours=$(load 127.0.0.1:2794 -pid "$srv")
kill -TERM $srv
wait $srv || true

b=$(echo "$base" | rate)
o=$(echo "$ours" | rate)
echo "smppsink -dlr: $base"
echo "smppd:         $ours"
awk -v o="$o" -v b="$b" 'BEGIN { printf "smppd / smppsink -dlr = %.3f x\n", o / b }'

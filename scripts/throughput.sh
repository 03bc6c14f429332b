#!/usr/bin/env bash
# throughput.sh CONNS [DURATION]: our client and our server as ratios to the
# neutral yardstick (smppload → smppsink), measured in one run because the
# machine is shared and noisy. The yardstick runs before and after ours; the
# ratios are to the mean of the two.
#
# PERF_TOOLS is the directory of the perf tools module (with ./cmd/smppload
# and ./cmd/smppsink); it is kept apart from this repository and defaults to
# ../shared/perf-tools beside it.
set -euo pipefail
conns=${1:-1}
dur=${2:-3s}
top=$(cd "$(dirname "$0")/.." && pwd)
tools=${PERF_TOOLS:-$top/../shared/perf-tools}
if [ ! -d "$tools/cmd/smppload" ] || [ ! -d "$tools/cmd/smppsink" ]; then
	echo "throughput.sh: no perf tools in $tools; set PERF_TOOLS to the directory of the module with cmd/smppload and cmd/smppsink" >&2
	exit 2
fi
bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$bin"' EXIT
(cd "$tools" && go build -o "$bin/" ./cmd/smppload ./cmd/smppsink)
(cd "$top" && go build -o "$bin/smpp" ./cmd/smpp)
"$bin/smppsink" -addr 127.0.0.1:2791 >/dev/null 2>&1 &
"$bin/smpp" serve --echo -addr 127.0.0.1:2792 -window 1000 >/dev/null 2>&1 &
srv=$!
sleep 0.5
rate() { sed -E 's/^rate=([0-9]+).*/\1/'; }
load() { "$bin/smppload" -addr "$1" -conns "$conns" -window 100 -duration "$dur" -q "${@:2}" | tail -1; }
base1=$(load 127.0.0.1:2791 | rate)
client=$("$bin/smpp" bench -url smpp://u:p@127.0.0.1:2791 -conns "$conns" -window 100 -duration "$dur" -q | head -1)
server=$(load 127.0.0.1:2792 -pid "$srv")
base2=$(load 127.0.0.1:2791 | rate)
base=$(((base1 + base2) / 2))
c=$(echo "$client" | rate)
s=$(echo "$server" | rate)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
lat() { grep -oE 'p50=[^ ]+|p99=[^ ]+' | tr '\n' ' '; }
printf 'conns=%s base=%s/%s client=%s (%s x; %s) server=%s (%s x; %s%s)\n' "$conns" "$base1" "$base2" \
	"$c" "$(ratio "$c" "$base")" "$(echo "$client" | lat)" \
	"$s" "$(ratio "$s" "$base")" "$(echo "$server" | lat)" "$(echo "$server" | grep -oE 'srv_us_per_msg=[0-9.]+' || true)"

#!/bin/bash
# Flood benchmark: replay 1M forged VRRP adverts (new source each, random
# VRIDs, priorities and VIPs) and report vrrpguard's time and peak RSS.
# Usage: bench/flood.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
go build -o "$TMP/vrrpguard" ./cmd/vrrpguard
go run ./bench/genflood -n "$N" -o "$TMP/flood.pcap"
ls -l "$TMP/flood.pcap" | awk '{printf "capture: %d packets, %.0f MiB\n", '"$N"', $5/1048576}'
/usr/bin/time -f "elapsed %e s, user %U s, max RSS %M KiB" "$TMP/vrrpguard" replay --format json "$TMP/flood.pcap" 2>"$TMP/err" >"$TMP/out" || true
tail -1 "$TMP/err"
echo "findings: $(grep -c '"type":"finding"' "$TMP/out")  ($(grep -o '"kind":"[a-z_]*","state":"raised"' "$TMP/out" | sort | uniq -c | tr '\n' ' '))"

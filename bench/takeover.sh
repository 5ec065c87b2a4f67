#!/bin/bash
# Takeover benchmark (needs root and the lab tools: ip, keepalived, tcpdump,
# nft, arping): failover after a crash of a keepalived master (priority 150)
# to a backup (priority 100) that is keepalived or vrrpguard, VRRPv3 at
# 100 ms and 10 ms, measured from a capture on a third host; then CPU and
# memory of keepalived's VRRP process, vrrpguard run and vrrpguard run
# --watch=false (router only), each as master and backup in three labs
# running at the same time, over 20 s at 10 ms adverts.
# Usage: bench/takeover.sh [N]   (N iterations per takeover case, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5}
export VRRPGUARD_REQUIRE_LAB=1
go test ./internal/app -run '^$' -bench '^BenchmarkLabTakeover$' -benchtime "${N}x" -count=1 -timeout 30m
go test ./internal/app -run '^$' -bench '^BenchmarkLabVRRPResources$' -benchtime 1x -count=1 -timeout 10m

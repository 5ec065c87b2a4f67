#!/bin/bash
# Replay benchmark: vrrpguard replay over a generated busy segment (1M
# packets: 100 VRIDs, v2/v3, IPv4/IPv6, ARP, one split brain) and over 1M
# forged adverts (bench/genflood), against tcpdump and tshark reading the
# same files, all in one run. Prints wall and CPU time, packets/s, peak RSS
# and the ratios to tcpdump.
# Usage: bench/replay.sh [N]     (BASE_BIN=/path/to/old/vrrpguard adds a
#                                 "before" row; SKIP_TSHARK=1 skips tshark;
#                                 SKIP_FLOOD=1 skips the flood)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
go build -o "$TMP/vrrpguard" ./cmd/vrrpguard
go run ./bench/genbusy -n "$N" -o "$TMP/busy.pcap"
[ -n "${SKIP_FLOOD:-}" ] || go run ./bench/genflood -n "$N" -o "$TMP/flood.pcap"
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"

# measure NAME CMD...: one line of wall s, CPU s, packets/s, max RSS.
measure() {
	local name=$1; shift
	/usr/bin/time -f "%e %U %S %M" -o "$TMP/t" "$@" >"$TMP/out" 2>"$TMP/err" || true
	read -r wall user sys rss < <(tail -1 "$TMP/t") # after "Command exited with non-zero status"
	cpu=$(echo "$user + $sys" | bc)
	pps=$(echo "$N / $wall" | bc)
	printf "%-34s %8.2f s  cpu %7.2f s  %12s pkt/s  rss %6.1f MiB" "$name" "$wall" "$cpu" "$pps" "$(echo "$rss / 1024" | bc -l)"
	echo "$wall $cpu" >"$TMP/last"
}
ratio() { # ratio of the reference's wall and CPU time to the last run's
	read -r w c <"$TMP/last"
	printf "   tcpdump/this: wall %.1fx, cpu %.1fx\n" "$(echo "$1 / $w" | bc -l)" "$(echo "$2 / $c" | bc -l)"
}

for f in busy flood; do
	[ -f "$TMP/$f.pcap" ] || continue
	echo "== $f: $N packets, $(($(stat -c %s "$TMP/$f.pcap") / 1048576)) MiB"
	measure "tcpdump -nn -r" tcpdump -nn -r "$TMP/$f.pcap"; echo
	read -r tw tc <"$TMP/last"
	if [ -z "${SKIP_TSHARK:-}" ]; then
		measure "tshark -Y vrrp -T fields" tshark -r "$TMP/$f.pcap" -Y vrrp -T fields -e vrrp.virt_rtr_id; ratio "$tw" "$tc"
	fi
	if [ -n "${BASE_BIN:-}" ]; then
		measure "before: replay --format json" "$BASE_BIN" replay --format json "$TMP/$f.pcap"; ratio "$tw" "$tc"
		cp "$TMP/out" "$TMP/before.out"
	fi
	measure "vrrpguard replay --format json" "$TMP/vrrpguard" replay --format json "$TMP/$f.pcap"; ratio "$tw" "$tc"
	echo "   findings: $(grep -o '"kind":"[a-z_]*","state":"raised"' "$TMP/out" | sort | uniq -c | tr -s ' \n' ' ')"
	if [ -n "${BASE_BIN:-}" ]; then
		if cmp -s "$TMP/before.out" "$TMP/out"; then
			echo "   output identical to before"
		elif cmp -s <(sort "$TMP/before.out") <(sort "$TMP/out"); then
			echo "   output: the same lines as before, in another order"
		else
			echo "   output DIFFERS from before"
		fi
	fi
done

#!/bin/bash
# vrrpguard demo: a throwaway lab of network namespaces with a real
# keepalived pair (a, b) and a watcher (mon) on one bridge. It breaks the
# pair in several ways, one after another, and you watch vrrpguard's
# findings appear and resolve. Everything is removed at the end (or on
# Ctrl-C). Needs root, keepalived, nftables, arping, iproute2.
set -euo pipefail
BIN=${BIN:-bin/vrrpguard}
P=vgdemo
STEP=${STEP:-12}   # seconds to watch each situation
DIR=$(mktemp -d)

for t in ip keepalived nft arping; do
	command -v $t >/dev/null || { echo "demo: $t is not installed (run: sudo make deps)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "demo: needs root (sudo make demo)" >&2; exit 2; }

cleanup() {
	set +e
	for ns in $P-a $P-b $P-mon $P-br; do
		ip netns pids $ns 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
cleanup 2>/dev/null; DIR=$(mktemp -d)

say() { printf '\n\033[1;34m=== %s\033[0m\n' "$*"; }

ip netns add $P-br
ip -n $P-br link add br0 type bridge mcast_snooping 0
ip -n $P-br link set br0 up
i=1
for h in a b mon; do
	ip netns add $P-$h
	ip link add eth0 netns $P-$h type veth peer name p-$h netns $P-br
	ip -n $P-br link set p-$h master br0 up
	ip netns exec $P-$h sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n $P-$h link set eth0 address 02:00:00:00:de:0$i
	ip -n $P-$h link set lo up
	ip -n $P-$h link set eth0 up
	i=$((i+1))
done
ip -n $P-a addr add 10.123.0.1/24 dev eth0
ip -n $P-b addr add 10.123.0.2/24 dev eth0
ip -n $P-mon addr add 10.123.0.9/24 dev eth0

conf() { # node prio pass vrid
	cat > "$DIR/$1.conf" <<CONF
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id $4
    priority $2
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass $3
    }
    virtual_ipaddress {
        10.123.0.100/24
    }
}
CONF
}
start() { # node
	ip netns exec $P-$1 keepalived -n -l -G --vrrp -f "$DIR/$1.conf" -p "$DIR/$1.pid" -r "$DIR/$1.vpid" >"$DIR/$1.log" 2>&1 &
	echo $! > "$DIR/$1.parent"
}
stop() { # node: clean stop (priority 0)
	kill "$(cat "$DIR/$1.parent")" 2>/dev/null || true
	sleep 1.5
}

say "watcher: vrrpguard watch on the monitoring host (text output below)"
ip netns exec $P-mon "$BIN" watch --interface eth0 --listen off 2>/dev/null &
sleep 1

say "1. a healthy pair: a (priority 150) and b (100) — an election, no finding"
conf a 150 secret1 51; conf b 100 secret1 51
start a; start b
sleep "$STEP"

say "2. someone adds the VIP by hand on b and announces it (arping)"
ip -n $P-b addr add 10.123.0.100/24 dev eth0 2>/dev/null || true
ip netns exec $P-b arping -q -U -c 2 -i eth0 -S 10.123.0.100 10.123.0.100 >/dev/null 2>&1 || true
sleep "$STEP"
ip -n $P-b addr del 10.123.0.100/24 dev eth0 2>/dev/null || true

say "3. a firewall on b drops VRRP from a (one-way loss): both become master"
ip netns exec $P-b nft add table inet demo
ip netns exec $P-b nft add chain inet demo in '{ type filter hook input priority 0; }'
ip netns exec $P-b nft add rule inet demo in ip saddr 10.123.0.1 ip protocol 112 drop
sleep "$STEP"
say "   ...the firewall rule is removed: resolved"
ip netns exec $P-b nft delete table inet demo
sleep "$STEP"

say "4. b is restarted with a typo in its password: auth mismatch, split brain"
stop b
conf b 100 secret2 51
start b
sleep "$STEP"
say "   ...fixed and restarted"
stop b
conf b 100 secret1 51
start b
sleep "$STEP"

say "5. both nodes stop: nobody is master"
stop a; stop b
sleep 8

say "demo over: cleaning up"

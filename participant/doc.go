// Package participant runs VRRP virtual routers (RFC 5798 VRRPv3 with the
// RFC 9568 clarifications, RFC 3768 VRRPv2) from an unchanged
// keepalived.conf, interoperating with keepalived 2.2.7.
//
// It is the thin driver around the pure state machine of package election:
// per instance it opens raw IP sockets for protocol 112 (multicast group
// joined on the instance's interface, or unicast to unicast_peer), sends
// and validates advertisements (TTL / hop limit 255, either checksum form of
// version 3 over IPv4, the 8-byte PASS authentication field of version 2,
// version, VRID and interval), runs the timers, adds and removes the virtual
// addresses with netlink (IPv6 ones without duplicate address detection)
// together with virtual_routes and virtual_rules, drops traffic to them on
// a non-owner master without accept mode (RFC 5798 section 6.1) through
// nftables, announces them with gratuitous ARP and unsolicited neighbour
// advertisements (keepalived's garp_master_* schedule), watches links with
// netlink for the FAULT state, runs track scripts, follows tracked
// processes (the kernel's process connector) and tracked files (inotify)
// with package track, keeps the members of a
// vrrp_sync_group in step as keepalived does (package election's SyncGroup
// decides), and runs keepalived's notify scripts, the groups' too,
// asynchronously. Beyond keepalived, an instance can be held
// out of the election and let back in ([Router.Demote], [Router.Resume]),
// a master can re-announce its addresses ([Router.Reannounce]), and a local
// guard removes virtual addresses configured while not master
// (Options.GuardVIPs).
//
// [Router.Run] configures static_ipaddress, static_routes and static_rules
// while it runs. Cancelling its context (SIGTERM) makes every master resign
// with a priority-0 advertisement and removes the virtual addresses, routes
// and rules, the static ones and the nftables table.
package participant

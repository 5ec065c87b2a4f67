// Package rules is vrrpguard's detection engine. It is fed observations
// (VRRP advertisements, ARP and IPv6 neighbour advertisements, invalid
// packets) with their capture timestamps as its only clock, keeps a bounded
// model per segment key (interface, address family, VRID) and raises and
// resolves findings: duplicate masters, VIPs held by backups, mismatched
// configurations (RFC 3768 and RFC 5798 require the routers of a VRID to
// agree on version, interval, authentication and addresses), flapping,
// silence, and hostile or broken packets.
//
// The engine is pure: it does no I/O and reads no clock. Observe and Tick
// return the events and findings they produce; Local does the same for
// facts the local participant reports about itself (vrrpguard run), and
// Snapshot copies the model for metrics and status pages. It is not safe
// for concurrent use.
//
// Normal life is not a finding: start-up election, preemption, a clean
// hand-over (priority 0) and a takeover after a crash produce master_change
// events only.
package rules

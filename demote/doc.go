// Package demote is the self-demotion policy of a vrrpguard participant: for
// one own VRRP instance (RFC 5798, RFC 3768) it decides from what the sniffer
// sees on the segment when the instance must give up its virtual addresses
// to end a split brain, and when it may take them back. A rival is another
// router (never one of the instance's own MACs or addresses) that claims one
// of the instance's VIPs while the instance is MASTER: it advertises, with
// priority above 0 within its Master_Down_Interval, the same VRID with
// advertisements the participant's validation rejects, or the same VRID
// with accepted advertisements that keep arriving (two or more after the
// instance became MASTER: the election did not get them), or another VRID
// listing one of the VIPs; or it advertised within Params.Recent and still
// answers for a VIP in ARP or neighbour advertisements from its MAC (the
// keepalived 2.2.7 that rejects a higher-priority advertisement with the
// wrong password stops advertising but keeps the VIP). Rivals rank by RFC
// order, priority then primary address. An outranked MASTER yields at once
// ([Demote]); an outranking one holds the VIPs for Params.Hold, so that a
// vrrpguard rival can yield, then yields too if the rival is still live (a
// keepalived will not), so one holder remains. Safety rules: only evidence
// actually seen counts (a partition changes nothing, a host that answers
// for a VIP but never advertised VRRP is an address conflict, not a rival);
// only a MASTER is demoted; a demoted instance resumes ([Resume]) only when
// every rival has been silent, neither advertising for its
// Master_Down_Interval nor answering for the answer window (or resigned with
// priority 0), never because ranks changed; while demoted or suspecting a
// rival it asks for ARP/ND probes of the VIPs every Params.ProbeInterval so
// a silent holder keeps answering; a rival it meets again within
// Params.Recent after a resume is yielded to at once and needs twice the
// silence before the next resume, so a holder whose answers get lost cannot
// make the instance flap; memory is bounded by Params.MaxRivals. Like
// package election the policy is pure: [Policy.Step] takes the time and an
// [Event] and returns [Action] values, and [Policy.Next] says when to call
// it again with a [Tick]; it does no I/O and reads no clock.
package demote

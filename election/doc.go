// Package election is the VRRP state machine of RFC 5798 section 6.4
// (VRRPv3, with the clarifications of RFC 9568) and RFC 3768 section 6.4
// (VRRPv2), with keepalived 2.2.7's extensions: tracked interfaces and
// scripts adjusting the effective priority or forcing the FAULT state,
// preempt_delay, and a master re-advertising at once when it hears a
// lower-priority advertisement.
//
// The machine is a pure step function: [Machine.Step] takes the current
// time and an [Event] and returns the [Action] values a driver must carry
// out (send an advertisement, add or remove the virtual addresses, arm a
// timer, run notify scripts). It never reads a clock, sleeps or does I/O, so
// every transition is table-tested with an explicit time line.
//
// Timers are absolute deadlines. A driver keeps at most one deadline per
// [Timer] kind, replaces it on every [SetTimer], forgets it on
// [StopTimer], and delivers [TimerFired] when it passes. The machine also
// remembers its deadlines and ignores a TimerFired that arrives for a timer
// it has since stopped or moved later, so a late or duplicate firing is
// harmless.
//
// vrrpguard's own extension: a [Demote] event holds the router out of the
// election (a master resigns with a priority-0 advertisement, as on
// shutdown, and becomes backup; a demoted router never becomes master) and
// [Resume] lets it take part again — at once as master when its
// Master_Down_Timer fired while it was held, else from a fresh one. They are
// how a split brain is resolved when this router outranks a master it
// cannot hear properly; when to send them is decided elsewhere.
//
// keepalived's vrrp_sync_group is decided by [SyncGroup], also pure: fed
// its members' changes ([MemberChanged]), it returns its own transitions and
// a [Sync] verdict per member, which the driver steps into the member's
// machine (Config.Sync). A faulty member puts every member into FAULT;
// members become master together, only once each is master or wants to be
// ([SyncWant]: its Master_Down_Timer fired while held back); one member
// back to BACKUP takes the others back, without a priority-0 advertisement.
//
// keepalived behaviour kept here (measured with keepalived 2.2.7): every
// instance starts in BACKUP, whatever its "state" says, and becomes master
// after Master_Down_Interval unless its priority is 255 (the address owner,
// which becomes master at once). For version 2 Skew_Time is
// (256-Priority)/256 seconds (RFC 3768); for version 3 it is
// (256-Priority)*Master_Adver_Interval/256 (RFC 5798).
package election

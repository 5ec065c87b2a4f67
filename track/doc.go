// Package track decides and watches what keepalived 2.2.7's
// vrrp_track_process and track_file blocks track, two inputs of a VRRP
// router's priority (RFC 5798 section 5.2.4; Fault is keepalived's).
// [Process] is the pure quorum decision of one tracked process, fed a timed
// script of process events ([Process.Step]); [Matcher] says which processes
// count; [FileStatus] and [ParseValue] turn a tracked file's contents into a
// priority change or a fault. [Monitor] runs the processes over a
// [ProcSource] (on Linux the kernel's process connector, [OpenConnector])
// and a [Procfs] (an initial /proc scan, as keepalived does, then per-event
// reads), and [WatchFiles] follows files with inotify.
package track

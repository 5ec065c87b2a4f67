package keepalived

//go:generate env VRRPGUARD_UPDATE_README=1 go test -run TestREADMEKeywords -count=1 .

import "slices"

// Status says what vrrpguard does with a keyword keepalived accepts.
type Status int

const (
	// Implemented keywords are read and acted on.
	Implemented Status = iota + 1
	// Warned keywords are accepted and not acted on: each use is a warning
	// with file:line saying what keepalived would have done.
	Warned
)

// String returns "implemented" or "warned".
func (s Status) String() string {
	switch s {
	case Implemented:
		return "implemented"
	case Warned:
		return "warned"
	}
	return "unknown"
}

// Top is the Block of keywords at the top level of keepalived.conf.
const Top = "top level"

// Keyword is one keyword of keepalived 2.2.7's configuration (the names of
// keepalived.conf(5) and of keepalived's parsers), in the block it belongs
// to.
type Keyword struct {
	// Block is the block the keyword appears in (Top, global_defs,
	// vrrp_instance, …).
	Block string
	Name  string
	// Status is what vrrpguard does with it.
	Status Status
	// Keepalived is what keepalived does with it, a verb phrase that
	// completes "keepalived would …".
	Keepalived string
	// Instead, if set, says what vrrpguard does instead (a clause added to
	// the warning).
	Instead string
}

// Keywords returns the table of keepalived 2.2.7 keywords vrrpguard knows,
// in the order keepalived's parsers install them. A keyword of a block vrrpguard skips
// (virtual_server, bfd_instance, …) is covered by the warning about that
// block.
func Keywords() []Keyword { return slices.Clone(keywordTable) }

// lookupKeyword returns the table entry of a keyword in a block.
func lookupKeyword(block, name string) (Keyword, bool) {
	i := slices.IndexFunc(keywordTable, func(k Keyword) bool { return k.Block == block && k.Name == name })
	if i < 0 {
		return Keyword{}, false
	}
	return keywordTable[i], true
}

// warnUnused warns that the keyword at n is not acted on, saying what
// keepalived would have done; skipped says its block was not read.
func (p *parser) warnUnused(n *node, k Keyword, skipped bool) {
	if skipped && n.block {
		p.warn(n, "block '%s' is not used by vrrpguard; skipped (keepalived would %s)", n.head(), k.Keepalived)
		return
	}
	in := ""
	if k.Block != Top {
		in = " in " + k.Block
	}
	also := ""
	if k.Instead != "" {
		also = "; " + k.Instead
	}
	p.warn(n, "'%s'%s is not used by vrrpguard; keepalived would %s%s", n.head(), in, k.Keepalived, also)
}

// known handles a keyword of block that the parser has no reader for: one
// the table lists is kept in other (if not nil), with a warning unless the
// table says it is implemented (read from other by the package acting on
// it), and an unknown one is warned about as such (where names the block
// for that).
func (p *parser) known(block, where string, n *node, other map[string][]string) {
	k, ok := lookupKeyword(block, n.kw())
	if !ok {
		p.skip(n, where)
		return
	}
	if other != nil {
		keepOther(other, n)
	}
	if k.Status != Implemented {
		p.warnUnused(n, k, other == nil)
	}
}

// read warns after a reader has read a keyword that the table says
// vrrpguard does not act on.
func (p *parser) read(block string, n *node) {
	if k, ok := lookupKeyword(block, n.kw()); ok && k.Status == Warned {
		p.warnUnused(n, k, false)
	}
}

// Short constructors keep the table readable.
func impl(block, name, does string) Keyword {
	return Keyword{Block: block, Name: name, Status: Implemented, Keepalived: does}
}
func warned(block, name, does string) Keyword {
	return Keyword{Block: block, Name: name, Status: Warned, Keepalived: does}
}

// instead adds what vrrpguard does instead to a warned keyword.
func (k Keyword) instead(s string) Keyword {
	k.Instead = s
	return k
}

const (
	gd  = "global_defs"
	vi  = "vrrp_instance"
	vsg = "vrrp_sync_group"
	vs  = "vrrp_script"
	vtp = "vrrp_track_process"
	tf  = "track_file" // also vrrp_track_file
	au  = "authentication"
	va  = "virtual_ipaddress" // the options of an address line, also in virtual_ipaddress_excluded
)

// keywordTable is the keyword list of keepalived 2.2.7 with vrrpguard's
// status of each; the parser consults it for every keyword it does not
// read, and README's list of supported keywords is generated from it.
var keywordTable = []Keyword{
	impl(Top, "include", "read further configuration files (glob patterns allowed)"),
	impl(Top, "global_defs", "read global settings"),
	impl(Top, "vrrp_script", "define a health-check script that instances track"),
	impl(Top, "vrrp_instance", "run a VRRP router for one virtual router ID"),
	impl(Top, "vrrp_sync_group", "move the group's instances between MASTER, BACKUP and FAULT together"),
	impl(Top, "static_ipaddress", "add these addresses at start-up, outside any instance"),
	impl(Top, "static_routes", "add these routes at start-up, outside any instance"),
	impl(Top, "static_rules", "add these policy routing rules at start-up"),
	warned(Top, "track_group", "restrict static addresses to a group of instances"),
	warned(Top, "garp_group", "set gratuitous ARP intervals for a group of interfaces"),
	warned(Top, "linkbeat_interfaces", "poll these interfaces' link state with ethtool/MII"),
	warned(Top, "interface_up_down_delays", "delay reacting to these interfaces going up or down"),
	impl(Top, "track_file", "define a file whose number changes tracking instances' priority"),
	impl(Top, "vrrp_track_file", "define a file whose number changes tracking instances' priority"),
	impl(Top, "vrrp_track_process", "define a process whose presence tracking instances depend on"),
	warned(Top, "virtual_server", "load-balance this service with IPVS and health-check its real servers"),
	warned(Top, "virtual_server_group", "group services for IPVS load balancing"),
	warned(Top, "SSL", "set the TLS context of SSL_GET health checks"),
	warned(Top, "bfd_instance", "run a BFD session that instances can track"),
	warned(Top, "net_namespace", "run in that network namespace"),
	warned(Top, "net_namespace_ipvs", "run IPVS in that network namespace"),
	warned(Top, "namespace_with_ipsets", "use ipsets inside the network namespace"),
	warned(Top, "use_pid_dir", "write its pid files under /run/keepalived"),
	warned(Top, "instance", "name this keepalived instance (pid and data file names)"),
	warned(Top, "child_wait_time", "wait this long for child processes at shutdown"),
	warned(Top, "linkbeat_use_polling", "poll link state instead of using netlink"),

	impl(gd, "router_id", "identify this node in notification emails"),
	impl(gd, "notification_email", "send state-change emails to these addresses"),
	impl(gd, "notification_email_from", "send notification emails from this address"),
	impl(gd, "smtp_server", "send notification emails through this SMTP server"),
	impl(gd, "smtp_helo_name", "use this HELO name with the SMTP server"),
	impl(gd, "smtp_connect_timeout", "give up connecting to the SMTP server after this long"),
	impl(gd, "smtp_alert", "send an email on every state change"),
	impl(gd, "smtp_alert_vrrp", "send an email on VRRP state changes"),
	warned(gd, "smtp_alert_checker", "send an email on checker state changes"),
	impl(gd, "no_email_faults", "not send emails for FAULT states"),
	warned(gd, "process_names", "name its processes"),
	warned(gd, "process_name", "name its parent process"),
	warned(gd, "vrrp_process_name", "name its VRRP process"),
	warned(gd, "checker_process_name", "name its checker process"),
	warned(gd, "lvs_process_name", "name its checker process"),
	warned(gd, "bfd_process_name", "name its BFD process"),
	warned(gd, "startup_script", "run this script before starting"),
	warned(gd, "startup_script_timeout", "wait this long for the start-up script"),
	warned(gd, "shutdown_script", "run this script after stopping"),
	warned(gd, "shutdown_script_timeout", "wait this long for the shutdown script"),
	warned(gd, "max_auto_priority", "raise its processes to real-time scheduling up to this priority"),
	warned(gd, "min_auto_priority_delay", "raise its priority when it was delayed this long"),
	warned(gd, "checker_log_all_failures", "log every checker failure"),
	warned(gd, "dynamic_interfaces", "allow interfaces that do not exist yet"),
	warned(gd, "default_interface", "use this interface for instances and static addresses without one"),
	warned(gd, "disable_local_igmp", "not send IGMP reports for the VRRP multicast group"),
	warned(gd, "lvs_timeouts", "set IPVS connection timeouts"),
	warned(gd, "lvs_flush", "flush the IPVS table at start-up"),
	warned(gd, "lvs_flush_on_stop", "flush the IPVS table at shutdown"),
	warned(gd, "lvs_flush_onstop", "flush the IPVS table at shutdown"),
	warned(gd, "lvs_sync_daemon", "run the IPVS connection sync daemon"),
	impl(gd, "vrrp_mcast_group4", "send IPv4 adverts to this multicast group"),
	impl(gd, "vrrp_mcast_group6", "send IPv6 adverts to this multicast group"),
	impl(gd, "vrrp_garp_master_delay", "send the second burst of gratuitous ARPs this long after becoming master"),
	impl(gd, "vrrp_garp_master_repeat", "send this many gratuitous ARPs per burst"),
	impl(gd, "vrrp_garp_master_refresh", "repeat gratuitous ARPs this often while master"),
	impl(gd, "vrrp_garp_master_refresh_repeat", "send this many gratuitous ARPs per refresh"),
	warned(gd, "vrrp_garp_lower_prio_delay", "send gratuitous ARPs this long after hearing a lower priority"),
	warned(gd, "vrrp_garp_lower_prio_repeat", "send this many gratuitous ARPs after hearing a lower priority"),
	warned(gd, "vrrp_down_timer_adverts", "wait this many adverts before declaring the master down"),
	warned(gd, "vrrp_garp_interval", "pace gratuitous ARPs on an interface this far apart"),
	warned(gd, "vrrp_gna_interval", "pace unsolicited neighbour adverts on an interface this far apart"),
	impl(gd, "vrrp_min_garp", "send one gratuitous ARP on becoming master and no refresh"),
	warned(gd, "vrrp_garp_extra_if", "send gratuitous ARPs on the other interfaces too"),
	warned(gd, "vrrp_vmac_garp_intvl", "send gratuitous ARPs on the parent of a VMAC interface this often"),
	warned(gd, "vrrp_lower_prio_no_advert", "not answer a lower-priority advert"),
	warned(gd, "vrrp_higher_prio_send_advert", "send an advert on hearing a higher priority while master"),
	impl(gd, "vrrp_version", "use this VRRP version by default"),
	warned(gd, "vrrp_iptables", "add iptables rules dropping traffic to the VIPs").
		instead("keepalived 2.2.7 on Debian is built without iptables and uses nftables; so does vrrpguard (table inet vrrpguard)"),
	warned(gd, "vrrp_ipsets", "use these ipsets for the VIP firewall rules"),
	warned(gd, "nftables", "add its nftables rules dropping traffic to the VIPs in this table (default keepalived)").
		instead("vrrpguard always uses nftables for that, in its own table inet vrrpguard"),
	impl(gd, "nftables_priority", "set the priority of its nftables chains"),
	warned(gd, "nftables_ifindex", "match interfaces by index in nftables"),
	warned(gd, "nftables_ipvs", "add nftables rules for IPVS"),
	warned(gd, "nftables_ipvs_priority", "set the priority of its IPVS nftables chains"),
	warned(gd, "nftables_ipvs_start_fwmark", "start IPVS firewall marks at this value"),
	impl(gd, "nftables_counters", "add counters to its nftables rules"),
	warned(gd, "vrrp_check_unicast_src", "drop unicast adverts from addresses not listed as peers"),
	warned(gd, "vrrp_skip_check_adv_addr", "not check the addresses in adverts from the current master"),
	impl(gd, "vrrp_strict", "apply strict RFC compliance, correcting instances that break it"),
	warned(gd, "vrrp_priority", "run its VRRP process at this nice level"),
	warned(gd, "vrrp_no_swap", "lock its VRRP process in memory"),
	warned(gd, "vrrp_rt_priority", "give its VRRP process this real-time priority"),
	warned(gd, "vrrp_cpu_affinity", "pin its VRRP process to these CPUs"),
	warned(gd, "vrrp_rlimit_rttime", "limit its VRRP process's real-time CPU time"),
	warned(gd, "vrrp_rlimit_rtime", "limit its VRRP process's real-time CPU time"),
	impl(gd, "notify_fifo", "write state changes to this FIFO"),
	impl(gd, "notify_fifo_script", "run this script reading the notify FIFO"),
	impl(gd, "vrrp_notify_fifo", "write VRRP state changes to this FIFO"),
	impl(gd, "vrrp_notify_fifo_script", "run this script reading the VRRP notify FIFO"),
	impl(gd, "vrrp_notify_priority_changes", "report priority changes on the notify FIFO"),
	impl(gd, "fifo_write_vrrp_states_on_reload", "write every instance's state to the FIFO on reload"),
	warned(gd, "lvs_notify_fifo", "write checker state changes to this FIFO"),
	warned(gd, "lvs_notify_fifo_script", "run this script reading the checker notify FIFO"),
	warned(gd, "checker_priority", "run its checker process at this nice level"),
	warned(gd, "checker_no_swap", "lock its checker process in memory"),
	warned(gd, "checker_rt_priority", "give its checker process this real-time priority"),
	warned(gd, "checker_cpu_affinity", "pin its checker process to these CPUs"),
	warned(gd, "checker_rlimit_rttime", "limit its checker process's real-time CPU time"),
	warned(gd, "checker_rlimit_rtime", "limit its checker process's real-time CPU time"),
	warned(gd, "bfd_priority", "run its BFD process at this nice level"),
	warned(gd, "bfd_no_swap", "lock its BFD process in memory"),
	warned(gd, "bfd_rt_priority", "give its BFD process this real-time priority"),
	warned(gd, "bfd_cpu_affinity", "pin its BFD process to these CPUs"),
	warned(gd, "bfd_rlimit_rttime", "limit its BFD process's real-time CPU time"),
	warned(gd, "bfd_rlimit_rtime", "limit its BFD process's real-time CPU time"),
	warned(gd, "snmp_socket", "talk to the SNMP master agent on this socket"),
	warned(gd, "enable_traps", "send SNMP traps"),
	warned(gd, "enable_snmp_vrrp", "serve the keepalived VRRP SNMP MIB"),
	warned(gd, "enable_snmp_keepalived", "serve the keepalived VRRP SNMP MIB"),
	warned(gd, "enable_snmp_rfc", "serve the VRRP SNMP MIBs of RFC 2787 and RFC 6527"),
	warned(gd, "enable_snmp_rfcv2", "serve the VRRPv2 SNMP MIB of RFC 2787"),
	warned(gd, "enable_snmp_rfcv3", "serve the VRRPv3 SNMP MIB of RFC 6527"),
	warned(gd, "enable_snmp_checker", "serve the checker SNMP MIB"),
	warned(gd, "enable_dbus", "serve instance state over D-Bus"),
	warned(gd, "dbus_service_name", "use this D-Bus service name"),
	impl(gd, "script_user", "run scripts as this user by default"),
	impl(gd, "enable_script_security", "refuse scripts that a non-root user could modify"),
	warned(gd, "vrrp_netlink_cmd_rcv_bufs", "size its netlink command socket buffer"),
	warned(gd, "vrrp_netlink_cmd_rcv_bufs_force", "force its netlink command socket buffer size"),
	warned(gd, "vrrp_netlink_monitor_rcv_bufs", "size its netlink monitor socket buffer"),
	warned(gd, "vrrp_netlink_monitor_rcv_bufs_force", "force its netlink monitor socket buffer size"),
	warned(gd, "process_monitor_rcv_bufs", "size its process monitor socket buffer"),
	warned(gd, "process_monitor_rcv_bufs_force", "force its process monitor socket buffer size"),
	warned(gd, "lvs_netlink_cmd_rcv_bufs", "size its checker netlink command socket buffer"),
	warned(gd, "lvs_netlink_cmd_rcv_bufs_force", "force its checker netlink command socket buffer size"),
	warned(gd, "lvs_netlink_monitor_rcv_bufs", "size its checker netlink monitor socket buffer"),
	warned(gd, "lvs_netlink_monitor_rcv_bufs_force", "force its checker netlink monitor socket buffer size"),
	warned(gd, "rs_init_notifies", "notify the initial state of real servers"),
	warned(gd, "no_checker_emails", "send checker emails only on state changes that matter"),
	warned(gd, "vrrp_rx_bufs_policy", "size the VRRP receive buffers by this policy"),
	warned(gd, "vrrp_rx_bufs_multiplier", "multiply the VRRP receive buffer size by this"),
	warned(gd, "vrrp_startup_delay", "wait this long before starting VRRP"),
	warned(gd, "log_unknown_vrids", "log adverts for virtual router IDs it does not run"),
	warned(gd, "vmac_prefix", "name VMAC interfaces with this prefix"),
	warned(gd, "vmac_addr_prefix", "name VMAC address interfaces with this prefix"),
	warned(gd, "umask", "create files with this umask"),
	warned(gd, "random_seed", "seed its random numbers with this value"),
	warned(gd, "reload_check_config", "check the configuration before reloading"),
	warned(gd, "reload_time_file", "reload at the time written in this file"),
	warned(gd, "reload_repeat", "repeat the timed reload"),
	warned(gd, "reload_file", "reload when this file is created"),
	warned(gd, "include_check", "check included files before reading them"),
	warned(gd, "config_save_dir", "save the configuration it read to this directory"),
	warned(gd, "tmp_config_directory", "write temporary configuration files here"),
	warned(gd, "data_use_instance", "add the instance name to its data file names"),

	impl(vsg, "group", "list the instances of the sync group"),
	impl(vsg, "notify_master", "run this script when the group becomes master"),
	impl(vsg, "notify_backup", "run this script when the group becomes backup"),
	impl(vsg, "notify_fault", "run this script when the group goes to FAULT"),
	impl(vsg, "notify_stop", "run this script when the group stops"),
	impl(vsg, "notify", "run this script on every state change of the group"),
	impl(vsg, "track_interface", "put the group in FAULT when an interface goes down"),
	impl(vsg, "track_script", "put the group in FAULT when a script fails"),
	impl(vsg, "track_file", "change the group's priority by a file's number"),
	impl(vsg, "track_process", "put the group in FAULT when a process is missing"),
	warned(vsg, "track_bfd", "put the group in FAULT when a BFD session is down"),
	warned(vsg, "smtp_alert", "email the group's state changes"),
	impl(vsg, "global_tracking", "let all instances of the group share their tracking"),
	impl(vsg, "sync_group_tracking_weight", "apply tracking weights to the group's instances"),
	impl(vsg, "notify_priority_changes", "notify the group's priority changes"),

	impl(vi, "state", "start in this state"),
	impl(vi, "interface", "run the instance on this interface"),
	warned(vi, "use_vmac", "run the instance on a macvlan interface with the virtual MAC 00:00:5e:00:01:VRID").
		instead("this kernel has no macvlan, so vrrpguard runs the instance on the interface itself with its own MAC"),
	warned(vi, "use_vmac_addr", "add the virtual MAC to the interface's addresses"),
	warned(vi, "vmac_xmit_base", "send adverts from the VMAC's parent interface"),
	warned(vi, "use_ipvlan", "run the instance on an ipvlan interface"),
	impl(vi, "unicast_peer", "send adverts to these peers by unicast"),
	warned(vi, "unicast_fault_no_peer", "go to FAULT when no unicast peer is configured"),
	warned(vi, "check_unicast_src", "drop unicast adverts from addresses not listed as peers"),
	warned(vi, "old_unicast_checksum", "compute unicast checksums as keepalived before 2.2.0 did"),
	impl(vi, "native_ipv6", "run VRRP version 3 over IPv6"),
	warned(vi, "vrf", "bind the instance to this VRF"),
	impl(vi, "dont_track_primary", "ignore faults of the instance's own interface"),
	impl(vi, "track_interface", "lower the priority or go to FAULT when an interface goes down"),
	impl(vi, "track_script", "lower the priority or go to FAULT when a script fails"),
	impl(vi, "track_file", "change the priority by a file's number"),
	impl(vi, "track_process", "go to FAULT when a process is missing"),
	warned(vi, "track_bfd", "go to FAULT when a BFD session is down"),
	impl(vi, "mcast_src_ip", "send adverts from this address"),
	impl(vi, "unicast_src_ip", "send unicast adverts from this address"),
	impl(vi, "mcast_dst_ip", "send adverts to this multicast group"),
	warned(vi, "track_src_ip", "go to FAULT when the source address disappears"),
	impl(vi, "virtual_router_id", "use this virtual router ID"),
	impl(vi, "unicast_ttl", "send unicast adverts with this TTL and accept any TTL"),
	impl(vi, "version", "use this VRRP version"),
	impl(vi, "priority", "advertise this priority"),
	impl(vi, "advert_int", "advertise this often"),
	impl(vi, "virtual_ipaddress", "add these addresses as master and advertise them"),
	impl(vi, "virtual_ipaddress_excluded", "add these addresses as master without advertising them"),
	warned(vi, "promote_secondaries", "set promote_secondaries on the interface"),
	warned(vi, "linkbeat_use_polling", "poll the interface's link state"),
	impl(vi, "virtual_routes", "add these routes as master"),
	impl(vi, "virtual_rules", "add these policy routing rules as master"),
	impl(vi, "accept", "accept traffic to the VIPs as a non-owner master"),
	impl(vi, "no_accept", "drop traffic to the VIPs as a non-owner master"),
	warned(vi, "skip_check_adv_addr", "not check the addresses in adverts from the current master"),
	impl(vi, "strict_mode", "apply strict RFC compliance to this instance"),
	impl(vi, "preempt", "take over from a lower-priority master"),
	impl(vi, "nopreempt", "not take over from a lower-priority master"),
	impl(vi, "preempt_delay", "wait this long after start-up before preempting"),
	warned(vi, "debug", "log debugging output for this instance"),
	impl(vi, "notify_master", "run this script on becoming master"),
	impl(vi, "notify_backup", "run this script on becoming backup"),
	impl(vi, "notify_fault", "run this script on going to FAULT"),
	impl(vi, "notify_stop", "run this script when the instance stops"),
	warned(vi, "notify_deleted", "report a removed instance as DELETED instead of STOP"),
	impl(vi, "notify", "run this script on every state change"),
	impl(vi, "notify_master_rx_lower_pri", "run this script when a master hears a lower priority"),
	impl(vi, "smtp_alert", "email this instance's state changes"),
	impl(vi, "notify_priority_changes", "notify this instance's priority changes"),
	warned(vi, "lvs_sync_daemon_interface", "run the IPVS sync daemon on this interface"),
	impl(vi, "garp_master_delay", "send the second burst of gratuitous ARPs this long after becoming master"),
	impl(vi, "garp_master_repeat", "send this many gratuitous ARPs per burst"),
	impl(vi, "garp_master_refresh", "repeat gratuitous ARPs this often while master"),
	impl(vi, "garp_master_refresh_repeat", "send this many gratuitous ARPs per refresh"),
	warned(vi, "garp_lower_prio_delay", "send gratuitous ARPs this long after hearing a lower priority"),
	warned(vi, "garp_lower_prio_repeat", "send this many gratuitous ARPs after hearing a lower priority"),
	warned(vi, "down_timer_adverts", "wait this many adverts before declaring the master down"),
	warned(vi, "garp_extra_if", "send gratuitous ARPs on the other interfaces too"),
	warned(vi, "vmac_garp_intvl", "send gratuitous ARPs on the VMAC's parent this often"),
	warned(vi, "lower_prio_no_advert", "not answer a lower-priority advert"),
	warned(vi, "higher_prio_send_advert", "send an advert on hearing a higher priority while master"),
	warned(vi, "kernel_rx_buf_size", "size the instance's receive buffer"),
	impl(vi, "authentication", "authenticate adverts (VRRP version 2)"),

	impl(va, "dev", "add the address on this interface"),
	impl(va, "brd", "give the address this broadcast address"),
	impl(va, "broadcast", "give the address this broadcast address"),
	impl(va, "scope", "give the address this scope"),
	impl(va, "label", "give the address this label"),
	impl(va, "peer", "add the address as a point-to-point address with this peer"),
	warned(va, "track_group", "ignore it, as track_group applies only to static addresses"),
	warned(va, "home", "add the IPv6 address with the home-address flag"),
	warned(va, "-nodad", "add the IPv6 address without duplicate address detection"),
	warned(va, "mngtmpaddr", "make the kernel manage temporary IPv6 addresses from this one"),
	warned(va, "noprefixroute", "add the address without its prefix route"),
	warned(va, "autojoin", "join the multicast group of the address"),
	warned(va, "no_track", "stay master when the address is deleted"),
	warned(va, "use_vmac", "add the address on a macvlan interface with the virtual MAC"),
	warned(va, "preferred_lft", "give the IPv6 address this preferred lifetime"),

	impl(au, "auth_type", "use PASS (or AH) authentication"),
	impl(au, "auth_pass", "use this password"),

	impl(vs, "script", "run this command as the check"),
	impl(vs, "interval", "run the check this often"),
	impl(vs, "timeout", "count the check failed after this long"),
	impl(vs, "weight", "change tracking instances' priority by this"),
	impl(vs, "rise", "count the check up after this many successes"),
	impl(vs, "fall", "count the check down after this many failures"),
	impl(vs, "user", "run the check as this user"),
	impl(vs, "init_fail", "start the check in the failed state"),

	impl(vtp, "process", "match processes by this name (and parameters)"),
	impl(vtp, "param_match", "match the parameters exactly, partially or initially"),
	impl(vtp, "weight", "change tracking instances' priority by this"),
	impl(vtp, "quorum", "count the process up with at least this many matches"),
	impl(vtp, "quorum_max", "count the process down with more than this many matches"),
	impl(vtp, "delay", "wait this long before acting on a fork or an exit"),
	impl(vtp, "terminate_delay", "wait this long before counting the process down after an exit"),
	impl(vtp, "fork_delay", "wait this long before counting the process up after a fork"),
	impl(vtp, "full_command", "match the full command line, not the process name"),

	impl(tf, "file", "watch this file"),
	impl(tf, "weight", "multiply the file's number by this"),
	impl(tf, "init_file", "create (or overwrite) the file with a value at start-up"),
}

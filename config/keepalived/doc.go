// Package keepalived reads an unchanged keepalived.conf, the configuration
// file of keepalived's VRRP daemon described in its manual page
// keepalived.conf(5), as keepalived 2.2.7 itself reads it: the global_defs,
// vrrp_script, vrrp_instance and vrrp_sync_group blocks with keepalived's
// defaults and corrections applied, includes, parameters and conditional
// lines expanded, and every error and warning located by file:line (Load,
// Options.Parse); VRRP itself is RFC 3768 (version 2) and RFC 5798
// (version 3).
package keepalived

// Package keepalived reads an unchanged keepalived.conf, the configuration
// file of the keepalived daemon described in its manual page
// keepalived.conf(5), the way keepalived 2.2.7 itself reads it: the
// global_defs, vrrp_script, vrrp_instance, vrrp_sync_group and static_*
// blocks (virtual and static routes and rules as keepalived's
// alloc_route and alloc_rule read them), with
// includes, parameters and conditional lines expanded and keepalived's
// defaults and corrections applied, every error and warning carrying
// file:line (Load, Options.Parse). The VRRP it configures is RFC 3768
// (version 2) and RFC 5798 (version 3).
package keepalived

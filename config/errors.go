package config

import "github.com/vrrpguard/vrrpguard/config/keepalived"

// Error is a configuration error at a position in a file ("file:line:
// message"): the same type as package keepalived's, so a YAML file and a
// keepalived.conf report errors alike.
type Error = keepalived.Error

// Warning is a problem in a configuration that does not stop it from
// loading, such as two files that disagree about a segment: the same type
// as package keepalived's.
type Warning = keepalived.Warning

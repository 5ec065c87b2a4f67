package rules

import (
	"fmt"
	"time"
)

// Params are the engine's thresholds and caps. DefaultParams documents the
// defaults. The yaml tags are the keys of the "rules" section of vrrpguard's
// YAML configuration (package config); ProbeInterval is set there under
// "watch".
type Params struct {
	// FlapWindow and FlapThreshold: master_flapping is raised when the
	// master of a VRID changed FlapThreshold times within FlapWindow
	// (default 4 changes in 60s; the first election does not count).
	FlapWindow    time.Duration `yaml:"flap_window"`
	FlapThreshold int           `yaml:"flap_threshold"`
	// NoMasterMargin is added to the Master_Down_Interval (3 intervals plus
	// skew) before a silent VRID raises no_master (default 1s).
	NoMasterMargin time.Duration `yaml:"no_master_margin"`
	// ResolveHold: a condition must stay false this long before its finding
	// is resolved (default 5s), so a finding does not flap.
	ResolveHold time.Duration `yaml:"resolve_hold"`
	// QuietPeriod: packet-level findings (ttl_invalid, checksum_invalid,
	// malformed_packet, table_full) and VIP claims seen in ARP/ND resolve
	// after this long without new evidence (default 60s).
	QuietPeriod time.Duration `yaml:"quiet_period"`
	// RouterTimeout: a router that stopped advertising still counts for
	// configuration comparisons (auth, version, interval, VIP set, owner)
	// for this long (default 60s); its VIP claims count as "live" too.
	RouterTimeout time.Duration `yaml:"router_timeout"`
	// ProbeInterval: when set (live capture only), the engine asks for an
	// ARP probe / neighbour solicitation of every virtual address with a
	// live master this often, and every ProbeInterval/5 while a host other
	// than the master claims it. Holders of the address answer, so a VIP
	// left behind on a host (a crashed keepalived keeps its VIPs) is found,
	// and a claimant that stopped answering resolves its finding at once
	// instead of after QuietPeriod. 0 disables probing (replay).
	ProbeInterval time.Duration `yaml:"-"`
	// Caps bound memory whatever arrives on the wire; past a cap the
	// least recently seen entry is evicted and table_full is raised.
	MaxSegments          int `yaml:"max_segments"`            // interface × family × VRID (default 4096)
	MaxRouters           int `yaml:"max_routers"`             // routers over all segments (default 16384)
	MaxRoutersPerSegment int `yaml:"max_routers_per_segment"` // default 64
	MaxVIPs              int `yaml:"max_vips"`                // tracked virtual addresses (default 16384)
}

// DefaultParams returns the documented defaults.
func DefaultParams() Params {
	return Params{
		FlapWindow:           60 * time.Second,
		FlapThreshold:        4,
		NoMasterMargin:       time.Second,
		ResolveHold:          5 * time.Second,
		QuietPeriod:          60 * time.Second,
		RouterTimeout:        60 * time.Second,
		MaxSegments:          4096,
		MaxRouters:           16384,
		MaxRoutersPerSegment: 64,
		MaxVIPs:              16384,
	}
}

// Validate reports the first unusable value.
func (p Params) Validate() error {
	switch {
	case p.FlapWindow <= 0:
		return fmt.Errorf("flap_window must be positive, got %v", p.FlapWindow)
	case p.FlapThreshold < 2:
		return fmt.Errorf("flap_threshold must be at least 2, got %d", p.FlapThreshold)
	case p.NoMasterMargin < 0:
		return fmt.Errorf("no_master_margin must not be negative, got %v", p.NoMasterMargin)
	case p.ResolveHold < 0:
		return fmt.Errorf("resolve_hold must not be negative, got %v", p.ResolveHold)
	case p.QuietPeriod <= 0:
		return fmt.Errorf("quiet_period must be positive, got %v", p.QuietPeriod)
	case p.RouterTimeout <= 0:
		return fmt.Errorf("router_timeout must be positive, got %v", p.RouterTimeout)
	case p.ProbeInterval < 0 || (p.ProbeInterval > 0 && p.ProbeInterval < time.Second):
		return fmt.Errorf("probe_interval must be 0 (off) or at least 1s, got %v", p.ProbeInterval)
	case p.MaxSegments < 1 || p.MaxRouters < 2 || p.MaxRoutersPerSegment < 2 || p.MaxVIPs < 1:
		return fmt.Errorf("table caps must be positive (max_segments %d, max_routers %d, max_routers_per_segment %d, max_vips %d)",
			p.MaxSegments, p.MaxRouters, p.MaxRoutersPerSegment, p.MaxVIPs)
	}
	return nil
}

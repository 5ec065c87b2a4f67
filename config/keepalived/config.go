package keepalived

import (
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// NFTTable is the name of the nftables table (family inet) in which
// vrrpguard drops traffic to the virtual addresses of instances without
// accept mode; keepalived's is "keepalived" (families ip and ip6).
const NFTTable = "vrrpguard"

// Warning is a problem in a configuration file that does not stop it from
// loading: a keyword vrrpguard does not use or know, or a setting keepalived
// itself would correct or ignore.
type Warning struct {
	// File and Line locate the problem (Line 0: the whole file).
	File string
	Line int
	// Message says what is wrong and what keepalived does about it.
	Message string
}

// String formats the warning as "file:line: message".
func (w Warning) String() string {
	if w.Line > 0 {
		return w.File + ":" + strconv.Itoa(w.Line) + ": " + w.Message
	}
	if w.File != "" {
		return w.File + ": " + w.Message
	}
	return w.Message
}

// Error is a fatal configuration error at a position in a file.
type Error struct {
	// File and Line locate the error.
	File string
	Line int
	// Message says what was expected.
	Message string
	// Err is the underlying error, if any (for example a file that could
	// not be read).
	Err error
}

// Error formats the error as "file:line: message".
func (e *Error) Error() string {
	return Warning{File: e.File, Line: e.Line, Message: e.Message}.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Options control how a keepalived configuration is read. The zero value
// reads files from the operating system and evaluates '@'
// conditional lines for this host's name, as keepalived does.
type Options struct {
	// ReadFile reads included files (default os.ReadFile).
	ReadFile func(name string) ([]byte, error)
	// Glob expands include patterns with wildcards (default filepath.Glob).
	Glob func(pattern string) ([]string, error)
	// ConfigID is keepalived's config-id (its -i option), against which
	// '@id' and '@^id' conditional lines are evaluated. Empty means
	// keepalived's default: the host name up to its first dot.
	ConfigID string
}

// Config is what vrrpguard reads from a keepalived.conf (keepalived
// 2.2.7 grammar): the global definitions, the VRRP configuration and the
// static addresses, routes and rules. LVS and
// BFD configuration is skipped with a warning.
type Config struct {
	// Files lists every file read, the main file first, then included
	// files in the order they were read.
	Files []string
	// Global holds global_defs, with keepalived's defaults for settings
	// that are not given.
	Global Global
	// Scripts are the vrrp_script blocks, in file order.
	Scripts []*Script
	// Instances are the vrrp_instance blocks, in file order.
	Instances []*Instance
	// SyncGroups are the vrrp_sync_group blocks, in file order.
	SyncGroups []*SyncGroup
	// TrackProcesses are the vrrp_track_process blocks and TrackFiles the
	// track_file (vrrp_track_file) blocks, in file order; blocks keepalived
	// drops (no process, no file) are left out, with a warning.
	TrackProcesses []*TrackProcess
	TrackFiles     []*TrackFile
	// StaticAddresses, StaticRoutes and StaticRules are static_ipaddress,
	// static_routes and static_rules: configured at start-up, outside any
	// instance, and removed at exit (keepalived 2.2.7, measured).
	StaticAddresses []VIP
	StaticRoutes    []Route
	StaticRules     []Rule
}

// Global is keepalived's global_defs block.
type Global struct {
	// File and Line locate the first global_defs block ("" and 0 if none).
	File string
	Line int
	// RouterID is router_id (keepalived's default is the host name; empty
	// here when not configured).
	RouterID string
	// NotificationEmail lists the notification_email addresses.
	NotificationEmail []string
	// NotificationEmailFrom is notification_email_from.
	NotificationEmailFrom string
	// SMTPServer is the host (name or address) of smtp_server and
	// SMTPPort its port (25 unless given as a second word).
	SMTPServer string
	SMTPPort   int
	// SMTPHeloName is smtp_helo_name.
	SMTPHeloName string
	// SMTPConnectTimeout is smtp_connect_timeout (default 30s).
	SMTPConnectTimeout time.Duration
	// VRRPVersion is vrrp_version, the default version of IPv4 instances
	// (default 2).
	VRRPVersion int
	// Strict is vrrp_strict: strict RFC compliance, which among other
	// things disables authentication.
	Strict bool
	// GarpMasterDelay is vrrp_garp_master_delay, the delay before the
	// second burst of gratuitous ARPs after becoming master (default 5s;
	// 0 disables the second burst).
	GarpMasterDelay time.Duration
	// GarpMasterRepeat is vrrp_garp_master_repeat, the gratuitous ARPs per
	// burst (default 5).
	GarpMasterRepeat int
	// GarpMasterRefresh is vrrp_garp_master_refresh, the interval of
	// periodic gratuitous ARPs while master (default 0: none).
	GarpMasterRefresh time.Duration
	// GarpMasterRefreshRepeat is vrrp_garp_master_refresh_repeat
	// (default 1).
	GarpMasterRefreshRepeat int
	// GarpLowerPrioDelay and GarpLowerPrioRepeat are
	// vrrp_garp_lower_prio_delay and vrrp_garp_lower_prio_repeat (default
	// the master delay and repeat).
	GarpLowerPrioDelay  time.Duration
	GarpLowerPrioRepeat int
	// GarpInterval and GnaInterval are vrrp_garp_interval and
	// vrrp_gna_interval, the delay between gratuitous ARPs / unsolicited
	// neighbour advertisements (default 0).
	GarpInterval time.Duration
	GnaInterval  time.Duration
	// MinGarp is vrrp_min_garp: one gratuitous ARP, no second burst.
	MinGarp bool
	// SMTPAlert is smtp_alert and SMTPAlertVRRP smtp_alert_vrrp (nil when
	// not given): whether instances and sync groups without their own
	// smtp_alert send mail on state transitions (smtp_alert_vrrp first,
	// then smtp_alert; default no). Instance.SMTPAlert is the outcome.
	SMTPAlert     *bool
	SMTPAlertVRRP *bool
	// NoEmailFaults is no_email_faults: no mail on entering FAULT.
	NoEmailFaults bool
	// NFTPriority is nftables_priority, the priority of the input and
	// output chains that drop traffic to the virtual addresses of
	// instances without accept mode (default -1, keepalived's).
	NFTPriority int32
	// NFTCounters is nftables_counters: count what those rules drop.
	NFTCounters bool
	// McastGroup4 and McastGroup6 are vrrp_mcast_group4 and
	// vrrp_mcast_group6 (default 224.0.0.18 and ff02::12).
	McastGroup4 netip.Addr
	McastGroup6 netip.Addr
	// ScriptUser is script_user: the user (and group) scripts run as when
	// their own line names none. Empty: keepalived's default, the user
	// keepalived_script if it exists, else the user vrrpguard runs as.
	ScriptUser RunAs
	// ScriptSecurity is enable_script_security: scripts that would run as
	// root from a path a non-root user could modify are not run.
	ScriptSecurity bool
	// NotifyFIFO and VRRPNotifyFIFO are notify_fifo and vrrp_notify_fifo
	// (with their _script): FIFOs receiving a line per state change.
	NotifyFIFO     FIFO
	VRRPNotifyFIFO FIFO
	// VRRPNotifyPriorityChanges is vrrp_notify_priority_changes: the
	// default of the instances' notify_priority_changes.
	VRRPNotifyPriorityChanges bool
	// FIFOWriteStatesOnReload is fifo_write_vrrp_states_on_reload: on a
	// reload, instances that keep their state write it to the notify
	// FIFOs again.
	FIFOWriteStatesOnReload bool
	// Other holds every other global_defs keyword keepalived knows, with
	// its arguments (for a block, the words of its lines).
	Other map[string][]string
}

// RunAs is the user and group a script runs as, as written in the
// configuration (Group "": the user's primary group; User "": the global
// default).
type RunAs struct {
	User  string
	Group string
}

// ScriptLine is a script of a notify line (notify, notify_master, ...,
// notify_fifo_script): its command line, the user it runs as and where it
// is written.
type ScriptLine struct {
	// Cmd is the command line as one string (split it with SplitScript).
	Cmd string
	// RunAs is the user and group written after the command.
	RunAs RunAs
	// File and Line locate the line.
	File string
	Line int
}

// Pos returns "file:line" of the line.
func (l ScriptLine) Pos() string { return l.File + ":" + strconv.Itoa(l.Line) }

// FIFO is notify_fifo or vrrp_notify_fifo: a FIFO that state changes are
// written to, one line each (`INSTANCE "VI_1" MASTER 100`), and the script
// started to read it.
type FIFO struct {
	// Path is the FIFO ("" when not configured); File and Line locate its
	// line.
	Path string
	File string
	Line int
	// Owner is the user and group given after the path: the owner of a
	// FIFO created by vrrpguard.
	Owner RunAs
	// Script is the _script line ("" Cmd when none): started once, with
	// the FIFO's path as its last argument.
	Script ScriptLine
}

// Script is a vrrp_script block.
type Script struct {
	// Name is the script's name; File and Line locate its block.
	Name string
	File string
	Line int
	// Script is the command line: the program and its arguments as one
	// string, with keepalived's quoting removed from around it (split it
	// with SplitScript).
	Script string
	// Interval is the time between runs (default 1s).
	Interval time.Duration
	// Timeout is the time after which a run counts as failed (0: not
	// set; keepalived then uses the interval).
	Timeout time.Duration
	// Weight is added to (or, if negative, subtracted from) the priority
	// of the tracking instances; Reverse inverts its direction.
	Weight  int
	Reverse bool
	// Rise and Fall are the numbers of successes and failures needed to
	// change state (default 1).
	Rise int
	Fall int
	// User and Group run the script (empty: keepalived's script_user).
	User  string
	Group string
	// InitFail is init_fail: the script starts in the failed state.
	InitFail bool
}

// Track is an entry of track_interface, track_script, track_process or
// track_file.
type Track struct {
	// Name is the tracked interface, vrrp_script, vrrp_track_process or
	// track_file.
	Name string
	// Weight is the configured weight; for an entry of track_script,
	// track_process or track_file without a weight, its block's weight.
	// Reverse inverts its direction.
	Weight  int
	Reverse bool
}

// Auth is an instance's authentication block (VRRP version 2 only).
type Auth struct {
	// Type is "PASS", "AH", or "" for no authentication. It is "" too when
	// keepalived ignores the configured authentication (version 3, strict
	// mode, or no password), with a warning.
	Type string
	// Pass is auth_pass in full. Only its first 8 bytes are sent: see
	// AuthData.
	Pass string
}

// AuthData returns the 8-byte authentication field keepalived sends: for
// PASS the first 8 bytes of the password, NUL-padded; zeros otherwise.
func (a Auth) AuthData() [vrrp.AuthDataLen]byte {
	if a.Type != "PASS" {
		return [vrrp.AuthDataLen]byte{}
	}
	return vrrp.PasswordAuthData(a.Pass)
}

// VIP is one line of virtual_ipaddress or virtual_ipaddress_excluded.
type VIP struct {
	// Prefix is the address with its prefix length as written; without a
	// prefix length it is /32 (IPv4) or /128 (IPv6). Host bits are kept:
	// 10.0.0.100/24 stays 10.0.0.100/24.
	Prefix netip.Prefix
	// Dev is the "dev" option ("": the instance's interface).
	Dev string
	// Label, Brd (broadcast: an address, "+" or "-") and Scope are the
	// options of the same names.
	Label string
	Brd   string
	Scope string
	// Peer is the "peer" option, if any.
	Peer netip.Addr
	// Raw is the line as written (after comment removal).
	Raw string
	// File and Line locate the line.
	File string
	Line int
}

// Instance is a vrrp_instance block, with keepalived's defaults and
// corrections applied (each correction is also reported as a warning).
type Instance struct {
	// Name is the instance's name.
	Name string
	// File and Line locate the "vrrp_instance NAME" line.
	File string
	Line int
	// State is the initial state, "MASTER" or "BACKUP". Without a state
	// line keepalived derives it from the priority (255: MASTER).
	State string
	// Interface is the interface the instance runs on ("" only for a
	// unicast instance without one).
	Interface string
	// VRID is virtual_router_id (1-255).
	VRID uint8
	// Priority is the base priority: 1-255 (255 only for the address
	// owner). Without a priority line it is 100, or 255 if State is
	// MASTER (keepalived's behaviour).
	Priority uint8
	// AdvertInt is the advertisement interval as keepalived sends it:
	// default 1s; whole seconds for version 2 (fractions are rounded),
	// centiseconds for version 3.
	AdvertInt time.Duration
	// Version is the VRRP version: version, else 3 for IPv6, else the
	// global vrrp_version, else 2.
	Version int
	// Strict is strict_mode, defaulting to the global vrrp_strict.
	Strict bool
	// Auth is the authentication block.
	Auth Auth
	// VIPs are virtual_ipaddress: the addresses advertised.
	VIPs []VIP
	// ExcludedVIPs are virtual_ipaddress_excluded: added and removed with
	// the VIPs but not advertised.
	ExcludedVIPs []VIP
	// Nopreempt is nopreempt; PreemptDelay is preempt_delay.
	Nopreempt    bool
	PreemptDelay time.Duration
	// Accept is accept (true) or no_accept (false); nil if neither.
	Accept *bool
	// AcceptMode is the outcome (keepalived's vrrp_complete_instance):
	// accept or no_accept if given, else true for the address owner
	// (priority 255) and !Strict for the others; strict mode with VRRP
	// version 2 turns it off for a non-owner (RFC 3768), with a warning.
	// A master with priority below 255 and AcceptMode false drops traffic
	// to its virtual addresses (see [Instance.DropsVIPTraffic]).
	AcceptMode bool
	// Routes and Rules are virtual_routes and virtual_rules: added on
	// becoming master, removed on leaving it.
	Routes []Route
	Rules  []Rule
	// UnicastSrcIP is unicast_src_ip, McastSrcIP mcast_src_ip (both set the
	// source address of adverts).
	UnicastSrcIP netip.Addr
	McastSrcIP   netip.Addr
	// McastDstIP is mcast_dst_ip (invalid: the family's standard group).
	McastDstIP netip.Addr
	// UnicastPeers are the unicast_peer addresses; with any, the instance
	// sends unicast adverts.
	UnicastPeers []netip.Addr
	// TrackInterfaces and TrackScripts are track_interface and
	// track_script. Entries keepalived ignores (an undefined script, a
	// duplicate) are left out, with a warning.
	TrackInterfaces []Track
	TrackScripts    []Track
	// TrackProcesses and TrackFiles are track_process and track_file
	// (entries keepalived ignores are left out, with a warning); an entry
	// without a weight has its block's weight.
	TrackProcesses []Track
	TrackFiles     []Track
	// NotifyMaster, NotifyBackup, NotifyFault, NotifyStop and Notify are
	// the notify scripts: the command line as one string (split it with
	// SplitScript).
	NotifyMaster string
	NotifyBackup string
	NotifyFault  string
	NotifyStop   string
	Notify       string
	// NotifyMasterRxLowerPri is notify_master_rx_lower_pri: run (without
	// arguments) when the instance, as master, hears a lower priority.
	NotifyMasterRxLowerPri string
	// NotifyLines are the notify lines by keyword (notify_master, …,
	// notify, notify_master_rx_lower_pri): the same commands with the user
	// and group written after them and their position.
	NotifyLines map[string]ScriptLine
	// NotifyPriorityChanges is notify_priority_changes, defaulting to the
	// sync group's, then to the global vrrp_notify_priority_changes:
	// priority changes are written to the notify FIFOs.
	NotifyPriorityChanges bool
	// GarpMasterDelay, GarpMasterRepeat, GarpMasterRefresh and
	// GarpMasterRefreshRepeat are the instance's settings, defaulting to
	// the global vrrp_garp_* ones.
	GarpMasterDelay         time.Duration
	GarpMasterRepeat        int
	GarpMasterRefresh       time.Duration
	GarpMasterRefreshRepeat int
	// UseVMAC is use_vmac; VMACInterface its optional interface name.
	UseVMAC       bool
	VMACInterface string
	// DontTrackPrimary is dont_track_primary.
	DontTrackPrimary bool
	// SMTPAlert is smtp_alert: mail notification_email on each state
	// transition. When the instance does not set it, it is the global
	// smtp_alert_vrrp, else the global smtp_alert, else false.
	SMTPAlert bool
	// UnicastTTL is unicast_ttl, the IPv4 TTL / IPv6 hop limit of unicast
	// adverts, nil when not given (IPv4: 255). Without unicast peers it is
	// dropped (nil), with a warning.
	UnicastTTL *uint8
	// Other holds every other vrrp_instance keyword keepalived knows, with
	// its arguments (for a block, the words of its lines).
	Other map[string][]string

	family        vrrp.Family
	unicastConfig bool
	smtpAlertSet  bool
	priorityLine  bool
	// notifyPrio is notify_priority_changes as written (nil: not given).
	notifyPrio *bool
}

// Family returns the instance's address family: that of the first of its
// VIPs, source address and unicast peers (keepalived takes the first it
// reads), IPv4 if it has none of them.
func (in *Instance) Family() vrrp.Family {
	if in.family == vrrp.FamilyUnknown {
		return vrrp.IPv4
	}
	return in.family
}

// DropsVIPTraffic reports whether the instance, as master, drops traffic
// to and from its virtual addresses: no accept mode, not the address
// owner (RFC 5798 section 6.1, Accept_Mode).
func (in *Instance) DropsVIPTraffic() bool { return !in.AcceptMode && in.Priority != 255 }

// Unicast reports whether the instance sends its adverts by unicast.
func (in *Instance) Unicast() bool { return len(in.UnicastPeers) > 0 }

// SrcIP returns the configured source address of the instance's adverts
// (unicast_src_ip or mcast_src_ip), if any.
func (in *Instance) SrcIP() netip.Addr {
	if in.UnicastSrcIP.IsValid() {
		return in.UnicastSrcIP
	}
	return in.McastSrcIP
}

// Pos returns "file:line" of the instance's block.
func (in *Instance) Pos() string { return in.File + ":" + strconv.Itoa(in.Line) }

// SyncGroup is a vrrp_sync_group block.
type SyncGroup struct {
	// Name is the group's name; File and Line locate its block.
	Name string
	File string
	Line int
	// Instances names the member vrrp_instances (the group block).
	Instances []string
	// NotifyMaster, NotifyBackup, NotifyFault, NotifyStop and Notify are
	// the group's notify scripts, as for Instance.
	NotifyMaster string
	NotifyBackup string
	NotifyFault  string
	NotifyStop   string
	Notify       string
	// NotifyLines are the group's notify lines by keyword, as for
	// Instance.
	NotifyLines map[string]ScriptLine
	// TrackInterfaces, TrackScripts, TrackProcesses and TrackFiles are
	// the group's tracking.
	TrackInterfaces []Track
	TrackScripts    []Track
	TrackProcesses  []Track
	TrackFiles      []Track
	// notifyPrio is notify_priority_changes as written (nil: not given).
	notifyPrio *bool
	// Other holds every other keyword of the block keepalived knows.
	Other map[string][]string
}

// Instance returns the instance with the given name, or nil.
func (k *Config) Instance(name string) *Instance {
	for _, in := range k.Instances {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// Script returns the vrrp_script with the given name, or nil.
func (k *Config) Script(name string) *Script {
	for _, s := range k.Scripts {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Load reads a keepalived.conf and the files it includes. See
// Options.Load.
func Load(path string) (*Config, []Warning, error) {
	return Options{}.Load(path)
}

// Parse parses keepalived.conf text; name is used in messages and as the
// base of relative includes, which readFile (nil: os.ReadFile) reads. See
// Options.Parse.
func Parse(name string, src []byte, readFile func(string) ([]byte, error)) (*Config, []Warning, error) {
	return Options{ReadFile: readFile}.Parse(name, src)
}

// Load reads a keepalived.conf and the files it includes.
func (o Options) Load(path string) (*Config, []Warning, error) {
	src, err := o.readFile()(path)
	if err != nil {
		return nil, nil, err
	}
	return o.Parse(path, src)
}

// Parse parses keepalived.conf text named name (used in messages and as
// the base of relative includes). Errors are *Error values carrying the
// file and line; warnings are returned even with an error.
//
// The reader follows keepalived 2.2.7's own parser (lib/parser.c) rather
// than the manual where they differ:
//
//   - The file is line oriented. '!' or '#' starts a comment anywhere on a
//     line unless inside double quotes ("auth_pass s3cret!xyz" is the
//     password "s3cret"); "\#" and "\!" are literal.
//   - Every '{' and '}' outside double quotes is a statement of its own:
//     "a { b }" reads as "a", "{", "b", "}". A keyword's block may open on
//     the same or the next line.
//   - Words are separated by blanks; "..." groups words and loses its
//     quotes. Scripts (script, notify_*) are re-read with shell-like
//     quoting: single quotes and backslash escapes too (SplitScript).
//   - include (and includer, includem, includew, includeb, includea) takes
//     the whole rest of the line as a glob pattern, with csh-style braces,
//     relative to the including file's directory. Includes nest; a cycle is
//     an error. Matches that are directories or executable files are
//     skipped, as keepalived skips them.
//   - '@id' / '@^id' conditional lines are evaluated for a config-id
//     (Options.ConfigID, by default the host name, as keepalived does);
//     '$NAME=value' parameters, including multi-line ones, are
//     substituted. ~SEQ and ~LST lines are skipped with a warning.
//   - track_script only finds vrrp_scripts defined earlier in the file.
//
// Keywords vrrpguard does not use (LVS virtual_server blocks, static
// routes, BFD, ...) and unknown keywords are warnings, never errors.
// Values that would make an expectation wrong (a bad VRID, priority,
// address or interval, a missing interface or virtual_router_id, duplicate
// instances, an unclosed block) are errors carrying "file:line: ...".
// Corrections keepalived itself makes (rounding a fractional VRRPv2
// advert_int, dropping authentication in VRRPv3, priority 255 for a MASTER
// without priority, ...) are applied, each with a warning.
func (o Options) Parse(name string, src []byte) (*Config, []Warning, error) {
	id := o.ConfigID
	if id == "" {
		id = defaultConfigID()
	}
	lx := &lexer{opts: o, configID: id, defs: map[string]*definition{}}
	if err := lx.readFile(name, src); err != nil {
		return nil, lx.warnings, err
	}
	eof := strings.Count(string(src), "\n")
	if len(src) > 0 && src[len(src)-1] != '\n' {
		eof++
	}
	root, err := buildTree(lx.out, name, eof)
	if err != nil {
		return nil, lx.warnings, err
	}
	p := &parser{warnings: lx.warnings}
	k, err := p.parse(root)
	if err != nil {
		return nil, p.warnings, err
	}
	k.Files = lx.files
	return k, p.warnings, nil
}

// defaultConfigID is keepalived's default config-id: the host name up to
// its first dot.
func defaultConfigID() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	if i := strings.IndexByte(h, '.'); i >= 0 {
		h = h[:i]
	}
	return h
}

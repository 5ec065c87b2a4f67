package participant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Status is a snapshot of one instance, for logs, metrics and the status
// endpoint.
type Status struct {
	Instance  string `json:"instance"`
	Interface string `json:"interface"`
	VRID      uint8  `json:"vrid"`
	Family    string `json:"family"`
	Version   int    `json:"version"`
	// State is INIT, BACKUP, MASTER or FAULT.
	State string `json:"state"`
	// Priority is the effective priority, BasePriority the configured one.
	Priority     uint8  `json:"priority"`
	BasePriority uint8  `json:"base_priority"`
	Source       string `json:"source,omitempty"`
	// Master is the master heard last while backup ("" otherwise).
	Master         string        `json:"master,omitempty"`
	MasterPriority uint8         `json:"master_priority,omitempty"`
	AdvertInt      time.Duration `json:"advert_int_ns"`
	MasterAdverInt time.Duration `json:"master_adver_int_ns"`
	// Since is when the current state was entered; Reason why.
	Since       time.Time `json:"since"`
	Reason      string    `json:"reason,omitempty"`
	Transitions uint64    `json:"transitions"`
	// VIPs are the virtual addresses (with prefix length).
	VIPs []string `json:"vips"`
	// Received and Dropped count advertisements accepted and rejected.
	Received uint64 `json:"adverts_received"`
	Dropped  uint64 `json:"adverts_dropped"`
	Sent     uint64 `json:"adverts_sent"`
	// Demoted is true while the instance is held out of the election by
	// [Router.Demote]: it is BACKUP (or FAULT, or INIT) and does not become
	// master until [Router.Resume]. DemotionReason is the reason of the
	// last Demote ("demoted: …") or Resume ("resumed: …") and
	// DemotionSince when it was asked (a second Demote changes only the
	// reason); both are empty if neither ever was.
	// SyncGroup is the vrrp_sync_group the instance is in ("" if none).
	SyncGroup      string    `json:"sync_group,omitempty"`
	Demoted        bool      `json:"demoted"`
	DemotionReason string    `json:"demotion_reason,omitempty"`
	DemotionSince  time.Time `json:"demotion_since,omitzero"`
}

// Options configure a [Router].
type Options struct {
	// Logger receives transitions and problems (default slog.Default()).
	Logger *slog.Logger
	// OnChange, if set, is called after every change of an instance's state,
	// effective priority or demotion ([Router.Demote], [Router.Resume]),
	// from the instance's goroutine; tr is the transition, nil for a change
	// of priority or demotion alone (a demoted master's step down to BACKUP
	// is a transition whose reason starts with "demoted").
	OnChange func(st Status, tr *election.Transition)
	// GuardVIPs turns on the local VIP guard: an instance that is BACKUP
	// or FAULT (demoted or not) and finds one of its virtual addresses
	// configured on its interface (added by hand or by another tool, or
	// left behind by a crash) removes it at once. It learns of added
	// addresses from netlink events, and checks once on start and on
	// entering BACKUP or FAULT. It never touches the address the instance
	// advertises from (unicast_src_ip or the interface's primary address),
	// an address that is also a virtual address of another instance, or
	// anything of an instance with priority 255 (the address owner).
	GuardVIPs bool
	// OnGuard, if set, is called for every address the guard finds, from
	// the instance's goroutine.
	OnGuard func(GuardEvent)
	// OnSent, if set, is called for every advertisement an instance sent
	// (once per destination whose send succeeded), from the instance's
	// goroutine, right after the send: `run` hands the node's own adverts
	// to its segment watcher this way. It must not block; the Sent and
	// its Payload are valid only during the call.
	OnSent func(*Sent)
	// LookupUser resolves the user and group names of scripts (default:
	// the system's user database).
	LookupUser func(name, group string) (uid, gid uint32, err error)
}

// Sent is an advertisement an instance sent, as it left the host.
type Sent struct {
	At        time.Time // just after the send
	Interface string
	MAC       [6]byte // the interface's
	Src, Dst  netip.Addr
	TTL       uint8  // TTL or hop limit
	Payload   []byte // the VRRP packet (no IP header)
}

// Instance is one running vrrp_instance.
type Instance struct {
	cfg  *keepalived.Instance
	glob *keepalived.Global
	opts Options
	log  *slog.Logger
	// scripts are the vrrp_script blocks the instance tracks, by name, and
	// trackCmds the commands they run (checked as keepalived does: a
	// script that must not run is not tracked); procs and files the
	// vrrp_track_process and track_file blocks.
	scripts   map[string]*keepalived.Script
	trackCmds map[string]*command
	procs     map[string]*keepalived.TrackProcess
	files     map[string]*keepalived.TrackFile
	// srcs opens the sources of procs and files.
	srcs trackSources
	// notifyCmds are the notify scripts by keyword (notify_master, …,
	// notify); fifo the router's notify FIFOs.
	notifyCmds map[string]*command
	fifo       *fifoSet

	// wake tells the running loop that ctl has something for it.
	wake chan struct{}

	mu     sync.Mutex
	st     Status
	ctl    control
	shared map[netip.Addr]bool // virtual addresses other instances have too
	grp    *syncGroup          // the vrrp_sync_group the instance is in, or nil
	// syncName is the name of the sync group the configuration puts the
	// instance in ("" if none).
	syncName string
	// fw drops traffic to the instance's addresses while it is master
	// without accept mode (nil if it has accept mode).
	fw *firewall
}

// control is what [Router.Demote], [Router.Resume] and [Router.Reannounce]
// asked of an instance; its loop applies it (a stopped instance when it
// starts).
type control struct {
	demote     bool
	reason     string // of the last Demote or Resume, as given
	reannounce bool
	// sync is the sync group's verdict not yet applied; resync asks the
	// loop to report its state to a (new) group.
	sync   *election.Sync
	resync bool
}

// Config returns the instance's configuration, with the tracking of its
// vrrp_sync_group applied if it is in one (see syncTracking).
func (i *Instance) Config() *keepalived.Instance { return i.cfg }

// Status returns a snapshot of the instance.
func (i *Instance) Status() Status {
	i.mu.Lock()
	defer i.mu.Unlock()
	st := i.st
	st.VIPs = append([]string(nil), i.st.VIPs...)
	return st
}

// modify changes the status without returning a copy (the per-advert
// counters: no allocation).
func (i *Instance) modify(fn func(*Status)) {
	i.mu.Lock()
	defer i.mu.Unlock()
	fn(&i.st)
}

func (i *Instance) update(fn func(*Status)) Status {
	i.mu.Lock()
	defer i.mu.Unlock()
	fn(&i.st)
	st := i.st
	st.VIPs = append([]string(nil), i.st.VIPs...)
	return st
}

// Router runs every vrrp_instance of a keepalived configuration. Its
// configuration can be replaced while it runs with [Router.Reload].
type Router struct {
	opts Options
	// fifo is the notify FIFOs of the configuration New was given (a
	// reload keeps them), fifoEnv the script environment of that
	// configuration (for the FIFO scripts); lookupUser resolves script
	// users.
	fifo       *fifoSet
	fifoEnv    *scriptEnv
	lookupUser lookupFunc

	// mu serialises Run's start, Reload and the bookkeeping of running
	// instances; Reload holds it while instances shut down, so nothing an
	// instance's goroutine may call (OnChange: Demote, Status, ...) takes it.
	mu sync.Mutex
	k  *keepalived.Config
	// listMu guards instances: taken alone to read, with mu to replace.
	listMu    sync.Mutex
	instances []*Instance
	running   map[*Instance]*runHandle
	ctx       context.Context // Run's; nil before Run
	exited    chan struct{}   // an instance's goroutine returned

	errMu sync.Mutex
	errs  []error

	// fw is the nftables firewall of instances without accept mode, opened
	// by the first of them to start (under mu); nil until then.
	fw *firewall
	// static is the configuration whose static addresses, routes and rules
	// Run configured (nil before and after).
	static *keepalived.Config
	// staticOwn are the static routes, rules and addresses this run added.
	staticOwn owned
}

// runHandle is a running instance's goroutine.
type runHandle struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// New prepares a router for every instance of k. It checks what it can
// without touching the network: sockets are opened by Run.
func New(k *keepalived.Config, opts Options) (*Router, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Router{opts: opts, k: k, running: map[*Instance]*runHandle{}, exited: make(chan struct{}, 1),
		fifo: newFIFOSet(&k.Global, opts.Logger), lookupUser: lookupUser}
	if l := opts.LookupUser; l != nil {
		r.lookupUser = func(name, group string) (runAs, error) {
			uid, gid, err := l(name, group)
			return runAs{uid: uid, gid: gid}, err
		}
	}
	se := newScriptEnv(&k.Global, opts.Logger, r.lookupUser, r.fifo)
	r.fifoEnv = se
	for _, in := range k.Instances {
		inst, err := newInstance(k, in, opts, se)
		if err != nil {
			return nil, err
		}
		r.instances = append(r.instances, inst)
	}
	markShared(r.instances)
	linkSyncGroups(k, r.instances, opts.Logger, se)
	se.done()
	return r, nil
}

func newInstance(k *keepalived.Config, in *keepalived.Instance, opts Options, se *scriptEnv) (*Instance, error) {
	if in.UseVMAC {
		opts.Logger.Warn("use_vmac is not supported (this kernel has no macvlan); running on the interface itself", "instance", in.Name, "at", in.Pos())
	}
	if in.Auth.Type == "AH" {
		return nil, fmt.Errorf("instance %s: auth_type AH is not supported", in.Name)
	}
	if in.Interface == "" {
		return nil, fmt.Errorf("instance %s: an interface is required", in.Name)
	}
	if advertTTL(in) == 0 {
		return nil, fmt.Errorf("instance %s: unicast_ttl 0 is not supported (Linux sends no packet with TTL 0 from a socket)", in.Name)
	}
	log := opts.Logger.With("instance", in.Name)
	sg := syncGroupOf(k, in.Name)
	if sg != nil {
		in = syncTracking(sg, in, k, log)
	} else if in.Priority == 255 && len(in.TrackFiles) > 0 {
		c := *in
		c.TrackFiles = unweightFiles(in.TrackFiles, "address owner", in, log)
		in = &c
	}
	inst := &Instance{cfg: in, glob: &k.Global, opts: opts, log: log,
		scripts: map[string]*keepalived.Script{}, trackCmds: map[string]*command{},
		procs: map[string]*keepalived.TrackProcess{}, files: map[string]*keepalived.TrackFile{},
		srcs: systemTracking{}, wake: make(chan struct{}, 1), fifo: se.fifo}
	if sg != nil {
		inst.syncName = sg.Name
	}
	var kept []keepalived.Track
	for _, t := range in.TrackScripts {
		s := k.Script(t.Name)
		if s == nil {
			continue
		}
		c := se.prepare("vrrp_script "+s.Name, s.Script, keepalived.RunAs{User: s.User, Group: s.Group}, s.File+":"+strconv.Itoa(s.Line))
		if c == nil {
			// keepalived removes a script it will not run from the
			// instances tracking it.
			log.Warn("track_script not tracked: its vrrp_script will not run", "vrrp_script", s.Name)
			continue
		}
		inst.scripts[t.Name], inst.trackCmds[t.Name] = s, c
		kept = append(kept, t)
	}
	for _, t := range in.TrackProcesses {
		if p := k.TrackProcess(t.Name); p != nil {
			inst.procs[t.Name] = p
		}
	}
	for _, t := range in.TrackFiles {
		if f := k.TrackFile(t.Name); f != nil {
			inst.files[t.Name] = f
		}
	}
	if len(kept) != len(in.TrackScripts) {
		c := *in
		c.TrackScripts = kept
		inst.cfg = &c
		in = &c
	}
	inst.notifyCmds = notifyCommands(se, "vrrp_instance "+in.Name, in.NotifyLines,
		in.NotifyMaster, in.NotifyBackup, in.NotifyFault, in.NotifyStop, in.Notify)
	inst.st = Status{
		Instance: in.Name, Interface: in.Interface, VRID: in.VRID, Family: in.Family().String(),
		Version: in.Version, State: election.Initialize.String(), Priority: in.Priority, BasePriority: in.Priority,
		AdvertInt: in.AdvertInt, MasterAdverInt: in.AdvertInt, SyncGroup: inst.syncName,
	}
	for _, v := range in.VIPs {
		inst.st.VIPs = append(inst.st.VIPs, v.Prefix.String())
	}
	return inst, nil
}

// Instances returns the router's instances, in configuration order.
func (r *Router) Instances() []*Instance {
	r.listMu.Lock()
	defer r.listMu.Unlock()
	return append([]*Instance(nil), r.instances...)
}

// Status returns a snapshot of every instance.
func (r *Router) Status() []Status {
	is := r.Instances()
	out := make([]Status, len(is))
	for n, i := range is {
		out[n] = i.Status()
	}
	return out
}

// Run runs every instance until ctx is cancelled, then shuts them down
// (masters resign with priority 0 and remove their addresses) and returns.
// An instance that fails to start is logged and counted in the returned
// error; the others keep running. Run also returns when no instance is
// left running. It must be called once.
func (r *Router) Run(ctx context.Context) error {
	r.mu.Lock()
	r.ctx = ctx
	r.fifo.open(r.fifoEnv)
	defer r.fifo.close()
	defer r.stopStatic()
	r.startStatic()
	// init_file is carried out when the router runs, not when it is
	// built: `vrrpguard check` builds one too, and must not overwrite a
	// live node's track files.
	initTrackFiles(r.k, false, r.opts.Logger)
	for _, i := range r.instances {
		r.start(i)
	}
	r.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			r.mu.Lock()
			hs := r.running
			r.running = map[*Instance]*runHandle{}
			r.mu.Unlock()
			for _, h := range hs {
				<-h.done
			}
			return r.err()
		case <-r.exited:
			r.mu.Lock()
			for i, h := range r.running {
				select {
				case <-h.done:
					delete(r.running, i)
				default:
				}
			}
			alive := len(r.running) > 0
			r.mu.Unlock()
			if !alive {
				return r.err()
			}
		}
	}
}

func (r *Router) err() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return errors.Join(r.errs...)
}

// start runs i in a goroutine of its own; r.mu is held.
func (r *Router) start(i *Instance) {
	i.fw = nil
	if i.cfg.DropsVIPTraffic() {
		if r.fw == nil {
			fw, err := openFirewall(&r.k.Global)
			if err != nil {
				i.log.Error("no_accept: cannot drop traffic to the virtual addresses; they accept it", "err", err)
			}
			r.fw = fw
		}
		i.fw = r.fw
	}
	ctx, cancel := context.WithCancel(r.ctx)
	h := &runHandle{cancel: cancel, done: make(chan struct{})}
	r.running[i] = h
	go func() {
		defer func() {
			// Not r.mu: Reload holds it while waiting for done.
			cancel()
			close(h.done)
			select {
			case r.exited <- struct{}{}:
			default:
			}
		}()
		if err := i.Run(ctx); err != nil {
			i.log.Error("instance failed", "err", err)
			r.errMu.Lock()
			r.errs = append(r.errs, fmt.Errorf("instance %s: %w", i.cfg.Name, err))
			r.errMu.Unlock()
		}
	}()
}

// ReloadResult names the instances a [Router.Reload] kept running
// untouched, stopped (removed from the configuration), and started (new,
// or changed and hence restarted: those are in both Stopped and Started).
type ReloadResult struct {
	Kept, Stopped, Started []string
}

// Reload replaces the router's configuration with k, as keepalived does on
// SIGHUP: instances whose configuration (including the vrrp_scripts they
// track and the global settings they use) is unchanged keep running with
// their state and addresses; removed and changed instances are shut down
// (a master resigns with priority 0 and removes its addresses) and then the
// new and changed ones are started. Instances are matched by name; a
// changed instance keeps its demotion ([Router.Demote]). On error nothing
// changes.
func (r *Router) Reload(k *keepalived.Config) (ReloadResult, error) {
	var res ReloadResult
	if len(k.Instances) == 0 {
		return res, errors.New("no vrrp_instance")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := map[string]*Instance{}
	for _, i := range r.instances {
		old[i.cfg.Name] = i
	}
	var next, fresh []*Instance
	keep := map[*Instance]bool{}
	se := newScriptEnv(&k.Global, r.opts.Logger, r.lookupUser, r.fifo)
	for _, in := range k.Instances {
		ni, err := newInstance(k, in, r.opts, se)
		if err != nil {
			return ReloadResult{}, err
		}
		if oi := old[in.Name]; oi != nil && sameInstance(oi, ni) {
			next = append(next, oi)
			keep[oi] = true
			res.Kept = append(res.Kept, in.Name)
			continue
		}
		next = append(next, ni)
		fresh = append(fresh, ni)
		res.Started = append(res.Started, in.Name)
	}
	var stopping []*runHandle
	for _, oi := range r.instances {
		if keep[oi] {
			continue
		}
		res.Stopped = append(res.Stopped, oi.cfg.Name)
		if h := r.running[oi]; h != nil {
			h.cancel()
			stopping = append(stopping, h)
			delete(r.running, oi)
		}
	}
	// Stopped instances remove their addresses before a changed one that
	// shares them starts.
	for _, h := range stopping {
		<-h.done
	}
	r.listMu.Lock()
	for _, ni := range fresh {
		if oi := old[ni.cfg.Name]; oi != nil {
			ni.inheritDemotion(oi) // with listMu, so no Demote or Resume falls in between
		}
	}
	r.k, r.instances = k, next
	r.listMu.Unlock()
	initTrackFiles(k, true, r.opts.Logger)
	markShared(next)
	if k.Global.FIFOWriteStatesOnReload {
		// keepalived writes the state of every instance that sends no
		// notification on the reload (vrrp_scheduler.c).
		for _, i := range next {
			if keep[i] {
				if st := i.Status(); st.State != election.Initialize.String() {
					r.fifo.write(fifoLine("INSTANCE", st.Instance, st.State, int(st.Priority)))
				}
			}
		}
	}
	linkSyncGroups(k, next, r.opts.Logger, se)
	se.done()
	if r.static != nil {
		r.reloadStatic(k)
	}
	if r.ctx != nil && r.ctx.Err() == nil {
		for _, i := range fresh {
			r.start(i)
		}
	}
	return res, nil
}

// sameInstance reports whether a and b would run identically: the same
// instance configuration, tracked scripts and used global settings, ignoring
// where in the files they are written.
func sameInstance(a, b *Instance) bool {
	if a.syncName != b.syncName {
		return false
	}
	if !reflect.DeepEqual(stripInstance(a.cfg), stripInstance(b.cfg)) || len(a.scripts) != len(b.scripts) {
		return false
	}
	for name, sa := range a.scripts {
		sb := b.scripts[name]
		if sb == nil {
			return false
		}
		x, y := *sa, *sb
		x.File, x.Line, y.File, y.Line = "", 0, "", 0
		if x != y {
			return false
		}
	}
	if !sameBlocks(a.procs, b.procs, func(p keepalived.TrackProcess) keepalived.TrackProcess { p.File, p.Line = "", 0; return p }) ||
		!sameBlocks(a.files, b.files, func(f keepalived.TrackFile) keepalived.TrackFile { f.File, f.Line = "", 0; return f }) {
		return false
	}
	ga, gb := a.glob, b.glob
	return ga.McastGroup4 == gb.McastGroup4 && ga.McastGroup6 == gb.McastGroup6 && ga.MinGarp == gb.MinGarp
}

// sameBlocks reports whether a and b hold the same blocks by name, compared
// after strip (which removes file positions).
func sameBlocks[T any](a, b map[string]*T, strip func(T) T) bool {
	if len(a) != len(b) {
		return false
	}
	for name, x := range a {
		y := b[name]
		if y == nil || !reflect.DeepEqual(strip(*x), strip(*y)) {
			return false
		}
	}
	return true
}

// stripInstance returns a copy of in without file positions.
func stripInstance(in *keepalived.Instance) keepalived.Instance {
	c := *in
	c.File, c.Line = "", 0
	strip := func(vs []keepalived.VIP) []keepalived.VIP {
		out := make([]keepalived.VIP, len(vs))
		for n, v := range vs {
			v.File, v.Line = "", 0
			out[n] = v
		}
		return out
	}
	c.VIPs, c.ExcludedVIPs = strip(in.VIPs), strip(in.ExcludedVIPs)
	if in.NotifyLines != nil {
		c.NotifyLines = map[string]keepalived.ScriptLine{}
		for kw, l := range in.NotifyLines {
			l.File, l.Line = "", 0
			c.NotifyLines[kw] = l
		}
	}
	return c
}

// Run runs the instance until ctx is cancelled.
func (i *Instance) Run(ctx context.Context) error {
	env, err := openNetEnv(i.cfg, i.glob, i.log, i.fw, i.opts.OnSent)
	if err != nil {
		return err
	}
	defer env.close()
	return i.run(ctx, env)
}

// env is what the driver needs from the system; tests replace it.
type env interface {
	// source is the address adverts are sent from.
	source() netip.Addr
	// sendAdvert sends an encoded-on-demand advertisement to every
	// destination (the group, or each unicast peer).
	sendAdvert(a *vrrp.Advertisement) error
	// validate checks a received packet and decodes it into a.
	validate(p packet, a *vrrp.Advertisement) error
	// packets delivers received packets until close.
	packets() <-chan packet
	// links delivers link changes (the instance's and tracked interfaces).
	links() <-chan linkState
	// linkState returns the current state of an interface.
	linkUp(name string) (bool, error)
	// addVIPs adds, delVIPs removes the instance's addresses.
	addVIPs() error
	delVIPs() error
	// announce sends one gratuitous ARP / unsolicited NA per address.
	announce() error
	// addrs delivers the addresses added to or removed from the system
	// that may be virtual addresses of the instance.
	addrs() <-chan addrEvent
	// presentVIPs returns the instance's virtual addresses configured now,
	// as found.
	presentVIPs() ([]addrEvent, error)
	// delAddr removes an address as found; false if it was not there.
	delAddr(a addrEvent) (bool, error)
	close()
}

// packet is a received VRRP message with what the IP layer said of it.
type packet struct {
	src, dst netip.Addr
	ttl      int // -1: unknown
	ifindex  int
	data     []byte
	at       time.Time // when it was read (zero: unknown)
}

// linkState is an interface's new state.
type linkState struct {
	name string
	up   bool
}

package participant

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

const (
	ifTrackPrefix     = "interface:"
	scriptTrackPrefix = "script:"
)

func (i *Instance) electionConfig(src netip.Addr) election.Config {
	in := i.cfg
	c := election.Config{
		Version: in.Version, Priority: in.Priority, AdvertInt: in.AdvertInt,
		Nopreempt: in.Nopreempt, PreemptDelay: in.PreemptDelay, PrimaryIP: src,
		Sync:             i.syncName != "",
		DontTrackPrimary: in.DontTrackPrimary,
	}
	for _, t := range in.TrackInterfaces {
		c.Trackers = append(c.Trackers, weightedTracker(ifTrackPrefix, t))
	}
	for _, t := range in.TrackScripts {
		c.Trackers = append(c.Trackers, weightedTracker(scriptTrackPrefix, t))
	}
	for _, t := range in.TrackProcesses {
		if i.procs[t.Name] != nil {
			c.Trackers = append(c.Trackers, processTracker(t))
		}
	}
	for _, t := range in.TrackFiles {
		if i.files[t.Name] != nil {
			c.Trackers = append(c.Trackers, fileTracker(t))
		}
	}
	return c
}

// driver is the state of one running instance's loop.
type driver struct {
	i        *Instance
	env      env
	m        *election.Machine
	deadline map[election.Timer]time.Time
	acts     []election.Action // step's list, reused
	garpAt   time.Time         // second GARP burst
	refresh  time.Time         // periodic GARP refresh
	adv      vrrp.Advertisement
	rx       vrrp.Advertisement
	prio     uint8
	stMaster netip.Addr          // the master last written to the status's Master by exec
	tracks   chan election.Event // TrackChanged, TrackDelta
	reported bool                // OnChange was called since stepReporting cleared it
	// lastSync is what was last reported to the sync group (if synced).
	lastSync election.Member
	synced   bool
}

// run drives the instance on e until ctx is cancelled: set up, take the
// initial link and tracker states, start, loop, shut down.
func (i *Instance) run(ctx context.Context, e env) error {
	d, err := newDriver(i, e)
	if err != nil {
		return err
	}
	if err := d.initialLinks(); err != nil {
		return err
	}
	stopScripts := d.startScripts()
	defer stopScripts()
	stopTracking, err := d.startTracking()
	if err != nil {
		return err
	}
	defer stopTracking()
	d.startup()
	return d.loop(ctx)
}

// newDriver builds the state machine and the advertisement template.
func newDriver(i *Instance, e env) (*driver, error) {
	src := e.source()
	m, err := election.New(i.electionConfig(src))
	if err != nil {
		return nil, err
	}
	d := &driver{i: i, env: e, m: m, deadline: map[election.Timer]time.Time{}, prio: m.Priority(),
		tracks: make(chan election.Event, 16)}
	d.adv = vrrp.Advertisement{
		Version: uint8(i.cfg.Version), Type: vrrp.TypeAdvertisement, VRID: i.cfg.VRID,
		Interval: i.cfg.AdvertInt, Family: i.cfg.Family(),
	}
	if i.cfg.Version == 2 && i.cfg.Auth.Type == "PASS" {
		d.adv.AuthType = vrrp.AuthSimple
		d.adv.AuthData = i.cfg.Auth.AuthData()
	}
	for _, v := range i.cfg.VIPs {
		d.adv.Addresses = append(d.adv.Addresses, v.Prefix.Addr())
	}
	i.update(func(s *Status) { s.Source = src.String(); s.Since = time.Now() })
	return d, nil
}

// initialLinks feeds the machine the states of the instance's interface and
// tracked interfaces, before Startup.
func (d *driver) initialLinks() error {
	i := d.i
	up, err := d.env.linkUp(i.cfg.Interface)
	if err != nil {
		return err
	}
	d.exec(d.m.Step(time.Now(), election.InterfaceChanged{Up: up}))
	for _, t := range i.cfg.TrackInterfaces {
		up, err := d.env.linkUp(t.Name)
		if err != nil {
			i.log.Warn("tracked interface", "interface", t.Name, "err", err)
		}
		d.exec(d.m.Step(time.Now(), election.TrackChanged{Name: ifTrackPrefix + t.Name, OK: up && err == nil}))
	}
	return nil
}

// startScripts runs each tracked vrrp_script once (its initial state, before
// Startup) and then in a goroutine of its own that reports changes to the
// loop; the returned function stops them and waits for them.
func (d *driver) startScripts() (stop func()) {
	i := d.i
	sctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, t := range i.cfg.TrackScripts {
		cfg := i.scripts[t.Name]
		if cfg == nil {
			continue
		}
		s := tracked{cfg: cfg, cmd: i.trackCmds[t.Name]}
		ok := checkScript(sctx, s) == nil && !cfg.InitFail
		d.exec(d.m.Step(time.Now(), election.TrackChanged{Name: scriptTrackPrefix + t.Name, OK: ok}))
		wg.Add(1)
		go func() {
			defer wg.Done()
			runTracker(sctx, s, ok, func(ok bool) {
				select {
				case d.tracks <- election.TrackChanged{Name: scriptTrackPrefix + cfg.Name, OK: ok}:
				case <-sctx.Done():
				}
			})
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// startup logs the start and steps the machine into its first state (a
// demotion asked before is applied first).
func (d *driver) startup() {
	i := d.i
	i.log.Info("starting", "interface", i.cfg.Interface, "vrid", i.cfg.VRID, "version", i.cfg.Version,
		"priority", i.cfg.Priority, "source", d.env.source(), "advert_int", i.cfg.AdvertInt)
	d.control(time.Now())
	d.exec(d.m.Step(time.Now(), election.Startup{}))
}

// loop delivers events to the machine until ctx is cancelled or the receive
// socket closes, then shuts the machine down.
func (d *driver) loop(ctx context.Context) error {
	w := d.newWaiter(ctx)
	defer w.close()
	for {
		ev := w.wait(d.next())
		switch ev.kind {
		case evDone:
			d.shutdown()
			return nil
		case evClosed:
			d.shutdown()
			return errors.New("receive socket closed")
		case evPacket:
			d.received(ev.p)
		case evLink:
			d.linkChanged(ev.link)
		case evTrack:
			d.exec(d.m.Step(time.Now(), ev.track))
		case evTimer:
			d.fire(time.Now())
		case evControl:
			d.control(time.Now())
		case evAddr:
			d.addrAdded(ev.addr)
		}
	}
}

// eventKind is what woke the driver's loop.
type eventKind uint8

const (
	evTimer   eventKind = iota // a deadline may have passed (spurious wake-ups are harmless)
	evDone                     // the context is done
	evClosed                   // the receive socket closed
	evPacket                   // a packet arrived
	evLink                     // a link changed
	evTrack                    // a tracked script changed
	evControl                  // Demote, Resume, Reannounce or the sync group asked something
	evAddr                     // an address was added (VIP guard)
)

// event is one wake-up of the driver's loop.
type event struct {
	kind  eventKind
	p     packet
	link  linkState
	track election.Event // TrackChanged, TrackDelta
	addr  addrEvent
}

// sources are the channels of the driver's rare events.
type sources struct {
	done   <-chan struct{}
	links  <-chan linkState
	tracks <-chan election.Event
	wake   <-chan struct{}
	addrs  <-chan addrEvent
}

// waiter blocks the driver's loop until its next deadline passes or an
// event arrives.
type waiter interface {
	// wait returns the next event: evTimer once deadline (zero: none) has
	// passed, or earlier for anything else.
	wait(deadline time.Time) event
	close()
}

// newWaiter returns the environment's waiter if it has one (Linux: one
// epoll set of the receive socket and a timerfd, waited on by the loop's
// own goroutine, so an advertisement sent or received costs one wake-up
// of one goroutine), else a chanWaiter.
func (d *driver) newWaiter(ctx context.Context) waiter {
	src := sources{done: ctx.Done(), links: d.env.links(), tracks: d.tracks, wake: d.i.wake, addrs: d.env.addrs()}
	if pe, ok := d.env.(interface{ newWaiter(sources) (waiter, error) }); ok {
		w, err := pe.newWaiter(src)
		if err == nil {
			return w
		}
		d.i.log.Warn("epoll waiter unavailable; using channels and Go's timers (up to 1 ms late)", "err", err)
	}
	return &chanWaiter{src: src, pkts: d.env.packets(), timer: time.NewTimer(time.Hour)}
}

// chanWaiter waits on the environment's packet channel, the rare events'
// channels and a time.Timer. When the process is otherwise idle the Go
// runtime waits for timers with epoll_wait, whose timeout has millisecond
// granularity, so its deadlines pass up to about 1 ms late.
type chanWaiter struct {
	src   sources
	pkts  <-chan packet
	timer *time.Timer
}

func (w *chanWaiter) wait(deadline time.Time) event {
	if deadline.IsZero() {
		w.timer.Reset(time.Hour)
	} else {
		w.timer.Reset(time.Until(deadline))
	}
	return w.src.block(w.pkts, w.timer.C, nil)
}

// block waits for one of the rare events, a packet on pkts, a tick on
// timer or stop being closed (any of the three may be nil; stop returns
// evDone).
func (src sources) block(pkts <-chan packet, timer <-chan time.Time, stop <-chan struct{}) event {
	select {
	case <-src.done:
		return event{kind: evDone}
	case <-stop:
		return event{kind: evDone}
	case p, ok := <-pkts:
		if !ok {
			return event{kind: evClosed}
		}
		return event{kind: evPacket, p: p}
	case l := <-src.links:
		return event{kind: evLink, link: l}
	case t := <-src.tracks:
		return event{kind: evTrack, track: t}
	case <-timer:
		return event{kind: evTimer}
	case <-src.wake:
		return event{kind: evControl}
	case a := <-src.addrs:
		return event{kind: evAddr, addr: a}
	}
}

func (w *chanWaiter) close() { w.timer.Stop() }

// shutdown stops the machine: a master resigns and removes its addresses.
func (d *driver) shutdown() {
	d.exec(d.m.Step(time.Now(), election.Shutdown{}))
}

// received validates a packet and delivers the advertisement.
func (d *driver) received(p packet) {
	i := d.i
	a := &d.rx
	if err := d.env.validate(p, a); err != nil {
		if !errors.Is(err, errNotOurs) {
			i.modify(func(s *Status) { s.Dropped++ })
			i.log.Debug("dropped advertisement", "src", p.src, "err", err)
		}
		return
	}
	i.modify(func(s *Status) { s.Received++ })
	// The Master_Down_Timer restarts from the advert's arrival, not from
	// when this loop got to it.
	now := time.Now()
	if !p.at.IsZero() && p.at.Before(now) {
		now = p.at
	}
	// keepalived reports a lower priority heard as master (a router that
	// took over during a break in communication): the notify FIFOs get
	// MASTER_RX_LOWER_PRI and notify_master_rx_lower_pri runs.
	lower := false
	if own := d.m.Priority(); d.m.State() == election.Master && a.Priority != 0 {
		lower = a.Priority < own || a.Priority == own && p.src.Compare(d.m.Config().PrimaryIP) < 0
	}
	d.step(now, election.AdvertReceived{Src: p.src, Priority: a.Priority, Interval: a.Interval})
	if lower {
		i.masterRxLowerPri(d.m.Priority())
	}
}

// linkChanged delivers a change of the instance's or a tracked interface.
func (d *driver) linkChanged(l linkState) {
	if l.name == d.i.cfg.Interface {
		d.exec(d.m.Step(time.Now(), election.InterfaceChanged{Up: l.up}))
	} else {
		d.exec(d.m.Step(time.Now(), election.TrackChanged{Name: ifTrackPrefix + l.name, OK: l.up}))
	}
}

// next returns the earliest pending deadline.
func (d *driver) next() time.Time {
	var n time.Time
	for _, t := range []time.Time{d.deadline[election.MasterDownTimer], d.deadline[election.AdverTimer], d.garpAt, d.refresh} {
		if !t.IsZero() && (n.IsZero() || t.Before(n)) {
			n = t
		}
	}
	return n
}

// fire delivers every deadline that has passed.
func (d *driver) fire(now time.Time) {
	for _, t := range []election.Timer{election.MasterDownTimer, election.AdverTimer} {
		if at := d.deadline[t]; !at.IsZero() && !now.Before(at) {
			delete(d.deadline, t)
			d.step(now, election.TimerFired{Timer: t})
		}
	}
	if !d.garpAt.IsZero() && !now.Before(d.garpAt) {
		d.garpAt = time.Time{}
		d.announce(d.i.cfg.GarpMasterRepeat)
	}
	if !d.refresh.IsZero() && !now.Before(d.refresh) {
		d.refresh = now.Add(d.i.cfg.GarpMasterRefresh)
		d.announce(d.i.cfg.GarpMasterRefreshRepeat)
	}
}

// announceBurst announces the virtual addresses as a new master does:
// garp_master_repeat messages now, a second burst after garp_master_delay
// (unless vrrp_min_garp), and every garp_master_refresh from now on.
func (d *driver) announceBurst(now time.Time) {
	i := d.i
	d.announce(i.cfg.GarpMasterRepeat)
	if i.cfg.GarpMasterDelay > 0 && !i.glob.MinGarp {
		d.garpAt = now.Add(i.cfg.GarpMasterDelay)
	}
	if i.cfg.GarpMasterRefresh > 0 {
		d.refresh = now.Add(i.cfg.GarpMasterRefresh)
	}
}

// announce sends n gratuitous ARP / unsolicited NA messages per address (at
// least one).
func (d *driver) announce(n int) {
	for range max(n, 1) {
		if err := d.env.announce(); err != nil {
			d.i.log.Warn("gratuitous ARP / NA", "err", err)
			return
		}
	}
}

// step feeds the election machine an advertisement's event (received, or
// the advert timer) and carries out its actions without allocating:
// through StepInto into a reused list, the timers' deadlines read from the
// machine afterwards (the list is taken while in use: a step within its
// actions gets a new one).
func (d *driver) step(now time.Time, ev election.Event) {
	acts := d.m.StepInto(d.acts, now, ev)
	d.acts = nil
	d.exec(acts)
	d.acts = acts[:0]
	for _, t := range [...]election.Timer{election.MasterDownTimer, election.AdverTimer} {
		if at := d.m.Deadline(t); at.IsZero() {
			delete(d.deadline, t)
		} else {
			d.deadline[t] = at
		}
	}
}

// exec carries out actions in order.
func (d *driver) exec(as []election.Action) {
	i := d.i
	for _, a := range as {
		switch a := a.(type) {
		case election.SetTimer:
			d.deadline[a.Timer] = a.At
		case election.StopTimer:
			delete(d.deadline, a.Timer)
		case election.SendAdvert:
			d.adv.Priority = a.Priority
			if err := d.env.sendAdvert(&d.adv); err != nil {
				i.log.Warn("send advertisement", "err", err)
			} else {
				i.modify(func(s *Status) { s.Sent++ })
			}
		case election.Transition:
			d.transition(a)
		}
	}
	master, mprio := d.m.Master()
	mai := d.m.MasterAdverInt()
	i.modify(func(s *Status) {
		// Formatting the address allocates: only when it changed.
		if master != d.stMaster || !master.IsValid() != (s.Master == "") {
			s.Master = ""
			if master.IsValid() {
				s.Master = master.String()
			}
			d.stMaster = master
		}
		s.MasterPriority = 0
		if master.IsValid() {
			s.MasterPriority = mprio
		}
		s.MasterAdverInt = mai
	})
	d.reportSync()
	if p := d.m.Priority(); p != d.prio {
		d.prio = p
		st := i.update(func(s *Status) { s.Priority = p })
		i.log.Info("priority changed", "priority", p, "base", i.cfg.Priority)
		if i.cfg.NotifyPriorityChanges {
			i.fifo.priority(i.cfg.Name, d.m.State(), p)
		}
		if i.opts.OnChange != nil {
			i.opts.OnChange(st, nil)
			d.reported = true
		}
	}
}

func (d *driver) transition(a election.Transition) {
	i := d.i
	now := time.Now()
	switch {
	case a.To == election.Master:
		if err := d.env.addVIPs(); err != nil {
			i.log.Error("add virtual addresses", "err", err)
		}
		d.announceBurst(now)
	case a.From == election.Master || a.From == election.Initialize:
		// Leaving master, or starting up not as master: a crash may have
		// left the addresses behind (the guard, if on, reports them).
		d.garpAt, d.refresh = time.Time{}, time.Time{}
		if a.From == election.Initialize {
			d.guardScan(a.To)
		}
		if err := d.env.delVIPs(); err != nil {
			i.log.Error("remove virtual addresses", "err", err)
		}
	}
	if a.From != election.Initialize {
		d.guardScan(a.To) // entering BACKUP or FAULT
	}
	master, mprio := d.m.Master()
	st := i.update(func(s *Status) {
		s.State = a.To.String()
		s.Priority = a.Priority
		s.Since = now
		s.Reason = a.Reason
		s.Transitions++
		s.MasterAdverInt = d.m.MasterAdverInt()
		s.Master, s.MasterPriority = "", 0
		if master.IsValid() {
			s.Master, s.MasterPriority = master.String(), mprio
		}
	})
	args := []any{"from", a.From.String(), "priority", a.Priority, "reason", a.Reason}
	if demoted, _ := d.m.Demoted(); demoted {
		args = append(args, "demoted", true)
	}
	i.log.Info("entering "+a.To.String()+" state", args...)
	i.notify(a.To, a.Priority)
	if i.opts.OnChange != nil {
		i.opts.OnChange(st, &a)
		d.reported = true
	}
}

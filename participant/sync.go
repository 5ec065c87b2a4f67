package participant

import (
	"log/slog"
	"strconv"
	"sync"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
)

// syncGroup is a running vrrp_sync_group: the pure decision
// (election.SyncGroup) behind a lock, fed by its members' drivers, whose
// orders it hands to the members' loops.
type syncGroup struct {
	cfg *keepalived.SyncGroup
	log *slog.Logger
	// notifyCmds are the group's notify scripts by keyword; fifo the
	// router's notify FIFOs.
	notifyCmds map[string]*command
	fifo       *fifoSet

	mu      sync.Mutex // serialises step; taken before a member's mu
	g       *election.SyncGroup
	members map[string]*Instance
}

// linkSyncGroups builds the sync groups of k over the instances is (by
// name) and tells every instance its group (nil: none). Members named in a
// group but not configured are left out (the parser has warned); a group
// with no configured member is dropped. An instance in two groups stays in
// the first, with a warning (keepalived ignores it in the second).
func linkSyncGroups(k *keepalived.Config, is []*Instance, log *slog.Logger, se *scriptEnv) {
	byName := map[string]*Instance{}
	for _, i := range is {
		byName[i.cfg.Name] = i
	}
	groupOf := map[*Instance]*syncGroup{}
	for _, sg := range k.SyncGroups {
		g := &syncGroup{cfg: sg, log: log.With("sync_group", sg.Name), members: map[string]*Instance{}, fifo: se.fifo}
		var names []string
		for _, n := range sg.Instances {
			i := byName[n]
			if i == nil || g.members[n] != nil {
				continue
			}
			if other := groupOf[i]; other != nil {
				log.Warn("instance in two sync groups; keeping the first", "instance", n,
					"first", other.cfg.Name, "second", sg.Name, "at", sg.File+":"+strconv.Itoa(sg.Line))
				continue
			}
			g.members[n] = i
			groupOf[i] = g
			names = append(names, n)
		}
		if len(names) == 0 {
			log.Warn("sync group without a configured member; ignored", "sync_group", sg.Name, "at", sg.File+":"+strconv.Itoa(sg.Line))
			continue
		}
		if len(names) == 1 {
			log.Warn("sync group of one instance; probably not what is wanted", "sync_group", sg.Name,
				"at", sg.File+":"+strconv.Itoa(sg.Line))
		}
		eg, err := election.NewSyncGroup(sg.Name, names)
		if err != nil { // cannot happen: names are distinct and non-empty
			log.Error("sync group", "err", err)
			continue
		}
		g.g = eg
		g.notifyCmds = notifyCommands(se, "vrrp_sync_group "+sg.Name, sg.NotifyLines,
			sg.NotifyMaster, sg.NotifyBackup, sg.NotifyFault, sg.NotifyStop, sg.Notify)
		for kw := range sg.Other {
			if kw == trackingWeight || kw == "global_tracking" {
				continue
			}
			log.Warn("sync group keyword not supported; ignored", "sync_group", sg.Name, "keyword", kw,
				"at", sg.File+":"+strconv.Itoa(sg.Line))
		}
	}
	for _, i := range is {
		i.setSyncGroup(groupOf[i])
	}
}

// syncGroupOf returns the group k puts the instance called name in (nil if
// none): the first group listing it.
func syncGroupOf(k *keepalived.Config, name string) *keepalived.SyncGroup {
	for _, sg := range k.SyncGroups {
		for _, n := range sg.Instances {
			if n == name {
				return sg
			}
		}
	}
	return nil
}

// trackingWeight is the vrrp_sync_group keyword that lets members keep
// their weighted tracking.
const trackingWeight = "sync_group_tracking_weight"

// syncTracking returns a copy of the member in with keepalived 2.2.7's
// tracking of a sync group member: unless the group says
// sync_group_tracking_weight (or global_tracking, its deprecated name), a
// tracked interface with a weight is tracked with weight 0 (a fault when
// down) and a tracked script with a weight is not tracked at all
// (keepalived: "ignoring tracked script ... with weights due to SYNC
// group"), a tracked file with the default weight 1 is tracked with
// weight 0 and one with another weight not at all (weighted tracked
// processes are kept: keepalived 2.2.7 does not check them); then the
// group's track_interface, track_script, track_process and track_file are
// added to the member, with their weights (cleared if a member is the
// address owner). A group tracker the member already tracks is not added
// twice.
func syncTracking(sg *keepalived.SyncGroup, in *keepalived.Instance, k *keepalived.Config, log *slog.Logger) *keepalived.Instance {
	c := *in
	c.TrackInterfaces = append([]keepalived.Track(nil), in.TrackInterfaces...)
	c.TrackScripts = nil
	c.TrackProcesses = append([]keepalived.Track(nil), in.TrackProcesses...)
	c.TrackFiles = append([]keepalived.Track(nil), in.TrackFiles...)
	at := sg.File + ":" + strconv.Itoa(sg.Line)
	_, weighted := sg.Other[trackingWeight]
	if _, old := sg.Other["global_tracking"]; old {
		weighted = true // keepalived: deprecated, the same
	}
	if !weighted {
		for n, t := range c.TrackInterfaces {
			if t.Weight != 0 {
				log.Warn("tracked interface weight ignored in a sync group (keepalived: weight 0); set "+trackingWeight+" to keep it",
					"interface", t.Name, "weight", t.Weight, "sync_group", sg.Name, "at", in.Pos())
				c.TrackInterfaces[n].Weight = 0
			}
		}
		for _, t := range in.TrackScripts {
			if t.Weight != 0 {
				log.Warn("weighted track_script ignored in a sync group (as keepalived does); set "+trackingWeight+" to keep it",
					"script", t.Name, "weight", t.Weight, "sync_group", sg.Name, "at", in.Pos())
				continue
			}
			c.TrackScripts = append(c.TrackScripts, t)
		}
		c.TrackFiles = unweightFiles(c.TrackFiles, "sync group "+sg.Name+" without "+trackingWeight, in, log)
	} else {
		c.TrackScripts = append(c.TrackScripts, in.TrackScripts...)
	}
	owner := false
	for _, n := range sg.Instances {
		if m := k.Instance(n); m != nil && m.Priority == 255 {
			owner = true
		}
	}
	add := func(list []keepalived.Track, t keepalived.Track, kind string) []keepalived.Track {
		for _, have := range list {
			if have.Name == t.Name {
				log.Warn("sync group "+kind+" also tracked by the instance; the instance's is used",
					"name", t.Name, "sync_group", sg.Name, "at", at)
				return list
			}
		}
		if owner && t.Weight != 0 {
			log.Warn("sync group "+kind+" weight cleared: a member is the address owner (priority 255)",
				"name", t.Name, "sync_group", sg.Name, "at", at)
			t.Weight = 0
		}
		return append(list, t)
	}
	for _, t := range sg.TrackInterfaces {
		c.TrackInterfaces = add(c.TrackInterfaces, t, "track_interface")
	}
	for _, t := range sg.TrackScripts {
		c.TrackScripts = add(c.TrackScripts, t, "track_script")
	}
	for _, t := range sg.TrackProcesses {
		c.TrackProcesses = add(c.TrackProcesses, t, "track_process")
	}
	for _, t := range sg.TrackFiles {
		c.TrackFiles = add(c.TrackFiles, t, "track_file")
	}
	if c.Priority == 255 {
		c.TrackFiles = unweightFiles(c.TrackFiles, "address owner", in, log)
	}
	return &c
}

// setSyncGroup links the instance to g and has its loop report its state
// to it anew.
func (i *Instance) setSyncGroup(g *syncGroup) {
	i.mu.Lock()
	i.grp = g
	i.ctl.resync = g != nil
	i.mu.Unlock()
	if g != nil {
		i.poke()
	}
}

func (i *Instance) syncGroup() *syncGroup {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.grp
}

// step feeds one member's change to the group, hands the orders to the
// members' loops and runs the group's notify scripts on a change of its
// state.
func (g *syncGroup) step(c election.MemberChanged) {
	g.mu.Lock()
	defer g.mu.Unlock()
	tr, orders := g.g.Step(c)
	if tr != nil {
		g.log.Info("sync group entering "+tr.To.String()+" state", "from", tr.From.String(), "reason", tr.Reason)
		g.notify(tr.To)
	}
	for _, o := range orders {
		if i := g.members[o.Member]; i != nil {
			i.orderSync(g, o.Sync)
		}
	}
}

// notify runs the group's notify scripts for entering state, with
// keepalived's arguments: notify_master/backup/fault/stop as written, and
// notify with "GROUP" NAME STATE 0 appended.
func (g *syncGroup) notify(state election.State) {
	if c := g.notifyCmds[notifyKeyword(state)]; c != nil {
		runScript(g.log, c)
	}
	if c := g.notifyCmds["notify"]; c != nil {
		runScript(g.log, c, "GROUP", g.cfg.Name, stateWord(state), "0")
	}
	g.fifo.group(g.cfg.Name, state)
}

// orderSync records the verdict of g for the loop and wakes it (the latest
// verdict replaces one not yet applied); a verdict of a group the instance
// is no longer in (replaced by Reload) is dropped.
func (i *Instance) orderSync(g *syncGroup, s election.Sync) {
	i.mu.Lock()
	if i.grp != g {
		i.mu.Unlock()
		return
	}
	i.ctl.sync = &s
	i.mu.Unlock()
	i.poke()
}

// reportSync tells the instance's sync group of a change of its state,
// own fault or wish to be master.
func (d *driver) reportSync() {
	g := d.i.syncGroup()
	if g == nil {
		return
	}
	m := election.Member{State: d.m.State(), Fault: d.m.Faulty(), WantMaster: d.m.WantsMaster()}
	if d.synced && m == d.lastSync {
		return
	}
	d.synced, d.lastSync = true, m
	g.step(election.MemberChanged{Name: d.i.cfg.Name, Member: m})
}

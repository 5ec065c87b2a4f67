package rules

import (
	"hash/maphash"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unique"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// tickEvery is how often (in packet time) Observe runs the timers.
const tickEvery = 100 * time.Millisecond

// recheckEvery bounds how often unchanged routers are compared again.
const recheckEvery = time.Second

// refillEvery bounds how often an active finding's details are rebuilt.
const refillEvery = 5 * time.Second

// maxVRIDsPerVIP caps the VRIDs remembered per virtual address.
const maxVRIDsPerVIP = 16

// maxListed caps the sources, MACs and VIPs listed in one finding.
const maxListed = 16

// maxFindings caps concurrently active findings.
const maxFindings = 4096

type segKey struct {
	iface string
	fam   vrrp.Family
	vrid  uint8
}

type router struct {
	ip       netip.Addr
	mac      obs.MAC
	first    time.Time // first advert seen
	last     time.Time // last advert with priority > 0
	prev     time.Time // the one before
	runStart time.Time // first advert of the current uninterrupted run
	lastAny  time.Time // last advert of any priority
	adverts  uint64    // adverts seen (any priority)
	prio     uint8
	resigned bool // last advert had priority 0
	version  uint8
	interval time.Duration
	authType vrrp.AuthType
	authData [vrrp.AuthDataLen]byte
	vips     []netip.Addr // sorted
	// vis caches the table entry of each of vips (nil: not looked up
	// yet; an entry evicted from the table is marked gone).
	vis     []*vipInfo
	vipsKey string
	// Comparison keys, computed when the advert changes.
	authKey, versionKey, intervalKey string
	// keyHash holds hashes of authKey, versionKey, intervalKey and vipsKey
	// (checkConfig's order): different hashes, different keys.
	keyHash   [4]uint64
	csumForm  vrrp.ChecksumForm
	nextCheck int64    // when to compare again (last comparison + recheckEvery), see nanos
	idx       int      // position in its segment's list
	seg       *segment // its segment
	hash      uint32   // hash of ip in its segment's index
	// newer and older link the routers of a segment by lastAny (see
	// segment.newest).
	newer, older *router
	// counted: what of r the segment's configuration summary counts (bit i:
	// configKey(i) in cfg[i]; ownerBit: priority 255), see segment.count.
	counted uint8
}

type segment struct {
	key     segKey
	routers routerIndex
	// list holds the routers of the map, for iteration (cheaper than
	// ranging over the map on every advert).
	list       []*router
	lastRouter *router // the router of the last advert (nil after an eviction)
	master     *router
	everMaster bool
	changes    []time.Time // master changes (not the first election)
	lastAdvert time.Time   // last advert with priority > 0, any router
	interval   time.Duration
	lastSeen   time.Time
	noMaster   bool      // no_master currently raised by the timer
	nextCheck  int64     // when to compare again (last comparison + recheckEvery), see nanos
	changedAt  time.Time // last master change
	// agreement caches whether the routers agree (see agree): 0 not
	// known, 1 they do, -1 they do not. A router joining, leaving or
	// changing its keys makes it unknown.
	agreement int8
	// live holds the two routers with the latest instants (nanos) until
	// which they are alive, as far as adverts with priority > 0 showed:
	// upper bounds (never lowered), so that a router that is not listed
	// is alive until liveUntil[1] at the latest. checkDuplicate skips
	// the walk when no other router can be alive.
	live      [2]*router
	liveUntil [2]int64
	// newest and oldest end the list of the routers by lastAny, most
	// recent first (each advert moves its router to the front): the oldest
	// is evicted in O(1), and a walk from the newest finds the most recent
	// router that differs.
	newest, oldest *router
	// cfg summarises the configuration of the routers that take part in
	// checkConfig's comparison i (not resigned; authentication: v2 only),
	// whatever their age: a router disagrees with nobody when all of them
	// share its key.
	cfg [4]cfgCount
	// owners counts the routers whose last advert had priority 255.
	owners int
}

// noteLive records that r, which advertised with priority > 0, is alive
// until u (nanos).
func (s *segment) noteLive(r *router, u int64) {
	switch r {
	case s.live[0]:
		s.liveUntil[0] = max(s.liveUntil[0], u)
		return
	case s.live[1]:
		s.liveUntil[1] = max(s.liveUntil[1], u)
	default:
		if u <= s.liveUntil[1] {
			return // within the bound of the routers not listed
		}
		s.live[1], s.liveUntil[1] = r, u
	}
	if s.liveUntil[1] > s.liveUntil[0] {
		s.live[0], s.live[1] = s.live[1], s.live[0]
		s.liveUntil[0], s.liveUntil[1] = s.liveUntil[1], s.liveUntil[0]
	}
}

// othersAliveUntil is the latest instant (nanos) until which a router of
// s other than r may be alive.
func (s *segment) othersAliveUntil(r *router) int64 {
	if s.live[0] == r {
		return s.liveUntil[1]
	}
	return s.liveUntil[0]
}

// cfgCount counts the routers of a comparison, and how many of them share
// one key (that of the first counted once no router has the previous one).
type cfgCount struct {
	n    int
	key  string
	same int
}

// ownerBit marks in router.counted a router counted in segment.owners.
const ownerBit = 1 << 4

// count adds r, as it is now, to the configuration summary.
func (s *segment) count(r *router) {
	if r.resigned {
		return
	}
	for i := range s.cfg {
		if i == 0 && r.version != 2 {
			continue // authentication: v2 only
		}
		c, k := &s.cfg[i], r.configKey(i)
		if c.same == 0 {
			c.key = k
		}
		if k == c.key {
			c.same++
		}
		c.n++
		r.counted |= 1 << i
	}
	if r.prio == 255 {
		s.owners++
		r.counted |= ownerBit
	}
}

// uncount takes r out of the configuration summary; its keys must be the
// ones it was counted with.
func (s *segment) uncount(r *router) {
	counted := r.counted
	r.counted = 0
	for i := range s.cfg {
		if counted&(1<<i) == 0 {
			continue
		}
		c := &s.cfg[i]
		c.n--
		if r.configKey(i) != c.key {
			continue
		}
		if c.same--; c.same > 0 || c.n == 0 {
			continue
		}
		// No router has the key any more: count those of the most recent
		// router counted (once per departure of all the routers of a key).
		c.key = ""
		for o := s.newest; o != nil; o = o.older {
			if o.counted&(1<<i) != 0 {
				c.key = o.configKey(i)
				break
			}
		}
		for _, o := range s.list {
			if o.counted&(1<<i) != 0 && o.configKey(i) == c.key {
				c.same++
			}
		}
	}
	if counted&ownerBit != 0 {
		s.owners--
	}
}

// agree reports whether every router counted in comparison i has key k.
func (s *segment) agree(i int, k string) bool {
	c := &s.cfg[i]
	return c.same == c.n && c.key == k
}

// touch moves r to the front of the segment's list by lastAny.
func (s *segment) touch(r *router) {
	if s.newest == r {
		return
	}
	s.unlink(r)
	r.older = s.newest
	if s.newest != nil {
		s.newest.newer = r
	}
	s.newest = r
	if s.oldest == nil {
		s.oldest = r
	}
}

// unlink takes r out of the segment's list by lastAny (if it is in).
func (s *segment) unlink(r *router) {
	if r.newer != nil {
		r.newer.older = r.older
	} else if s.newest == r {
		s.newest = r.older
	}
	if r.older != nil {
		r.older.newer = r.newer
	} else if s.oldest == r {
		s.oldest = r.newer
	}
	r.newer, r.older = nil, nil
}

// configKey is the comparison key of checkConfig's check i.
func (r *router) configKey(i int) string {
	switch i {
	case 0:
		return r.authKey
	case 1:
		return r.versionKey
	case 2:
		return r.intervalKey
	}
	return r.vipsKey
}

// routerHash is the hash of a router's address in its segment's index.
func (e *Engine) routerHash(ip netip.Addr) uint32 { return fold(e.vips.h.addr(ip)) }

// add puts r in the segment.
func (s *segment) add(r *router) {
	r.idx = len(s.list)
	s.list = append(s.list, r)
	s.agreement = 0
	s.routers.put(r)
}

// remove takes r out of the segment.
func (s *segment) remove(r *router) {
	if s.lastRouter == r {
		s.lastRouter = nil
	}
	s.unlink(r)
	s.uncount(r)
	s.routers.del(r)
	s.agreement = 0
	last := s.list[len(s.list)-1]
	s.list[r.idx] = last
	last.idx = r.idx
	s.list[len(s.list)-1] = nil
	s.list = s.list[:len(s.list)-1]
}

type vipKey struct {
	iface string
	addr  netip.Addr
}

type claim struct{ first, last time.Time }

// vridSeen: a VIP was last advertised under VRID id at t.
type vridSeen struct {
	id uint8
	t  time.Time
}

type vipInfo struct {
	vrids    []vridSeen // last advertised under each VRID (at most maxVRIDsPerVIP)
	claims   map[obs.MAC]claim
	lastSeen time.Time
	// Active probing (Params.ProbeInterval).
	probeSent time.Time // outstanding probe, zero when none
	nextProbe time.Time
	suspect   bool // a host other than the master claims it
	// Last announcement (gratuitous ARP, ARP reply, unsolicited NA): the
	// MAC that hosts' neighbour caches were last told to use.
	annMAC obs.MAC
	annAt  time.Time
	// stale: a stale_announcement may be active for the address under
	// staleVRID.
	stale     bool
	staleVRID uint8
	// gone: evicted from the table (routers' cached pointers are stale).
	gone bool
	key  vipKey
	// newer and older link the entries by lastSeen (see Engine.vipNewest).
	newer, older *vipInfo
	idx          int    // position in Engine.vipList
	hash         uint32 // hash of key in Engine.vips
}

// probeWait is how long holders have to answer a probe.
const probeWait = time.Second

// probeGrace: no probes this long after a master change, while the old
// master may still be letting go of its addresses.
const probeGrace = 5 * time.Second

type fkey struct {
	kind  Kind
	iface string
	fam   vrrp.Family
	vrid  uint8
	sub   string     // a variant ("expected", "expect")
	addr  netip.Addr // the address the finding is about, if any
}

type activeFinding struct {
	f         Finding
	resolveAt time.Time
	lastFill  time.Time
}

// Stats are the engine's counters.
type Stats struct {
	Segments, Routers, VIPs, ActiveFindings int
	Evictions                               uint64 // entries dropped because a table was full
	FindingsDropped                         uint64 // raises refused because too many were active
	Ignored                                 uint64 // observations that never feed the model (TTL, checksum, malformed)
}

// Engine is the detection engine. Create it with New.
type Engine struct {
	p        Params
	expected []Expected
	segs     map[segKey]*segment
	vips     vipTable
	nRouters int
	active   map[fkey]*activeFinding
	now      time.Time
	nowNs    int64 // now, see nanos
	// epoch is the Unix second that nanos counts from: that of the first
	// observation (with a non-zero time) when epochSet.
	epoch    int64
	epochSet bool
	start    time.Time
	nextTick int64        // lastTick + tickEvery, see nanos
	expSeen  map[int]bool // expected entries seen on the wire
	stats    Stats
	out      []Output
	// noMasterAt is at or before the earliest no_master deadline of the
	// segments (zero: not known), resolveAt at or before the earliest
	// resolution of an active finding, and nStale counts the active
	// stale_announcement findings (re-evaluated on every tick): the
	// timers skip what cannot be due.
	noMasterAt int64 // see nanos
	resolveAt  int64
	nStale     int
	// exhaustive (tests only) turns off the skips of the hot path: every
	// timer walk and every comparison runs, as before they existed. A
	// test compares its outputs with the normal engine's.
	exhaustive bool
	// activeVRID counts the active findings by their key's VRID, so that
	// clearing a finding that is not active costs no map lookup.
	activeVRID [256]int32
	// activeSlots counts them by a hash of their key, for the same purpose,
	// and activeCache remembers recently found ones (see findActive).
	activeSlots *keySlots
	activeCache *[1024]cachedFinding
	seed        maphash.Seed // for router.keyHash
	// lastKeys are the last keys made for authentication, version and
	// interval (new routers of a flood mostly share them).
	lastKeys keyMemo
	// segList holds the segments of segs, for the timers, and vipList
	// the entries of vips, in the order they were made: iterating them
	// is cheaper than the maps and the same on every run.
	segList []*segment
	vipList []*vipInfo
	// vipSeen holds the lastSeen of each entry of vipList (for evictVIPs'
	// selection, which then reads one array instead of every entry).
	vipSeen []time.Time
	// vipGone counts the nil slots left in vipList by evicted entries
	// (dropped from it in one pass when they are many).
	vipGone int
	// vipNewest and vipOldest end the list of the entries of vips by
	// lastSeen, most recent first: evictions take the oldest in O(1).
	vipNewest, vipOldest *vipInfo
	// freeVIPs and freeRouters hold evicted entries that nothing refers to
	// any more (routers' cached entries are checked by key), reused for new
	// ones: a flood makes a new router and new addresses on every packet.
	freeVIPs    []*vipInfo
	freeRouters []*router
	// evictRouters' scratch.
	segHeap                     segHeap
	routerScratch, routerPicked []*router
	// evictVIPs' scratch.
	vipScratch, vipPicked []*vipInfo
	agedScratch           []aged
	// segIdx finds the segment of an interface, family and VRID without
	// hashing the interface name; lastIface/lastTab remember the last
	// interface looked up.
	segIdx    map[string]*segTable
	lastIface string
	lastTab   *segTable
}

// segTable holds an interface's segments by family and VRID, in blocks of
// 16 VRIDs made when needed (a few hundred bytes for an interface with a
// few segments, so the tables stay small under the segment cap), and how
// many it holds: a table is dropped with its last segment.
type segTable struct {
	fam [3][16]*[16]*segment
	n   int
}

func (t *segTable) get(fam vrrp.Family, vrid uint8) *segment {
	if b := t.fam[fam][vrid>>4]; b != nil {
		return b[vrid&15]
	}
	return nil
}

func (t *segTable) put(fam vrrp.Family, vrid uint8, s *segment) {
	b := t.fam[fam][vrid>>4]
	if b == nil {
		b = &[16]*segment{}
		t.fam[fam][vrid>>4] = b
	}
	if (b[vrid&15] == nil) != (s == nil) {
		if s == nil {
			t.n--
		} else {
			t.n++
		}
	}
	b[vrid&15] = s
}

// indexable reports whether a family fits a segTable.
func indexable(fam vrrp.Family) bool { return int(fam) < len(segTable{}.fam) }

// unindex removes s from its interface's table, dropping the table with
// its last segment.
func (e *Engine) unindex(s *segment) {
	if !indexable(s.key.fam) {
		return
	}
	t := e.table(s.key.iface, false)
	if t == nil {
		return
	}
	t.put(s.key.fam, s.key.vrid, nil)
	if t.n == 0 {
		delete(e.segIdx, s.key.iface)
		e.lastIface, e.lastTab = "", nil
	}
}

// table returns the segment table of iface, creating it if create.
func (e *Engine) table(iface string, create bool) *segTable {
	if e.lastTab != nil && iface == e.lastIface {
		return e.lastTab
	}
	t := e.segIdx[iface]
	if t == nil {
		if !create {
			return nil
		}
		t = &segTable{}
		e.segIdx[iface] = t
	}
	e.lastIface, e.lastTab = iface, t
	return t
}

// seg returns the segment of k, or nil.
func (e *Engine) seg(k segKey) *segment {
	if !indexable(k.fam) {
		return e.segs[k]
	}
	t := e.table(k.iface, false)
	if t == nil {
		return nil
	}
	return t.get(k.fam, k.vrid)
}

// New returns an engine with the given parameters (see DefaultParams) and
// optional expected configuration.
func New(p Params, expected []Expected) (*Engine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{p: p, nowNs: math.MinInt64, nextTick: math.MinInt64, noMasterAt: math.MinInt64, resolveAt: math.MinInt64, seed: maphash.MakeSeed(), segs: map[segKey]*segment{}, segIdx: map[string]*segTable{}, vips: newVIPTable(), active: map[fkey]*activeFinding{}, activeSlots: &keySlots{}, activeCache: &[1024]cachedFinding{}, expSeen: map[int]bool{}}
	for _, x := range expected {
		e.expected = append(e.expected, prepared(x))
	}
	return e, nil
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Segments, s.Routers, s.VIPs, s.ActiveFindings = len(e.segs), e.nRouters, e.vips.len(), len(e.active)
	return s
}

func (e *Engine) clock(t time.Time) time.Time {
	if !e.epochSet && !t.IsZero() {
		e.epoch, e.epochSet = clampSec(t.Unix()), true
	}
	if e.start.IsZero() {
		e.start = t
		e.nextTick = plus(e.nanos(t), tickEvery)
	}
	if t.After(e.now) {
		n := e.nanos(t)
		if n == math.MaxInt64 {
			e.reEpoch(t)
			n = e.nanos(t)
		}
		e.now, e.nowNs = t, n
	}
	return e.now
}

// reEpoch moves the epoch to t, whose nanos saturated: the clock jumped
// centuries past the engine's first observation (a capture with one odd
// timestamp). The instants kept as nanos are set so that nothing is
// skipped: every timer walk, comparison and duplicate check runs again and
// recomputes them (liveUntil stays at its top, so that segment keeps
// walking its routers).
func (e *Engine) reEpoch(t time.Time) {
	e.epoch = clampSec(t.Unix())
	e.nextTick, e.noMasterAt, e.resolveAt = math.MinInt64, math.MinInt64, math.MinInt64
	for _, seg := range e.segs {
		seg.nextCheck = math.MinInt64
		seg.liveUntil = [2]int64{math.MaxInt64, math.MaxInt64}
		for _, r := range seg.list {
			r.nextCheck = math.MinInt64
		}
	}
}

// Bounds of nanos, in seconds from the epoch, and of the seconds it
// subtracts (so that the difference cannot overflow).
const (
	maxNanosSec = math.MaxInt64/1_000_000_000 - 1
	minNanosSec = math.MinInt64/1_000_000_000 + 1
	maxSec      = 1<<62 - 1
)

func clampSec(s int64) int64 { return min(max(s, -maxSec), maxSec) }

// nanos is t as nanoseconds since the engine's epoch (its first
// observation), clamped to what an int64 holds: about 292 years either
// side, far more than any capture spans; the zero time is the minimum
// unless the capture is from the first centuries. The engine compares and
// offsets instants several times per advert, and int64 arithmetic is much
// cheaper than time.Time's.
func (e *Engine) nanos(t time.Time) int64 {
	s := clampSec(t.Unix()) - e.epoch
	switch {
	case s > maxNanosSec:
		return math.MaxInt64
	case s < minNanosSec:
		return math.MinInt64
	}
	return s*1e9 + int64(t.Nanosecond())
}

// plus is the instant d after t (both as nanos gives them), saturating.
// (At the bottom of nanos' range it can be later than nanos of the
// time.Time sum, which stays there; only instants from before the engine's
// first timed observation are there, and its clock has passed them all.)
func plus(t int64, d time.Duration) int64 {
	switch {
	case d > 0 && t > math.MaxInt64-int64(d):
		return math.MaxInt64
	case d < 0 && t < math.MinInt64-int64(d):
		return math.MinInt64
	}
	return t + int64(d)
}

// Observe feeds one observation, timestamped by its capture time, and
// returns what it caused. The returned slice is reused by the next call.
func (e *Engine) Observe(o *obs.Observation) []Output {
	e.out = e.out[:0]
	now := e.clock(o.Time)
	if e.nowNs >= e.nextTick {
		e.timers(now)
	}
	switch o.Kind {
	case obs.KindAdvert:
		e.advert(o, now)
	case obs.KindARP:
		e.claimVIP(o.Interface, o.ARP.SenderIP, o.ARP.SenderMAC, arpAnnounces(&o.ARP), now)
	case obs.KindND:
		e.claimVIP(o.Interface, o.ND.Target, o.ND.TargetMAC, !o.ND.Solicited, now)
	case obs.KindInvalid:
		e.stats.Ignored++
		e.packetFinding(MalformedPacket, fkey{kind: MalformedPacket, iface: o.Interface, fam: o.Family}, o, now,
			"undecodable VRRP packets ("+o.Reason.Code()+") from "+srcText(o)+
				": a broken or hostile sender — check the source host's VRRP software, or capture and inspect the packets")
	}
	return e.out
}

// Tick runs the timers (no_master, resolutions) at now and returns what
// they caused. Live capture calls it periodically; replay at end of input.
func (e *Engine) Tick(now time.Time) []Output {
	e.out = e.out[:0]
	e.timers(e.clock(now))
	return e.out
}

func srcText(o *obs.Observation) string {
	if o.Src.IsValid() {
		return o.Src.String() + " (" + o.SrcMAC.String() + ")"
	}
	return o.SrcMAC.String()
}

// masterDown is the longest Master_Down_Interval of RFC 5798 for an
// interval: 3 intervals plus the skew of the lowest priority (1).
func masterDown(interval time.Duration) time.Duration {
	return 3*interval + interval*255/256
}

// alive reports whether r has a current run of adverts at now.
func alive(r *router, now time.Time) bool {
	return !r.resigned && !r.last.IsZero() && !now.After(r.last.Add(masterDown(r.interval))) // cheaper than Sub
}

// fresh reports whether r advertised within about two intervals: a master
// that is not fresh is probably gone.
func fresh(r *router, now time.Time) bool {
	return !r.resigned && !r.last.IsZero() && now.Sub(r.last) <= 2*r.interval+10*time.Millisecond
}

// recent reports whether r counts for configuration comparisons.
func (e *Engine) recent(r *router, now time.Time) bool {
	return !r.resigned && !r.lastAny.IsZero() && !now.After(r.lastAny.Add(e.p.RouterTimeout))
}

func (e *Engine) advert(o *obs.Observation, now time.Time) {
	a := &o.Advert
	key := segKey{o.Interface, o.Family, a.VRID}
	if o.TTL != vrrp.TTL {
		e.stats.Ignored++
		e.packetFinding(TTLInvalid, fkey{kind: TTLInvalid, iface: o.Interface, fam: o.Family, vrid: a.VRID}, o, now,
			"VRRP packets for VRID "+strconv.Itoa(int(a.VRID))+" from "+srcText(o)+" arrive with TTL/hop limit "+strconv.Itoa(int(o.TTL))+
				" instead of 255: they were routed from another segment or forged — find the sender; routers ignore them")
		return
	}
	if !o.Checksum.OK() {
		e.stats.Ignored++
		e.packetFinding(ChecksumInvalid, fkey{kind: ChecksumInvalid, iface: o.Interface, fam: o.Family, vrid: a.VRID}, o, now,
			"VRRP packets for VRID "+strconv.Itoa(int(a.VRID))+" from "+srcText(o)+" have a bad checksum: corruption on the path or a buggy or hostile sender — check the NIC, cabling and the sender's VRRP software")
		return
	}
	seg := e.segment(key, now)
	if seg == nil {
		return
	}
	r := seg.lastRouter
	if r == nil || r.ip != o.Src {
		r = seg.routers.get(o.Src, e.routerHash(o.Src))
	}
	if r == nil {
		r = e.addRouter(seg, o.Src, now)
		if r == nil {
			return
		}
	}
	seg.lastRouter = r
	changed := r.lastAny.IsZero() || r.resigned != (a.Priority == 0) || r.version != a.Version || r.interval != a.Interval ||
		r.authType != a.AuthType || r.authData != a.AuthData || (r.prio == 255) != (a.Priority == 255) || !sameAddrs(r.vips, a.Addresses)
	if changed {
		seg.uncount(r) // with its old keys; counted again below
	}
	r.mac = o.SrcMAC
	r.lastAny = now
	seg.touch(r)
	r.adverts++
	r.version, r.interval, r.authType, r.authData, r.csumForm = a.Version, a.Interval, a.AuthType, a.AuthData, o.Checksum
	if r.interval <= 0 {
		r.interval = time.Second
	}
	if changed {
		seg.agreement = 0
		// In place: nothing else keeps r.vips (findings copy it).
		r.vips = append(r.vips[:0], a.Addresses...)
		slices.SortFunc(r.vips, func(x, y netip.Addr) int { return x.Compare(y) })
		r.vips = slices.Compact(r.vips)
		r.vis = append(r.vis[:0], make([]*vipInfo, len(r.vips))...)
		r.vipsKey = addrsKey(r.vips)
		if !e.lastKeys.same(r) {
			r.authKey = r.authType.String()
			if r.authType == vrrp.AuthSimple {
				r.authKey += " " + vrrp.AuthDigest(r.authData)
			}
			r.versionKey = strconv.Itoa(int(r.version))
			r.intervalKey = r.interval.String()
			// Interned: equal keys share their bytes, so comparing them is a
			// pointer comparison.
			r.authKey = unique.Make(r.authKey).Value()
			r.versionKey = unique.Make(r.versionKey).Value()
			r.intervalKey = unique.Make(r.intervalKey).Value()
			for i, k := range [...]string{r.authKey, r.versionKey, r.intervalKey} {
				r.keyHash[i] = maphash.String(e.seed, k)
			}
			e.lastKeys.keep(r)
		}
		r.keyHash[3] = maphash.String(e.seed, r.vipsKey)
	}
	r.prio = a.Priority
	if a.Priority == 0 {
		r.resigned = true
		e.dropClaims(o.Interface, r)
	} else {
		md := masterDown(r.interval)
		if r.resigned || r.last.IsZero() || e.nowNs > plus(e.nanos(r.last), md) {
			r.runStart = now
		}
		r.resigned = false
		r.prev, r.last = r.last, now
		seg.noteLive(r, plus(e.nowNs, md))
		seg.lastAdvert = now
		seg.interval = r.interval
		e.masterUpdate(seg, r, now)
	}
	if changed {
		seg.count(r)
	}
	newVRID := false
	for i, v := range r.vips {
		vi := r.vis[i]
		if vi == nil || vi.gone || vi.key != (vipKey{o.Interface, v}) { // (reused for another address)
			vi = e.vipInfo(o.Interface, v, now)
			r.vis[i] = vi
		} else {
			e.seenVIP(vi, now)
		}
		if e.noteVRID(vi, a.VRID, now) {
			newVRID = true
		}
	}
	if seg.noMaster && a.Priority > 0 {
		seg.noMaster = false
		e.set(fkey{kind: NoMaster, iface: key.iface, fam: key.fam, vrid: key.vrid}, now, false, time.Time{}, nil)
	}
	// The advert may have moved the segment's no_master deadline earlier
	// (see noMasterDeadline): after an advert with priority > 0 the master
	// has not resigned, and the deadline is the advert's time plus the
	// master-down interval of its interval; after the master's priority 0
	// it is one interval after it.
	d := int64(math.MaxInt64)
	if a.Priority > 0 {
		d = plus(e.nowNs, masterDown(r.interval)+e.p.NoMasterMargin)
	} else if seg.master == r {
		d = plus(e.nowNs, r.interval+e.p.NoMasterMargin)
	}
	e.noMasterAt = min(e.noMasterAt, d)
	e.checkDuplicate(seg, r, now)
	// Configuration comparisons are costly with many routers: run them
	// when something changed, else at most every recheckEvery (their
	// findings stay raised for RouterTimeout without a refresh).
	if changed || newVRID || e.nowNs >= seg.nextCheck {
		seg.nextCheck = plus(e.nowNs, recheckEvery)
		e.checkConfig(seg, r, now)
		e.checkVRIDMismatch(o.Interface, o.Family, r, now)
	}
	if changed || e.nowNs >= r.nextCheck {
		r.nextCheck = plus(e.nowNs, recheckEvery)
		e.checkExpected(seg, r, now)
	}
}

// masterUpdate decides whether r's advert changes the master.
func (e *Engine) masterUpdate(seg *segment, r *router, now time.Time) {
	m := seg.master
	if m == r {
		return
	}
	reason := ""
	switch {
	case m == nil:
		reason = "election"
		if seg.everMaster {
			reason = "takeover"
		}
	case m.resigned:
		reason = "handover"
	case !fresh(m, now):
		reason = "takeover"
	case r.prio > m.prio || (r.prio == m.prio && r.ip.Compare(m.ip) > 0):
		reason = "preemption"
	default:
		return // a lower-priority contender while the master is alive
	}
	ev := &Event{Type: "master_change", Time: now, Interface: seg.key.iface, Family: seg.key.fam, VRID: seg.key.vrid,
		New: r.ip, NewMAC: r.mac, Priority: r.prio, Reason: reason}
	if m != nil {
		ev.Old, ev.OldMAC = m.ip, m.mac
	}
	seg.master = r
	seg.changedAt = now
	if seg.everMaster {
		seg.changes = append(seg.changes, now)
		if len(seg.changes) > 4*e.p.FlapThreshold {
			seg.changes = seg.changes[len(seg.changes)-2*e.p.FlapThreshold:]
		}
	}
	seg.everMaster = true
	e.out = append(e.out, Output{Event: ev})
	e.checkFlapping(seg, now)
}

func (e *Engine) segment(k segKey, now time.Time) *segment {
	s := e.seg(k)
	if s == nil {
		if len(e.segs) >= e.p.MaxSegments {
			e.evictSegments(now)
		}
		s = &segment{key: k}
		e.segs[k] = s
		e.segList = append(e.segList, s)
		if indexable(k.fam) {
			e.table(k.iface, true).put(k.fam, k.vrid, s)
		}
	}
	s.lastSeen = now
	return s
}

func (e *Engine) addRouter(seg *segment, ip netip.Addr, now time.Time) *router {
	if len(seg.list) >= e.p.MaxRoutersPerSegment {
		// The least recently seen router other than the master; if the next
		// one is as old, the first of them in the segment's list (as the
		// scan before the list by last advert chose).
		oldest := seg.oldest
		if oldest == seg.master {
			oldest = oldest.newer
		}
		next := oldest.newer
		if next == seg.master && next != nil {
			next = next.newer
		}
		if next != nil && next.lastAny.Equal(oldest.lastAny) {
			oldest = nil
			for _, r := range seg.list {
				if r != seg.master && (oldest == nil || r.lastAny.Before(oldest.lastAny)) {
					oldest = r
				}
			}
		}
		seg.remove(oldest)
		e.nRouters--
		e.freeRouter(oldest)
		e.evicted(now, seg, "")
	}
	if e.nRouters >= e.p.MaxRouters {
		e.evictRouters(now)
	}
	var r *router
	if n := len(e.freeRouters); n > 0 {
		r = e.freeRouters[n-1]
		e.freeRouters = e.freeRouters[:n-1]
		clear(r.vis[:cap(r.vis)]) // no stale entries kept alive
		*r = router{vis: r.vis[:0], vips: r.vips[:0]}
	} else {
		r = &router{}
	}
	r.ip, r.first, r.hash, r.seg = ip, now, e.routerHash(ip), seg
	seg.add(r)
	e.nRouters++
	return r
}

// evictSegments drops the least recently seen eighth of the segments.
func (e *Engine) evictSegments(now time.Time) {
	all := make([]aged, len(e.segList))
	for i, s := range e.segList {
		all[i] = agedAt(s.lastSeen, i)
	}
	n := max(1, len(all)/8)
	oldest(all, n)
	for _, x := range all[:n] {
		s := e.segList[x.i]
		e.nRouters -= len(s.list)
		delete(e.segs, s.key)
		e.unindex(s)
	}
	e.segList = slices.DeleteFunc(e.segList, func(s *segment) bool { return e.segs[s.key] != s })
	e.evicted(now, nil, "segments (interface, family, VRID)")
}

// evictRouters drops the least recently seen sixteenth of all routers.
func (e *Engine) evictRouters(now time.Time) {
	// The segments' lists by last advert are sorted: merge their oldest
	// ends through a heap instead of reading every router.
	n := max(1, e.nRouters/16)
	h := e.segHeap[:0]
	for _, s := range e.segList {
		if s.oldest != nil {
			h = append(h, ageOf(s.oldest))
		}
	}
	h.init()
	victims := e.routerScratch[:0]
	var lastT int64
	for len(victims) < n && len(h) > 0 {
		r := h[0].r
		victims, lastT = append(victims, r), h[0].t
		if r.newer == nil {
			h = h.pop()
		} else {
			h[0] = ageOf(r.newer)
			h.down(0)
		}
	}
	tied := len(h) > 0 && h[0].t == lastT
	clear(h)
	e.segHeap = h[:0]
	if tied {
		// The next router is as old as the last one taken: which of equally
		// old routers go is chosen as before the lists existed, by selection
		// over all routers in segment order (so the findings stay the same).
		all := e.agedScratch[:0]
		victims = victims[:0]
		for _, s := range e.segList {
			for _, r := range s.list {
				all = append(all, agedAt(r.lastAny, len(victims)))
				victims = append(victims, r)
			}
		}
		oldest(all, n)
		picked := e.routerPicked[:0]
		for _, a := range all[:n] {
			picked = append(picked, victims[a.i])
		}
		clear(victims)
		e.routerScratch, e.agedScratch = victims[:0], all[:0]
		victims, e.routerPicked = picked, picked[:0]
	} else {
		e.routerScratch = victims[:0]
	}
	for _, r := range victims {
		s := r.seg
		s.remove(r)
		if s.master == r {
			s.master = nil
		}
		e.nRouters--
		e.freeRouter(r)
	}
	clear(victims)
	e.evicted(now, nil, "routers")
}

// evictVIPs drops the least recently seen sixteenth of the virtual
// addresses: the oldest of the list by lastSeen, unless the last of them
// and the next were seen at the same time (an advert's addresses are); which
// of equally old ones go is then chosen as before the list existed, by
// selection over the entries in creation order (so the findings stay the
// same).
func (e *Engine) evictVIPs(now time.Time) {
	n := max(1, e.vips.len()/16)
	victims := e.vipScratch[:0]
	for vi := e.vipOldest; vi != nil && len(victims) < n; vi = vi.newer {
		victims = append(victims, vi)
	}
	e.vipScratch = victims[:0]
	if k := len(victims); k > 0 && victims[k-1].newer != nil && victims[k-1].newer.lastSeen.Equal(victims[k-1].lastSeen) {
		all := e.agedScratch[:0]
		live := victims[:0]
		for i, vi := range e.vipList {
			if vi != nil {
				all = append(all, agedAt(e.vipSeen[i], len(live)))
				live = append(live, vi)
			}
		}
		oldest(all, n)
		victims = e.vipPicked[:0]
		for _, x := range all[:n] {
			victims = append(victims, live[x.i])
		}
		clear(live)
		e.vipScratch, e.agedScratch, e.vipPicked = live[:0], all[:0], victims
	}
	for _, vi := range victims {
		e.unlinkVIP(vi)
		vi.gone = true
		e.vips.del(vi)
		e.vipList[vi.idx] = nil
		e.vipGone++
		if len(e.freeVIPs) < maxFree {
			e.freeVIPs = append(e.freeVIPs, vi)
		}
	}
	clear(victims)
	if e.vipGone > len(e.vipList)/2 {
		j := 0
		for _, vi := range e.vipList {
			if vi != nil {
				e.vipList[j], e.vipSeen[j] = vi, e.vipSeen[vi.idx]
				vi.idx = j
				j++
			}
		}
		clear(e.vipList[j:])
		e.vipList, e.vipSeen = e.vipList[:j], e.vipSeen[:j]
		e.vipGone = 0
	}
	e.evicted(now, nil, "virtual addresses")
}

// maxFree caps the evicted routers and addresses kept for reuse.
const maxFree = 1024

// freeRouter keeps r, taken out of its segment, for reuse.
func (e *Engine) freeRouter(r *router) {
	if len(e.freeRouters) < maxFree {
		e.freeRouters = append(e.freeRouters, r)
	}
}

// seenVIP sets vi's lastSeen to now (the latest time seen) and moves it to
// the front of the list by lastSeen.
func (e *Engine) seenVIP(vi *vipInfo, now time.Time) {
	vi.lastSeen = now
	e.vipSeen[vi.idx] = now
	if e.vipNewest == vi {
		return
	}
	e.unlinkVIP(vi)
	vi.older = e.vipNewest
	if e.vipNewest != nil {
		e.vipNewest.newer = vi
	}
	e.vipNewest = vi
	if e.vipOldest == nil {
		e.vipOldest = vi
	}
}

// unlinkVIP takes vi out of the list by lastSeen (if it is in).
func (e *Engine) unlinkVIP(vi *vipInfo) {
	if vi.newer != nil {
		vi.newer.older = vi.older
	} else if e.vipNewest == vi {
		e.vipNewest = vi.older
	}
	if vi.older != nil {
		vi.older.newer = vi.newer
	} else if e.vipOldest == vi {
		e.vipOldest = vi.newer
	}
	vi.newer, vi.older = nil, nil
}

// evicted counts an eviction from the table of what, or of the routers of
// seg (named only when the finding's message is written).
func (e *Engine) evicted(now time.Time, seg *segment, what string) {
	e.stats.Evictions++
	e.set(fkey{kind: TableFull}, now, true, now.Add(e.p.QuietPeriod), func(f *Finding) {
		if seg != nil {
			what = "routers of VRID " + strconv.Itoa(int(seg.key.vrid)) + " on " + seg.key.iface
		}
		f.Message = "the table of " + what + " is full, so the oldest entries are being dropped (" +
			strconv.FormatUint(e.stats.Evictions, 10) + " evictions): a flood of forged VRRP packets or far more VRRP traffic than expected — find the source, or raise the caps"
		f.Fingerprint = fingerprint(TableFull, vrrp.FamilyUnknown, 0)
	})
}

// noteVRID records that the address of vi was advertised under vrid at
// now, the engine's clock; it reports whether that VRID is new (or
// returning) for the address.
func (e *Engine) noteVRID(vi *vipInfo, vrid uint8, now time.Time) bool {
	for i := range vi.vrids {
		if x := &vi.vrids[i]; x.id == vrid {
			last := x.t
			x.t = now
			return e.nowNs > plus(e.nanos(last), e.p.RouterTimeout)
		}
	}
	if len(vi.vrids) >= maxVRIDsPerVIP {
		// Forget the VRID least recently seen with this address.
		oldest := 0
		for i, x := range vi.vrids {
			if x.t.Before(vi.vrids[oldest].t) {
				oldest = i
			}
		}
		vi.vrids = slices.Delete(vi.vrids, oldest, oldest+1)
	}
	vi.vrids = append(vi.vrids, vridSeen{vrid, now})
	return true
}

func sameAddrs(sorted, raw []netip.Addr) bool {
	if len(sorted) != len(raw) {
		return false
	}
	if len(raw) <= 8 {
		// Few addresses: compare in place (the usual case: the same list
		// in the same order as last time).
		for i, a := range raw {
			if sorted[i] != a && !slices.Contains(sorted, a) {
				return false
			}
		}
		return true
	}
	for _, a := range raw {
		if _, found := slices.BinarySearchFunc(sorted, a, func(x, y netip.Addr) int { return x.Compare(y) }); !found {
			return false
		}
	}
	return true
}

func (e *Engine) vipInfo(iface string, vip netip.Addr, now time.Time) *vipInfo {
	k := vipKey{iface, vip}
	vi, h := e.vips.lookup(k)
	if vi == nil {
		if e.vips.len() >= e.p.MaxVIPs {
			e.evictVIPs(now)
		}
		if n := len(e.freeVIPs); n > 0 {
			vi = e.freeVIPs[n-1]
			e.freeVIPs = e.freeVIPs[:n-1]
			clear(vi.claims)
			*vi = vipInfo{key: k, vrids: vi.vrids[:0], claims: vi.claims}
		} else {
			vi = &vipInfo{key: k}
		}
		e.vips.put(vi, h)
		vi.idx = len(e.vipList)
		e.vipList = append(e.vipList, vi)
		e.vipSeen = append(e.vipSeen, now)
	}
	e.seenVIP(vi, now)
	return vi
}

// dropClaims forgets the VIP claims of a router that resigned.
func (e *Engine) dropClaims(iface string, r *router) {
	for _, v := range r.vips {
		if vi := e.vips.get(vipKey{iface, v}); vi != nil {
			delete(vi.claims, r.mac)
		}
	}
}

// set raises, refreshes or clears a finding. With cond true the finding is
// raised if needed and will resolve at expiry+ResolveHold unless asserted
// again; with cond false an active finding resolves ResolveHold from now
// at the latest. fill sets the descriptive fields (called on raise and on
// refresh).
func (e *Engine) set(k fkey, now time.Time, cond bool, expiry time.Time, fill func(*Finding)) {
	if !cond && (e.activeVRID[k.vrid] == 0 || !e.activeSlots.maybe(&k)) {
		return // nothing of this VRID, or with a key like k, is active
	}
	a := e.findActive(&k)
	if !cond {
		if a != nil {
			if r := now.Add(e.p.ResolveHold); r.Before(a.resolveAt) {
				a.resolveAt = r
				e.resolvesAt(r)
			}
		}
		return
	}
	if expiry.Before(now) {
		expiry = now
	}
	if a == nil {
		if len(e.active) >= maxFindings {
			e.stats.FindingsDropped++
			return
		}
		a = &activeFinding{f: Finding{Kind: k.kind, State: Raised, Severity: SeverityOf(k.kind), Interface: k.iface,
			Family: k.fam, VRID: k.vrid, FirstSeen: now, At: now}}
		if fill != nil {
			fill(&a.f)
		}
		a.f.LastSeen = now
		a.resolveAt = expiry.Add(e.p.ResolveHold)
		a.lastFill = now
		e.active[k] = a
		e.activeVRID[k.vrid]++
		e.resolvesAt(a.resolveAt)
		if k.kind == StaleAnnouncement {
			e.nStale++
		}
		e.activeSlots.add(&k)
		f := a.f
		e.out = append(e.out, Output{Finding: &f})
		return
	}
	if fill != nil && now.Sub(a.lastFill) >= refillEvery {
		a.lastFill = now
		fp, first := a.f.Fingerprint, a.f.FirstSeen
		fill(&a.f)
		a.f.Fingerprint, a.f.FirstSeen = fp, first
	}
	a.f.LastSeen = now
	if r := expiry.Add(e.p.ResolveHold); r.After(a.resolveAt) {
		a.resolveAt = r
	}
}

// resolvesAt notes that an active finding resolves at t.
func (e *Engine) resolvesAt(t time.Time) {
	e.resolveAt = min(e.resolveAt, e.nanos(t))
}

// noMasterDeadline is when s raises no_master without another advert, and
// whether it can (it had a master and has not raised it yet).
func (e *Engine) noMasterDeadline(s *segment) (time.Time, bool) {
	if !s.everMaster || s.noMaster || s.lastAdvert.IsZero() {
		return time.Time{}, false
	}
	deadline := s.lastAdvert.Add(masterDown(s.interval) + e.p.NoMasterMargin)
	if m := s.master; m != nil && m.resigned {
		// After a priority-0 advert a backup takes over within
		// Skew_Time (under one interval).
		if d := m.lastAny.Add(m.interval + e.p.NoMasterMargin); d.Before(deadline) {
			deadline = d
		}
	}
	return deadline, true
}

// timers resolves findings whose time has come and raises no_master.
func (e *Engine) timers(now time.Time) {
	nowNs := e.nowNs // now (the engine's clock)
	e.nextTick = plus(nowNs, tickEvery)
	if nowNs >= e.noMasterAt || e.exhaustive {
		// Some segment may be due: walk them all, in order, and note the
		// earliest deadline of those that are not (adverts bring it
		// forward, see advert).
		e.noMasterAt = math.MaxInt64
		for _, s := range e.segList {
			deadline, ok := e.noMasterDeadline(s)
			if !ok {
				continue
			}
			if now.Before(deadline) {
				e.noMasterAt = min(e.noMasterAt, e.nanos(deadline))
				continue
			}
			s.noMaster = true
			e.raiseNoMaster(s, deadline)
		}
	}
	if len(e.expSeen) < len(e.expected) || e.exhaustive { // expSeen holds true for each index seen
		e.expectedNeverSeen(now)
	}
	if e.p.ProbeInterval > 0 {
		e.probes(now)
	}
	if e.nStale == 0 && nowNs < e.resolveAt && !e.exhaustive {
		return // nothing to resolve or re-evaluate
	}
	e.resolveAt = math.MaxInt64 // lowered again below, and by set
	var due []fkey
	for k, a := range e.active {
		if k.kind == StaleAnnouncement {
			e.checkStale(k, now)
		}
		if !now.Before(a.resolveAt) {
			due = append(due, k)
		} else {
			e.resolvesAt(a.resolveAt)
		}
	}
	slices.SortFunc(due, func(x, y fkey) int {
		if c := e.active[x].resolveAt.Compare(e.active[y].resolveAt); c != 0 {
			return c
		}
		return compareKeys(x, y) // the same order on every run
	})
	for _, k := range due {
		a := e.active[k]
		delete(e.active, k)
		e.activeVRID[k.vrid]--
		if k.kind == StaleAnnouncement {
			e.nStale--
		}
		e.activeSlots.remove(&k)
		f := a.f
		f.State, f.At = Resolved, a.resolveAt
		e.out = append(e.out, Output{Finding: &f})
	}
	for _, k := range due {
		switch k.kind {
		case DuplicateMaster:
			e.afterSplitBrain(segKey{k.iface, k.fam, k.vrid}, now)
		case StaleAnnouncement:
			if vi := e.vips.get(vipKey{k.iface, k.addr}); vi != nil && vi.staleVRID == k.vrid {
				vi.stale = false
			}
		}
	}
}

func (e *Engine) raiseNoMaster(s *segment, deadline time.Time) {
	k := fkey{kind: NoMaster, iface: s.key.iface, fam: s.key.fam, vrid: s.key.vrid}
	var vips []netip.Addr
	var srcs []netip.Addr
	for _, r := range s.list {
		vips = append(vips, r.vips...)
		srcs = append(srcs, r.ip)
	}
	vips, srcs = sortedAddrs(vips), sortedAddrs(srcs)
	// Far in the future: only a new advert resolves it.
	e.set(k, deadline, true, deadline.Add(100*365*24*time.Hour), func(f *Finding) {
		f.Sources, f.VIPs = capAddrs(srcs), capAddrs(vips)
		f.FirstSeen = s.lastAdvert
		f.Message = "VRID " + strconv.Itoa(int(s.key.vrid)) + " on " + s.key.iface + " has had no master for " +
			deadline.Sub(s.lastAdvert).Round(time.Millisecond).String() + " (last advert " + s.lastAdvert.UTC().Format(time.RFC3339) +
			"): " + addrList(vips) + " may be unreachable — check that keepalived runs on the nodes and that their interfaces are up"
		f.Fingerprint = fingerprint(NoMaster, s.key.fam, s.key.vrid, addrsKey(vips))
	})
}

func capAddrs(a []netip.Addr) []netip.Addr {
	if len(a) > maxListed {
		return a[:maxListed]
	}
	return a
}

func capMACs(m []obs.MAC) []obs.MAC {
	slices.SortFunc(m, func(a, b obs.MAC) int { return slices.Compare(a[:], b[:]) })
	m = slices.Compact(m)
	if len(m) > maxListed {
		return m[:maxListed]
	}
	return m
}

// packetFinding raises or refreshes a finding about bad packets; it
// resolves after QuietPeriod without more of them.
func (e *Engine) packetFinding(kind Kind, k fkey, o *obs.Observation, now time.Time, msg string) {
	e.set(k, now, true, now.Add(e.p.QuietPeriod-e.p.ResolveHold), func(f *Finding) {
		if o.Src.IsValid() && len(f.Sources) < maxListed && !slices.Contains(f.Sources, o.Src) {
			f.Sources = sortedAddrs(append(f.Sources, o.Src))
		}
		if len(f.MACs) < maxListed && !slices.Contains(f.MACs, o.SrcMAC) {
			f.MACs = capMACs(append(f.MACs, o.SrcMAC))
		}
		if f.Message == "" {
			f.Message = msg
		}
		f.Fingerprint = fingerprint(kind, k.fam, k.vrid)
	})
}

// probes asks for probes of virtual addresses and judges the answers.
func (e *Engine) probes(now time.Time) {
	for _, vi := range e.vipList {
		if vi == nil {
			continue // evicted
		}
		k := vi.key
		if !vi.probeSent.IsZero() {
			if now.Sub(vi.probeSent) < probeWait {
				continue
			}
			e.judgeProbe(k, vi, now)
			vi.probeSent = time.Time{}
		}
		if now.Before(vi.nextProbe) {
			continue
		}
		seg := e.vipSegment(k.iface, vrrp.FamilyOf(k.addr), vi, now)
		if seg == nil {
			continue
		}
		if m := addrMaster(seg, k.addr, now); m == nil || !fresh(m, now) || now.Sub(seg.changedAt) < probeGrace {
			continue
		}
		vi.probeSent = now
		every := e.p.ProbeInterval
		if vi.suspect {
			every /= 5
		}
		vi.nextProbe = now.Add(every)
		e.out = append(e.out, Output{Probe: &Probe{Interface: k.iface, Addr: k.addr}})
	}
}

// judgeProbe: a claimant other than the master that did not answer the
// probe no longer holds the address.
func (e *Engine) judgeProbe(k vipKey, vi *vipInfo, now time.Time) {
	fam := vrrp.FamilyOf(k.addr)
	seg := e.vipSegment(k.iface, fam, vi, now)
	if seg == nil || seg.master == nil {
		return
	}
	m := addrMaster(seg, k.addr, now)
	still := false
	for mac, c := range vi.claims {
		if mac == m.mac {
			continue
		}
		if c.last.Before(vi.probeSent) {
			delete(vi.claims, mac)
			continue
		}
		still = true
	}
	if still || !vi.suspect {
		return
	}
	vi.suspect = false
	e.set(fkey{kind: VIPOnBackup, iface: k.iface, fam: fam, vrid: seg.key.vrid, addr: k.addr}, now, false, time.Time{}, nil)
	if a := e.active[fkey{kind: DuplicateMaster, iface: seg.key.iface, fam: seg.key.fam, vrid: seg.key.vrid}]; a != nil {
		// Adverts of a second master, if any, assert it again.
		e.set(fkey{kind: DuplicateMaster, iface: seg.key.iface, fam: seg.key.fam, vrid: seg.key.vrid}, now, false, time.Time{}, nil)
	}
}

// vipSegment is the segment that holds a VIP: the one whose routers
// advertise it, preferring one with a fresh master.
func (e *Engine) vipSegment(iface string, fam vrrp.Family, vi *vipInfo, now time.Time) *segment {
	var seg *segment
	for _, x := range vi.vrids {
		s := e.seg(segKey{iface, fam, x.id})
		if s == nil {
			continue
		}
		if seg == nil || (s.master != nil && fresh(s.master, now)) {
			seg = s
		}
	}
	return seg
}

package rules

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"net/netip"
)

// vipTable holds the engine's virtual-address entries by key (interface,
// address): open addressing with linear probing over two flat arrays, the
// hashes and the entries, at most half full. A lookup of an address not in
// the table, as a flood of forged adverts makes for most of its addresses,
// reads only the array of hashes; deletion shifts the following entries
// back (no tombstones), so probe sequences stay short whatever the churn.
// The hash is keyed (see addrHasher).
type vipTable struct {
	hashes []uint32 // 0: empty slot; else the entry's hash (never 0)
	vis    []*vipInfo
	n      int
	h      addrHasher
	// The hash of the last interface looked up.
	lastIface string
	lastHash  uint64
}

func newVIPTable() vipTable { return vipTable{h: newAddrHasher()} }

// len returns the number of entries.
func (t *vipTable) len() int { return t.n }

// hash returns the hash of k (never 0): the address's, mixed with the
// interface's.
func (t *vipTable) hash(k vipKey) uint32 {
	if k.iface != t.lastIface || t.lastIface == "" {
		t.lastIface, t.lastHash = k.iface, maphash.String(t.h.seed, k.iface)
	}
	return fold(mix(t.h.addr(k.addr)^t.lastHash, t.h.k[2]))
}

// addrHasher hashes addresses with random keys, by multiplication (as
// wyhash, and Go's maps without AES, do; cheaper than hash/maphash for 16
// bytes), so senders cannot choose addresses that collide.
type addrHasher struct {
	seed maphash.Seed
	k    [3]uint64
}

func newAddrHasher() addrHasher {
	return addrHasher{seed: maphash.MakeSeed(), k: [3]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64() | 1}}
}

// mix folds the 128-bit product of a and b.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// fold makes a table hash (never 0) of h.
func fold(h uint64) uint32 {
	if x := uint32(h) ^ uint32(h>>32); x != 0 {
		return x
	}
	return 1
}

// addr returns the hash of a.
func (h *addrHasher) addr(a netip.Addr) uint64 {
	if a.Is4() {
		b := a.As4()
		return mix(uint64(binary.LittleEndian.Uint32(b[:]))^h.k[0], h.k[1])
	}
	b := a.As16()
	x := mix(binary.LittleEndian.Uint64(b[:8])^h.k[0], binary.LittleEndian.Uint64(b[8:])^h.k[1])
	if z := a.Zone(); z != "" {
		x ^= maphash.String(h.seed, z)
	}
	return x
}

// routerIndex finds a segment's routers by address, as vipTable does the
// addresses (a flood adds and evicts a router of some segment on every
// packet). Each router keeps its hash (router.hash).
type routerIndex struct {
	hashes []uint32
	rs     []*router
	n      int
}

// get returns the router with ip and hash h, or nil.
func (x *routerIndex) get(ip netip.Addr, h uint32) *router {
	if x.n == 0 {
		return nil
	}
	mask := uint32(len(x.hashes) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch x.hashes[i] {
		case 0:
			return nil
		case h:
			if r := x.rs[i]; r.ip == ip {
				return r
			}
		}
	}
}

// put adds r, whose address must not be in the index.
func (x *routerIndex) put(r *router) {
	if 2*(x.n+1) > len(x.hashes) {
		hashes, rs := x.hashes, x.rs
		size := max(8, 2*len(hashes))
		x.hashes, x.rs = make([]uint32, size), make([]*router, size)
		for i, h := range hashes {
			if h != 0 {
				slot(x.hashes, h, func(j uint32) { x.hashes[j], x.rs[j] = h, rs[i] })
			}
		}
	}
	slot(x.hashes, r.hash, func(j uint32) { x.hashes[j], x.rs[j] = r.hash, r })
	x.n++
}

// del removes r (a no-op if it is not in the index).
func (x *routerIndex) del(r *router) {
	if x.n == 0 {
		return
	}
	mask := uint32(len(x.hashes) - 1)
	i := r.hash & mask
	for x.rs[i] != r {
		if x.hashes[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	shiftBack(x.hashes, i, func(to, from uint32) { x.hashes[to], x.rs[to] = x.hashes[from], x.rs[from] },
		func(at uint32) { x.hashes[at], x.rs[at] = 0, nil })
	x.n--
}

// slot calls set with the first empty slot of hashes from h's home slot.
func slot(hashes []uint32, h uint32, set func(uint32)) {
	mask := uint32(len(hashes) - 1)
	i := h & mask
	for hashes[i] != 0 {
		i = (i + 1) & mask
	}
	set(i)
}

// shiftBack empties slot i of a linear-probing table: the entries after it
// that may not stay after the gap (whose home slot is not cyclically within
// (i, j]) move back (move(to, from)); clear(at) empties the last gap.
func shiftBack(hashes []uint32, i uint32, move func(to, from uint32), clear func(at uint32)) {
	mask := uint32(len(hashes) - 1)
	for j := (i + 1) & mask; hashes[j] != 0; j = (j + 1) & mask {
		home := hashes[j] & mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			move(i, j)
			i = j
		}
	}
	clear(i)
}

// get returns the entry of k, or nil.
func (t *vipTable) get(k vipKey) *vipInfo {
	vi, _ := t.lookup(k)
	return vi
}

// lookup returns the entry of k, or nil, and k's hash (for put).
func (t *vipTable) lookup(k vipKey) (*vipInfo, uint32) {
	h := t.hash(k)
	if t.n == 0 {
		return nil, h
	}
	mask := uint32(len(t.hashes) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.hashes[i] {
		case 0:
			return nil, h
		case h:
			if vi := t.vis[i]; vi.key == k {
				return vi, h
			}
		}
	}
}

// put adds vi, whose key must not be in the table and must have hash h.
func (t *vipTable) put(vi *vipInfo, h uint32) {
	if 2*(t.n+1) > len(t.hashes) {
		t.grow()
	}
	vi.hash = h
	t.insert(h, vi)
	t.n++
}

func (t *vipTable) insert(h uint32, vi *vipInfo) {
	slot(t.hashes, h, func(j uint32) { t.hashes[j], t.vis[j] = h, vi })
}

// grow doubles the table (16 slots at first).
func (t *vipTable) grow() {
	hashes, vis := t.hashes, t.vis
	size := max(16, 2*len(hashes))
	t.hashes, t.vis = make([]uint32, size), make([]*vipInfo, size)
	for i, h := range hashes {
		if h != 0 {
			t.insert(h, vis[i])
		}
	}
}

// del removes vi, put before (a no-op if it is not in the table).
func (t *vipTable) del(vi *vipInfo) {
	if t.n == 0 {
		return
	}
	mask := uint32(len(t.hashes) - 1)
	i := vi.hash & mask
	for t.vis[i] != vi {
		if t.hashes[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	shiftBack(t.hashes, i, func(to, from uint32) { t.hashes[to], t.vis[to] = t.hashes[from], t.vis[from] },
		func(at uint32) { t.hashes[at], t.vis[at] = 0, nil })
	t.n--
}

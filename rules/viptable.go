package rules

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
)

// vipTable holds the engine's virtual-address entries by key (interface,
// address): open addressing with linear probing over two flat arrays, the
// hashes and the entries, at most half full. A lookup of an address not in
// the table, as a flood of forged adverts makes for most of its addresses,
// reads only the array of hashes; deletion shifts the following entries
// back (no tombstones), so probe sequences stay short whatever the churn.
// The hash is keyed (random keys per table), so senders cannot choose
// addresses that collide.
type vipTable struct {
	hashes []uint32 // 0: empty slot; else the entry's hash (never 0)
	vis    []*vipInfo
	n      int
	seed   maphash.Seed
	k      [3]uint64 // random keys of the address hash
	// The hash of the last interface looked up.
	lastIface string
	lastHash  uint64
}

func newVIPTable() vipTable {
	return vipTable{seed: maphash.MakeSeed(), k: [3]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64() | 1}}
}

// len returns the number of entries.
func (t *vipTable) len() int { return t.n }

// mix folds the 128-bit product of a and b.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hash returns the hash of k (never 0): the address mixed with random
// keys by multiplication (as wyhash, and Go's maps without AES, do; cheaper
// than hash/maphash for 16 bytes), then with the interface's hash.
func (t *vipTable) hash(k vipKey) uint32 {
	if k.iface != t.lastIface || t.lastIface == "" {
		t.lastIface, t.lastHash = k.iface, maphash.String(t.seed, k.iface)
	}
	var h uint64
	if k.addr.Is4() {
		a := k.addr.As4()
		h = mix(uint64(binary.LittleEndian.Uint32(a[:]))^t.k[0], t.k[1])
	} else {
		a := k.addr.As16()
		h = mix(binary.LittleEndian.Uint64(a[:8])^t.k[0], binary.LittleEndian.Uint64(a[8:])^t.k[1])
		if z := k.addr.Zone(); z != "" {
			h ^= maphash.String(t.seed, z)
		}
	}
	h = mix(h^t.lastHash, t.k[2])
	if x := uint32(h) ^ uint32(h>>32); x != 0 {
		return x
	}
	return 1
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
	mask := uint32(len(t.hashes) - 1)
	i := h & mask
	for t.hashes[i] != 0 {
		i = (i + 1) & mask
	}
	t.hashes[i], t.vis[i] = h, vi
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
	// Shift back the entries after i that may not stay after the gap
	// (those whose home slot is not cyclically within (i, j]).
	for j := (i + 1) & mask; t.hashes[j] != 0; j = (j + 1) & mask {
		home := t.hashes[j] & mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.hashes[i], t.vis[i] = t.hashes[j], t.vis[j]
			i = j
		}
	}
	t.hashes[i], t.vis[i] = 0, nil
	t.n--
}

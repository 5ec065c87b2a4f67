package rules

import "encoding/binary"

// keySlots counts the active findings by a cheap hash of their keys (no
// string hashing), so that clearing a finding that is not active, as every
// advert does for most of its checks, is usually decided without a lookup
// in the map of active findings. A zero count means no active finding has
// a key of that slot; collisions only cost the map lookup. The queries read
// only the bit set (8 KiB, which stays in the cache).
type keySlots struct {
	n   [1 << 16]uint16
	any [1 << 16 / 64]uint64 // bit i: n[i] > 0
}

// slot hashes the parts of k that are cheap to read: the VRID, family, the
// lengths of the strings, two bytes of the kind and the address.
func (*keySlots) slot(k *fkey) uint32 {
	h := uint64(k.vrid) | uint64(k.fam)<<8 | uint64(len(k.kind))<<16 | uint64(len(k.iface))<<24 | uint64(len(k.sub))<<32
	if len(k.kind) > 5 {
		h |= uint64(k.kind[0])<<40 | uint64(k.kind[5])<<48
	}
	if k.addr.IsValid() {
		a := k.addr.As16()
		h ^= (binary.LittleEndian.Uint64(a[:8]) ^ binary.LittleEndian.Uint64(a[8:])*0xff51afd7ed558ccd) * 0xc4ceb9fe1a85ec53
	}
	h *= 0x9e3779b97f4a7c15
	return uint32(h >> 48)
}

// maybe reports whether a finding with key k may be active.
func (s *keySlots) maybe(k *fkey) bool {
	i := s.slot(k)
	return s.any[i/64]&(1<<(i%64)) != 0
}

// add counts an active finding with key k.
func (s *keySlots) add(k *fkey) {
	i := s.slot(k)
	s.n[i]++
	s.any[i/64] |= 1 << (i % 64)
}

// remove uncounts an active finding with key k.
func (s *keySlots) remove(k *fkey) {
	i := s.slot(k)
	if s.n[i]--; s.n[i] == 0 {
		s.any[i/64] &^= 1 << (i % 64)
	}
}

// cachedFinding is an entry of Engine.activeCache.
type cachedFinding struct {
	k fkey
	a *activeFinding
}

// findActive returns the active finding of k, or nil, through a
// direct-mapped cache of the map of active findings (a flood refreshes the
// same few findings on every packet). A cached finding is still in the map
// if it resolves after the engine's clock: the timers remove only findings
// whose resolution time has passed, and nothing changes it afterwards.
func (e *Engine) findActive(k *fkey) *activeFinding {
	c := &e.activeCache[e.activeSlots.slot(k)%uint32(len(e.activeCache))]
	if c.a != nil && c.a.resolveAt.After(e.now) && c.k == *k {
		return c.a
	}
	a := e.active[*k]
	if a != nil {
		c.k, c.a = *k, a
	}
	return a
}

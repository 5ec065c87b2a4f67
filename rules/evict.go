package rules

import (
	"strings"
	"time"
)

// aged is an entry of a table with the time it was last seen, for
// choosing what to evict.
type aged struct {
	t int64 // last seen, Unix nanoseconds
	i int   // index of the entry in the caller's list
}

func agedAt(t time.Time, i int) aged { return aged{t.UnixNano(), i} }

// oldest reorders a so that a[:n] hold the n entries seen longest ago,
// in linear expected time (a full sort of a big table on every eviction
// was most of the cost of a flood).
func oldest(a []aged, n int) {
	lo, hi := 0, len(a)
	for hi-lo > 1 {
		x, y, z := a[lo].t, a[lo+(hi-lo)/2].t, a[hi-1].t
		p := max(min(x, y), min(max(x, y), z)) // median of three
		// [lo,lt) < p, [lt,gt) == p, [gt,hi) > p
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch {
			case a[i].t < p:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case a[i].t > p:
				gt--
				a[i], a[gt] = a[gt], a[i]
			default:
				i++
			}
		}
		switch {
		case n < lt:
			hi = lt
		case n <= gt:
			return
		default:
			lo = gt
		}
	}
}

// compareKeys orders finding keys (for a stable order of findings that
// resolve at the same time).
func compareKeys(x, y fkey) int {
	switch {
	case x.kind != y.kind:
		return strings.Compare(string(x.kind), string(y.kind))
	case x.iface != y.iface:
		return strings.Compare(x.iface, y.iface)
	case x.fam != y.fam:
		return int(x.fam) - int(y.fam)
	case x.vrid != y.vrid:
		return int(x.vrid) - int(y.vrid)
	case x.sub != y.sub:
		return strings.Compare(x.sub, y.sub)
	}
	return x.addr.Compare(y.addr)
}

// segHeap is a binary min-heap of segments by the last advert of their
// least recently seen router not yet taken (segments with routers only);
// each entry keeps that time, so comparisons read the heap alone.
type segHeap []segAge

type segAge struct {
	t int64   // r.lastAny, Unix nanoseconds
	r *router // the segment's oldest router not yet taken
}

func ageOf(r *router) segAge { return segAge{r.lastAny.UnixNano(), r} }

func (h segHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// down moves h[i] down to its place.
func (h segHeap) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && h[c+1].t < h[c].t {
			c++
		}
		if h[c].t >= h[i].t {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// pop removes the first segment.
func (h segHeap) pop() segHeap {
	last := len(h) - 1
	h[0] = h[last]
	h[last] = segAge{}
	h = h[:last]
	h.down(0)
	return h
}

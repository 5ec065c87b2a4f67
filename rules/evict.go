package rules

import "time"

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

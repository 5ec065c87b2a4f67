package rules

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestOldest: a[:n] after oldest are the n smallest times, whatever the
// input (random, sorted, reversed, many equal times).
func TestOldest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 500; round++ {
		size := 1 + rng.IntN(300)
		a := make([]aged, size)
		for i := range a {
			switch round % 4 {
			case 0:
				a[i].t = rng.Int64N(1000)
			case 1:
				a[i].t = int64(i)
			case 2:
				a[i].t = int64(size - i)
			case 3:
				a[i].t = rng.Int64N(3)
			}
			a[i].i = i
		}
		want := make([]int64, size)
		for i := range a {
			want[i] = a[i].t
		}
		slices.Sort(want)
		n := rng.IntN(size + 1)
		oldest(a, n)
		got := make([]int64, n)
		for i := range got {
			got[i] = a[i].t
		}
		slices.Sort(got)
		if !slices.Equal(got, want[:n]) {
			t.Fatalf("round %d size %d n %d: oldest gave %v, want %v", round, size, n, got, want[:n])
		}
		seen := make([]bool, size)
		for _, x := range a {
			seen[x.i] = true
		}
		if slices.Contains(seen, false) {
			t.Fatalf("round %d: entries lost", round)
		}
	}
}

// TestSegmentIndexBounded: adverts on ever new interfaces (a flood of VLAN
// tags) keep the per-interface segment index as small as the segment
// table, and every segment is found through it.
func TestSegmentIndexBounded(t *testing.T) {
	p := DefaultParams()
	p.MaxSegments = 8
	e, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		o := ad{src: "10.0.0.1", iface: "eth0." + strconv.Itoa(i), vrid: uint8(1 + i%200)}.obs(float64(i) / 100)
		e.Observe(&o)
		if len(e.segs) > p.MaxSegments || len(e.segIdx) > len(e.segs) {
			t.Fatalf("after %d adverts: %d segments, %d interface tables (cap %d)", i+1, len(e.segs), len(e.segIdx), p.MaxSegments)
		}
	}
	n := 0
	for _, tab := range e.segIdx {
		n += tab.n
	}
	if n != len(e.segs) || len(e.segList) != len(e.segs) {
		t.Errorf("index holds %d segments, list %d, table %d", n, len(e.segList), len(e.segs))
	}
	for k, s := range e.segs {
		if got := e.seg(k); got != s {
			t.Errorf("segment %v: index gives %p, table %p", k, got, s)
		}
	}
}

package rules

import (
	"math/rand/v2"
	"slices"
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

package demote

import (
	"testing"
	"time"
)

// BenchmarkHealthyAdvert: the healthy path, a BACKUP instance hearing its
// master, through Observe: no allocation.
func BenchmarkHealthyAdvert(b *testing.B) {
	pol, err := New(instance(nil), Params{})
	if err != nil {
		b.Fatal(err)
	}
	pol.Step(t0, StateChanged{State: Backup, Priority: 100})
	ev := advert(hi, hiMAC, 51, 150, true)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		ev.Obs.Time = now
		if out := pol.Observe(now, &ev.Obs, ev.Accepted, ev.Reject); len(out) != 0 {
			b.Fatal(out)
		}
	}
}

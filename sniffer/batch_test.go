package sniffer

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
)

// TestBatcherAddresses fills batches the ways decoders do — address lists
// appended into the slot (the fast path), pointing at a decoder's own
// storage (the gopacket path), empty, or none — and checks that every observation arrives
// in order with its own addresses.
func TestBatcherAddresses(t *testing.T) {
	const n = 3*batches*batchSize + 17  // each batch used three times
	decoder := make([]netip.Addr, 0, 8) // reused, as a Decoder's is
	want := make([][]netip.Addr, n)
	b := newBatcher()
	go func() {
		for i := 0; i < n; i++ {
			o := b.slot()
			var addrs []netip.Addr
			// The first half of a batch gets no addresses on its first
			// and third use and two on its second, the second half two
			// and one: a slot's list from the last use then lies under
			// the earlier slots' of this one.
			k := 2
			switch first, odd := i%batchSize < batchSize/2, i/(batches*batchSize)%2 == 1; {
			case !odd && first:
				k = 0
			case odd && !first:
				k = 1
			}
			for ; k > 0; k-- {
				addrs = append(addrs, netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), byte(k)}))
			}
			o.Time = time.Unix(int64(i), 0)
			switch i % 4 {
			case 0: // decoded in place
				o.Advert.Addresses = append(o.Advert.Addresses[:0], addrs...)
			case 1: // the decoder's storage, overwritten by the next one
				decoder = append(decoder[:0], addrs...)
				o.Advert.Addresses = decoder
			case 2: // empty
				o.Advert.Addresses = o.Advert.Addresses[:0]
				addrs = nil
			case 3: // none
				o.Advert.Addresses = nil
				addrs = nil
			}
			want[i] = addrs
			b.filled()
		}
		b.close()
	}()
	var got [][]netip.Addr
	b.run(func(bt []obs.Observation) {
		for i := range bt {
			if tm := bt[i].Time.Unix(); tm != int64(len(got)) {
				t.Fatalf("observation %d arrived as number %d", tm, len(got))
			}
			var c []netip.Addr
			if len(bt[i].Advert.Addresses) > 0 {
				c = append(c, bt[i].Advert.Addresses...)
			}
			got = append(got, c)
		}
	})
	if !reflect.DeepEqual(want, got) {
		for i := range want {
			if i >= len(got) || !reflect.DeepEqual(want[i], got[i]) {
				t.Fatalf("observation %d of %d (%d arrived): addresses\n-want %v\n+got  %v", i, n, len(got), want[i], got[min(i, len(got)-1)])
			}
		}
		t.Fatalf("%d observations arrived, want %d", len(got), n)
	}
}

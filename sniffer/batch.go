package sniffer

import (
	"net/netip"

	"github.com/vrrpguard/vrrpguard/obs"
)

// batchSize is the number of observations handed over at once.
const batchSize = 2048

// batches is how many batches are in flight (filled, queued, or being
// handled): it bounds the memory and the decoder's lead.
const batches = 4

// batch holds observations decoded in place; their address lists point
// into addrs.
type batch struct {
	obs   []obs.Observation // batchSize slots
	n     int               // slots filled
	addrs []netip.Addr
}

// batcher is the sink of a decoding goroutine: it decodes into the slots of
// a batch and carries full batches, in order, to the goroutine that
// handles them.
type batcher struct {
	full chan *batch
	free chan *batch
	cur  *batch
}

func newBatcher() *batcher {
	b := &batcher{full: make(chan *batch, batches), free: make(chan *batch, batches)}
	for i := 0; i < batches; i++ {
		b.free <- &batch{obs: make([]obs.Observation, batchSize), addrs: make([]netip.Addr, 0, batchSize*2)}
	}
	return b
}

// slot is the next free slot (decoding goroutine). Its address list is
// the batch's free address space, empty: the fast decoder appends there.
func (b *batcher) slot() *obs.Observation {
	if b.cur == nil {
		b.cur = <-b.free
	}
	c := b.cur
	o := &c.obs[c.n]
	o.Advert.Addresses = c.addrs[len(c.addrs):len(c.addrs)]
	return o
}

// filled keeps the slot, and its address list in the batch's address space
// (copied there unless decoded there), and hands the batch over when it is
// full (decoding goroutine).
func (b *batcher) filled() {
	c := b.cur
	o := &c.obs[c.n]
	if a := o.Advert.Addresses; a != nil {
		n := len(c.addrs)
		if len(a) > 0 && cap(c.addrs) > n && &a[0] == &c.addrs[:n+1][n] {
			c.addrs = c.addrs[:n+len(a)] // decoded in place
		} else {
			c.addrs = append(c.addrs, a...)
		}
		o.Advert.Addresses = c.addrs[n:len(c.addrs):len(c.addrs)]
	}
	c.n++
	if c.n == len(c.obs) {
		b.full <- c
		b.cur = nil
	}
}

// close hands over the last batch and ends run (decoding goroutine).
func (b *batcher) close() {
	if b.cur != nil && b.cur.n > 0 {
		b.full <- b.cur
	}
	close(b.full)
}

// run hands every batch to hb until close (caller's goroutine). The slots
// are not cleared: each is overwritten whole when decoded into again.
func (b *batcher) run(hb func([]obs.Observation)) {
	for bt := range b.full {
		hb(bt.obs[:bt.n])
		bt.n, bt.addrs = 0, bt.addrs[:0]
		b.free <- bt
	}
}

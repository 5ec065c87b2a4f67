package sniffer

import (
	"net/netip"

	"github.com/vrrpguard/vrrpguard/obs"
)

// batchSize is the number of observations handed over at once.
const batchSize = 512

// batches is how many batches are in flight (filled, queued, or being
// handled): it bounds the memory and the decoder's lead.
const batches = 8

// batch holds copies of observations; their address lists point into
// addrs.
type batch struct {
	obs   []obs.Observation
	addrs []netip.Addr
}

// batcher carries observations from a decoding goroutine to the goroutine
// that handles them, in order, a batch at a time.
type batcher struct {
	h    obs.Handler
	full chan *batch
	free chan *batch
	cur  *batch
}

func newBatcher(h obs.Handler) *batcher {
	b := &batcher{h: h, full: make(chan *batch, batches), free: make(chan *batch, batches)}
	for i := 0; i < batches; i++ {
		b.free <- &batch{obs: make([]obs.Observation, 0, batchSize), addrs: make([]netip.Addr, 0, batchSize*2)}
	}
	return b
}

// add copies o into the current batch (decoding goroutine).
func (b *batcher) add(o *obs.Observation) {
	if b.cur == nil {
		b.cur = <-b.free
	}
	c := *o
	if o.Advert.Addresses != nil {
		n := len(b.cur.addrs)
		b.cur.addrs = append(b.cur.addrs, o.Advert.Addresses...)
		c.Advert.Addresses = b.cur.addrs[n:len(b.cur.addrs):len(b.cur.addrs)]
	}
	b.cur.obs = append(b.cur.obs, c)
	if len(b.cur.obs) == batchSize {
		b.full <- b.cur
		b.cur = nil
	}
}

// close hands over the last batch and ends run (decoding goroutine).
func (b *batcher) close() {
	if b.cur != nil && len(b.cur.obs) > 0 {
		b.full <- b.cur
	}
	close(b.full)
}

// run calls the handler for every observation until close (caller's
// goroutine).
func (b *batcher) run() {
	for bt := range b.full {
		for i := range bt.obs {
			b.h(&bt.obs[i])
		}
		clear(bt.obs) // drop references (strings) before reuse
		bt.obs, bt.addrs = bt.obs[:0], bt.addrs[:0]
		b.free <- bt
	}
}

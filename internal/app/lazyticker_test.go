package app

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestLazyTickerPoke checks that a poke calls fn exactly when ¾ of d have
// passed since the last call, with the poke's time.
func TestLazyTickerPoke(t *testing.T) {
	var got []time.Time
	lt, err := newLazyTicker(100*time.Millisecond, func(now time.Time) { got = append(got, now) })
	if err != nil {
		t.Fatal(err)
	}
	defer lt.Close()
	t0 := time.Now()
	lt.last.Store(int64(t0.Sub(lt.base)))
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{
		{50 * time.Millisecond, false},
		{74 * time.Millisecond, false},
		{75 * time.Millisecond, true}, // due: the next is due at 150 ms
		{120 * time.Millisecond, false},
		{149 * time.Millisecond, false},
		{190 * time.Millisecond, true},
		{200 * time.Millisecond, false},
	} {
		if called := lt.poke(t0.Add(tc.after)); called != tc.want {
			t.Errorf("poke at +%v: called %v, want %v", tc.after, called, tc.want)
		}
	}
	want := []time.Time{t0.Add(75 * time.Millisecond), t0.Add(190 * time.Millisecond)}
	if len(got) != len(want) || !got[0].Equal(want[0]) || !got[1].Equal(want[1]) {
		t.Errorf("fn called with %v, want %v", got, want)
	}
}

// TestLazyTickerTicksAlone checks that without pokes the timer calls fn
// again and again, each call at least d after the one before, and that Run
// returns once its context is done.
func TestLazyTickerTicksAlone(t *testing.T) {
	const d = 5 * time.Millisecond
	var mu sync.Mutex
	var got []time.Time
	three := make(chan struct{})
	lt, err := newLazyTicker(d, func(now time.Time) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, now)
		if len(got) == 3 {
			close(three)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); lt.Run(ctx) }()
	select {
	case <-three:
	case <-time.After(10 * time.Second):
		t.Fatal("the timer did not call fn three times")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was done")
	}
	mu.Lock()
	for i := 1; i < len(got); i++ {
		if gap := got[i].Sub(got[i-1]); gap < d {
			t.Errorf("call %d came %v after the one before, want at least %v", i, gap, d)
		}
	}
	mu.Unlock()
	if !lt.poke(time.Now().Add(time.Hour)) {
		t.Error("a due poke after Run returned did not call fn")
	}
}

// TestLazyTickerFallsBack checks that a ticker whose timerfd fails while
// its context is still live goes on ticking (a Go ticker), so a silent
// segment's timers still run, and stops when the context is done.
func TestLazyTickerFallsBack(t *testing.T) {
	const d = 5 * time.Millisecond
	calls := make(chan time.Time, 100)
	lt, err := newLazyTicker(d, func(now time.Time) { calls <- now })
	if err != nil {
		t.Fatal(err)
	}
	lt.Close() // the poller now fails on the timerfd
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); lt.Run(ctx) }()
	for i := range 3 {
		select {
		case <-calls:
		case <-done:
			t.Fatalf("Run returned after %d calls with its context live", i)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d calls, want 3", i)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was done")
	}
}

// TestLazyTickerKick: a kick makes the running ticker call onKick long
// before its next tick is due, and once per kick.
func TestLazyTickerKick(t *testing.T) {
	lt, err := newLazyTicker(time.Hour, func(time.Time) {})
	if err != nil {
		t.Fatal(err)
	}
	kicked := make(chan struct{}, 10)
	lt.onKick = func() { kicked <- struct{}{} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { lt.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i := range 3 {
		lt.kick()
		select {
		case <-kicked:
		case <-time.After(10 * time.Second):
			t.Fatalf("kick %d: onKick not called", i)
		}
	}
	select {
	case <-kicked:
		t.Error("onKick called more often than kicked")
	case <-time.After(50 * time.Millisecond):
	}
}

package app

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lazyTicker calls fn with the wall time every d, like a time.Ticker, but
// the calls that fall due while packets arrive run on the goroutine that
// handles them (poke), and each pushes the ticker's own timer back: on a
// segment with traffic the timer never expires, so the engine's ticks wake
// nothing. Its timer is a timerfd waited on through the runtime poller, not
// a Go timer: the runtime's monitor thread (sysmon) sleeps until the next
// Go timer, so a pushed-back Go timer would still wake it every d. On a
// silent segment the timer expires every d, as a ticker would. A poke
// calls fn once three quarters of d have passed: packets come in batches
// (a block of the capture ring at a time, up to its block timeout apart),
// and a poke that waited for all of d would mostly lose the race with the
// timer; so with traffic fn runs every ¾d to d.
type lazyTicker struct {
	d    time.Duration
	fn   func(time.Time)
	file *os.File // the timerfd, in the runtime poller
	conn syscall.RawConn
	base time.Time    // the origin of last, read from the monotonic clock
	last atomic.Int64 // when fn was last called, in nanoseconds since base
	// onKick, if set, is called on the ticker's goroutine soon after kick
	// (before it would call fn, if due).
	onKick func()
	kicked atomic.Bool
}

// newLazyTicker opens the ticker's timerfd; Run starts it.
func newLazyTicker(d time.Duration, fn func(time.Time)) (*lazyTicker, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	t := &lazyTicker{d: d, fn: fn, file: os.NewFile(uintptr(fd), "timerfd"), base: time.Now()}
	if t.conn, err = t.file.SyscallConn(); err != nil {
		t.file.Close()
		return nil, fmt.Errorf("timerfd: %w", err)
	}
	return t, nil
}

// Run calls fn whenever d passed without a call, until ctx is done; then
// it closes the timerfd (pokes after that still call fn when due).
func (t *lazyTicker) Run(ctx context.Context) {
	t.last.Store(int64(time.Since(t.base)))
	t.arm(t.d)
	if t.kicked.Load() {
		t.arm(time.Microsecond) // kicked before Run
	}
	stop := context.AfterFunc(ctx, func() { t.file.Close() })
	defer stop()
	var buf [8]byte
	for {
		err := t.conn.Read(func(fd uintptr) bool {
			_, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
			return errno != unix.EAGAIN
		})
		if err != nil {
			if ctx.Err() == nil {
				t.fallback(ctx) // the poller gave up on the timerfd
			}
			return // closed
		}
		if t.kicked.Swap(false) && t.onKick != nil {
			t.onKick()
		}
		now := time.Now()
		if !t.poke(now) {
			// A poke called fn meanwhile: wait for the rest of d.
			t.arm(max(t.d-time.Duration(int64(now.Sub(t.base))-t.last.Load()), time.Millisecond))
		}
		if t.kicked.Load() {
			t.arm(time.Microsecond) // a kick while it armed: not lost
		}
	}
}

// kick makes Run call onKick soon, from any goroutine, without blocking.
func (t *lazyTicker) kick() {
	t.kicked.Store(true)
	t.arm(time.Microsecond)
}

// fallback ticks with a Go ticker until ctx is done: the engine's timers
// must run on a silent segment even if the timerfd failed.
func (t *lazyTicker) fallback(ctx context.Context) {
	tk := time.NewTicker(t.d)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tk.C:
			if t.kicked.Swap(false) && t.onKick != nil {
				t.onKick()
			}
			t.poke(now)
		}
	}
}

// poke calls fn if ¾ of d passed since its last call, and then pushes the
// timer back by d; it reports whether it called fn.
func (t *lazyTicker) poke(now time.Time) bool {
	last, n := t.last.Load(), int64(now.Sub(t.base))
	if n-last < int64(t.d-t.d/4) || !t.last.CompareAndSwap(last, n) {
		return false
	}
	t.arm(t.d)
	t.fn(now)
	return true
}

// arm sets the timerfd to expire once, after d. Through RawSyscall:
// timerfd_settime does not block (a system call through syscall.Syscall
// wakes sysmon in an idle process). A closed timerfd is left alone.
func (t *lazyTicker) arm(d time.Duration) {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	_ = t.conn.Control(func(fd uintptr) {
		_, _, _ = unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	})
}

// Close closes the timerfd of a ticker that will not Run.
func (t *lazyTicker) Close() { t.file.Close() }

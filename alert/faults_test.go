package alert

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vrrpguard/vrrpguard/internal/testenv"
	"github.com/vrrpguard/vrrpguard/rules"
)

// tinyTmpfs mounts a 64 KiB tmpfs and returns its path (unmounted at the
// end of the test).
func tinyTmpfs(t *testing.T) string {
	t.Helper()
	testenv.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// memDir returns a new directory in /dev/shm (tmpfs: 4,000 fsyncs there
// cost nothing) if there is one, else in t.TempDir.
func memDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "vrrpguard-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// fillUp writes path until the file system is full.
func fillUp(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 512)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", path, err)
			}
			return
		}
	}
}

// kindCalls returns the notices of kind k the notifier received, as
// statuses in order.
func kindCalls(f *fakeNotifier, k rules.Kind) []string {
	var out []string
	for _, c := range f.getCalls() {
		for _, a := range c.alerts {
			if a.Kind == string(k) {
				out = append(out, a.Status)
			}
		}
	}
	return out
}

// TestOutboxUnwritableOnFullDisk: the state directory on a 64 KiB tmpfs
// fills up while the dispatcher runs. Notifications are still delivered
// (from memory), the failure is logged, counted and raised as an
// outbox_unwritable finding; once space returns, what was pending is
// written and the resolve of outbox_unwritable is delivered.
func TestOutboxUnwritableOnFullDisk(t *testing.T) {
	dir := tinyTmpfs(t)
	var logs syncBuffer
	hook := newFake("hook")
	r := start(t, Options{
		StateDir: dir, Sinks: []Sink{{Notifier: hook}}, GroupWait: -1, WriteRetry: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	defer r.stop(t)
	at := time.Now()
	r.d.Submit(finding(rules.DuplicateMaster, 1, rules.Raised, at))
	waitFor(t, 10*time.Second, "the first notification", func() bool { return len(kindCalls(hook, rules.DuplicateMaster)) == 1 })
	if got := kindCalls(hook, rules.OutboxUnwritable); len(got) != 0 {
		t.Fatalf("outbox_unwritable %v with space left", got)
	}

	filler := filepath.Join(dir, "filler")
	fillUp(t, filler)
	r.d.Submit(finding(rules.NoMaster, 2, rules.Raised, at.Add(time.Second)))
	waitFor(t, 10*time.Second, "no_master delivered from memory and outbox_unwritable raised", func() bool {
		return len(kindCalls(hook, rules.NoMaster)) == 1 && len(kindCalls(hook, rules.OutboxUnwritable)) == 1
	})
	if got := kindCalls(hook, rules.OutboxUnwritable); got[0] != StatusFiring {
		t.Errorf("outbox_unwritable notices %v, want firing", got)
	}
	a := firingKind(r.d, rules.OutboxUnwritable)
	if a == nil || !strings.Contains(a.Message, dir) || !strings.Contains(a.Message, "no space left on device") {
		t.Errorf("firing outbox_unwritable %+v, want one naming %s and the cause", a, dir)
	}
	if l := logs.String(); !strings.Contains(l, "alert state directory cannot be written") || !strings.Contains(l, "no space left on device") {
		t.Errorf("log does not say the state directory is full:\n%s", l)
	}
	if v := testutil.ToFloat64(r.m.StateUnwritable); v != 1 {
		t.Errorf("vrrpguard_alerts_state_unwritable %v while full, want 1", v)
	}
	if v := testutil.ToFloat64(r.m.WriteErrors.WithLabelValues("hook")); v < 1 {
		t.Errorf("vrrpguard_alerts_outbox_write_errors_total{sink=hook} %v, want ≥ 1", v)
	}
	// Still full: it stays raised, and more findings are delivered.
	r.d.Submit(finding(rules.NoMaster, 2, rules.Resolved, at.Add(2*time.Second)))
	waitFor(t, 10*time.Second, "no_master resolved while full", func() bool { return len(kindCalls(hook, rules.NoMaster)) == 2 })
	time.Sleep(100 * time.Millisecond) // several WriteRetry periods
	if got := kindCalls(hook, rules.OutboxUnwritable); len(got) != 1 {
		t.Fatalf("outbox_unwritable notices %v while still full, want the one raise", got)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the resolve of outbox_unwritable", func() bool {
		got := kindCalls(hook, rules.OutboxUnwritable)
		return len(got) == 2 && got[1] == StatusResolved
	})
	if v := testutil.ToFloat64(r.m.StateUnwritable); v != 0 {
		t.Errorf("vrrpguard_alerts_state_unwritable %v after space returned, want 0", v)
	}
	if !strings.Contains(logs.String(), "writable again") {
		t.Errorf("log does not say the directory is writable again:\n%s", logs.String())
	}
	// The firing set on disk is current again: duplicate_master firing,
	// outbox_unwritable and no_master not.
	waitFor(t, 10*time.Second, "firing.json rewritten", func() bool {
		firing, err := loadState(dir)
		if err != nil || len(firing) != 1 {
			return false
		}
		return firing[0].Alert.Kind == string(rules.DuplicateMaster)
	})
	waitFor(t, 10*time.Second, "an empty outbox", func() bool { return len(outboxFiles(t, dir, "hook")) == 0 })
}

// TestCorruptOutboxRecordsSkipped: an outbox left with garbage in the
// middle of one record and a truncated last record (a disk fault, a
// crash of the file system) delivers the good records in order; each bad
// one is skipped with a warning naming its file and the byte offset where
// it breaks, and set aside as *.corrupt.
func TestCorruptOutboxRecordsSkipped(t *testing.T) {
	dir := t.TempDir()
	boxDir := filepath.Join(dir, outboxName, sinkDirName("hook"))
	box, bad, err := loadOutbox(boxDir, "hook")
	if err != nil || len(bad) != 0 {
		t.Fatal(err, bad)
	}
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	p := newPolicy(policyConfig{Instance: "w", GroupWait: -1, RepeatInterval: -1, RestoreGrace: -1})
	for vrid := uint8(1); vrid <= 4; vrid++ {
		for _, a := range p.step(at, submitted{[]rules.Finding{finding(rules.DuplicateMaster, vrid, rules.Raised, at)}}) {
			if n, ok := a.(notify); ok {
				if err := box.add(&entry{Created: at, Origin: at, Alerts: n.alerts}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if len(box.entries) != 4 {
		t.Fatalf("%d records written, want 4", len(box.entries))
	}
	path := func(seq int) string { return filepath.Join(boxDir, fmt.Sprintf("%020d.json", seq)) }
	// Record 2: garbage over bytes 30..37. Record 4: cut in half.
	b2, err := os.ReadFile(path(2))
	if err != nil {
		t.Fatal(err)
	}
	copy(b2[30:], "\x00\xffjunk!!")
	b4, err := os.ReadFile(path(4))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path(2), b2, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path(4), b4[:len(b4)/2], 0o600); err != nil {
		t.Fatal(err)
	}

	var logs syncBuffer
	hook := newFake("hook")
	r := start(t, Options{StateDir: dir, Sinks: []Sink{{Notifier: hook}}, GroupWait: -1,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	waitFor(t, 10*time.Second, "two notifications", func() bool { return len(hook.getCalls()) >= 2 })
	r.stop(t)
	var got []string
	for _, c := range hook.getCalls() {
		for _, a := range c.alerts {
			got = append(got, fmt.Sprint(a.VRID))
		}
	}
	if diff := testenv.DiffLines([]string{"1", "3"}, got); diff != "" {
		t.Errorf("delivered VRIDs (-want +got):\n%s", diff)
	}
	l := logs.String()
	for _, w := range []struct {
		seq    int
		offset int
	}{{2, 30}, {4, len(b4) / 2}} {
		want := fmt.Sprintf("file=%s offset=%d", path(w.seq), w.offset)
		if !strings.Contains(l, want) || !strings.Contains(l, "level=WARN") {
			t.Errorf("no warning with %q in the log:\n%s", want, l)
		}
		if _, err := os.Stat(path(w.seq) + ".corrupt"); err != nil {
			t.Errorf("record %d not set aside: %v", w.seq, err)
		}
	}
	if files := outboxFiles(t, dir, "hook"); len(files) != 0 {
		t.Errorf("outbox after delivery: %v", files)
	}
}

// silentServer accepts TCP connections and never answers (until the test
// ends); it returns its port and a counter of accepted connections.
func silentServer(t *testing.T) (int, func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().(*net.TCPAddr).Port, func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}

// retryDelays returns the retry_in values the dispatcher logged for sink,
// in order.
func retryDelays(t *testing.T, logs, sink string) []time.Duration {
	t.Helper()
	var out []time.Duration
	for _, l := range strings.Split(logs, "\n") {
		if !strings.Contains(l, `msg="notification failed, will retry"`) || !strings.Contains(l, "sink="+sink+" ") {
			continue
		}
		_, v, ok := strings.Cut(l, "retry_in=")
		if !ok {
			t.Fatalf("no retry_in in %q", l)
		}
		v, _, _ = strings.Cut(v, " ")
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("retry_in in %q: %v", l, err)
		}
		out = append(out, d)
	}
	return out
}

// TestHungSinksTimeOutAndRetryWithBackoff: an SMTP server that accepts
// TCP and never sends its greeting, and a webhook that accepts the request
// and never answers. Each attempt ends at the sink's timeout, is retried
// with a doubling backoff, and the healthy sinks (a real mailpit, a
// webhook) get the same notification at once, unaffected.
func TestHungSinksTimeOutAndRetryWithBackoff(t *testing.T) {
	t.Parallel()
	mp := startMailpit(t)
	smtpPort, smtpConns := silentServer(t)
	release := make(chan struct{})
	var hungMu sync.Mutex
	hungReqs := 0
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hungMu.Lock()
		hungReqs++
		hungMu.Unlock()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) })
	ok := newReceiver(t)

	const timeout = 300 * time.Millisecond
	silentMail := mustEmail(t, EmailOptions{Name: "mail-silent", Port: smtpPort, Timeout: timeout})
	goodMail := mustEmail(t, EmailOptions{Name: "mail-ok", Port: mp.smtpPort})
	hungHook := mustWebhook(t, WebhookOptions{Name: "hook-silent", URL: hung.URL, Timeout: timeout})
	goodHook := mustWebhook(t, WebhookOptions{Name: "hook-ok", URL: ok.URL})
	var logs syncBuffer
	r := start(t, Options{
		StateDir: t.TempDir(), GroupWait: -1, BackoffBase: 200 * time.Millisecond, BackoffMax: 800 * time.Millisecond,
		Sinks:  []Sink{{Notifier: silentMail}, {Notifier: hungHook}, {Notifier: goodMail}, {Notifier: goodHook}},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	defer r.stop(t)
	r.d.Submit(finding(rules.DuplicateMaster, 7, rules.Raised, time.Now()))

	waitFor(t, 30*time.Second, "the healthy sinks", func() bool {
		return len(ok.requests()) == 1 && len(mp.messages(t)) == 1
	})
	if s, h := r.counter("sent", "mail-silent"), r.counter("sent", "hook-silent"); s != 0 || h != 0 {
		t.Fatalf("hung sinks counted as sent: %v %v", s, h)
	}
	// Four attempts each: three failures logged with their backoff.
	begin := time.Now()
	waitFor(t, 60*time.Second, "four attempts at each hung sink", func() bool {
		hungMu.Lock()
		n := hungReqs
		hungMu.Unlock()
		if time.Since(begin) > 20*time.Second {
			t.Logf("smtp conns %d, webhook requests %d\n%s", smtpConns(), n, logs.String())
		}
		return smtpConns() >= 4 && n >= 4
	})
	l := logs.String()
	for _, sink := range []string{"mail-silent", "hook-silent"} {
		got := retryDelays(t, l, sink)
		if len(got) < 3 {
			t.Fatalf("%s: %d retries logged, want ≥ 3:\n%s", sink, len(got), l)
		}
		for i, want := range []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond} {
			if got[i] > want || got[i] < want*8/10 {
				t.Errorf("%s: retry %d in %v, want %v minus at most 20%% jitter", sink, i+1, got[i], want)
			}
		}
		if f := r.counter("failed", sink, "retryable"); f < 3 {
			t.Errorf("%s: %v retryable failures counted, want ≥ 3", sink, f)
		}
	}
	if !strings.Contains(l, "sink=mail-silent") || !strings.Contains(l, "timeout") {
		t.Errorf("the SMTP failure does not say it timed out:\n%s", l)
	}
	if !strings.Contains(l, "sink=hook-silent") || !strings.Contains(l, "deadline exceeded") {
		t.Errorf("the webhook failure does not say it timed out:\n%s", l)
	}
	// The healthy sinks got it once, no more.
	if n := len(ok.requests()); n != 1 {
		t.Errorf("healthy webhook got %d requests, want 1", n)
	}
	if n := r.counter("sent", "mail-ok"); n != 1 {
		t.Errorf("mail-ok sent %v, want 1", n)
	}
}

// TestSinkDownAnHourDeliversAllInOrder: a sink refuses (retryably) for an
// hour of virtual time while 1,000 findings are raised and resolved, one
// notification each. Memory stays bounded: the outbox holds exactly the
// notifications not yet delivered (one entry per notice, none lost or
// duplicated), the heap grows by less than 32 MiB, and once the sink is
// back all 2,000 notices arrive in the order they were issued.
func TestSinkDownAnHourDeliversAllInOrder(t *testing.T) {
	t.Parallel()
	stateDir := memDir(t)
	synctest.Test(t, func(t *testing.T) {
		const n = 1000
		down := newFake("down")
		down.setFailing(&result{retry: true, err: errTemporary})
		r := start(t, Options{StateDir: stateDir, Sinks: []Sink{{Notifier: down}}})
		defer r.stop(t)
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t0 := time.Now()
		var want []string
		maxDepth := 0.0
		for i := range n {
			f := finding(rules.DuplicateMaster, uint8(i), rules.Raised, time.Now())
			f.Fingerprint = fmt.Sprintf("fp-%04d", i)
			r.d.Submit(f)
			time.Sleep(1800 * time.Millisecond)
			f.State, f.At = rules.Resolved, time.Now()
			r.d.Submit(f)
			time.Sleep(1800 * time.Millisecond)
			want = append(want, f.Fingerprint+"/"+StatusFiring, f.Fingerprint+"/"+StatusResolved)
			if i%100 == 99 {
				synctest.Wait()
				d := r.counter("depth", "down")
				if d != float64(2*(i+1)) {
					t.Fatalf("after %d findings the outbox holds %v notifications, want %d", i+1, d, 2*(i+1))
				}
				maxDepth = max(maxDepth, d)
			}
		}
		synctest.Wait()
		var during runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&during)
		if grown := int64(during.HeapAlloc) - int64(before.HeapAlloc); grown > 32<<20 {
			t.Errorf("heap grew by %d MiB with %v notifications queued, want < 32", grown>>20, maxDepth)
		}
		if a := *r.d.snapshot.Load(); len(a) != 0 {
			t.Errorf("%d alerts still firing after all were resolved", len(a))
		}
		if d := time.Since(t0); d < time.Hour {
			t.Fatalf("the sink was down for %v only", d)
		}
		recovered := time.Now()
		down.setFailing(nil)
		time.Sleep(10 * time.Minute) // > BackoffMax: the next retry comes
		synctest.Wait()
		var got []string
		for _, c := range down.getCalls() {
			if c.at.Before(recovered) {
				continue
			}
			got = append(got, fingerprints(c.alerts)...)
		}
		if diff := testenv.DiffLines(want, got); diff != "" {
			t.Errorf("delivered after the sink came back (-want +got):\n%s", diff)
		}
		if d := r.counter("depth", "down"); d != 0 {
			t.Errorf("outbox depth %v after delivery, want 0", d)
		}
		if files := outboxFiles(t, r.d.o.StateDir, "down"); len(files) != 0 {
			t.Errorf("%d outbox files left", len(files))
		}
		if s := r.counter("sent", "down"); s != 2*n {
			t.Errorf("sent_total %v, want %d", s, 2*n)
		}
	})
}

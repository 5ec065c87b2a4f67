package track

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"golang.org/x/sys/unix"
)

// uniqueSleep copies sleep(1) to a file with a name no other process has
// (at most 15 bytes, the kernel's limit for process names).
func uniqueSleep(t *testing.T) (path, name string) {
	t.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1)")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	name = fmt.Sprintf("vgtrk%06d", rand.IntN(1000000))
	path = filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return path, name
}

func startProc(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(path, "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

// requireRoot skips the test without root, or fails it when the lab is
// required (VRRPGUARD_REQUIRE_LAB=1: nothing may skip in CI).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv(netlab.RequireEnv) == "1" {
		t.Fatalf("not running as root (%s=1 forbids skipping)", netlab.RequireEnv)
	}
	t.Skip("not running as root")
}

// TestConnectorMonitor follows a real process with the kernel's process
// connector: found by the initial scan, lost when killed, found again when
// started, by name and by command line.
func TestConnectorMonitor(t *testing.T) {
	requireRoot(t)
	path, name := uniqueSleep(t)
	first := startProc(t, path)
	c, err := OpenConnector()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m, err := NewMonitor([]ProcessSpec{
		{Name: "name", Match: Matcher{Name: name}, Quorum: ProcessConfig{Quorum: 1, QuorumMax: -1}},
		{Name: "cmd", Match: Matcher{Name: path, FullCommand: true, Params: []string{"1000"}, ParamMatch: "exact"}, Quorum: ProcessConfig{Quorum: 1, QuorumMax: -1}},
	}, c, SystemProcfs(""))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Up("name") || !m.Up("cmd") || m.Count("name") != 1 {
		t.Fatalf("initial scan: name up=%v (%d), cmd up=%v; want both up with 1", m.Up("name"), m.Count("name"), m.Up("cmd"))
	}
	reports := make(chan string, 16)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := m.Run(ctx, func(n string, up bool) { reports <- fmt.Sprintf("%s %v", n, up) }); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	defer func() { cancel(); wg.Wait() }()
	expect := func(want ...string) {
		t.Helper()
		got := map[string]bool{}
		deadline := time.After(5 * time.Second)
		for len(got) < len(want) {
			select {
			case r := <-reports:
				got[r] = true
			case <-deadline:
				t.Fatalf("reports %v, want %v", got, want)
			}
		}
		for _, w := range want {
			if !got[w] {
				t.Fatalf("reports %v, want %v", got, want)
			}
		}
	}
	_ = first.Process.Kill()
	_, _ = first.Process.Wait()
	expect("name false", "cmd false")
	startProc(t, path)
	expect("name true", "cmd true")
}

// TestConnectorInNetns opens the connector from a thread in another
// network namespace (as under ip netns exec), where the kernel refuses
// it, so it is opened in PID 1's namespace.
func TestConnectorInNetns(t *testing.T) {
	requireRoot(t)
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(orig)
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Skipf("unshare: %v", err)
	}
	_, direct := connectorSocket()
	c, err := OpenConnector()
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err == nil {
		runtime.UnlockOSThread()
	}
	if direct == nil {
		t.Log("this kernel delivers process events in any network namespace")
	}
	if err != nil {
		t.Fatalf("OpenConnector in a new network namespace: %v", err)
	}
	defer c.Close()
	path, _ := uniqueSleep(t)
	cmd := startProc(t, path)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-c.Events():
			if ev.Kind == ProcExec && ev.Pid == cmd.Process.Pid {
				return
			}
		case <-deadline:
			t.Fatal("no exec event of the started process")
		}
	}
}

// TestConnectorWithoutCapabilities opens the connector from a thread
// without CAP_NET_ADMIN and CAP_SYS_ADMIN. Kernels before 6.6 refuse it:
// the error must then say what is missing. Later kernels let anyone
// listen: the events must then flow.
func TestConnectorWithoutCapabilities(t *testing.T) {
	requireRoot(t)
	path, _ := uniqueSleep(t)
	type result struct {
		err    error
		events bool
	}
	res := make(chan result)
	go func() {
		// The thread keeps its reduced capabilities: it is locked and
		// never unlocked, so it ends with this goroutine.
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			res <- result{err: fmt.Errorf("capget: %w", err)}
			return
		}
		for _, c := range []uint{unix.CAP_NET_ADMIN, unix.CAP_SYS_ADMIN} {
			data[c/32].Effective &^= 1 << (c % 32)
		}
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			res <- result{err: fmt.Errorf("capset: %w", err)}
			return
		}
		c, err := OpenConnector()
		if err != nil {
			res <- result{err: err}
			return
		}
		defer c.Close()
		cmd := exec.Command(path, "1000")
		if err := cmd.Start(); err != nil {
			res <- result{err: err}
			return
		}
		defer func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() }()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case ev := <-c.Events():
				if ev.Kind == ProcExec && ev.Pid == cmd.Process.Pid {
					res <- result{events: true}
					return
				}
			case <-deadline:
				res <- result{}
				return
			}
		}
	}()
	r := <-res
	switch {
	case r.err != nil:
		t.Logf("refused: %v", r.err)
		if !strings.Contains(r.err.Error(), "CAP_NET_ADMIN") {
			t.Errorf("error %q does not name CAP_NET_ADMIN", r.err)
		}
	case r.events:
		t.Log("this kernel sends process events without CAP_NET_ADMIN")
	default:
		t.Error("subscribed without CAP_NET_ADMIN and no error, but no events either")
	}
}

// FuzzDecodeProcEvents: any datagram decodes without a panic, and every
// event has a process.
func FuzzDecodeProcEvents(f *testing.F) {
	ev := make([]byte, procEventDataOff+40)
	binary.NativeEndian.PutUint32(ev, uint32(len(ev)))
	binary.NativeEndian.PutUint16(ev[4:], unix.NLMSG_DONE)
	binary.NativeEndian.PutUint32(ev[nlmsgHdrLen:], cnIdxProc)
	binary.NativeEndian.PutUint32(ev[nlmsgHdrLen+4:], cnValProc)
	binary.NativeEndian.PutUint32(ev[procEventOff:], procEventExec)
	binary.NativeEndian.PutUint32(ev[procEventDataOff:], 42)
	binary.NativeEndian.PutUint32(ev[procEventDataOff+4:], 42)
	f.Add(ev)
	f.Add(append(slices.Clone(ev), ev...))
	f.Add(ev[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, e := range decodeProcEvents(b) {
			if e.Pid <= 0 || e.Kind < ProcFork || e.Kind > ProcExit {
				t.Errorf("event %+v", e)
			}
		}
	})
}

func TestDecodeProcEvents(t *testing.T) {
	msg := func(what uint32, data ...uint32) []byte {
		m := make([]byte, procEventDataOff+40)
		binary.NativeEndian.PutUint32(m, uint32(len(m)))
		binary.NativeEndian.PutUint16(m[4:], unix.NLMSG_DONE)
		binary.NativeEndian.PutUint32(m[nlmsgHdrLen:], cnIdxProc)
		binary.NativeEndian.PutUint32(m[nlmsgHdrLen+4:], cnValProc)
		binary.NativeEndian.PutUint32(m[procEventOff:], what)
		for i, d := range data {
			binary.NativeEndian.PutUint32(m[procEventDataOff+4*i:], d)
		}
		return m
	}
	comm := msg(procEventComm, 7, 7)
	copy(comm[procEventDataOff+8:], "newname\x00junk")
	for _, tc := range []struct {
		name string
		in   []byte
		want []ProcEvent
	}{
		{"fork of a process", msg(procEventFork, 5, 5, 9, 9), []ProcEvent{{Kind: ProcFork, Pid: 9, Parent: 5}}},
		{"new thread ignored", msg(procEventFork, 5, 5, 10, 9), nil},
		{"exec", msg(procEventExec, 9, 9), []ProcEvent{{Kind: ProcExec, Pid: 9}}},
		{"exit of a thread ignored", msg(procEventExit, 10, 9), nil},
		{"exit", msg(procEventExit, 9, 9), []ProcEvent{{Kind: ProcExit, Pid: 9}}},
		{"comm", comm, []ProcEvent{{Kind: ProcComm, Pid: 7, Comm: "newname"}}},
		{"other event ignored", msg(0x4, 9, 9), nil},
		{"two messages", append(msg(procEventExec, 9, 9), msg(procEventExit, 9, 9)...), []ProcEvent{{Kind: ProcExec, Pid: 9}, {Kind: ProcExit, Pid: 9}}},
		{"truncated", msg(procEventExec, 9, 9)[:30], nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeProcEvents(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("decodeProcEvents = %+v, want %+v", got, tc.want)
			}
		})
	}
}

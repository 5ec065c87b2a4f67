package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/tcpdumpcmp"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds vrrpguard once for tests and benchmarks that run it as a
// process inside a network namespace.
func binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vrrpguard-test-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "vrrpguard")
		binErr = buildBinary(binPath)
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func buildBinary(path string) error {
	// As `make build` does: static, no cgo.
	cmd := exec.Command("go", "build", "-o", path, "github.com/vrrpguard/vrrpguard/cmd/vrrpguard")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// labInstances is one keepalived.conf text for both nodes of the pair
// (priorities differ): every advert flavour the foundation must decode.
func labConf(prio int, state string) string {
	return netlab.Conf(
		netlab.Instance{Name: "V2PASS", State: state, VRID: 11, Priority: prio, Version: 2, AdvertInt: time.Second,
			AuthPass: "s3cr3tpw", VIPs: []string{"10.77.0.101/24"}},
		netlab.Instance{Name: "V2NONE", State: state, VRID: 12, Priority: prio, Version: 2, AdvertInt: time.Second,
			VIPs: []string{"10.77.0.102/24"}},
		netlab.Instance{Name: "V3V4", State: state, VRID: 13, Priority: prio, Version: 3, AdvertInt: 100 * time.Millisecond,
			VIPs: []string{"10.77.0.103/24", "10.77.0.104/24"}},
		netlab.Instance{Name: "V3V6", State: state, VRID: 14, Priority: prio, Version: 3, AdvertInt: 500 * time.Millisecond,
			VIPs: []string{"fd77::100/64"}},
	)
}

// TestLabWatchAndReplayMatchTcpdump records real keepalived traffic (v2
// with and without PASS auth, v3 over IPv4 and IPv6, a crash failover and
// clean stops) while `vrrpguard watch` runs on a monitoring host, then
// checks that replay of the recording and the live watch print every
// advertisement with every field as tcpdump decodes it.
func TestLabWatchAndReplayMatchTcpdump(t *testing.T) {
	netlab.Require(t)
	testenv.RequireTools(t, "tshark")
	bin := binary(t)
	lab := netlab.New(t)
	a := lab.AddHost("a", "10.77.0.1/24", "fd77::1/64")
	b := lab.AddHost("b", "10.77.0.2/24", "fd77::2/64")
	mon := lab.AddHost("mon", "10.77.0.9/24")

	capture := mon.StartCapture(t, "eth0")
	watch := mon.Start(t, bin, "watch", "--interface", "eth0", "--format", "json", "--adverts")
	watch.WaitOutput(t, "watching", 10*time.Second)

	ka := a.StartKeepalived(t, labConf(150, "MASTER"))
	kb := b.StartKeepalived(t, labConf(100, "BACKUP"))
	lab.WaitVIP(t, "10.77.0.101", 15*time.Second)
	lab.WaitVIP(t, "fd77::100", 15*time.Second)
	time.Sleep(2 * time.Second)
	ka.Crash()
	// A crash leaves a's VIPs on its interface; wait for b to add them.
	for _, vip := range []string{"10.77.0.101", "10.77.0.102", "10.77.0.103", "fd77::100"} {
		b.WaitAddr(t, vip, 15*time.Second)
	}
	time.Sleep(2 * time.Second)
	if err := kb.Stop(); err != nil {
		t.Errorf("keepalived b stop: %v", err)
	}
	time.Sleep(time.Second)
	if err := watch.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-watch.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not exit on SIGTERM")
	}
	if err := watch.Err(); err != nil {
		t.Errorf("watch exit: %v\n%s", err, watch.Output())
	}
	path := capture.Stop()

	// Replay of the recording: every field equal to tcpdump's decoding.
	replayed := CompareWithTcpdump(t, path)
	seen := map[string]int{}
	for _, ad := range replayed {
		seen[fmt.Sprintf("v%d/%s/%s", ad.Version, ad.Family, ad.AuthType)]++
	}
	for _, want := range []string{"v2/ipv4/simple", "v2/ipv4/none", "v3/ipv4/", "v3/ipv6/"} {
		if seen[want] == 0 {
			t.Errorf("no %s advertisement in the recording: %v", want, seen)
		}
	}

	// The live watch saw the same advertisements.
	liveOut := procJSON(t, watch)
	live := liveOut.adverts
	theirs, err := tcpdumpcmp.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	// Live timestamps come from vrrpguard's own socket: allow 2 ms.
	for i := 0; i < len(live) && i < len(theirs); i++ {
		lt := jsonTime(t, fmt.Sprintf("live advert %d", i), live[i].Time)
		if d := lt.Sub(theirs[i].Time); d > -2*time.Millisecond && d < 2*time.Millisecond {
			live[i].Time = theirs[i].Time.UTC().Format(time.RFC3339Nano)
		}
	}
	for _, d := range tcpdumpcmp.Compare(live, theirs) {
		t.Error("watch: " + d)
	}
	t.Logf("compared %d replayed and %d live advertisements with tcpdump's %d: %v", len(replayed), len(live), len(theirs), seen)
	if len(theirs) < 50 {
		t.Errorf("only %d advertisements recorded", len(theirs))
	}
	reasons := liveOut.reasons()
	for _, want := range []string{"election", "takeover"} {
		if !slices.Contains(reasons, want) {
			t.Errorf("watch printed no %s event (events: %v)", want, reasons)
		}
	}
	if len(liveOut.arps) == 0 || len(liveOut.nds) == 0 {
		t.Errorf("watch printed %d ARP and %d ND observations, want some of each", len(liveOut.arps), len(liveOut.nds))
	}
}

// TestWatchServesMetricsAndStopsOnSignal runs watch in-process on the
// loopback interface with --listen.
func TestWatchServesMetricsAndStopsOnSignal(t *testing.T) {
	testenv.RequireRoot(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var out, errb syncWriter
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	// Several interfaces at once: loopback and any other that is up.
	args := []string{"watch", "--interface", "lo", "--listen", addr}
	second := ""
	for _, in := range ifaces {
		if in.Flags&net.FlagUp != 0 && in.Flags&net.FlagLoopback == 0 && len(in.HardwareAddr) == 6 {
			second = in.Name
			args = append(args, "--interface", second)
			break
		}
	}
	go func() { done <- Run(ctx, "test", args, &out, &errb) }()
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("metrics not served: %v\n%s", err, errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if second != "" && !strings.Contains(body, `vrrpguard_capture_kernel_drops_total{interface="`+second+`"}`) {
		t.Errorf("/metrics lacks the second interface %s", second)
	}
	for _, want := range []string{"vrrpguard_build_info", `vrrpguard_capture_kernel_drops_total{interface="lo"}`,
		`vrrpguard_capture_received_packets_total{interface="lo"}`, `vrrpguard_findings_total{kind="duplicate_master",state="raised"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz: %v %v", err, resp)
	}
	cancel()
	select {
	case st := <-done:
		if st != ExitOK {
			t.Errorf("watch exit %d: %s", st, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop")
	}
}

// TestWatchBadInterface: an interface that does not exist is waited for
// (it may be created later: see TestWatchWaitsForItsInterface), with a
// warning naming it, not an exit.
func TestWatchBadInterface(t *testing.T) {
	testenv.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var out, errb syncWriter
	st := Run(ctx, "test", []string{"watch", "--interface", "nosuchif0", "--listen", "off"}, &out, &errb)
	errs := errb.String()
	if st != ExitOK || !strings.Contains(errs, `msg="waiting for the interface to capture on" interface=nosuchif0`) {
		t.Errorf("exit %d stderr %q", st, errs)
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

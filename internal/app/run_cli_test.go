package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/jsondiff"
	"github.com/vrrpguard/vrrpguard/participant"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

func TestRunConfigErrors(t *testing.T) {
	bad := writeFile(t, "bad.conf", "vrrp_instance X {\n  interface eth0\n  priority 100\n}\n")
	empty := writeFile(t, "empty.conf", "global_defs {\n  bogus_keyword 1\n}\n")
	good := writeFile(t, "good.conf", "vrrp_instance X {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n")
	sdYAML := writeFile(t, "sd.yaml", "self_demote:\n  enabled: true\n")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--config", bad}, "bad.conf:1: vrrp_instance X: missing virtual_router_id"},
		{[]string{"run", "--config", empty}, "no vrrp_instance"},
		{[]string{"run", "--config", filepath.Join(t.TempDir(), "missing.conf")}, "no such file"},
		{[]string{"run", "--config", good, "--watch=false", "--self-demote"}, "self-demotion needs the segment watcher"},
		{[]string{"run", "--config", good, "--config", sdYAML, "--watch=false"}, "self-demotion needs the segment watcher"},
		{[]string{"run", "--config", good, "--own-adverts", "wire"}, `--own-adverts "wire": want handover or capture`},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		if st := Run(context.Background(), "test", tc.args, &out, &errb); st != ExitError {
			t.Errorf("%v: exit %d, want %d", tc.args, st, ExitError)
		}
		if !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: stderr %q, want %q", tc.args, errb.String(), tc.want)
		}
	}
}

func TestStatusCommand(t *testing.T) {
	doc := statusDoc{Version: "test", Instances: []participant.Status{{
		Instance: "VI_1", Interface: "eth0", VRID: 51, Family: "ipv4", Version: 3, State: "BACKUP",
		Priority: 100, Master: "10.0.0.1", Since: time.Unix(0, 0).UTC(), Reason: "startup",
	}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(doc)
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	if st := Run(context.Background(), "test", []string{"status", "--addr", srv.URL}, &out, &errb); st != ExitOK {
		t.Fatalf("exit %d: %s", st, errb.String())
	}
	for _, w := range []string{"VI_1", "BACKUP", "10.0.0.1", "v3/ipv4", "startup"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("status output lacks %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	if st := Run(context.Background(), "test", []string{"status", "--addr", "127.0.0.1:1"}, &out, &errb); st != ExitError {
		t.Errorf("status with nothing listening: exit %d", st)
	}
}

func TestWatchCaptureFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"watch", "--interface", "lo", "--capture", "mmap"}, `capture mode "mmap": want ring or socket`},
		{[]string{"watch", "--interface", "lo", "--capture-ring-mib", "0"}, "--capture-ring-mib 0: want 0.0625 to 1024"},
		{[]string{"watch", "--interface", "lo", "--capture-ring-mib", "4096"}, "--capture-ring-mib 4096: want 0.0625 to 1024"},
		{[]string{"watch", "--interface", "lo", "--capture-ring-mib", "0.03"}, "--capture-ring-mib 0.03: want 0.0625 to 1024"},
		{[]string{"watch", "--interface", "lo", "--capture-ring-mib", "NaN"}, "--capture-ring-mib NaN: want 0.0625 to 1024"},
		{[]string{"watch", "--interface", "lo", "--capture-block-timeout", "0s"}, "--capture-block-timeout 0s: want whole milliseconds from 1ms to 1s"},
		{[]string{"watch", "--interface", "lo", "--capture-block-timeout", "1500us"}, "--capture-block-timeout 1.5ms: want whole milliseconds from 1ms to 1s"},
		{[]string{"watch", "--interface", "lo", "--capture-block-timeout", "2s"}, "--capture-block-timeout 2s: want whole milliseconds from 1ms to 1s"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		if st := Run(context.Background(), "test", tc.args, &out, &errb); st != ExitError {
			t.Errorf("%v: exit %d, want %d", tc.args, st, ExitError)
		}
		if !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: stderr %q, want %q", tc.args, errb.String(), tc.want)
		}
	}
}

func TestRingConfig(t *testing.T) {
	page := os.Getpagesize()
	tests := []struct {
		mib  float64
		want sniffer.RingConfig
	}{
		{8, sniffer.RingConfig{BlockSize: 16 << 10, Blocks: 512}},
		{1, sniffer.RingConfig{BlockSize: 16 << 10, Blocks: 64}},
		{runRingMiB, sniffer.RingConfig{BlockSize: page, Blocks: (512 << 10) / page}},
		{0.0625, sniffer.RingConfig{BlockSize: page, Blocks: (64 << 10) / page}},
		{0.3, sniffer.RingConfig{BlockSize: page, Blocks: 314572 / page}}, // 0.3 MiB, rounded down to pages
	}
	for _, tc := range tests {
		got, err := ringConfig(tc.mib)
		if err != nil {
			t.Errorf("ringConfig(%g): %v", tc.mib, err)
			continue
		}
		if d := jsondiff.Diff(tc.want, got); d != "" {
			t.Errorf("ringConfig(%g) (-want +got):\n%s", tc.mib, d)
		}
	}
}

// TestCaptureBlockTimeoutDefaults checks the ring's block timeout each
// command starts with: watch hands packets over at once (1 ms), run
// batches its own segments' adverts (runBlockTimeout).
func TestCaptureBlockTimeoutDefaults(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		{"watch", "(default 1ms)"},
		{"run", "(default " + runBlockTimeout.String() + ")"},
	} {
		var out, errb bytes.Buffer
		if st := Run(context.Background(), "test", []string{tc.cmd, "-h"}, &out, &errb); st != ExitOK {
			t.Fatalf("%s -h: exit %d: %s", tc.cmd, st, errb.String())
		}
		_, help, ok := strings.Cut(out.String(), "-capture-block-timeout duration")
		if !ok {
			t.Fatalf("%s -h has no --capture-block-timeout:\n%s", tc.cmd, out.String())
		}
		help, _, _ = strings.Cut(help, "\n  -")
		if !strings.Contains(help, tc.want) {
			t.Errorf("%s --capture-block-timeout help %q, want %q", tc.cmd, help, tc.want)
		}
	}
}

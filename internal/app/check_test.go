package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

const samplesDir = "../../testdata/keepalived-samples"

func runCheckCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	st := Run(context.Background(), "test", append([]string{"check"}, args...), &out, &errb)
	return st, out.String(), errb.String()
}

// warningLine is a warning of check: "vrrpguard check: warning: FILE:LINE: …"
// or a log record with at=FILE:LINE.
var warningLine = regexp.MustCompile(`^vrrpguard check: (warning: [^:]+:\d+: |time=\S+ level=WARN .*at=\S+:\d+)`)

// TestCheckSamples loads every sample configuration with `vrrpguard
// check`: each can run (exit 0), and every warning names its file:line.
// (TestSampleKeywords, in config/keepalived, checks that every keyword of
// the samples is implemented or warned about.)
func TestCheckSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.conf"))
	if err != nil || len(files) < 20 {
		t.Fatalf("samples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			st, out, errs := runCheckCmd("--config", f)
			if st != 0 {
				t.Fatalf("exit %d, want 0\n%s%s", st, out, errs)
			}
			if !strings.Contains(out, ": ok, ") {
				t.Errorf("stdout %q", out)
			}
			for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
				if l != "" && !warningLine.MatchString(l) {
					t.Errorf("warning without file:line: %s", l)
				}
			}
		})
	}
}

// TestCheckExit checks check's exit statuses: 1 for a configuration run
// refuses, 2 for bad usage.
func TestCheckExit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	inst := "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  192.0.2.1\n }\n%s}\n"
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"runnable", []string{"--config", write("ok.conf", strings.Replace(inst, "%s", "", 1))}, 0, ""},
		{"syntax error", []string{"--config", write("bad.conf", "vrrp_instance VI_1 {\n interface eth0\n")}, 1, "bad.conf:"},
		{"bad VRID", []string{"--config", write("vrid.conf", strings.Replace(strings.Replace(inst, "%s", "", 1), "51", "300", 1))}, 1, "vrid.conf:3"},
		{"AH authentication", []string{"--config", write("ah.conf", strings.Replace(inst, "%s", " authentication {\n  auth_type AH\n  auth_pass x\n }\n", 1))}, 1, "auth_type AH"},
		{"no instance", []string{"--config", write("empty.conf", "global_defs {\n}\n")}, 1, "no vrrp_instance"},
		{"missing file", []string{"--config", filepath.Join(dir, "nope.conf")}, 1, "nope.conf"},
		{"bad flag", []string{"--bogus"}, 2, "-bogus"},
		{"positional argument", []string{"x.conf"}, 2, "--config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, out, errs := runCheckCmd(tc.args...)
			if st != tc.want {
				t.Errorf("exit %d, want %d\n%s%s", st, tc.want, out, errs)
			}
			if !strings.Contains(errs, tc.msg) {
				t.Errorf("stderr lacks %q:\n%s", tc.msg, errs)
			}
		})
	}
}

// TestSamplesKeepalivedAccepts runs keepalived 2.2.7's config test
// (keepalived -t) on every sample in a namespace with the interfaces they
// name: the samples are configurations keepalived accepts, so vrrpguard
// check accepting them (TestCheckSamples) is the same verdict.
func TestSamplesKeepalivedAccepts(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t)
	h := lab.AddHost("s", "192.0.2.2/24")
	h.Run(t, "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
	h.Run(t, "ip", "link", "set", "eth1", "up")
	h.Run(t, "ip", "link", "set", "eth1p", "up")
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.Cmd("keepalived", "-t", "-f", abs).CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGTERM:
			// keepalived 2.2.7's config test kills itself after checking a
			// script that runs as another user (see netlab.StartKeepalived).
			if !bytes.Contains([]byte(readFile(t, abs)), []byte("nobody")) {
				t.Errorf("%s: keepalived -t terminated without a script of another user: %s", f, out)
			}
		default:
			t.Errorf("%s: keepalived -t: %v\n%s", f, err, out)
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

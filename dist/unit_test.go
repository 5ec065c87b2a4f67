// Package dist_test checks the systemd unit: its sandbox must let track
// scripts see and signal other users' processes.
package dist_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

const unitFile = "vrrpguard.service"

// helperEnv makes the test binary, run inside a sandbox, subscribe to the
// netlink process connector (as track_process does) instead of testing.
const helperEnv = "VRRPGUARD_UNIT_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "proc-connector" {
		os.Exit(procConnector())
	}
	os.Exit(m.Run())
}

// procConnector subscribes to the process connector (NETLINK_CONNECTOR,
// CN_IDX_PROC, PROC_CN_MCAST_LISTEN), checks the kernel's acknowledgement
// and waits for one process event: 0 on success, 1 if refused, 3 on any
// other failure.
func procConnector() int {
	const netlinkConnector, cnIdxProc, cnValProc, listen = 11, 1, 1, 1
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM, netlinkConnector)
	if err != nil {
		fmt.Println("socket:", err)
		return 3
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		fmt.Println("bind:", err)
		return 1
	}
	ne := binary.NativeEndian
	msg := make([]byte, 16+20+4) // nlmsghdr, cn_msg, op
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], syscall.NLMSG_DONE)
	ne.PutUint32(msg[12:], uint32(os.Getpid()))
	ne.PutUint32(msg[16:], cnIdxProc)
	ne.PutUint32(msg[20:], cnValProc)
	ne.PutUint16(msg[32:], 4)
	ne.PutUint32(msg[36:], listen)
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		fmt.Println("send:", err)
		return 1
	}
	tv := syscall.NsecToTimeval(int64(5 * time.Second))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		fmt.Println("timeout:", err)
		return 3
	}
	go func() { // something to report
		for range 20 {
			_ = exec.Command("true").Run()
			time.Sleep(100 * time.Millisecond)
		}
	}()
	buf := make([]byte, 4096)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			fmt.Println("receive:", err)
			return 3
		}
		if n < 56 {
			continue
		}
		// proc_event after nlmsghdr and cn_msg: what, cpu, timestamp, data.
		if what := ne.Uint32(buf[36:]); what != 0 {
			return 0 // an event
		}
		if e := ne.Uint32(buf[52:]); e != 0 { // PROC_EVENT_NONE: the ack
			fmt.Println("refused:", syscall.Errno(e))
			return 1
		}
	}
}

// oldUnit is the sandbox of the unit before it was fixed (DynamicUser and
// ProtectProc=invisible): with it a track script `killall -0 haproxy`
// never succeeds.
const oldUnit = `[Service]
DynamicUser=yes
AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN
CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN
ProtectProc=invisible
`

// parseUnit returns the [Service] settings of a unit file: each key with
// its values in order (a key may be given several times).
func parseUnit(r io.Reader) (map[string][]string, error) {
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case l[0] == '[':
			section = strings.Trim(l, "[]")
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				return nil, fmt.Errorf("line %d: no '=' in %q", n, l)
			}
			if section == "Service" {
				out[strings.TrimSpace(k)] = append(out[strings.TrimSpace(k)], strings.TrimSpace(v))
			}
		}
	}
	return out, sc.Err()
}

func loadUnit(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, err := parseUnit(f)
	if err != nil {
		t.Fatalf("%s: %v", unitFile, err)
	}
	return u
}

// last returns the last value of key ("" if not set).
func last(u map[string][]string, key string) string {
	if v := u[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// caps returns the capabilities of a capability list setting, in setpriv's
// spelling (net_raw).
func caps(u map[string][]string, key string) []string {
	var out []string
	for _, v := range u[key] {
		for _, c := range strings.Fields(v) {
			out = append(out, strings.ToLower(strings.TrimPrefix(c, "CAP_")))
		}
	}
	return out
}

// sandbox is what a unit's settings mean for the processes it starts, as
// far as seeing and signalling other processes goes.
type sandbox struct {
	uid, gid int
	bounding []string // CapabilityBoundingSet
	ambient  []string // AmbientCapabilities
	hideProc bool     // ProtectProc= other than default
}

// sandboxOf derives the sandbox from the unit's settings. DynamicUser gets a
// uid from systemd's dynamic range (61184-65519) that no process uses here.
func sandboxOf(t *testing.T, u map[string][]string) sandbox {
	t.Helper()
	var s sandbox
	switch user := last(u, "User"); {
	case last(u, "DynamicUser") == "yes":
		s.uid, s.gid = 61999, 61999
	case user == "" || user == "root" || user == "0":
	default:
		t.Fatalf("User=%s: the test knows root and DynamicUser only", user)
	}
	s.bounding, s.ambient = caps(u, "CapabilityBoundingSet"), caps(u, "AmbientCapabilities")
	switch p := last(u, "ProtectProc"); p {
	case "", "default":
	case "invisible", "noaccess", "ptraceable":
		s.hideProc = true
	default:
		t.Fatalf("ProtectProc=%s unknown", p)
	}
	return s
}

// run runs argv with the sandbox's credentials and /proc, the way systemd
// would start it: a mount namespace with /proc mounted hidepid=invisible
// when ProtectProc hides processes, then setpriv to the user, its
// capability bounding set and ambient capabilities.
func (s sandbox) run(argv ...string) (string, error) {
	setpriv := []string{"setpriv", "--reuid", strconv.Itoa(s.uid), "--regid", strconv.Itoa(s.gid), "--clear-groups",
		"--bounding-set", capList(s.bounding)}
	if s.uid != 0 {
		setpriv = append(setpriv, "--inh-caps", capList(s.ambient), "--ambient-caps", capList(s.ambient))
	} else {
		setpriv = append(setpriv, "--inh-caps", "-all")
	}
	inner := "exec " + shellJoin(append(append(setpriv, "--"), argv...))
	if s.hideProc {
		inner = "mount -t proc -o hidepid=invisible proc /proc && " + inner
	}
	out, err := exec.Command("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", inner).CombinedOutput()
	return string(out), err
}

func capList(cs []string) string {
	l := "-all"
	for _, c := range cs {
		l += ",+" + c
	}
	return l
}

func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// copyTestBinary copies the test binary where any user may run it, for
// the process connector check inside a sandbox.
func copyTestBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "unit-helper")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// startTarget starts a process of the user nobody under a unique name (a
// copy of sleep), standing for haproxy, and returns its name.
func startTarget(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("vgtgt%d", os.Getpid()%100000)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// Wait until its name is the copy's (after execve).
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid)); strings.TrimSpace(string(c)) == name {
			return name
		}
	}
	t.Fatalf("%s did not start", name)
	return ""
}

// TestUnitScriptsSeeOtherUsers runs `killall -0` (the classic
// `vrrp_script { script "killall -0 haproxy" }`) and `pgrep` for a process
// of another user inside the sandbox of the unit before the fix, which
// fails (the node would never be master), and of dist/vrrpguard.service,
// which succeeds; in both the netlink process connector (track_process)
// works.
func TestUnitScriptsSeeOtherUsers(t *testing.T) {
	netlab.Require(t)
	for _, tool := range []string{"setpriv", "unshare", "killall", "pgrep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (util-linux, psmisc, procps): %v", tool, err)
		}
	}
	target := startTarget(t)
	helper := copyTestBinary(t)
	old, err := parseUnit(strings.NewReader(oldUnit))
	if err != nil {
		t.Fatal(err)
	}
	oldNoHide := map[string][]string{}
	for k, v := range old {
		if k != "ProtectProc" {
			oldNoHide[k] = v
		}
	}
	tests := []struct {
		name   string
		unit   map[string][]string
		killOK bool // killall -0 succeeds
		seen   bool // pgrep finds it
	}{
		{"old unit: DynamicUser, ProtectProc=invisible", old, false, false},
		{"old unit without ProtectProc: DynamicUser alone", oldNoHide, false, true},
		{unitFile, loadUnit(t), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sandboxOf(t, tc.unit)
			out, err := s.run("killall", "-0", target)
			if (err == nil) != tc.killOK {
				t.Errorf("killall -0 %s: err %v (want success %v): %s", target, err, tc.killOK, out)
			}
			out, err = s.run("pgrep", "-x", target)
			if (err == nil) != tc.seen {
				t.Errorf("pgrep -x %s: err %v (want found %v): %s", target, err, tc.seen, out)
			}
			// track_process's netlink process connector works there.
			if out, err := s.run("env", helperEnv+"=proc-connector", helper); err != nil {
				t.Errorf("process connector: %v: %s", err, out)
			}
			// The sandbox is real: the capabilities are the unit's.
			out, err = s.run("sh", "-c", "grep ^CapEff /proc/self/status")
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if !strings.Contains(out, "CapEff:") || strings.HasSuffix(strings.TrimSpace(out), "000001ffffffffff") {
				t.Errorf("effective capabilities not reduced: %s", out)
			}
		})
	}
}

// TestUnitProperties checks the settings of dist/vrrpguard.service that
// the sandbox test and vrrpguard rely on, so the file and the test cannot
// drift apart.
func TestUnitProperties(t *testing.T) {
	u := loadUnit(t)
	if v := last(u, "DynamicUser"); v == "yes" {
		t.Error("DynamicUser=yes: scripts cannot signal other users' processes")
	}
	if u := last(u, "User"); u != "root" {
		t.Errorf("User=%q, want root (explicit)", u)
	}
	if v := last(u, "ProtectProc"); v != "" && v != "default" {
		t.Errorf("ProtectProc=%s hides other users' processes from scripts", v)
	}
	if v := last(u, "ProcSubset"); v != "" && v != "all" {
		t.Errorf("ProcSubset=%s hides /proc/net and /proc/sys from scripts", v)
	}
	if _, ok := u["PrivateUsers"]; ok {
		t.Error("PrivateUsers= moves CAP_NET_ADMIN out of the initial user namespace (netlink process connector)")
	}
	bset := caps(u, "CapabilityBoundingSet")
	for _, c := range []string{"net_raw", "net_admin", "kill", "setuid", "setgid", "chown"} {
		if !slices.Contains(bset, c) {
			t.Errorf("CapabilityBoundingSet lacks CAP_%s", strings.ToUpper(c))
		}
	}
	for _, f := range u["SystemCallFilter"] {
		if strings.HasPrefix(f, "~") && (strings.Contains(f, "@privileged") || strings.Contains(f, "@setuid") || strings.Contains(f, "@chown")) {
			t.Errorf("SystemCallFilter=%s forbids running scripts as their user", f)
		}
	}
	if v := last(u, "MemoryDenyWriteExecute"); v == "yes" {
		t.Error("MemoryDenyWriteExecute=yes breaks JIT runtimes in scripts")
	}
	if !strings.Contains(last(u, "ExecStart"), "vrrpguard run") {
		t.Errorf("ExecStart=%s", last(u, "ExecStart"))
	}
}

package participant

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
)

// secureDir returns a directory that only root can modify (all the way up),
// or skips the test when that cannot be had (not root, or a TMPDIR that a
// non-root user may write).
func secureDir(t *testing.T) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root: files owned by other users")
	}
	dir := t.TempDir()
	// Other users (nobody) must reach the scripts: t.TempDir's parent is
	// 0700 too.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	probe := mkScript(t, dir+"/probe", 0o755, 0, 0)
	if why := unsafePart(probe); why != "" {
		t.Skipf("the temporary directory is not secure: %s", why)
	}
	return dir
}

// mkScript writes an executable shell script.
func mkScript(t *testing.T, path string, mode os.FileMode, uid, gid int) string {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func mkDir(t *testing.T, path string, mode os.FileMode, uid int) string {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckScriptSecure checks keepalived's rules for scripts run as root:
// every part of the resolved path owned by root, not writable by a
// non-root group or everyone unless a sticky directory; executable by the
// user; found in PATH.
func TestCheckScriptSecure(t *testing.T) {
	dir := secureDir(t)
	root, nobody := runAs{}, runAs{uid: 65534, gid: 65534}
	tests := []struct {
		name string
		// setup returns the program as configured.
		setup          func(t *testing.T, d string) string
		as             runAs
		notFound       bool
		executable     bool
		insecureSubstr string // "" = secure
	}{
		{"root file 0755", func(t *testing.T, d string) string { return mkScript(t, d+"/s", 0o755, 0, 0) }, root, false, true, ""},
		{"world-writable file", func(t *testing.T, d string) string { return mkScript(t, d+"/s", 0o757, 0, 0) }, root, false, true, "writable by everyone"},
		{"group-writable, non-root group", func(t *testing.T, d string) string { return mkScript(t, d+"/s", 0o775, 0, 100) }, root, false, true, "writable by group 100"},
		{"group-writable, root group", func(t *testing.T, d string) string { return mkScript(t, d+"/s", 0o775, 0, 0) }, root, false, true, ""},
		{"owned by another user", func(t *testing.T, d string) string { return mkScript(t, d+"/s", 0o755, 1000, 0) }, root, false, true, "owned by uid 1000"},
		{"in a world-writable directory", func(t *testing.T, d string) string {
			return mkScript(t, mkDir(t, d+"/w", 0o777, 0)+"/s", 0o755, 0, 0)
		}, root, false, true, "/w is writable by everyone"},
		{"in a sticky world-writable directory", func(t *testing.T, d string) string {
			return mkScript(t, mkDir(t, d+"/w", os.ModeSticky|0o777, 0)+"/s", 0o755, 0, 0)
		}, root, false, true, ""},
		{"in a directory of another user", func(t *testing.T, d string) string {
			return mkScript(t, mkDir(t, d+"/u", 0o755, 1000)+"/s", 0o755, 0, 0)
		}, root, false, true, "owned by uid 1000"},
		{"symlink to an unsafe script", func(t *testing.T, d string) string {
			target := mkScript(t, mkDir(t, d+"/w", 0o777, 0)+"/s", 0o755, 0, 0)
			if err := os.Symlink(target, d+"/link"); err != nil {
				t.Fatal(err)
			}
			return d + "/link"
		}, root, false, true, "writable by everyone"},
		{"not executable", func(t *testing.T, d string) string { return mkScript(t, d+"/s", 0o644, 0, 0) }, root, false, false, ""},
		{"run as nobody: no root, no check", func(t *testing.T, d string) string { return mkScript(t, d+"/s", 0o757, 0, 0) }, nobody, false, true, ""},
		{"not executable by nobody", func(t *testing.T, d string) string { return mkScript(t, d+"/s", 0o750, 0, 0) }, nobody, false, false, ""},
		{"set-user-ID root run as nobody", func(t *testing.T, d string) string { return mkScript(t, d+"/s", os.ModeSetuid|0o757, 0, 0) }, nobody, false, true, "writable by everyone"},
		{"bare name in PATH", func(t *testing.T, d string) string { return "true" }, root, false, true, ""},
		{"missing", func(t *testing.T, d string) string { return d + "/nope" }, root, true, false, ""},
		{"bare name not in PATH", func(t *testing.T, d string) string { return "no-such-program-vrrpguard" }, root, true, false, ""},
	}
	for n, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mkDir(t, filepath.Join(dir, string(rune('a'+n))), 0o755, 0)
			prog := tc.setup(t, d)
			v := checkScriptSecure(prog, tc.as, exec.LookPath)
			if (v.notFound != nil) != tc.notFound {
				t.Errorf("notFound = %v, want %v", v.notFound, tc.notFound)
			}
			if v.executable != tc.executable {
				t.Errorf("executable = %v, want %v", v.executable, tc.executable)
			}
			if tc.insecureSubstr == "" && v.insecure != "" || !strings.Contains(v.insecure, tc.insecureSubstr) {
				t.Errorf("insecure = %q, want %q", v.insecure, tc.insecureSubstr)
			}
		})
	}
}

// fakeUsers is a user database for tests.
func fakeUsers(users map[string]runAs) lookupFunc {
	return func(name, group string) (runAs, error) {
		u, ok := users[name]
		if !ok {
			return runAs{}, errors.New("unknown user " + name)
		}
		if group != "" {
			g, ok := users["group:"+group]
			if !ok {
				return runAs{}, errors.New("unknown group " + group)
			}
			u.gid = g.gid
		}
		return u, nil
	}
}

// TestScriptEnvUsers checks whom scripts run as, and which are refused, as
// keepalived decides it: the script's own user, else script_user, else
// keepalived_script if it exists, else vrrpguard's own user; with
// enable_script_security an unsafe script run as root is refused, and so
// is every script without a user when no default user can be had.
func TestScriptEnvUsers(t *testing.T) {
	dir := secureDir(t)
	safe := mkScript(t, dir+"/safe", 0o755, 0, 0)
	unsafe := mkScript(t, mkDir(t, dir+"/w", 0o777, 0)+"/unsafe", 0o755, 0, 0)
	self := runAs{uid: uint32(os.Getuid()), gid: uint32(os.Getgid())}
	nobody := runAs{uid: 65534, gid: 65534}
	ks := runAs{uid: 990, gid: 990}
	withKS := map[string]runAs{"nobody": nobody, "keepalived_script": ks, "group:adm": {gid: 4}}
	withoutKS := map[string]runAs{"nobody": nobody, "group:adm": {gid: 4}}
	tests := []struct {
		name     string
		global   keepalived.Global
		users    map[string]runAs
		prog     string
		line     keepalived.RunAs
		want     *runAs // nil: not run
		wantWarn string // in the log
	}{
		{"default: keepalived_script", keepalived.Global{}, withKS, safe, keepalived.RunAs{}, &ks, ""},
		{"default: own user without keepalived_script", keepalived.Global{}, withoutKS, safe, keepalived.RunAs{}, &self, "enable_script_security is not set"},
		{"script_user", keepalived.Global{ScriptUser: keepalived.RunAs{User: "nobody"}}, withKS, safe, keepalived.RunAs{}, &nobody, ""},
		{"script_user with group", keepalived.Global{ScriptUser: keepalived.RunAs{User: "nobody", Group: "adm"}}, withKS, safe, keepalived.RunAs{}, &runAs{uid: 65534, gid: 4}, ""},
		{"unknown script_user: not run", keepalived.Global{ScriptUser: keepalived.RunAs{User: "ghost"}}, withKS, safe, keepalived.RunAs{}, nil, "no default script user"},
		{"the line's user wins", keepalived.Global{ScriptUser: keepalived.RunAs{User: "ghost"}}, withKS, safe, keepalived.RunAs{User: "nobody"}, &nobody, ""},
		{"unknown line user: not run", keepalived.Global{}, withKS, safe, keepalived.RunAs{User: "ghost"}, nil, "invalid user or group"},
		{"unknown line group: not run", keepalived.Global{}, withKS, safe, keepalived.RunAs{User: "nobody", Group: "ghosts"}, nil, "invalid user or group"},
		{"security without keepalived_script: default refused", keepalived.Global{ScriptSecurity: true}, withoutKS, safe, keepalived.RunAs{}, nil, "no default script user"},
		{"security without keepalived_script: own user ok", keepalived.Global{ScriptSecurity: true}, withoutKS, safe, keepalived.RunAs{User: "nobody"}, &nobody, ""},
		{"unsafe as root with security: refused", keepalived.Global{ScriptSecurity: true, ScriptUser: keepalived.RunAs{User: "root"}}, map[string]runAs{"root": {}}, unsafe, keepalived.RunAs{}, nil, "unsafe permissions"},
		{"unsafe as root without security: warned, run", keepalived.Global{ScriptUser: keepalived.RunAs{User: "root"}}, map[string]runAs{"root": {}}, unsafe, keepalived.RunAs{}, &runAs{}, "unsafe permissions found"},
		{"unsafe as nobody with security: run", keepalived.Global{ScriptSecurity: true}, withKS, unsafe, keepalived.RunAs{User: "nobody"}, &nobody, ""},
		{"missing: not run", keepalived.Global{}, withKS, dir + "/missing", keepalived.RunAs{}, nil, "cannot find"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			e := newScriptEnv(&tc.global, log, fakeUsers(tc.users), nil)
			c := e.prepare("notify_master", tc.prog+" arg", tc.line, "keepalived.conf:7")
			e.done()
			switch {
			case tc.want == nil && c != nil:
				t.Errorf("runs as %v, want not run", c.as)
			case tc.want != nil && c == nil:
				t.Errorf("not run, want as %v\n%s", *tc.want, buf.String())
			case c != nil && c.as != *tc.want:
				t.Errorf("runs as %v, want %v", c.as, *tc.want)
			}
			if c != nil && (c.cred == nil) != (c.as == self) {
				t.Errorf("credential %+v for %v (vrrpguard is %v)", c.cred, c.as, self)
			}
			if tc.wantWarn != "" && !strings.Contains(buf.String(), tc.wantWarn) {
				t.Errorf("log lacks %q:\n%s", tc.wantWarn, buf.String())
			}
			if c == nil && !strings.Contains(buf.String(), "at=keepalived.conf:7") {
				t.Errorf("refusal without file:line:\n%s", buf.String())
			}
		})
	}
}

// TestScriptRunsAsUser runs a script as the system's user nobody and
// group nogroup and checks the ids it sees.
func TestScriptRunsAsUser(t *testing.T) {
	dir := secureDir(t)
	out := mkDir(t, dir+"/out", os.ModeSticky|0o777, 0)
	ra, err := lookupUser("nobody", "nogroup")
	if err != nil {
		t.Skipf("no user nobody / group nogroup: %v", err)
	}
	prog := dir + "/who.sh"
	if err := os.WriteFile(prog, []byte("#!/bin/sh\necho \"$(id -u):$(id -g):$(id -G)\" > \""+out+"/who\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newScriptEnv(&keepalived.Global{ScriptSecurity: true}, slog.New(slog.NewTextHandler(io.Discard, nil)), lookupUser, nil)
	c := e.prepare("notify", prog, keepalived.RunAs{User: "nobody", Group: "nogroup"}, "keepalived.conf:1")
	if c == nil {
		t.Fatal("not run")
	}
	if err := c.cmd(t.Context()).Run(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out + "/who")
	if err != nil {
		t.Fatal(err)
	}
	want := runAs{uid: ra.uid, gid: ra.gid}
	if got := strings.TrimSpace(string(b)); got != want.String()+":"+strconv.FormatUint(uint64(ra.gid), 10) {
		t.Errorf("script saw uid:gid:groups %q, want %s:%d (no other groups)", got, want, ra.gid)
	}
}

package participant

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
)

// defaultScriptUser is the user keepalived runs scripts as when neither
// the script's line nor script_user names one, if it exists.
const defaultScriptUser = "keepalived_script"

// runAs is the user and group a script runs as.
type runAs struct {
	uid, gid uint32
}

// String formats the credential as keepalived logs it, "uid:gid".
func (r runAs) String() string { return fmt.Sprintf("%d:%d", r.uid, r.gid) }

// lookupFunc resolves a user name and an optional group name to a
// credential: the user's uid and the group's gid, or the user's primary
// group when group is empty.
type lookupFunc func(name, group string) (runAs, error)

// lookupUser resolves user and group names with the system's user database
// (os/user, which reads /etc/passwd and /etc/group without cgo).
func lookupUser(name, group string) (runAs, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return runAs{}, fmt.Errorf("script user %q: %w", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return runAs{}, fmt.Errorf("script user %q: %w", name, err)
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return runAs{}, fmt.Errorf("script group %q: %w", group, err)
		}
		if gid, err = strconv.ParseUint(g.Gid, 10, 32); err != nil {
			return runAs{}, fmt.Errorf("script group %q: %w", group, err)
		}
	}
	return runAs{uid: uint32(uid), gid: uint32(gid)}, nil
}

// command is a script ready to run: its argument vector and credential.
type command struct {
	// argv is the command line split with keepalived's quoting.
	argv []string
	// as is whom it runs as; cred is nil when that is vrrpguard itself.
	as   runAs
	cred *syscall.Credential
	// what and pos name the script in logs ("notify_master", "vrrp_script
	// chk") and where it is configured.
	what, pos string
}

// cmd returns an exec.Cmd of the command with extra arguments appended,
// running as its user in a process group of its own (as keepalived does).
func (c *command) cmd(ctx context.Context, extra ...string) *exec.Cmd {
	argv := append(append([]string(nil), c.argv...), extra...)
	x := exec.CommandContext(ctx, argv[0], argv[1:]...)
	x.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Setpgid: true}
	// A timed-out or cancelled script dies with its whole process group
	// (a `sh -c` script's children too), as keepalived kills it.
	x.Cancel = func() error { return syscall.Kill(-x.Process.Pid, syscall.SIGKILL) }
	x.WaitDelay = time.Second
	return x
}

// scriptEnv prepares the scripts of one configuration as keepalived 2.2.7
// does (lib/notify.c): it resolves whom each runs as (the user on its
// line, else script_user, else keepalived_script if that user exists, else
// vrrpguard's own user) and checks it (check_script_secure): a script that
// cannot be found or is not executable by its user is not run, and one
// run as root from a path that a non-root user could modify is not run
// when enable_script_security is set (and warned about when not).
type scriptEnv struct {
	log      *slog.Logger
	self     runAs
	security bool
	lookup   lookupFunc
	lookPath func(string) (string, error)
	// def is the default credential; defErr, if set, means scripts without
	// a user of their own are not run.
	def    runAs
	defErr error
	// ran is set once a script will run: keepalived then warns if script
	// security is off.
	ran bool
	// fifo is the router's notify FIFOs (nil: none).
	fifo *fifoSet
}

// newScriptEnv returns the script environment of a configuration's
// global_defs.
func newScriptEnv(g *keepalived.Global, log *slog.Logger, lookup lookupFunc, fifo *fifoSet) *scriptEnv {
	e := &scriptEnv{log: log, security: g.ScriptSecurity, lookup: lookup, lookPath: exec.LookPath, fifo: fifo,
		self: runAs{uid: uint32(os.Getuid()), gid: uint32(os.Getgid())}}
	e.def = e.self
	at := g.File + ":" + strconv.Itoa(g.Line)
	switch {
	case g.ScriptUser.User != "":
		if e.def, e.defErr = lookup(g.ScriptUser.User, g.ScriptUser.Group); e.defErr != nil {
			log.Warn("script_user: scripts without a user of their own will not run", "at", at, "err", e.defErr)
		}
	default:
		if ra, err := lookup(defaultScriptUser, ""); err == nil {
			e.def = ra
		} else if e.security {
			// keepalived: "Unable to set default user keepalived_script
			// for script", and such scripts are dropped.
			e.defErr = fmt.Errorf("enable_script_security without script_user needs the user %s: %w", defaultScriptUser, err)
			log.Warn("scripts without a user of their own will not run", "at", at, "err", e.defErr)
		}
	}
	return e
}

// prepare resolves and checks one script; nil means it must not run (the
// reason is logged with the script's position).
func (e *scriptEnv) prepare(what, cmdline string, ra keepalived.RunAs, pos string) *command {
	log := e.log.With("script", what, "at", pos)
	argv, err := keepalived.SplitScript(cmdline)
	if err == nil && len(argv) == 0 {
		err = errors.New("empty command")
	}
	if err != nil {
		log.Warn("script not run: cannot split its command line", "command", cmdline, "err", err)
		return nil
	}
	c := &command{argv: argv, what: what, pos: pos, as: e.def}
	if ra.User != "" {
		if c.as, err = e.lookup(ra.User, ra.Group); err != nil {
			log.Warn("script not run: invalid user or group", "err", err)
			return nil
		}
	} else if e.defErr != nil {
		log.Warn("script not run: no default script user", "err", e.defErr)
		return nil
	}
	v := checkScriptSecure(argv[0], c.as, e.lookPath)
	switch {
	case v.notFound != nil:
		log.Warn("script not run: cannot find or access it", "command", argv[0], "err", v.notFound)
		return nil
	case !v.executable:
		log.Warn("script not run: not executable for its user", "command", v.path, "uid:gid", c.as.String())
		return nil
	case v.insecure != "" && e.security:
		log.Warn("script not run: unsafe permissions (enable_script_security)", "command", v.path, "uid:gid", c.as.String(), "reason", v.insecure)
		return nil
	case v.insecure != "":
		log.Warn("unsafe permissions found for script: a non-root user can change what runs as root", "command", v.path, "uid:gid", c.as.String(), "reason", v.insecure)
	}
	e.ran = true
	if c.as != e.self {
		c.cred = &syscall.Credential{Uid: c.as.uid, Gid: c.as.gid, Groups: []uint32{c.as.gid}}
	}
	return c
}

// done logs keepalived's warning about running scripts without script
// security, once per configuration.
func (e *scriptEnv) done() {
	if e.ran && !e.security {
		e.log.Warn("scripts are being run but enable_script_security is not set in global_defs (keepalived reports this as a SECURITY VIOLATION)")
	}
}

// secVerdict is the result of checkScriptSecure.
type secVerdict struct {
	// path is the script's resolved path.
	path string
	// notFound is why the script cannot be found or accessed (nil: it can).
	notFound error
	// executable is whether its user may execute it.
	executable bool
	// insecure, if set, says which part of the path a non-root user could
	// modify, when it runs with root privileges.
	insecure string
}

// checkScriptSecure checks a script's program as keepalived's
// check_script_secure does: a bare name is looked up in PATH, the path is
// resolved (symbolic links, "..", "//"), the file must be executable by
// its user, and if that user or group is root (or the file is set-user-ID
// or set-group-ID root) every part of the resolved path must be owned by
// root and not writable by another group or by all (a directory with the
// sticky bit, such as /tmp, may be).
func checkScriptSecure(prog string, as runAs, lookPath func(string) (string, error)) secVerdict {
	path := prog
	if !strings.Contains(prog, "/") {
		p, err := lookPath(prog)
		if err != nil {
			return secVerdict{path: prog, notFound: err}
		}
		path = p
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		path, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return secVerdict{path: prog, notFound: err}
	}
	v := secVerdict{path: path}
	fi, err := os.Stat(path)
	if err != nil {
		v.notFound = err
		return v
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		v.notFound = errors.New("no file owner information")
		return v
	}
	v.executable = isExecutable(st, as)
	if !v.executable {
		return v
	}
	const setuid, setgid = syscall.S_ISUID, syscall.S_ISGID
	root := as.uid == 0 || as.gid == 0 ||
		st.Uid == 0 && st.Mode&0o100 != 0 && st.Mode&setuid != 0 ||
		st.Gid == 0 && st.Mode&0o010 != 0 && st.Mode&setgid != 0
	if root {
		v.insecure = unsafePart(path)
	}
	return v
}

// isExecutable is keepalived's is_executable: root may execute a file with
// any execute bit; others by the owner, group or other bit that applies.
func isExecutable(st *syscall.Stat_t, as runAs) bool {
	m := st.Mode
	switch {
	case as.uid == 0:
		return m&0o111 != 0
	case as.uid == st.Uid:
		return m&0o100 != 0
	case as.gid == st.Gid:
		return m&0o010 != 0
	}
	return m&0o001 != 0
}

// unsafePart returns the first part of the absolute, resolved path
// (starting with "/") that is not owned by root, or is a file or a
// directory without the sticky bit that a non-root group or everyone may
// write, with why; "" if there is none.
func unsafePart(path string) string {
	parts := []string{"/"}
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			parts = append(parts, path[:i])
		}
	}
	parts = append(parts, path)
	for n, p := range parts {
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Sprintf("%s: %v", p, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return p + ": no owner information"
		}
		last := n == len(parts)-1
		if !last && !fi.IsDir() || last && !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0 {
			return p + ": wrong file type"
		}
		if st.Uid != 0 {
			return fmt.Sprintf("%s is owned by uid %d", p, st.Uid)
		}
		sticky := fi.Mode()&fs.ModeSticky != 0
		if fi.IsDir() && sticky {
			continue
		}
		if st.Gid != 0 && st.Mode&0o020 != 0 {
			return fmt.Sprintf("%s is writable by group %d", p, st.Gid)
		}
		if st.Mode&0o002 != 0 {
			return p + " is writable by everyone"
		}
	}
	return ""
}

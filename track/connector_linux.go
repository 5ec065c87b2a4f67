package track

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel's process connector ABI (linux/connector.h, linux/cn_proc.h).
const (
	cnIdxProc          = 1
	cnValProc          = 1
	procCnMcastListen  = 1
	procCnMcastIgnore  = 2
	procEventNone      = 0
	procEventFork      = 0x00000001
	procEventExec      = 0x00000002
	procEventComm      = 0x00000200
	procEventExit      = 0x80000000
	nlmsgHdrLen        = 16
	cnMsgLen           = 20
	procEventOff       = nlmsgHdrLen + cnMsgLen // struct proc_event
	procEventDataOff   = procEventOff + 16      // its event_data union
	connectorAckWait   = time.Second
	connectorRecvBytes = 1 << 20
)

// Connector is the kernel's process connector (NETLINK_CONNECTOR,
// CN_IDX_PROC) subscribed to process events (PROC_CN_MCAST_LISTEN). It is
// a [ProcSource].
type Connector struct {
	f      *os.File
	events chan ProcEvent
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when the reader returns

	mu     sync.Mutex
	err    error
	closed bool
}

// OpenConnector subscribes to the kernel's process events. The kernel
// delivers them only to sockets of the initial network namespace: in
// another one (ip netns exec), the socket is opened in the network
// namespace of PID 1 or of an ancestor process (see inInitNetns), as
// keepalived opens it before entering its net_namespace. Subscribing needs
// root (CAP_NET_ADMIN, and CAP_SYS_ADMIN for the namespace switch) and a
// kernel with CONFIG_PROC_EVENTS; without them the error says so.
func OpenConnector() (*Connector, error) {
	fd, err := connectorSocket()
	if errors.Is(err, unix.ECONNREFUSED) {
		fd, err = inInitNetns(connectorSocket)
	}
	if err != nil {
		return nil, fmt.Errorf("process connector: %w", err)
	}
	f := os.NewFile(uintptr(fd), "proc-connector")
	c := &Connector{f: f, events: make(chan ProcEvent, 256), stop: make(chan struct{}), done: make(chan struct{})}
	go c.read()
	return c, nil
}

// connectorSocket opens, binds and subscribes a connector socket in the
// current network namespace and waits for the kernel's answer.
func connectorSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_CONNECTOR)
	if err != nil {
		if errors.Is(err, unix.EPROTONOSUPPORT) {
			return -1, fmt.Errorf("the kernel has no process connector (CONFIG_CONNECTOR, CONFIG_PROC_EVENTS): %w", err)
		}
		return -1, fmt.Errorf("socket: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, connectorRecvBytes)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		if errors.Is(err, unix.EPERM) {
			return -1, fmt.Errorf("bind: %w (process events need root or CAP_NET_ADMIN)", err)
		}
		return -1, fmt.Errorf("bind: %w", err)
	}
	if err := unix.Sendto(fd, mcastMsg(procCnMcastListen), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		if errors.Is(err, unix.ECONNREFUSED) {
			return -1, fmt.Errorf("subscribe: %w (not the initial network namespace)", err)
		}
		return -1, fmt.Errorf("subscribe: %w", err)
	}
	// The kernel answers with a PROC_EVENT_NONE acknowledgement carrying
	// an error number (EPERM without CAP_NET_ADMIN); events that come
	// before it are dropped (the caller scans /proc after this).
	buf := make([]byte, 512)
	end := time.Now().Add(connectorAckWait)
	for {
		left := time.Until(end)
		if left <= 0 {
			return -1, errors.New("subscribe: the kernel did not answer (CONFIG_PROC_EVENTS?)")
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			return -1, fmt.Errorf("subscribe: poll: %w", err)
		}
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("subscribe: %w", err)
		}
		if n < procEventDataOff+4 || binary.NativeEndian.Uint32(buf[procEventOff:]) != procEventNone {
			continue
		}
		if e := binary.NativeEndian.Uint32(buf[procEventDataOff:]); e != 0 {
			err := unix.Errno(e)
			if err == unix.EPERM {
				return -1, fmt.Errorf("subscribe: %w (process events need root or CAP_NET_ADMIN)", err)
			}
			return -1, fmt.Errorf("subscribe: %w", err)
		}
		ok = true
		return fd, nil
	}
}

// mcastMsg is a connector message asking for (or stopping) process events.
func mcastMsg(op uint32) []byte {
	m := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	ne := binary.NativeEndian
	ne.PutUint32(m[0:], uint32(len(m)))
	ne.PutUint16(m[4:], unix.NLMSG_DONE)
	ne.PutUint32(m[12:], uint32(os.Getpid()))
	ne.PutUint32(m[nlmsgHdrLen:], cnIdxProc)
	ne.PutUint32(m[nlmsgHdrLen+4:], cnValProc)
	ne.PutUint16(m[nlmsgHdrLen+16:], 4)
	ne.PutUint32(m[nlmsgHdrLen+cnMsgLen:], op)
	return m
}

// inInitNetns runs open on a thread moved to another network namespace:
// that of PID 1 or, if that cannot be entered (or is the current one),
// that of the nearest ancestor process in another namespace (the shell
// that ran "ip netns exec"). The first namespace where open succeeds wins.
func inInitNetns(open func() (int, error)) (int, error) {
	var self unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &self); err != nil {
		return -1, fmt.Errorf("network namespace: %w", err)
	}
	var errs []error
	tried := 0
	for _, pid := range nsCandidates() {
		path := fmt.Sprintf("/proc/%d/ns/net", pid)
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		if st.Ino == self.Ino && st.Dev == self.Dev {
			continue
		}
		tried++
		fd, err := inNetns(path, open)
		if err == nil {
			return fd, nil
		}
		errs = append(errs, fmt.Errorf("in the network namespace of pid %d: %w", pid, err))
	}
	if tried == 0 {
		errs = append(errs, errors.New("no other network namespace to open it in (process events are only sent to the initial one)"))
	}
	return -1, fmt.Errorf("subscribe: not the initial network namespace: %w", errors.Join(errs...))
}

// nsCandidates returns PID 1 and this process's ancestors, nearest first.
func nsCandidates() []int {
	out := []int{1}
	pid := os.Getppid()
	for range 64 {
		if pid <= 1 {
			break
		}
		out = append(out, pid)
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			break
		}
		// "PID (COMM) STATE PPID ..."
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			break
		}
		var state byte
		var ppid int
		if _, err := fmt.Sscanf(string(b[i+1:]), " %c %d", &state, &ppid); err != nil {
			break
		}
		pid = ppid
	}
	return out
}

// inNetns runs open on a thread moved to the network namespace at path.
func inNetns(path string, open func() (int, error)) (int, error) {
	runtime.LockOSThread()
	restored := true
	defer func() {
		if restored {
			runtime.UnlockOSThread()
		} // else the thread dies with the goroutine
	}()
	cur, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("network namespace: %w", err)
	}
	defer unix.Close(cur)
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return -1, fmt.Errorf("enter: %w", err)
	}
	fd, openErr := open()
	if err := unix.Setns(cur, unix.CLONE_NEWNET); err != nil {
		restored = false
		if openErr == nil {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("return to the network namespace: %w", err)
	}
	return fd, openErr
}

// Events delivers the process events.
func (c *Connector) Events() <-chan ProcEvent { return c.events }

// Err returns why Events was closed.
func (c *Connector) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close unsubscribes, closes the socket and waits for the reader.
func (c *Connector) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	if rc, err := c.f.SyscallConn(); err == nil {
		_ = rc.Write(func(fd uintptr) bool {
			_ = unix.Sendto(int(fd), mcastMsg(procCnMcastIgnore), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
			return true
		})
	}
	err := c.f.Close()
	<-c.done
	return err
}

func (c *Connector) fail(err error) {
	c.mu.Lock()
	if !c.closed {
		c.err = err
	}
	c.mu.Unlock()
}

// read decodes datagrams into events until the socket is closed.
func (c *Connector) read() {
	defer close(c.done)
	defer close(c.events)
	rc, err := c.f.SyscallConn()
	if err != nil {
		c.fail(err)
		return
	}
	buf := make([]byte, 4096)
	for {
		var n int
		var from unix.Sockaddr
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, from, rerr = unix.Recvfrom(int(fd), buf, 0)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		if err != nil {
			c.fail(err)
			return
		}
		if errors.Is(rerr, unix.ENOBUFS) {
			if !c.send(ProcEvent{Kind: ProcLost}) {
				return
			}
			continue
		}
		if errors.Is(rerr, unix.EINTR) {
			continue
		}
		if rerr != nil {
			c.fail(fmt.Errorf("process connector: receive: %w", rerr))
			return
		}
		if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
			continue // not from the kernel
		}
		for _, ev := range decodeProcEvents(buf[:n]) {
			if !c.send(ev) {
				return
			}
		}
	}
}

func (c *Connector) send(ev ProcEvent) bool {
	select {
	case c.events <- ev:
		return true
	case <-c.stop:
		return false
	}
}

// decodeProcEvents decodes the connector messages of one datagram,
// keeping the events of processes (not threads) vrrpguard uses.
func decodeProcEvents(b []byte) []ProcEvent {
	var out []ProcEvent
	ne := binary.NativeEndian
	for len(b) >= nlmsgHdrLen {
		l := int(ne.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			break
		}
		m := b[:l]
		b = b[min((l+3)&^3, len(b)):]
		if ne.Uint16(m[4:]) != unix.NLMSG_DONE || l < procEventDataOff+8 ||
			ne.Uint32(m[nlmsgHdrLen:]) != cnIdxProc || ne.Uint32(m[nlmsgHdrLen+4:]) != cnValProc {
			continue
		}
		d := m[procEventDataOff:]
		u32 := func(off int) int {
			if off+4 > len(d) {
				return -1
			}
			return int(ne.Uint32(d[off:]))
		}
		switch ne.Uint32(m[procEventOff:]) {
		case procEventFork:
			if child, childTgid := u32(8), u32(12); child == childTgid && child > 0 {
				out = append(out, ProcEvent{Kind: ProcFork, Pid: childTgid, Parent: u32(4)})
			}
		case procEventExec:
			if pid, tgid := u32(0), u32(4); pid == tgid && pid > 0 {
				out = append(out, ProcEvent{Kind: ProcExec, Pid: tgid})
			}
		case procEventComm:
			if pid, tgid := u32(0), u32(4); pid == tgid && pid > 0 && len(d) >= 8+16 {
				comm := d[8 : 8+16]
				if i := bytes.IndexByte(comm, 0); i >= 0 {
					comm = comm[:i]
				}
				out = append(out, ProcEvent{Kind: ProcComm, Pid: tgid, Comm: string(comm)})
			}
		case procEventExit:
			if pid, tgid := u32(0), u32(4); pid == tgid && pid > 0 {
				out = append(out, ProcEvent{Kind: ProcExit, Pid: tgid})
			}
		}
	}
	return out
}

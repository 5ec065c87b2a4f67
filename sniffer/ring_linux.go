package sniffer

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// RingConfig sizes the memory-mapped receive ring of a live capture
// (TPACKET_V3, packet(7)). The kernel fills a block with packets and hands
// it over when it is full or BlockTimeout after it started filling
// (between one and two timeouts: that bounds the delay of a lone packet);
// it drops packets, and counts them, only when every block waits for
// vrrpguard. The zero value means the defaults.
type RingConfig struct {
	// BlockSize is the size of one block in bytes, a multiple of the page
	// size; it bounds the largest frame captured whole. Default 16 KiB:
	// at 100 k packets/s a block fills in about the block timeout.
	BlockSize int
	// Blocks is the number of blocks. Default 512 (8 MiB with the default
	// block size: about 65,000 small packets, 0.6 s of a 100 k/s flood).
	Blocks int
	// BlockTimeout is the longest a non-empty block waits before the
	// kernel hands it over, in whole milliseconds (at least 1 ms).
	// Default 1 ms.
	BlockTimeout time.Duration
}

// Default ring sizes (see RingConfig).
const (
	DefaultRingBlockSize    = 16 << 10
	DefaultRingBlocks       = 512
	DefaultRingBlockTimeout = time.Millisecond
)

// withDefaults fills in the zero fields and checks the rest.
func (c RingConfig) withDefaults() (RingConfig, error) {
	if c.BlockSize == 0 {
		c.BlockSize = DefaultRingBlockSize
	}
	if c.Blocks == 0 {
		c.Blocks = DefaultRingBlocks
	}
	if c.BlockTimeout == 0 {
		c.BlockTimeout = DefaultRingBlockTimeout
	}
	page := os.Getpagesize()
	switch {
	case c.BlockSize < page || c.BlockSize%page != 0 || c.BlockSize > 1<<30:
		return c, fmt.Errorf("ring block size %d: want a multiple of the page size (%d) up to 1 GiB", c.BlockSize, page)
	case c.Blocks < 2 || c.Blocks > 1<<16:
		return c, fmt.Errorf("ring blocks %d: want 2 to 65536", c.Blocks)
	case int64(c.Blocks)*int64(c.BlockSize) > 1<<31:
		return c, fmt.Errorf("ring of %d blocks of %d bytes: more than 2 GiB", c.Blocks, c.BlockSize)
	case c.BlockTimeout < time.Millisecond || c.BlockTimeout > time.Minute:
		return c, fmt.Errorf("ring block timeout %v: want 1ms to 1m", c.BlockTimeout)
	}
	return c, nil
}

// ring is a TPACKET_V3 receive ring on one interface: an AF_PACKET socket
// with the capture filter attached before it is bound (so no unfiltered
// packet is ever queued), and the blocks the kernel fills, mapped into
// memory. Waiting for a block goes through the Go runtime's poller, so
// Close wakes a waiting reader.
type ring struct {
	file    *os.File
	conn    syscall.RawConn
	ifindex int

	mu     sync.Mutex // guards mem and closed against Close
	mem    []byte
	closed bool

	closeOnce sync.Once
	closeErr  error

	blockSize int
	blocks    int
	next      int // the block to read next (reader only)

	// pollFn is r.pollReady, made once (a closure per wait escaped to the
	// heap); sockErr is the socket error it found (reader only).
	pollFn  func(fd uintptr) bool
	sockErr syscall.Errno
}

// errRingClosed is returned by a ring's methods after Close.
var errRingClosed = errors.New("capture ring closed")

// Offsets in a block descriptor (struct tpacket_block_desc with its
// struct tpacket_hdr_v1) and in a packet header (struct tpacket3_hdr).
const (
	blkStatusOff   = 8
	blkNumPktsOff  = 12
	blkFirstOff    = 16
	blkLenOff      = 20
	tp3HdrLen      = int(unsafe.Sizeof(unix.Tpacket3Hdr{}))
	blkDescMinSize = 48
)

// openRing opens a ring on the named interface with the given classic BPF
// filter. It needs CAP_NET_RAW.
func openRing(name string, filter []bpf.RawInstruction, promisc bool, cfg RingConfig) (*ring, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	in, err := net.InterfaceByName(name)
	if err != nil {
		return nil, err
	}
	// Protocol 0: the socket receives nothing until bound below.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	r := &ring{ifindex: in.Index, blockSize: cfg.BlockSize, blocks: cfg.Blocks}
	setup := false // set while setting up the ring itself
	fail := func(what string, err error) (*ring, error) {
		if r.mem != nil {
			unix.Munmap(r.mem)
		}
		unix.Close(fd)
		err = fmt.Errorf("%s: %w", what, err)
		if setup {
			err = &ringSetupError{err}
		}
		return nil, err
	}
	if err := attachFilter(fd, filter); err != nil {
		return fail("attach capture filter", err)
	}
	setup = true // errors of the ring itself: the socket path may still work
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("TPACKET_V3", err)
	}
	// frame_size and frame_nr only have to be consistent for TPACKET_V3:
	// packets are packed into a block whatever their size.
	const frameSize = 2048
	req := unix.TpacketReq3{
		Block_size:     uint32(cfg.BlockSize),
		Block_nr:       uint32(cfg.Blocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(cfg.BlockSize / frameSize * cfg.Blocks),
		Retire_blk_tov: uint32(cfg.BlockTimeout / time.Millisecond),
	}
	if cfg.BlockSize < frameSize {
		req.Frame_size = uint32(cfg.BlockSize)
		req.Frame_nr = uint32(cfg.Blocks)
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail("PACKET_RX_RING", err)
	}
	r.mem, err = unix.Mmap(fd, 0, cfg.BlockSize*cfg.Blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("map ring", err)
	}
	setup = false
	if promisc {
		mreq := unix.PacketMreq{Ifindex: int32(in.Index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fail("promiscuous mode", err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: in.Index}); err != nil {
		return fail("bind", err)
	}
	// The socket is non-blocking, so os.NewFile puts it in the runtime
	// poller.
	r.file = os.NewFile(uintptr(fd), "packet:"+name)
	if r.conn, err = r.file.SyscallConn(); err != nil {
		unix.Munmap(r.mem)
		r.file.Close()
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	return r, nil
}

// attachFilter attaches a classic BPF program to a socket (none: nothing).
func attachFilter(fd int, filter []bpf.RawInstruction) error {
	if len(filter) == 0 {
		return nil
	}
	ins := make([]unix.SockFilter, len(filter))
	for i, f := range filter {
		ins[i] = unix.SockFilter{Code: f.Op, Jt: f.Jt, Jf: f.Jf, K: f.K}
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(ins)), Filter: &ins[0]})
}

// setFilter replaces the ring socket's filter (atomically, in the kernel).
func (r *ring) setFilter(filter []bpf.RawInstruction) error {
	var err error
	if cerr := r.conn.Control(func(fd uintptr) { err = attachFilter(int(fd), filter) }); cerr != nil {
		return cerr
	}
	return err
}

// ringSetupError is a failure to set up the ring itself (TPACKET_V3, the
// ring's memory), after which a capture without the ring may still work.
type ringSetupError struct{ err error }

func (e *ringSetupError) Error() string { return e.err.Error() }
func (e *ringSetupError) Unwrap() error { return e.err }

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// block returns block i of the mapped ring.
func (r *ring) block(i int) []byte {
	return r.mem[i*r.blockSize : (i+1)*r.blockSize]
}

// status is the block's status word, shared with the kernel.
func status(blk []byte) *uint32 {
	return (*uint32)(unsafe.Pointer(&blk[blkStatusOff]))
}

// ready reports whether the next block belongs to user space (or the
// ring is closed). r.mu must be held.
func (r *ring) ready() bool {
	return r.closed || atomic.LoadUint32(status(r.block(r.next)))&unix.TP_STATUS_USER != 0
}

// wait blocks until the kernel hands over the next block; it returns
// errRingClosed once the ring is closed. Only the reading goroutine may
// call it.
func (r *ring) wait() error {
	r.mu.Lock()
	ok := r.ready()
	r.mu.Unlock()
	if !ok {
		// A socket error (ENETDOWN when the interface goes down or is
		// deleted) wakes the poller once; it is returned, else the
		// reader would wait for ever on a ring the kernel no longer fills.
		if r.pollFn == nil {
			r.pollFn = r.pollReady
		}
		r.sockErr = 0
		err := r.conn.Read(r.pollFn)
		if err == nil && r.sockErr != 0 {
			return r.sockErr
		}
		if err != nil {
			r.mu.Lock()
			closed := r.closed
			r.mu.Unlock()
			if closed || errors.Is(err, os.ErrClosed) {
				return errRingClosed
			}
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errRingClosed
	}
	return nil
}

// pollReady is wait's callback in the poller: true once a block is ready
// or the socket has an error (left in r.sockErr).
func (r *ring) pollReady(fd uintptr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready() {
		return true
	}
	if e := socketError(fd); e != 0 {
		r.sockErr = e
		return true
	}
	return false
}

// socketError reads and clears the socket's pending error (SO_ERROR; 0
// when there is none or it cannot be read). It goes through RawSyscall:
// getsockopt never blocks, and a system call through syscall.Syscall
// wakes the runtime's monitor thread (sysmon) when the process is idle,
// which then spins in short sleeps — for every block of the ring.
func socketError(fd uintptr) syscall.Errno {
	var v int32
	l := uint32(unsafe.Sizeof(v))
	_, _, errno := unix.RawSyscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_SOCKET, unix.SO_ERROR,
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	if errno != 0 {
		return 0
	}
	return syscall.Errno(v)
}

// consume calls fn for each packet of the block wait found ready (data is
// only valid during the call), then gives the block back to the kernel. It
// returns the number of packets. Only the reading goroutine may call it,
// after wait returned nil.
func (r *ring) consume(fn func(data []byte, ci gopacket.CaptureInfo, vlan uint16)) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, errRingClosed
	}
	blk := r.block(r.next)
	if atomic.LoadUint32(status(blk))&unix.TP_STATUS_USER == 0 {
		return 0, nil
	}
	n := r.walk(blk, fn)
	atomic.StoreUint32(status(blk), unix.TP_STATUS_KERNEL)
	r.next = (r.next + 1) % r.blocks
	return n, nil
}

// walk calls fn for every packet of a block handed over by the kernel. A
// header pointing outside the block ends the walk (it never happens with a
// sane kernel; it must not crash vrrpguard either).
func (r *ring) walk(blk []byte, fn func(data []byte, ci gopacket.CaptureInfo, vlan uint16)) int {
	num := int(*(*uint32)(unsafe.Pointer(&blk[blkNumPktsOff])))
	off := int(*(*uint32)(unsafe.Pointer(&blk[blkFirstOff])))
	done := 0
	for ; done < num; done++ {
		if off < blkDescMinSize || off+tp3HdrLen > len(blk) {
			break
		}
		h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&blk[off]))
		start, end := off+int(h.Mac), off+int(h.Mac)+int(h.Snaplen)
		if int(h.Mac) < tp3HdrLen || end > len(blk) {
			break
		}
		var vlan uint16
		if h.Status&unix.TP_STATUS_VLAN_VALID != 0 {
			vlan = uint16(h.Hv1.Vlan_tci & 0xfff)
		}
		fn(blk[start:end:end], gopacket.CaptureInfo{
			Timestamp:      time.Unix(int64(h.Sec), int64(h.Nsec)),
			CaptureLength:  int(h.Snaplen),
			Length:         int(h.Len),
			InterfaceIndex: r.ifindex,
		}, vlan)
		if h.Next_offset == 0 {
			done++
			break
		}
		off += int(h.Next_offset)
	}
	return done
}

// ringStats are the kernel's counters since the last call
// (PACKET_STATISTICS resets on read): packets that passed the filter
// (including dropped ones), packets dropped because no block was free,
// and how many times the ring filled up.
type ringStats struct {
	packets, drops, freezes uint64
}

// stats reads and resets the kernel's counters.
func (r *ring) stats() (ringStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ringStats{}, errRingClosed
	}
	var st ringStats
	var serr error
	if err := r.conn.Control(func(fd uintptr) {
		s, err := unix.GetsockoptTpacketStatsV3(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
		if err != nil {
			serr = err
			return
		}
		st = ringStats{packets: uint64(s.Packets), drops: uint64(s.Drops), freezes: uint64(s.Freeze_q_cnt)}
	}); err != nil {
		return ringStats{}, err
	}
	return st, serr
}

// Close closes the socket and unmaps the ring; a reader waiting in
// wait returns errRingClosed. It is idempotent, and a concurrent call
// returns once the ring is released.
func (r *ring) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		// Not under r.mu: closing waits for a reader in conn.Read to leave
		// it, and that reader's check takes r.mu.
		err := r.file.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		if merr := unix.Munmap(r.mem); merr != nil && err == nil {
			err = merr
		}
		r.mem = nil
		r.closeErr = err
	})
	return r.closeErr
}

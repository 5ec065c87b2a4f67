package track

import "errors"

// ProcEventKind is the kind of a [ProcEvent].
type ProcEventKind uint8

// Kinds of process events (threads are left out).
const (
	// ProcFork: process Pid was forked by Parent.
	ProcFork ProcEventKind = iota + 1
	// ProcExec: process Pid executed a new program.
	ProcExec
	// ProcComm: process Pid changed its name to Comm.
	ProcComm
	// ProcExit: process Pid exited.
	ProcExit
	// ProcLost: events were lost (the receive buffer overflowed); the
	// processes must be scanned again.
	ProcLost
)

// String returns "fork", "exec", "comm", "exit" or "lost".
func (k ProcEventKind) String() string {
	switch k {
	case ProcFork:
		return "fork"
	case ProcExec:
		return "exec"
	case ProcComm:
		return "comm"
	case ProcExit:
		return "exit"
	case ProcLost:
		return "lost"
	}
	return "unknown"
}

// ProcEvent is one event of a [ProcSource].
type ProcEvent struct {
	Kind ProcEventKind
	// Pid is the process (its thread group ID); Parent the forking process
	// of ProcFork; Comm the new name of ProcComm.
	Pid    int
	Parent int
	Comm   string
}

// ProcSource delivers process events: on Linux the kernel's process
// connector ([OpenConnector]); tests use a fake.
type ProcSource interface {
	// Events delivers events until the source is closed or fails (then
	// the channel is closed and Err says why).
	Events() <-chan ProcEvent
	// Err returns why Events was closed (nil after Close).
	Err() error
	Close() error
}

// Procfs reads processes: on Linux /proc ([SystemProcfs]); tests use a
// fake.
type Procfs interface {
	// Pids lists the processes.
	Pids() ([]int, error)
	// Process returns the name of a process and, if cmdline is true, its
	// command line (NUL-separated words). A zombie or vanished process is
	// ErrNoProcess.
	Process(pid int, cmdline bool) (comm string, cmd []byte, err error)
}

// ErrNoProcess is returned by [Procfs.Process] for a process that is gone
// or a zombie.
var ErrNoProcess = errors.New("no such running process")

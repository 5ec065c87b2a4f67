package app

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestGCHold: the collector stays off until the heap passes gcHoldMax or
// release, and its setting comes back either way. Not parallel: it changes
// the process's collector setting.
func TestGCHold(t *testing.T) {
	prev := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prev)

	g := holdGC()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Fatalf("held: GC percent %d, want -1 (off)", p)
	}
	g.check()
	if g.done {
		t.Fatal("released with a small heap")
	}
	keep := make([][]byte, 0, 24)
	for len(keep) < cap(keep) { // 24 MiB live
		keep = append(keep, make([]byte, 1<<20))
	}
	for i := 0; i < 8 && !g.done; i++ {
		g.check()
	}
	runtime.KeepAlive(keep)
	if !g.done {
		t.Fatal("still held with 24 MiB of heap")
	}
	if p := debug.SetGCPercent(150); p != 150 {
		t.Errorf("after the heap passed gcHoldMax: GC percent %d, want 150", p)
	}
	g.release() // a second release changes nothing
	if p := debug.SetGCPercent(150); p != 150 {
		t.Errorf("after a second release: GC percent %d, want 150", p)
	}

	var none *gcHold // replay in a process it does not own
	none.check()
	none.release()

	// replay as the process (Main) gives the setting back.
	var out, errb bytes.Buffer
	args := []string{"replay", "--format", "json", filepath.Join("..", "..", "testdata", "captures", "v3v4.pcap")}
	if st := runCommand(context.Background(), "test", args, &out, &errb, true); st == ExitError {
		t.Fatalf("replay: exit %d: %s", st, errb.String())
	}
	if !strings.Contains(out.String(), `"type":"event"`) {
		t.Errorf("replay printed no event:\n%s", out.String())
	}
	if p := debug.SetGCPercent(150); p != 150 {
		t.Errorf("after replay: GC percent %d, want 150", p)
	}
}

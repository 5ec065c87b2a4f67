package track

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWatchFiles follows a file through writes, a rename over it, a bad
// number and a deletion, and a file in a directory reached by a symbolic
// link.
func TestWatchFiles(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(link, "b") // does not exist yet
	if _, err := WatchFiles([]string{filepath.Join(dir, "missing", "x")}); err == nil {
		t.Error("WatchFiles: no error for a missing directory")
	}
	w, err := WatchFiles([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	reports := make(chan string, 16)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := w.Run(ctx, func(p string, v int64) { reports <- fmt.Sprintf("%s=%d", filepath.Base(p), v) }); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-reports:
			if got != want {
				t.Fatalf("report %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no report, want %q", want)
		}
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "5\n")
	expect("a=5")
	write(b, "-60")
	expect("b=-60")
	write(a, "9999999999") // ignored: out of range
	select {
	case got := <-reports:
		t.Fatalf("report %q for a number out of range", got)
	case <-time.After(200 * time.Millisecond):
	}
	write(a, "0x10")
	expect("a=16")
	tmp := filepath.Join(dir, "tmp")
	write(tmp, "7")
	if err := os.Rename(tmp, a); err != nil {
		t.Fatal(err)
	}
	expect("a=7")
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	expect("b=0")
	cancel()
	wg.Wait()
	if v, err := ReadValue(filepath.Join(dir, "nothing")); v != 0 || err != nil {
		t.Errorf("ReadValue(missing) = %d, %v; want 0", v, err)
	}
}

func TestHiddenProcesses(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n", false},
		{"22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw,hidepid=invisible\n", true},
		{"22 1 0:21 / /proc rw,nosuid - proc proc rw,hidepid=2,gid=5\n", true},
		{"22 1 0:21 / /proc rw,nosuid - proc proc rw,hidepid=off\n", false},
		{"30 1 0:40 / /srv/proc rw - proc proc rw,hidepid=2\n", false},
	} {
		if got, _ := HiddenProcesses([]byte(tc.in)); got != tc.want {
			t.Errorf("HiddenProcesses(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestWatchFilesQueueOverflow: after an inotify queue overflow (events
// lost), every watched file is read again and reported.
func TestWatchFilesQueueOverflow(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte("7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := WatchFiles([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev := make([]byte, unix.SizeofInotifyEvent)
	binary.NativeEndian.PutUint32(ev[0:], 0xffffffff) // wd -1
	binary.NativeEndian.PutUint32(ev[4:], unix.IN_Q_OVERFLOW)
	got := map[string]int64{}
	w.events(ev, func(p string, v int64) { got[filepath.Base(p)] = v })
	if want := map[string]int64{"a": 7, "b": 0}; !maps.Equal(got, want) {
		t.Errorf("reports after an overflow %v, want %v", got, want)
	}
}

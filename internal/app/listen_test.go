package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

func TestRemoteListener(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		remote bool
	}{
		{"127.0.0.1:9812", false},
		{"127.0.0.2:9812", false},
		{"[::1]:9813", false},
		{"0.0.0.0:9812", true},
		{"[::]:9812", true},
		{"10.1.2.3:9812", true},
		{"[fe80::1%eth0]:9812", true},
	} {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := remoteListener(a); got != tc.remote {
			t.Errorf("remoteListener(%s) = %v, want %v", tc.addr, got, tc.remote)
		}
	}
}

// TestListenDefaultsAreLoopback: watch's (the built-in config's
// watch.listen) and run's default listeners are loopback addresses.
func TestListenDefaultsAreLoopback(t *testing.T) {
	for name, addr := range map[string]string{"watch": config.Default().Watch.Listen, "run": defaultRunListen} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if remoteListener(a) {
			t.Errorf("%s listens on %s by default, want a loopback address", name, addr)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writes and reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWatchWarnsOfRemoteListener runs `watch` in-process on lo with
// listeners on a loopback address, on every address, and on every address
// with --listen-allow-remote: only the second warns.
func TestWatchWarnsOfRemoteListener(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tc := range []struct {
		args []string
		warn bool
	}{
		{[]string{"--listen", "127.0.0.1:0"}, false},
		{[]string{"--listen", "0.0.0.0:0"}, true},
		{[]string{"--listen", "0.0.0.0:0", "--listen-allow-remote"}, false},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			var out, errb lockedBuffer
			done := make(chan int, 1)
			args := append([]string{"watch", "--interface", "lo", "--no-probe", "--no-promisc"}, tc.args...)
			go func() { done <- Run(ctx, "test", args, &out, &errb) }()
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(errb.String(), "serving metrics and status") {
				if time.Now().After(deadline) {
					cancel()
					t.Fatalf("watch did not start serving:\n%s", errb.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			if st := <-done; st != ExitOK {
				t.Errorf("exit %d:\n%s", st, errb.String())
			}
			l := errb.String()
			if got := strings.Contains(l, "level=WARN") && strings.Contains(l, "reachable from other hosts"); got != tc.warn {
				t.Errorf("warned %v, want %v:\n%s", got, tc.warn, l)
			}
		})
	}
}

// TestListenerRefusesHugeHeaders: the listener answers 431 to a request
// whose header exceeds maxHeaderBytes (Go's default would take 1 MiB) and
// still serves normal ones.
func TestListenerRefusesHugeHeaders(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	addr, err := serveHTTP(ctx, "127.0.0.1:0", false, mux, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	get := func(extra string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr.String()+"/healthz", nil)
		if extra != "" {
			req.Header.Set("X-Big", extra)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get(""); st != http.StatusOK {
		t.Errorf("normal request: %d", st)
	}
	if st := get(strings.Repeat("a", 2*maxHeaderBytes)); st != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("%d-byte header: %d, want 431", 2*maxHeaderBytes, st)
	}
}

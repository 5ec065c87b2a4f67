package alert

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/alert/alertprom"
	"github.com/vrrpguard/vrrpguard/rules"
)

// killHelperEnv makes TestKillHelper act as the dispatcher that gets
// killed: its value is the state directory.
const killHelperEnv = "VRRPGUARD_ALERT_KILL_HELPER"

// TestKillHelper is not a test: TestKillAndRestartRedelivers runs the test
// binary with this one selected, as a separate process to kill -9.
func TestKillHelper(t *testing.T) {
	dir := os.Getenv(killHelperEnv)
	if dir == "" {
		return // only runs as the helper process of TestKillAndRestartRedelivers
	}
	url := os.Getenv(killHelperEnv + "_URL")
	w, err := NewWebhook(WebhookOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	m, err := alertprom.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{StateDir: dir, Instance: "killed-watcher", Sinks: []Sink{{Notifier: w}}, GroupWait: -1,
		BackoffBase: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Metrics: m, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	go d.Run(context.Background())
	files := func() int {
		f, _ := filepath.Glob(filepath.Join(dir, outboxName, sinkDirName(w.Name()), "*.json"))
		return len(f)
	}
	d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, time.Now()))
	waitFor(t, 30*time.Second, "first entry", func() bool { return files() == 1 })
	d.Submit(finding(rules.AuthMismatch, 51, rules.Raised, time.Now()))
	waitFor(t, 30*time.Second, "second entry and a failed attempt", func() bool {
		_, err := os.Stat(filepath.Join(dir, firingName))
		return files() == 2 && err == nil && counter(m, "failed", w.Name(), "retryable") >= 1
	})
	fmt.Println("READY")
	time.Sleep(time.Hour) // until killed
}

// TestKillAndRestartRedelivers: a watcher whose webhook receiver is down
// queues two notifications and is killed with SIGKILL; a new process on
// the same state directory delivers both, in order, once the receiver is
// up, and still knows what is firing.
func TestKillAndRestartRedelivers(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/hook"

	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+dir, killHelperEnv+"_URL="+url)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	var out syncBuffer
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if sc.Text() == "READY" {
				ready <- true
			}
		}
		ready <- false
		io.Copy(io.Discard, stdout)
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			t.Fatalf("helper ended before READY:\n%s%s", out.String(), stderr.String())
		}
	case <-time.After(120 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper not ready:\n%s%s", out.String(), stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	w, err := NewWebhook(WebhookOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if files := outboxFiles(t, dir, w.Name()); len(files) != 2 {
		t.Fatalf("outbox after kill -9: %v", files)
	}

	// The receiver comes up on the port the killed process was trying.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", port, err)
	}
	var bodies syncBodies
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies.add(b)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	defer srv.Close()

	r := start(t, Options{StateDir: dir, Instance: "restarted-watcher", Sinks: []Sink{{Notifier: w}}, GroupWait: -1})
	defer r.stop(t)
	waitFor(t, 30*time.Second, "re-delivery", func() bool { return r.counter("sent", w.Name()) == 2 })
	got := bodies.messages(t)
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2", len(got))
	}
	for i, kind := range []string{"duplicate_master", "auth_mismatch"} {
		a := got[i].Alerts[0]
		if a.Labels["kind"] != kind || a.Status != "firing" || a.Annotations[AnnotationReportedBy] != "killed-watcher" {
			t.Errorf("delivery %d: %+v", i, a)
		}
	}
	if files := outboxFiles(t, dir, w.Name()); len(files) != 0 {
		t.Errorf("delivered entries left: %v", files)
	}

	// The firing set survived the kill: the resolve is notified.
	res := finding(rules.DuplicateMaster, 51, rules.Resolved, time.Now())
	r.d.Submit(res)
	waitFor(t, 30*time.Second, "resolve", func() bool { return r.counter("sent", w.Name()) == 3 })
	got = bodies.messages(t)
	if a := got[2].Alerts[0]; a.Status != "resolved" || a.Labels["kind"] != "duplicate_master" || got[2].Status != "resolved" {
		t.Errorf("resolve after restart: %+v", got[2])
	}
}

type syncBodies struct{ syncBuffer }

func (s *syncBodies) add(b []byte) {
	s.Write(append(append([]byte(nil), b...), '\n'))
}

func (s *syncBodies) messages(t *testing.T) []WebhookMessage {
	var out []WebhookMessage
	for _, line := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if line == "" {
			continue
		}
		var m WebhookMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

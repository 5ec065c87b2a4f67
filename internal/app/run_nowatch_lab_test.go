package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/status"
)

// TestRunWithoutWatcher: `run --watch=false` is the VRRP router alone:
// with keepalived as backup it becomes the only master (IPv4 and IPv6),
// serves its instances on the status endpoint without segments, captures
// nothing, and resigns on SIGTERM so keepalived takes over.
func TestRunWithoutWatcher(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	for _, f := range []runFlavour{
		{name: "nowatch-ipv4", version: 3, interval: 100 * time.Millisecond, subnet: "10.93.0.", plen: "/24", vip: "10.93.0.100"},
		{name: "nowatch-ipv6", version: 3, interval: 100 * time.Millisecond, subnet: "fd93::", plen: "/64", vip: "fd93::100"},
	} {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			lab, a, b := labPair(t, f)
			kb := b.StartKeepalived(t, f.conf(100))
			kb.WaitLog(t, "Entering BACKUP STATE", 5*time.Second)
			path := filepath.Join(t.TempDir(), "keepalived.conf")
			if err := os.WriteFile(path, []byte(f.conf(150)), 0o644); err != nil {
				t.Fatal(err)
			}
			g := a.Start(t, binary(t), "run", "--watch=false", "--config", path, "--listen", defaultRunListen)
			g.WaitOutput(t, "not watching own segments", 10*time.Second)
			waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
			onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)

			resp, err := nsClient(a).Get("http://" + defaultRunListen + statusPath)
			if err != nil {
				t.Fatal(err)
			}
			var doc status.Doc
			err = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if doc.Command != "run" || len(doc.Instances) != 1 || doc.Instances[0].State != "MASTER" || len(doc.Segments) != 0 {
				t.Errorf("status: command %q, instances %+v, %d segments; want run, one MASTER, none", doc.Command, doc.Instances, len(doc.Segments))
			}
			if out := g.Output(); strings.Contains(out, "msg=watching") || strings.Contains(out, "master change") {
				t.Errorf("--watch=false captured its segment:\n%s", out)
			}

			if err := g.Stop(); err != nil {
				t.Errorf("vrrpguard run exit: %v\n%s", err, g.Output())
			}
			kb.WaitLog(t, "Backup received priority 0 advertisement", 2*time.Second)
			waitHolder(t, lab, b, f.vip, f.mdi(100)+time.Second)
			checkKeepalivedLog(t, kb)
		})
	}
}

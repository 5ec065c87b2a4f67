package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// TestRunDropsExePages: once settled, `run` has dropped its mappings of
// the executable's read-only pages (their resident size falls well below
// what start-up left), and it keeps working: as backup of a keepalived
// master that stops it takes over, then resigns on SIGTERM.
func TestRunDropsExePages(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	f := runFlavour{name: "settle", version: 3, interval: 100 * time.Millisecond, subnet: "10.119.0.", plen: "/24", vip: "10.119.0.100"}
	lab, a, b := labPair(t, f)
	kb := b.StartKeepalived(t, f.conf(150))
	waitHolder(t, lab, b, f.vip, 10*time.Second)
	path := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(path, []byte(f.conf(100)), 0o644); err != nil {
		t.Fatal(err)
	}
	g := a.Start(t, binary(t), "run", "--config", path, "--listen", "off", "--debug")
	g.WaitOutput(t, "entering BACKUP state", 10*time.Second)
	g.WaitOutput(t, "msg=watching", 5*time.Second)
	before, err := readMemSplit(g.Pid())
	if err != nil {
		t.Fatal(err)
	}
	g.WaitOutput(t, "dropped the executable's read-only pages", settleAfter+10*time.Second)
	after, err := readMemSplit(g.Pid())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("executable text+rodata resident: %d KiB after start-up, %d KiB after the drop; anonymous %d, %d KiB",
		before.Text+before.Rodata, after.Text+after.Rodata, before.Anon, after.Anon)
	if got, was := after.Text+after.Rodata, before.Text+before.Rodata; got > was*6/10 {
		t.Errorf("executable text+rodata resident: %d KiB after the drop, %d KiB before; want at most 60%%", got, was)
	}
	if err := kb.Stop(); err != nil {
		t.Fatal(err)
	}
	waitHolder(t, lab, a, f.vip, 5*time.Second)
	onlyHolder(t, lab, a, f.vip, 5*f.interval)
	if err := g.Stop(); err != nil {
		t.Errorf("vrrpguard run exit: %v\n%s", err, g.Output())
	}
}

package app

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/internal/busygen"
)

// TestReplayFastPathsMatchReference replays generated busy segments (50 k
// packets, pcap and pcapng, with a split brain) and the recorded captures
// with replay's fast paths (zero-copy pcap reader, fast decoder, decoding
// on a second goroutine) and the reference way (pcapgo, gopacket's layers,
// one goroutine): the output must be byte for byte the same, findings in
// the same order, and the exit status too.
func TestReplayFastPathsMatchReference(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	busy := writeBusy(t, dir, busygen.Options{Packets: 50_000, Seed: 12})
	busyNG := writeBusy(t, dir, busygen.Options{Packets: 20_000, Seed: 13, PcapNG: true})
	caps := filepath.Join("..", "..", "testdata", "captures")
	capture := func(n string) string { return filepath.Join(caps, n+".pcap") }
	tests := []struct {
		name string
		args []string
	}{
		{"busy json", []string{"--format", "json", busy}},
		{"busy pcapng text", []string{busyNG}},
		{"busy pcapng json", []string{"--format", "json", busyNG}},
		{"busy merged with a capture", []string{"--format", "json", busyNG, capture("v3v4")}},
		{"v2pass adverts", []string{"--format", "json", "--adverts", capture("v2pass")}},
		{"v2none adverts", []string{"--format", "json", "--adverts", capture("v2none")}},
		{"v3v4 adverts", []string{"--format", "json", "--adverts", capture("v3v4")}},
		{"v3v6 adverts text", []string{"--adverts", capture("v3v6")}},
		{"all captures merged", []string{"--format", "json", capture("v2pass"), capture("v3v4"), capture("v3v6"), capture("v2none")}},
	}
	run := func(args []string, plain bool) (string, int) {
		var out, errb bytes.Buffer
		c := &cli{version: "test", stdout: &out, stderr: &errb, plainReplay: plain}
		st := runReplay(context.Background(), c, args)
		if st == ExitError {
			t.Fatalf("replay %v (plain %t): exit %d: %s", args, plain, st, errb.String())
		}
		return out.String(), st
	}
	for _, tt := range tests {
		want, wantSt := run(tt.args, true)
		got, gotSt := run(tt.args, false)
		if got != want || gotSt != wantSt {
			wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
			for i := 0; i < len(wl) && i < len(gl); i++ {
				if wl[i] != gl[i] {
					t.Fatalf("%s: line %d differs (exit %d, reference %d):\n-reference %s\n+fast      %s", tt.name, i+1, gotSt, wantSt, wl[i], gl[i])
				}
			}
			t.Fatalf("%s: %d lines, reference %d (exit %d, reference %d)", tt.name, len(gl), len(wl), gotSt, wantSt)
		}
		// Meaningful only if there was something to compare.
		if strings.Count(want, "\n") < 3 {
			t.Errorf("%s: almost no output:\n%s", tt.name, want)
		}
	}
	// The generated busy segment holds a split brain.
	if out, _ := run([]string{"--format", "json", busy}, false); !strings.Contains(out, `"kind":"duplicate_master","state":"raised"`) {
		t.Errorf("busy segment: no duplicate_master raised:\n%s", out)
	}
}

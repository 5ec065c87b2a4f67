package app

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vrrpguard/vrrpguard/internal/busygen"
)

// busyN is the size of the generated capture for BenchmarkReplayBusy: 1 M
// packets, or VRRPGUARD_BUSY_N.
func busyN() int {
	if v, err := strconv.Atoi(os.Getenv("VRRPGUARD_BUSY_N")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// writeBusy generates the busy-segment capture into dir.
func writeBusy(tb testing.TB, dir string, o busygen.Options) string {
	tb.Helper()
	name := "busy.pcap"
	if o.PcapNG {
		name = "busy.pcapng"
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := busygen.Write(bw, o); err != nil {
		tb.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkReplayBusy: `vrrpguard replay --format json` in-process over the
// generated busy-segment capture (output discarded).
func BenchmarkReplayBusy(b *testing.B) {
	n := busyN()
	path := writeBusy(b, b.TempDir(), busygen.Options{Packets: n})
	b.ResetTimer()
	for b.Loop() {
		if st := Run(context.Background(), "bench", []string{"replay", "--format", "json", path}, io.Discard, io.Discard); st == ExitError {
			b.Fatalf("replay: exit %d", st)
		}
	}
	b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkReplayFile: replay in-process over the capture named by
// VRRPGUARD_REPLAY_FILE (skipped without it), for profiling, e.g. a
// bench/genflood capture.
func BenchmarkReplayFile(b *testing.B) {
	path := os.Getenv("VRRPGUARD_REPLAY_FILE")
	if path == "" {
		b.Skip("VRRPGUARD_REPLAY_FILE not set")
	}
	for b.Loop() {
		if st := Run(context.Background(), "bench", []string{"replay", "--format", "json", path}, io.Discard, io.Discard); st == ExitError {
			b.Fatalf("replay: exit %d", st)
		}
	}
}

package app

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/vrrpguard/vrrpguard/internal/busygen"
	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/sniffer"
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

// BenchmarkReplayBusyStages splits a replay of the busy capture into its
// two goroutines' work, each alone on one core: "read" reads and decodes
// every frame (handler does nothing), "engine" feeds the decoded
// observations, held in memory, through the engine and the pipeline
// (output discarded). The slower of the two bounds replay's wall time.
// "read1" reads and decodes on the benchmark's goroutine.
func BenchmarkReplayBusyStages(b *testing.B) {
	n := busyN()
	path := writeBusy(b, b.TempDir(), busygen.Options{Packets: n})
	b.Run("read", func(b *testing.B) {
		cpu := cpuTime(b)
		for b.Loop() {
			if _, err := sniffer.ReadFilesBatched([]string{path}, func([]obs.Observation) {}, sniffer.ReadOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds(), "packets/s")
		b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N)/float64(n), "cpu-ns/packet")
	})
	b.Run("read1", func(b *testing.B) { // on one goroutine
		cpu := cpuTime(b)
		for b.Loop() {
			if _, err := sniffer.ReadFiles([]string{path}, func(*obs.Observation) {}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds(), "packets/s")
		b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N)/float64(n), "cpu-ns/packet")
	})
	b.Run("engine", func(b *testing.B) {
		var all []obs.Observation
		if _, err := sniffer.ReadFiles([]string{path}, func(o *obs.Observation) { all = append(all, o.Clone()) }); err != nil {
			b.Fatal(err)
		}
		cpu := cpuTime(b)
		for b.Loop() {
			b.StopTimer()
			e, err := rules.New(rules.DefaultParams(), nil)
			if err != nil {
				b.Fatal(err)
			}
			pl := &pipeline{engine: e, printer: output.New(io.Discard, output.JSON, nil), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			b.StartTimer()
			for i := range all {
				pl.observe(&all[i])
			}
			pl.printer.Flush()
		}
		b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds(), "packets/s")
		b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N)/float64(n), "cpu-ns/packet")
	})
}

// cpuTime is the CPU time (user and system) of the process so far, in ns:
// steadier than wall time on a shared machine.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

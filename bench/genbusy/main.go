// Command genbusy writes a reproducible capture of a busy VRRP segment (see
// internal/busygen) for the replay benchmark, bench/replay.sh.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/vrrpguard/vrrpguard/internal/busygen"
)

func main() {
	n := flag.Int("n", 1_000_000, "number of packets")
	seed := flag.Uint64("seed", 1, "random seed")
	ng := flag.Bool("pcapng", false, "write pcapng instead of pcap")
	out := flag.String("o", "busy.pcap", "output file")
	flag.Parse()
	if err := run(*out, busygen.Options{Packets: *n, Seed: *seed, PcapNG: *ng}); err != nil {
		fmt.Fprintln(os.Stderr, "genbusy:", err)
		os.Exit(1)
	}
}

func run(path string, o busygen.Options) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := busygen.Write(bw, o); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

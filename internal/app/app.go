// Package app wires vrrpguard's subcommands together. It lives apart from
// cmd/vrrpguard so that tests run the whole program in-process.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// Exit statuses.
const (
	ExitOK       = 0 // nothing to report
	ExitFindings = 1 // findings at warning or above were reported
	ExitError    = 2 // bad usage, unreadable input, runtime failure
)

// buildVersion is the version of this build: the one given (set at build
// time in package main), else the module version, else "dev".
func buildVersion(given string) string {
	if given != "" {
		return given
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// cli is what every command runs with: the build version and the
// standard streams.
type cli struct {
	version        string
	stdout, stderr io.Writer
	// plainReplay makes replay read and decode the reference way
	// (sniffer.ReadOptions.Plain, sequential): tests compare the two.
	plainReplay bool
	// ownsProcess: the command is the process (Main), not one of several
	// in it (Run from tests), so it may tune the runtime (replay's
	// collector setting).
	ownsProcess bool
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) int
}

func commands() []command {
	return []command{
		{"watch", "capture live on network interfaces and report", runWatch},
		{"replay", "read pcap/pcapng capture files and report", runReplay},
		{"run", "run the VRRP instances of a keepalived.conf (participant)", runRun},
		{"check", "load a keepalived.conf as 'run' would and print its warnings", runCheck},
		{"status", "show the instances of a running 'vrrpguard run'", runStatus},
		{"test-alert", "send a test notification through every configured alert sink", runTestAlert},
		{"version", "print the version", func(_ context.Context, c *cli, _ []string) int {
			fmt.Fprintf(c.stdout, "vrrpguard %s\n", c.version)
			return ExitOK
		}},
	}
}

const usageHead = `vrrpguard watches VRRP (keepalived) segments and reports split brain.

Usage:
  vrrpguard <command> [flags] [args]

Commands:
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "  help     show this help, or a command's: vrrpguard help <command>\n\nRun 'vrrpguard <command> -h' for a command's flags.\n")
}

// Main runs vrrpguard with args (without the program name) and returns the
// exit status; version is the build's ("" = from the module). SIGINT and
// SIGTERM cancel the running command.
func Main(version string, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runCommand(ctx, version, args, stdout, stderr, true)
}

// Run is Main with a caller-supplied context.
func Run(ctx context.Context, version string, args []string, stdout, stderr io.Writer) int {
	return runCommand(ctx, version, args, stdout, stderr, false)
}

func runCommand(ctx context.Context, version string, args []string, stdout, stderr io.Writer, ownsProcess bool) int {
	if len(args) == 0 {
		usage(stderr)
		return ExitError
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && name == "help" {
			return runCommand(ctx, version, []string{args[1], "-h"}, stdout, stderr, ownsProcess)
		}
		usage(stdout)
		return ExitOK
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, &cli{version: buildVersion(version), stdout: stdout, stderr: stderr, ownsProcess: ownsProcess}, args[1:])
		}
	}
	fmt.Fprintf(stderr, "vrrpguard: unknown command %q\n\n", name)
	usage(stderr)
	return ExitError
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// cmdFlags is a subcommand's flag set: -h prints the usage to stdout and
// exits 0; a bad flag prints one error line to stderr and exits 2.
type cmdFlags struct {
	*flag.FlagSet
	name, synopsis, about string
	stdout, stderr        io.Writer
}

func newFlagSet(name, synopsis, about string, stdout, stderr io.Writer) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, name: name, synopsis: synopsis, about: about, stdout: stdout, stderr: stderr}
}

func (c *cmdFlags) printUsage() {
	fmt.Fprintf(c.stdout, "Usage: vrrpguard %s %s\n\n%s\n\nFlags:\n", c.name, c.synopsis, c.about)
	c.SetOutput(c.stdout)
	c.PrintDefaults()
	c.SetOutput(io.Discard)
}

// parseFlags parses args, allowing flags after positional arguments
// ("replay a.pcap --format json"); "--" ends flags. It returns the
// positional arguments, and (status, true) when the caller should return at
// once (-h or a usage error).
func parseFlags(fs *cmdFlags, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.printUsage()
				return nil, ExitOK, true
			}
			fmt.Fprintf(fs.stderr, "vrrpguard %s: %v (see 'vrrpguard %s -h')\n", fs.name, err, fs.name)
			return nil, ExitError, true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, false
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), 0, false
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

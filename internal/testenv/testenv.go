// Package testenv decides whether tests that need root or external tools
// run or skip. When VRRPGUARD_REQUIRE_LAB=1 (set by `make test` and CI),
// a missing requirement fails the test instead of skipping it, so nothing
// can silently not run.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Strict reports whether missing requirements are failures.
func Strict() bool { return os.Getenv("VRRPGUARD_REQUIRE_LAB") == "1" }

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Strict() {
		t.Fatalf("VRRPGUARD_REQUIRE_LAB=1 but "+format, args...)
	}
	t.Skipf(format+" (run `sudo make test` to install and run everything)", args...)
}

// RequireTools skips (or fails, when strict) unless every command is on PATH.
func RequireTools(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing(t, "%s is not installed", n)
		}
	}
}

// RequireRoot skips (or fails, when strict) unless running as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "this test needs root (network namespaces, raw sockets)")
	}
}

// Command vrrpguard watches VRRP segments for split brain. See README.md.
package main

import (
	"os"

	"github.com/vrrpguard/vrrpguard/internal/app"
)

// version is set at build time: -ldflags "-X main.version=...".
var version string

func main() {
	os.Exit(app.Main(version, os.Args[1:], os.Stdout, os.Stderr))
}

// Command vrrpguard watches VRRP segments for split brain. See README.md.
package main

import (
	"os"

	"github.com/vrrpguard/vrrpguard/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}

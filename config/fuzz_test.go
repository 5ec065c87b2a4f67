package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
)

// FuzzParseYAML checks that no input makes the YAML loader panic.
func FuzzParseYAML(f *testing.F) {
	for _, p := range []string{"testdata/vrrpguard.yaml", "default.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("expect: [{vrid: 1, vips: [&a 10.0.0.1, *a]}]\n")
	f.Add("alerts: {email: {smtp: 'h:1', from: a@b, to: [c@d]}}\n")
	f.Fuzz(func(t *testing.T, src string) {
		if _, err := ParseYAML("x.yaml", []byte(src)); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not an *Error: %v", err)
			}
		}
	})
}

// FuzzExpectations checks that merging whatever keepalived.conf the parser
// accepts never panics, and that merging a file with itself is the same as
// reading it once.
func FuzzExpectations(f *testing.F) {
	seeds, _ := filepath.Glob("keepalived/testdata/*.conf")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 10.0.0.1 }\n}\n" +
		"vrrp_instance B {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 10.0.0.2 }\n unicast_peer { 10.0.0.9 }\n}\n")
	noIncludes := func(name string) ([]byte, error) { return nil, fs.ErrNotExist }
	f.Fuzz(func(t *testing.T, src string) {
		k, _, err := keepalived.Options{ReadFile: noIncludes, ConfigID: "lb1"}.Parse("keepalived.conf", []byte(src))
		if err != nil {
			return
		}
		once, wOnce := Expectations([]*keepalived.Config{k}, nil)
		twice, wTwice := Expectations([]*keepalived.Config{k, k}, nil)
		if d := diff(once, twice); d != "" {
			t.Errorf("the same file twice (-once +twice):\n%s", d)
		}
		if d := diff(wOnce, wTwice); d != "" {
			t.Errorf("warnings for the same file twice (-once +twice):\n%s", d)
		}
	})
}

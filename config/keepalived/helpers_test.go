package keepalived

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"testing"

	"github.com/vrrpguard/vrrpguard/internal/jsondiff"
)

// diff returns a (-want +got) diff of want and got, "" when equal.
func diff(want, got any) string { return jsondiff.Diff(want, got) }

var errNotExist = fs.ErrNotExist

// memFS is an in-memory file tree for include tests.
type memFS map[string]string

func (m memFS) read(name string) ([]byte, error) {
	if s, ok := m[filepath.Clean(name)]; ok {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("open %s: %w", name, errNotExist)
}

func (m memFS) glob(pattern string) ([]string, error) {
	var out []string
	for name := range m {
		if ok, err := filepath.Match(pattern, name); err != nil {
			return nil, err
		} else if ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// parse parses src as "keepalived.conf" with the files of fs available to
// include, for config-id "lb1".
func parse(t *testing.T, src string, files memFS) (*Config, []string, error) {
	t.Helper()
	k, w, err := Options{ReadFile: files.read, Glob: files.glob, ConfigID: "lb1"}.Parse("keepalived.conf", []byte(src))
	return k, warningStrings(w), err
}

func warningStrings(w []Warning) []string {
	s := make([]string, len(w))
	for i, x := range w {
		s[i] = x.String()
	}
	return s
}

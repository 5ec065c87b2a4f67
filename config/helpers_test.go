package config

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// diff returns a (-want +got) line diff of the indented JSON renderings of
// want and got, or "" when they are equal.
func diff(want, got any) string {
	w, g := render(want), render(got)
	if w == g {
		return ""
	}
	return lineDiff(strings.Split(w, "\n"), strings.Split(g, "\n"))
}

func render(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// lineDiff is a longest-common-subsequence diff of two line lists.
func lineDiff(a, b []string) string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		c    byte
		line string
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, op{' ', a[i]})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, op{'+', b[j]})
			j++
		default:
			ops = append(ops, op{'-', a[i]})
			i++
		}
	}
	// Print changes with 3 lines of context.
	const ctx = 3
	var sb strings.Builder
	last := -1
	for k, o := range ops {
		near := false
		for d := -ctx; d <= ctx && !near; d++ {
			near = k+d >= 0 && k+d < len(ops) && ops[k+d].c != ' '
		}
		if !near {
			continue
		}
		if last >= 0 && k != last+1 {
			sb.WriteString("  ...\n")
		}
		sb.WriteString(string(o.c) + " " + o.line + "\n")
		last = k
	}
	return sb.String()
}

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
func parse(t *testing.T, src string, files memFS) (*Keepalived, []string, error) {
	t.Helper()
	k, w, err := KeepalivedOptions{ReadFile: files.read, Glob: files.glob, ConfigID: "lb1"}.Parse("keepalived.conf", []byte(src))
	return k, warningStrings(w), err
}

func warningStrings(w []Warning) []string {
	s := make([]string, len(w))
	for i, x := range w {
		s[i] = x.String()
	}
	return s
}

// Package jsondiff renders two values as indented JSON and diffs the lines,
// for tests that report (-want +got).
package jsondiff

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Diff returns a (-want +got) line diff of the indented JSON renderings of
// want and got, with three lines of context, or "" when they are equal.
func Diff(want, got any) string {
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

// op is one line of an edit script: ' ' kept, '-' only in want, '+' only in
// got.
type op struct {
	c    byte
	line string
}

// lineDiff is a longest-common-subsequence diff of two line lists.
func lineDiff(a, b []string) string {
	return format(editScript(a, b))
}

// editScript returns the edits that turn a into b.
func editScript(a, b []string) []op {
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
	return ops
}

// format prints the changes with 3 lines of context.
func format(ops []op) string {
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

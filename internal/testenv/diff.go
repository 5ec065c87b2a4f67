package testenv

import "strings"

// DiffLines returns a (-want +got) diff of two line lists: "" when they
// are equal, else every wanted line prefixed "-" and every got line "+",
// one per line, for a table test's failure message.
func DiffLines(want, got []string) string {
	if strings.Join(want, "\n") == strings.Join(got, "\n") && len(want) == len(got) {
		return ""
	}
	var b strings.Builder
	for _, w := range want {
		b.WriteString("-" + w + "\n")
	}
	for _, g := range got {
		b.WriteString("+" + g + "\n")
	}
	return b.String()
}

package testenv

import "testing"

func TestDiffLines(t *testing.T) {
	for _, tc := range []struct {
		want, got []string
		diff      string
	}{
		{nil, nil, ""},
		{[]string{"a", "b"}, []string{"a", "b"}, ""},
		{[]string{"a"}, []string{"b"}, "-a\n+b\n"},
		{[]string{""}, nil, "-\n"},
		{[]string{"a\nb"}, []string{"a", "b"}, "-a\nb\n+a\n+b\n"},
	} {
		if got := DiffLines(tc.want, tc.got); got != tc.diff {
			t.Errorf("DiffLines(%q, %q) = %q, want %q", tc.want, tc.got, got, tc.diff)
		}
	}
}

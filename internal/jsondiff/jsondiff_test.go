package jsondiff

import "testing"

// TestDiff pins the format: changed lines (a replaced line shows its new
// version first) with three lines of context, "..." between hunks.
func TestDiff(t *testing.T) {
	type v struct{ A, B, C, D, E, F, G, H, I int }
	tests := []struct {
		name      string
		want, got any
		diff      string
	}{
		{"equal", v{A: 1}, v{A: 1}, ""},
		{"one field", v{A: 1}, v{A: 2}, "  {\n+   \"A\": 2,\n-   \"A\": 1,\n    \"B\": 0,\n    \"C\": 0,\n    \"D\": 0,\n"},
		{"two hunks", v{A: 1, I: 1}, v{I: 2},
			"  {\n+   \"A\": 0,\n-   \"A\": 1,\n    \"B\": 0,\n    \"C\": 0,\n    \"D\": 0,\n  ...\n    \"F\": 0,\n    \"G\": 0,\n    \"H\": 0,\n+   \"I\": 2\n-   \"I\": 1\n  }\n"},
		{"slice", []string{"a", "b"}, []string{"a", "c", "b"}, "  [\n    \"a\",\n+   \"c\",\n    \"b\"\n  ]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff(tt.want, tt.got); got != tt.diff {
				t.Errorf("Diff() =\n%s\nwant\n%s", got, tt.diff)
			}
		})
	}
}

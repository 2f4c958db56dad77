package generator

import "testing"

func TestMarkersIn(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		lines      []int
	}{
		{"git conflict", "a\n<<<<<<< yours\nb\n=======\nc\n>>>>>>> svcgen v1\nd\n", []int{2}},
		{"diff3 style", "<<<<<<< HEAD\nb\n||||||| base\na\n=======\nc\n>>>>>>> main\n", []int{1}},
		{"two blocks", "<<<<<<<\n1\n=======\n2\n>>>>>>>\nx\n<<<<<<< a\n=======\n>>>>>>> b\n", []int{1, 7}},
		{"setext heading", "Title\n=======\n\ntext\n", nil},
		{"marker inside a line", "# <<<<<<< not a marker\n=======\n>>>>>>> x\n", nil},
		{"eight characters", "<<<<<<<<\n=======\n>>>>>>>\n", nil},
		{"unterminated", "<<<<<<< yours\nb\n=======\nc\n", nil},
		{"no separator", "<<<<<<< yours\nb\n>>>>>>> theirs\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := markersIn("f", []byte(tc.text))
			if len(got) != len(tc.lines) {
				t.Fatalf("got %d conflicts %+v, want lines %v", len(got), got, tc.lines)
			}
			for i, f := range got {
				if f.Line != tc.lines[i] || f.Kind != FindConflictMarkers || f.Fix == "" {
					t.Errorf("conflict %d: %+v, want line %d with a fix", i, f, tc.lines[i])
				}
			}
		})
	}
}

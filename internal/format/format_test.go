package format

import "testing"

// TestLabels pins the names error messages give what the reader was at.
func TestLabels(t *testing.T) {
	for _, c := range []struct {
		l    label
		want string
	}{
		{fixed("op table"), "op table"},
		{numbered("tensor", 3).with(" name").with(" length"), "tensor 3 name length"},
		{named("tensor", "conv/bias").with(" rank"), `tensor "conv/bias" rank`},
		{named("tensor", ""), `tensor ""`},
		{named("metadata", "nsfw.classes").with(" element 2"), `metadata "nsfw.classes" element 2`},
		{opLabel(7, "conv"), "op 7 (conv)"},
	} {
		if got := c.l.String(); got != c.want {
			t.Errorf("label %+v = %q, want %q", c.l, got, c.want)
		}
	}
}

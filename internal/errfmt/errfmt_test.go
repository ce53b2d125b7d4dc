package errfmt

import (
	"errors"
	"fmt"
	"io"
	"math"
	"testing"
)

type stringer struct{}

func (stringer) String() string { return "3x4x5" }

// TestMatchesFmt checks every verb and type the engine's messages use
// against fmt itself.
func TestMatchesFmt(t *testing.T) {
	cases := []struct {
		format string
		args   []any
	}{
		{"file is %d bytes, shorter than the %d-byte header", []any{12, 52}},
		{"bad magic %q: not a model", []any{[]byte("GGUF\x00\x01\x02\x03")}},
		{"%s has type %d, want %d", []any{"metadata \"x\"", uint32(3), 6}},
		{"count %d exceeds %d", []any{uint32(70000), 65536}},
		{"offset %d", []any{uint64(1 << 40)}},
		{"value %d", []any{int32(-1)}},
		{"checksum mismatch: stored %08x, computed %08x", []any{uint32(0xdeadbeef), uint32(0x1f)}},
		{"input shape %v", []any{stringer{}}},
		{"padding %v out of range", []any{[4]int{0, 1, 2, 1000}}},
		{"weight shape %v needs %d", []any{[4]int{3, 3, 1, 32}, 288}},
		{"dims %v", []any{[]int{1, 2, 3}}},
		{"shape %v", []any{[]uint32{224, 224, 4}}},
		{"range %v", []any{[]float32{1, 0.5}}},
		{"classes %v, want %v", []any{[]string{"a", "b"}, [5]string{"Drawing", "Hentai", "Neutral", "Porn", "Sexy"}}},
		{"min %v, scale %v", []any{math.NaN(), math.Inf(1)}},
		{"scale %v, want > 0", []any{-0.5}},
		{"threshold %v", []any{float32(1.5)}},
		{"%s %.2f ≥ %.2f", []any{"porn", float32(0.93456), float32(0.5)}},
		{"tiny %v big %v", []any{1e-7, 1.5e21}},
		{"%dx%d window", []any{3, 3}},
		{"unknown class %q (want one of %v)", []any{"x", [5]string{"a", "b", "c", "d", "e"}}},
		{"%v", []any{nil}},
		{"internal error: %v", []any{"index out of range"}},
		{"%s", []any{io.EOF}},
		{"100%% sure", nil},
		{"kind(%d)", []any{uint8(7)}},
		{"bool %v", []any{true}},
	}
	for _, c := range cases {
		want := fmt.Sprintf(c.format, c.args...)
		if got := Sprintf(c.format, c.args...); got != want {
			t.Errorf("Sprintf(%q): got %q, fmt gives %q", c.format, got, want)
		}
	}
}

func TestErrorfWraps(t *testing.T) {
	base := errors.New("invalid model file")
	err := Errorf("%w: tensor %q", base, "w")
	if !errors.Is(err, base) || err.Error() != "invalid model file: tensor \"w\"" {
		t.Fatalf("%v", err)
	}
	inner := Errorf("op %d: %w", 3, io.ErrUnexpectedEOF)
	both := Errorf("%w: %w", base, inner)
	if !errors.Is(both, base) || !errors.Is(both, io.ErrUnexpectedEOF) || both.Error() != fmt.Errorf("%w: %w", base, inner).Error() {
		t.Fatalf("%v", both)
	}
	if err := Errorf("plain %d", 1); errors.Unwrap(err) != nil || err.Error() != "plain 1" {
		t.Fatalf("%v", err)
	}
}

func TestUnsupportedIsVisible(t *testing.T) {
	type point struct{ x, y int }
	if got := Sprintf("%v and %d", point{1, 2}); got != "%!v(?) and %!d(MISSING)" {
		t.Fatalf("got %q", got)
	}
	if got := Sprintf("%d", 1, 2); got != "1%!(EXTRA)" {
		t.Fatalf("got %q", got)
	}
}

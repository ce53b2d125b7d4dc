package main

import (
	"bytes"
	"encoding/json"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
)

func newBoundary(t *testing.T) *boundary {
	t.Helper()
	var b boundary
	if n := b.init(nsfw.Default); n != 0 {
		t.Fatalf("init: %s", b.text[:n])
	}
	return &b
}

func decode(t *testing.T, name string) *image.NRGBA {
	t.Helper()
	dec, err := imageio.DecodeFile(filepath.Join("../testdata/fixtures", name), imageio.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	src := dec.Frames[0]
	out := image.NewNRGBA(src.Bounds())
	for y := src.Bounds().Min.Y; y < src.Bounds().Max.Y; y++ {
		for x := src.Bounds().Min.X; x < src.Bounds().Max.X; x++ {
			out.Set(x, y, src.At(x, y))
		}
	}
	return out
}

// TestBoundaryPaths classifies one image through the full-pixel export and
// the tap-grid export, as the shim would, and expects the library's result.
func TestBoundaryPaths(t *testing.T) {
	b := newBoundary(t)
	img := decode(t, "ascent-default-sexy.png")
	det, _ := nsfw.Default()
	want, err := det.Classify(img)
	if err != nil {
		t.Fatal(err)
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	copy(b.buffer(int32(len(img.Pix))), img.Pix)
	if n := b.classify(int32(w), int32(h), int32(img.Stride), int32(nsfw.RGBA)); n != 0 {
		t.Fatalf("classify: %s", b.text[:n])
	}
	for c := 0; c < nsfw.NumClasses; c++ {
		if b.result[c] != want.Probabilities[c] {
			t.Fatalf("full path: %v, want %v", b.result[:5], want.Probabilities)
		}
	}
	if b.result[5] != want.NSFWScore || b.result[6] != 1 {
		t.Fatalf("score %v verdict %v", b.result[5], b.result[6])
	}
	// Tap grid, built the way web/engine.js builds it.
	if n := b.planTaps(int32(w), int32(h)); n != 0 {
		t.Fatalf("taps: %s", b.text[:n])
	}
	gw, gh := b.tapsInfo[0], b.tapsInfo[1]
	grid := b.buffer(gw * gh * 4)
	for i, y := range b.taps.Rows {
		for j, x := range b.taps.Cols {
			copy(grid[(int(i)*int(gw)+j)*4:], img.Pix[img.PixOffset(int(x), int(y)):][:4])
		}
	}
	if n := b.classifyTaps(gw * 4); n != 0 {
		t.Fatalf("classify taps: %s", b.text[:n])
	}
	for c := 0; c < nsfw.NumClasses; c++ {
		if b.result[c] != want.Probabilities[c] {
			t.Fatalf("tap path: %v, want %v", b.result[:5], want.Probabilities)
		}
	}
}

func TestBoundaryErrors(t *testing.T) {
	for name, call := range map[string]func(b *boundary) int32{
		"classify":      func(b *boundary) int32 { return b.classify(1, 1, 4, 0) },
		"taps":          func(b *boundary) int32 { return b.planTaps(1, 1) },
		"policy":        func(b *boundary) int32 { return b.setPolicy(0) },
		"info":          func(b *boundary) int32 { return b.info() },
		"classify taps": func(b *boundary) int32 { return b.classifyTaps(4) },
	} {
		var cold boundary
		if n := call(&cold); n == 0 || !strings.Contains(string(cold.text[:n]), "before nsfw_init") {
			t.Errorf("%s before init: %q", name, cold.text[:n])
		}
	}
	b := newBoundary(t)
	if b.buffer(0) != nil || b.buffer(-5) != nil || b.buffer(maxPixelBytes+1) != nil {
		t.Error("buffer accepted a bad size")
	}
	b.buffer(16)
	cases := map[string]int32{
		"zero size":      b.classify(0, 0, 0, 0),
		"short buffer":   b.classify(100, 100, 400, 0),
		"bad format":     b.classify(2, 2, 8, 7),
		"taps zero":      b.planTaps(0, 10),
		"taps unplanned": func() int32 { var c boundary; c.init(nsfw.Default); return c.classifyTaps(4) }(),
	}
	for name, n := range cases {
		if n == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := b.classify(0, 0, 0, 0); !strings.Contains(string(b.text[:n]), nsfw.ErrEmptyImage.Error()) {
		t.Errorf("zero size message %q", b.text[:n])
	}
	// A bad policy is refused and the old one kept.
	copy(b.textBuffer(8), "paranoid")
	if n := b.setPolicy(8); n == 0 || b.det.Policy() != nsfw.Balanced {
		t.Errorf("bad policy: %q, policy %v", b.text[:n], b.det.Policy())
	}
	copy(b.textBuffer(6), "strict")
	if n := b.setPolicy(6); n != 0 || b.det.Policy() != nsfw.Strict {
		t.Errorf("strict: %q, policy %v", b.text[:n], b.det.Policy())
	}
	// Still classifies after all that.
	pix := b.buffer(4)
	copy(pix, []byte{10, 20, 30, 255})
	if n := b.classify(1, 1, 4, 0); n != 0 {
		t.Fatalf("after errors: %s", b.text[:n])
	}
}

func TestBoundaryInfo(t *testing.T) {
	b := newBoundary(t)
	n := b.info()
	var got struct {
		nsfw.ModelInfo
		Policy  nsfw.Policy
		Presets map[string]nsfw.Policy
	}
	if err := json.Unmarshal(b.text[:n], &got); err != nil {
		t.Fatalf("%v: %s", err, b.text[:n])
	}
	want := b.det.Info()
	if got.License != "MIT" || got.Name != want.Name || got.Source != want.Source || got.MACs != want.MACs || got.Kernels != want.Kernels ||
		len(got.Classes) != 5 || got.Presets["strict"] != nsfw.Strict || got.Presets["lenient"] != nsfw.Lenient || got.Policy != nsfw.Balanced {
		t.Fatalf("info %+v", got)
	}
}

// TestWasmDependencies keeps the browser binary lean: it must not link the
// build-time ONNX importer, networking, process control, image decoders
// (the browser decodes images itself), or fmt and encoding/json, which
// bring reflection (messages go through internal/errfmt instead).
func TestWasmDependencies(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-tags", "nsfw_simd", ".")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	forbidden := []string{"github.com/owulveryck/onnx-go", "gorgonia.org/", "net", "net/http", "os/exec", "crypto/tls",
		"image/jpeg", "image/png", "image/gif", "golang.org/x/image", "encoding/json", "fmt", "runtime/debug", "github.com/nsfw-go/nsfw/internal/imageio",
		"github.com/nsfw-go/nsfw/internal/convert"}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) || strings.HasPrefix(d, f+"/") && f != "net" {
				t.Errorf("the wasm boundary links %s", d)
			}
		}
	}
	if len(deps) < 10 {
		t.Fatalf("suspiciously few deps: %v", deps)
	}
}

// TestWasmEmbedsOneModel builds the browser binary and checks that only
// the selected model's weights are in it.
func TestWasmEmbedsOneModel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm binary")
	}
	for _, c := range []struct{ tags, want, not string }{
		{"nsfw_simd", "nsfwjs MobileNetV2\x00", "nsfwjs MobileNetV2Mid"},
		{"nsfw_simd,nsfw_mid", "nsfwjs MobileNetV2Mid", ""},
	} {
		out := filepath.Join(t.TempDir(), "nsfw.wasm")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags", c.tags, "-o", out, ".")
		cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, b)
		}
		bin, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(bin, []byte("nsfwjs MobileNetV2")) || (c.not != "" && bytes.Contains(bin, []byte(c.not))) {
			t.Errorf("tags %s: binary (%d bytes) does not embed exactly the expected model", c.tags, len(bin))
		}
		if c.not == "" && !bytes.Contains(bin, []byte(c.want)) {
			t.Errorf("tags %s: %q missing", c.tags, c.want)
		}
	}
}

// TestAppendJSONString checks the hand-written JSON strings against
// encoding/json on the characters JSON and Go quote differently.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "MIT", "a\"b\\c", "line\nline\r\ttab", "\x00\x07\x0b\x1f\x7f", "é ü 漢 💡 \u2028", "Copyright (c) 2019 Infinite Red, Inc.\n\nPermission is hereby granted"} {
		b := appendJSONString([]byte("x"), s)
		var got string
		if err := json.Unmarshal(b[1:], &got); err != nil || got != s {
			t.Errorf("%q: wrote %s, which reads back as %q (%v)", s, b[1:], got, err)
		}
		if b[0] != 'x' {
			t.Errorf("%q: overwrote what was in dst", s)
		}
	}
}

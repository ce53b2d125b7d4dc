package imageio

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"math"
	"testing"
)

// apngFrame is one frame for makeAPNG.
type apngFrame struct {
	img     image.Image // *image.NRGBA or *image.Paletted; bounds give offset and size
	dispose byte        // 0 none, 1 background, 2 previous
	blend   byte        // 0 source, 1 over
}

// pngParts encodes m and returns its IHDR data, its PLTE and tRNS chunks,
// and its concatenated IDAT data.
func pngParts(t testing.TB, m image.Image) (ihdr, pal, idat []byte) {
	t.Helper()
	data := encPNG(t, m)
	for pos := 8; pos < len(data); {
		typ, body, end, ok := pngChunk(data, pos)
		if !ok {
			t.Fatal("bad png from encoder")
		}
		switch typ {
		case "IHDR":
			ihdr = body
		case "IDAT":
			idat = append(idat, body...)
		case "PLTE", "tRNS":
			pal = append(pal, data[pos:end]...)
		}
		pos = end
	}
	return ihdr, pal, idat
}

func chunk(typ string, body []byte) []byte {
	return appendChunk(nil, typ, body)
}

// makeAPNG assembles an APNG on a w x h canvas. If def is nil, frame 0 is
// the default image (its fcTL precedes IDAT); otherwise def is a separate
// default image that is not part of the animation. Every frame must encode
// to the same PNG colour type (tests use NRGBA with some translucency).
func makeAPNG(t testing.TB, w, h int, def *image.NRGBA, frames []apngFrame) []byte {
	t.Helper()
	var ihdr, pal []byte
	fc := func(seq int, f apngFrame) []byte {
		b := f.img.Bounds()
		body := be32append(nil, uint32(seq))
		body = be32append(body, uint32(b.Dx()))
		body = be32append(body, uint32(b.Dy()))
		body = be32append(body, uint32(b.Min.X))
		body = be32append(body, uint32(b.Min.Y))
		body = append(body, 0, 1, 0, 10, f.dispose, f.blend)
		return chunk("fcTL", body)
	}
	// Frame images are encoded at the origin.
	enc := func(m image.Image) []byte {
		var at image.Image
		switch m := m.(type) {
		case *image.NRGBA:
			o := image.NewNRGBA(image.Rect(0, 0, m.Bounds().Dx(), m.Bounds().Dy()))
			copy(o.Pix, m.Pix)
			at = o
		case *image.Paletted:
			o := image.NewPaletted(image.Rect(0, 0, m.Bounds().Dx(), m.Bounds().Dy()), m.Palette)
			copy(o.Pix, m.Pix)
			at = o
		}
		hd, p, data := pngParts(t, at)
		if ihdr == nil {
			ihdr, pal = append([]byte(nil), hd...), p
		} else if hd[8] != ihdr[8] || hd[9] != ihdr[9] {
			t.Fatalf("frame colour type differs")
		}
		return data
	}
	var body []byte
	seq := 0
	if def != nil {
		body = append(body, chunk("IDAT", enc(def))...)
	}
	for i, f := range frames {
		body = append(body, fc(seq, f)...)
		seq++
		data := enc(f.img)
		if i == 0 && def == nil {
			body = append(body, chunk("IDAT", data)...)
			continue
		}
		fd := be32append(nil, uint32(seq))
		seq++
		body = append(body, chunk("fdAT", append(fd, data...))...)
	}
	ihdr[0], ihdr[1], ihdr[2], ihdr[3] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	ihdr[4], ihdr[5], ihdr[6], ihdr[7] = byte(h>>24), byte(h>>16), byte(h>>8), byte(h)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	actl := be32append(be32append(nil, uint32(len(frames))), 0)
	out = append(out, chunk("acTL", actl)...)
	out = append(out, pal...)
	out = append(out, body...)
	return append(out, chunk("IEND", nil)...)
}

// naiveAPNG is the oracle: APNG compositing in floating point, straight
// from the specification.
func naiveAPNG(w, h int, frames []apngFrame) [][]color.NRGBA {
	type px struct{ r, g, b, a float64 } // non-premultiplied, 0..1
	canvas := make([]px, w*h)
	var out [][]color.NRGBA
	var prev []px
	for i, f := range frames {
		b := f.img.Bounds()
		if f.dispose == 2 {
			prev = append([]px(nil), canvas...)
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if x >= w || y >= h {
					continue
				}
				c := rgbaAt(f.img, x, y)
				s := px{float64(c.R) / 255, float64(c.G) / 255, float64(c.B) / 255, float64(c.A) / 255}
				d := &canvas[y*w+x]
				if f.blend == 0 || s.a == 1 {
					*d = s
					continue
				}
				oa := s.a + d.a*(1-s.a)
				if oa == 0 {
					*d = px{}
					continue
				}
				mix := func(sc, dc float64) float64 { return (sc*s.a + dc*d.a*(1-s.a)) / oa }
				*d = px{mix(s.r, d.r), mix(s.g, d.g), mix(s.b, d.b), oa}
			}
		}
		snap := make([]color.NRGBA, w*h)
		for j, p := range canvas {
			q := func(v float64) uint8 { return uint8(math.Round(v * 255)) }
			snap[j] = color.NRGBA{q(p.r), q(p.g), q(p.b), q(p.a)}
			if snap[j].A == 0 {
				snap[j] = color.NRGBA{}
			}
		}
		out = append(out, snap)
		switch {
		case f.dispose == 1 || (f.dispose == 2 && i == 0):
			for y := max(b.Min.Y, 0); y < min(b.Max.Y, h); y++ {
				for x := max(b.Min.X, 0); x < min(b.Max.X, w); x++ {
					canvas[y*w+x] = px{}
				}
			}
		case f.dispose == 2:
			canvas = prev
		}
	}
	return out
}

// patchFrame makes a w x h NRGBA at (x, y) filled by fn, with one
// translucent pixel so every frame encodes as 8-bit RGBA.
func patchFrame(x, y, w, h int, fn func(x, y int) color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(x, y, x+w, y+h))
	for j := y; j < y+h; j++ {
		for i := x; i < x+w; i++ {
			m.SetNRGBA(i, j, fn(i, j))
		}
	}
	c := m.NRGBAAt(x, y)
	c.A = min(c.A, 200)
	m.SetNRGBA(x, y, c)
	return m
}

func apngTestFrames() []apngFrame {
	return []apngFrame{
		{patchFrame(0, 0, 24, 16, func(x, y int) color.NRGBA { return color.NRGBA{uint8(x * 10), uint8(y * 15), 100, 255} }), 0, 0},
		{patchFrame(4, 2, 10, 8, func(x, y int) color.NRGBA { return color.NRGBA{255, 0, 0, uint8(x * 20)} }), 2, 1},     // over, restore previous
		{patchFrame(10, 6, 14, 10, func(x, y int) color.NRGBA { return color.NRGBA{0, 0, 255, 128} }), 1, 0},             // source (writes alpha), clear after
		{patchFrame(0, 8, 20, 8, func(x, y int) color.NRGBA { return color.NRGBA{0, 255, 0, uint8(255 - y*10)} }), 0, 1}, // over
		{patchFrame(20, 12, 4, 4, func(x, y int) color.NRGBA { return color.NRGBA{9, 9, 9, 0} }), 0, 1},                  // fully transparent over
	}
}

func checkSnapshot(t *testing.T, what string, got image.Image, want []color.NRGBA, w int) {
	t.Helper()
	for i, wc := range want {
		x, y := i%w, i/w
		g := rgbaAt(got, x, y)
		if d := maxDiff(g, wc); d > 1 {
			t.Fatalf("%s: pixel (%d,%d) = %v, want %v", what, x, y, g, wc)
		}
	}
}

func maxDiff(a, b color.NRGBA) int {
	d := 0
	for _, v := range []int{int(a.R) - int(b.R), int(a.G) - int(b.G), int(a.B) - int(b.B), int(a.A) - int(b.A)} {
		d = max(d, v, -v)
	}
	if a.A == 0 && b.A == 0 {
		return 0 // colour of a transparent pixel is irrelevant
	}
	return d
}

func TestAPNGMatchesOracle(t *testing.T) {
	frames := apngTestFrames()
	data := makeAPNG(t, 24, 16, nil, frames)
	want := naiveAPNG(24, 16, frames)
	d := mustDecode(t, data, Limits{MaxFrames: 100})
	if d.Format != "png" || d.Width != 24 || d.Height != 16 || d.FrameCount != 5 || len(d.Frames) != 5 || d.Partial {
		t.Fatalf("got Format=%s %dx%d FrameCount=%d frames=%d Partial=%v", d.Format, d.Width, d.Height, d.FrameCount, len(d.Frames), d.Partial)
	}
	for i, f := range d.Frames {
		checkSnapshot(t, fmt.Sprintf("frame %d", i), f, want[i], 24)
	}
	d = mustDecode(t, data, Limits{MaxFrames: 3})
	if fmt.Sprint(d.FrameIndex) != "[0 2 4]" {
		t.Fatalf("FrameIndex %v", d.FrameIndex)
	}
	for i, f := range d.Frames {
		checkSnapshot(t, fmt.Sprintf("sample %d", i), f, want[d.FrameIndex[i]], 24)
	}
	// Hand-checked: frame 2 is written with "source" blending, so its alpha
	// (128) replaces what was there.
	if got := rgbaAt(d.Frames[1], 12, 8); got != (color.NRGBA{0, 0, 255, 128}) {
		t.Errorf("frame 2 (12,8) = %v, want {0 0 255 128}", got)
	}
	// Frame 2 is disposed to background: frame 4 shows transparency there
	// where frame 3 (rows 8..15, x < 20) did not paint.
	if got := rgbaAt(d.Frames[2], 22, 8); got != (color.NRGBA{}) {
		t.Errorf("frame 4 (22,8) = %v, want transparent", got)
	}
}

// TestAPNGHiddenDefaultImage: the default image is not part of the
// animation. Browsers show only the frames, but image/png, thumbnailers
// and viewers without APNG support show only the default image, so both
// are decoded: the default image first, at index -1.
func TestAPNGHiddenDefaultImage(t *testing.T) {
	white := patchFrame(0, 0, 8, 8, func(x, y int) color.NRGBA { return color.NRGBA{255, 255, 255, 255} })
	red := patchFrame(0, 0, 8, 8, func(x, y int) color.NRGBA { return color.NRGBA{255, 0, 0, 255} })
	blue := patchFrame(0, 0, 8, 8, func(x, y int) color.NRGBA { return color.NRGBA{0, 0, 255, 255} })
	data := makeAPNG(t, 8, 8, white, []apngFrame{{red, 0, 0}, {blue, 0, 0}})
	d := mustDecode(t, data, Limits{})
	if d.FrameCount != 2 || len(d.Frames) != 3 || fmt.Sprint(d.FrameIndex) != "[-1 0 1]" {
		t.Fatalf("FrameCount %d, %d frames %v", d.FrameCount, len(d.Frames), d.FrameIndex)
	}
	for i, want := range []color.NRGBA{{255, 255, 255, 255}, {255, 0, 0, 255}, {0, 0, 255, 255}} {
		if got := rgbaAt(d.Frames[i], 4, 4); got != want {
			t.Errorf("frame %d = %v, want %v", d.FrameIndex[i], got, want)
		}
	}
	// With one sampled frame, the default image still comes with frame 0.
	d = mustDecode(t, data, Limits{MaxFrames: 1})
	if fmt.Sprint(d.FrameIndex) != "[-1 0]" {
		t.Errorf("MaxFrames 1: frames %v", d.FrameIndex)
	}
	// When the default image is frame 0, it is not repeated.
	d = mustDecode(t, makeAPNG(t, 8, 8, nil, []apngFrame{{red, 0, 0}, {blue, 0, 0}}), Limits{})
	if fmt.Sprint(d.FrameIndex) != "[0 1]" {
		t.Errorf("default image as frame 0: frames %v", d.FrameIndex)
	}
}

func TestAPNGDamaged(t *testing.T) {
	frames := apngTestFrames()
	data := makeAPNG(t, 24, 16, nil, frames)
	want := naiveAPNG(24, 16, frames)
	// Locate the fcTL chunks.
	var fcs []int
	for pos := 8; pos < len(data); {
		typ, _, end, _ := pngChunk(data, pos)
		if typ == "fcTL" {
			fcs = append(fcs, pos)
		}
		pos = end
	}
	if len(fcs) != 5 {
		t.Fatalf("%d fcTL chunks", len(fcs))
	}
	// Truncated inside the last frame's data.
	d := mustDecode(t, data[:fcs[4]+50], Limits{MaxFrames: 100})
	if !d.Partial || d.FrameCount != 5 || len(d.Frames) != 4 {
		t.Fatalf("truncated: Partial=%v FrameCount=%d FrameIndex=%v", d.Partial, d.FrameCount, d.FrameIndex)
	}
	checkSnapshot(t, "frame 3", d.Frames[3], want[3], 24)

	// Frame 2 with a zero width: the animation stops before it.
	bad := append([]byte{}, data...)
	copy(bad[fcs[2]+12:], []byte{0, 0, 0, 0})
	d = mustDecode(t, bad, Limits{MaxFrames: 100})
	if !d.Partial || len(d.Frames) != 2 {
		t.Fatalf("bad fcTL: Partial=%v FrameIndex=%v", d.Partial, d.FrameIndex)
	}
	// Frame 3's data corrupted (CRC mismatch): frames 0-2 survive.
	bad = append([]byte{}, data...)
	bad[fcs[3]+38+20] ^= 0x55
	d = mustDecode(t, bad, Limits{MaxFrames: 100})
	if !d.Partial || fmt.Sprint(d.FrameIndex) != "[0 1 2]" {
		t.Fatalf("corrupt frame: Partial=%v FrameIndex=%v", d.Partial, d.FrameIndex)
	}
	// Frame 0 corrupted: an error, not a silent fallback.
	bad = append([]byte{}, data...)
	bad[fcs[0]+38+20] ^= 0x55
	_, err := DecodeBytes(bad, Limits{})
	wantErr(t, err, ErrCorrupt, "png: corrupt image")
}

// TestAPNGNotAnimated: an acTL after the image data, or announcing zero
// frames, leaves a plain PNG.
func TestAPNGNotAnimated(t *testing.T) {
	src := quadrants(6, 4)
	plain := encPNG(t, src)
	iend := bytes.LastIndex(plain, []byte("IEND")) - 4
	late := append(append(append([]byte{}, plain[:iend]...), chunk("acTL", be32append(be32append(nil, 2), 0))...), plain[iend:]...)
	d := mustDecode(t, late, Limits{})
	if d.FrameCount != 1 {
		t.Errorf("late acTL: FrameCount %d", d.FrameCount)
	}
	sameNRGBA(t, d.Frames[0], src)
	zero := append(append(append([]byte{}, plain[:33]...), chunk("acTL", make([]byte, 8))...), plain[33:]...)
	d = mustDecode(t, zero, Limits{})
	if d.FrameCount != 1 {
		t.Errorf("zero frames: FrameCount %d", d.FrameCount)
	}
}

// TestAPNGFirstFrameDisposePrevious: the spec turns "previous" on frame 0
// into "background", since there is nothing before it.
func TestAPNGFirstFrameDisposePrevious(t *testing.T) {
	frames := []apngFrame{
		{patchFrame(0, 0, 8, 8, func(x, y int) color.NRGBA { return color.NRGBA{255, 0, 0, 255} }), 2, 0},
		{patchFrame(2, 2, 2, 2, func(x, y int) color.NRGBA { return color.NRGBA{0, 255, 0, 255} }), 0, 0},
	}
	data := makeAPNG(t, 8, 8, nil, frames)
	want := naiveAPNG(8, 8, frames)
	d := mustDecode(t, data, Limits{})
	checkSnapshot(t, "frame 1", d.Frames[1], want[1], 8)
	if got := rgbaAt(d.Frames[1], 6, 6); got != (color.NRGBA{}) {
		t.Errorf("frame 1 (6,6) = %v, want transparent", got)
	}
}

// TestAPNGManyFrames: 30000 frames (one frame's chunks repeated) are
// counted, and decoding stops at the work budget.
func TestAPNGManyFrames(t *testing.T) {
	px := func(x, y int) color.NRGBA { return color.NRGBA{0, 0, 255, 255} }
	base := makeAPNG(t, 16, 16, nil, []apngFrame{{patchFrame(0, 0, 16, 16, px), 0, 0}, {patchFrame(0, 0, 16, 16, px), 0, 0}})
	var fcs []int
	var iend int
	for pos := 8; pos < len(base); {
		typ, _, end, _ := pngChunk(base, pos)
		if typ == "fcTL" {
			fcs = append(fcs, pos)
		}
		if typ == "IEND" {
			iend = pos
		}
		pos = end
	}
	second := base[fcs[1]:iend]
	const n = 30000
	data := append([]byte{}, base[:iend]...)
	for range n - 2 {
		data = append(data, second...)
	}
	data = append(data, base[iend:]...)
	actl := bytes.Index(data, []byte("acTL"))
	copy(data[actl+4:], be32append(nil, n))
	copy(data[actl+12:], be32append(nil, crc32.ChecksumIEEE(data[actl:actl+12])))

	perFrame := int64(16*16 + frameOverhead)
	d := mustDecode(t, data, Limits{MaxTotalPixels: 1000 * perFrame})
	if d.FrameCount != n || !d.Partial || d.FrameIndex[len(d.FrameIndex)-1] != 999 {
		t.Fatalf("FrameCount=%d Partial=%v FrameIndex=%v", d.FrameCount, d.Partial, d.FrameIndex)
	}
	d = mustDecode(t, data, Limits{})
	if d.FrameCount != n || d.Partial || d.FrameIndex[len(d.FrameIndex)-1] != n-1 {
		t.Fatalf("default: FrameCount=%d Partial=%v FrameIndex=%v", d.FrameCount, d.Partial, d.FrameIndex)
	}
	if got := rgbaAt(d.Frames[len(d.Frames)-1], 3, 3); got != (color.NRGBA{0, 0, 255, 255}) {
		t.Errorf("last frame pixel %v", got)
	}
}

// TestAPNGPaletted: paletted frames with translucent palette entries, in
// both blend modes, against the oracle.
func TestAPNGPaletted(t *testing.T) {
	pal := color.Palette{
		color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 255, 0, 128}, color.NRGBA{0, 0, 255, 0}, color.NRGBA{200, 200, 0, 60},
	}
	mk := func(r image.Rectangle, fn func(x, y int) uint8) *image.Paletted {
		m := image.NewPaletted(r, pal)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				m.SetColorIndex(x, y, fn(x, y))
			}
		}
		return m
	}
	frames := []apngFrame{
		{mk(image.Rect(0, 0, 12, 10), func(x, y int) uint8 { return uint8((x + y) % 4) }), 0, 0},
		{mk(image.Rect(2, 2, 10, 8), func(x, y int) uint8 { return uint8((x * y) % 4) }), 2, 1},
		{mk(image.Rect(4, 0, 12, 6), func(x, y int) uint8 { return uint8(x % 4) }), 1, 0},
		{mk(image.Rect(0, 4, 8, 10), func(x, y int) uint8 { return uint8(y % 4) }), 0, 1},
	}
	data := makeAPNG(t, 12, 10, nil, frames)
	if !bytes.Contains(data, []byte("PLTE")) {
		t.Fatal("not a paletted APNG")
	}
	want := naiveAPNG(12, 10, frames)
	d := mustDecode(t, data, Limits{MaxFrames: 10})
	if len(d.Frames) != 4 {
		t.Fatalf("%d frames", len(d.Frames))
	}
	for i, f := range d.Frames {
		checkSnapshot(t, fmt.Sprintf("frame %d", i), f, want[i], 12)
	}
}

package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io"
	"testing"
	"time"
)

// naiveComposite is the test oracle: it decodes with gif.DecodeAll and
// composites in the most literal way (a full canvas copy per "restore
// previous", per-pixel At), onto a canvas of w x h which may be smaller
// than the GIF's own (to test clipping). It returns one snapshot per frame.
func naiveComposite(t *testing.T, data []byte, w, h int) []*image.NRGBA {
	t.Helper()
	g, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	canvas := image.NewNRGBA(image.Rect(0, 0, w, h)) // all transparent
	var out []*image.NRGBA
	var before *image.NRGBA // canvas before the previous frame, for disposal 3
	for i, fr := range g.Image {
		if i > 0 {
			prev := g.Image[i-1].Bounds()
			switch g.Disposal[i-1] {
			case gif.DisposalBackground:
				for y := prev.Min.Y; y < prev.Max.Y; y++ {
					for x := prev.Min.X; x < prev.Max.X; x++ {
						if (image.Point{x, y}).In(canvas.Rect) {
							canvas.SetNRGBA(x, y, color.NRGBA{})
						}
					}
				}
			case gif.DisposalPrevious:
				canvas = cloneNRGBA(before)
			}
		}
		before = cloneNRGBA(canvas)
		b := fr.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := rgbaAt(fr, x, y)
				if c.A != 0 && (image.Point{x, y}).In(canvas.Rect) {
					canvas.SetNRGBA(x, y, c)
				}
			}
		}
		out = append(out, cloneNRGBA(canvas))
	}
	return out
}

// testPalette has a transparent entry at index 3, which makes gif.EncodeAll
// write a graphic control extension with that transparent index.
var testPalette = color.Palette{
	color.RGBA{255, 0, 0, 255},
	color.RGBA{0, 255, 0, 255},
	color.RGBA{0, 0, 255, 255},
	color.RGBA{0, 0, 0, 0},
	color.RGBA{255, 255, 0, 255},
	color.RGBA{255, 255, 255, 255},
}

// frame makes a paletted frame at r filled by fn(x, y) -> palette index.
func frame(r image.Rectangle, fn func(x, y int) uint8) *image.Paletted {
	m := image.NewPaletted(r, testPalette)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			m.SetColorIndex(x, y, fn(x, y))
		}
	}
	return m
}

// animation builds a 7-frame 20x16 GIF exercising every disposal method,
// transparency and sub-rectangle frames, with local palettes or (global)
// one global palette.
func animation(global bool) *gif.GIF {
	W, H := 20, 16
	frames := []*image.Paletted{
		frame(image.Rect(0, 0, W, H), func(x, y int) uint8 { return uint8((x / 5) % 3) }),                           // 0 full, stripes
		frame(image.Rect(2, 3, 12, 9), func(x, y int) uint8 { return map[bool]uint8{true: 3, false: 4}[x%2 == 0] }), // 1 sub-rect, holes
		frame(image.Rect(5, 5, 15, 15), func(x, y int) uint8 { return 5 }),                                          // 2 disposed to previous
		frame(image.Rect(0, 10, 20, 16), func(x, y int) uint8 { return uint8(y % 2) }),                              // 3 disposed to background
		frame(image.Rect(8, 0, 20, 8), func(x, y int) uint8 { return map[bool]uint8{true: 3, false: 2}[(x+y)%3 == 0] }),
		frame(image.Rect(0, 0, 1, 1), func(x, y int) uint8 { return 4 }), // 5 tiny
		frame(image.Rect(3, 3, 17, 13), func(x, y int) uint8 { return 3 }),
	}
	g := &gif.GIF{
		Image:    frames,
		Delay:    make([]int, len(frames)),
		Disposal: []byte{gif.DisposalNone, gif.DisposalNone, gif.DisposalPrevious, gif.DisposalBackground, 0, gif.DisposalPrevious, gif.DisposalBackground},
		Config:   image.Config{Width: W, Height: H},
	}
	if global {
		g.Config.ColorModel = testPalette
	}
	return g
}

func TestGIFAnimationMatchesOracle(t *testing.T) {
	for _, global := range []bool{false, true} {
		t.Run(fmt.Sprintf("global=%v", global), func(t *testing.T) {
			data := encGIF(t, animation(global))
			want := naiveComposite(t, data, 20, 16)
			d := mustDecode(t, data, Limits{MaxFrames: 100})
			if d.Format != "gif" || d.Width != 20 || d.Height != 16 || d.FrameCount != 7 || d.Partial {
				t.Fatalf("got %+v", d)
			}
			if len(d.Frames) != 7 {
				t.Fatalf("%d frames, want all 7", len(d.Frames))
			}
			for i, f := range d.Frames {
				if d.FrameIndex[i] != i {
					t.Fatalf("FrameIndex %v", d.FrameIndex)
				}
				if _, ok := f.(*image.NRGBA); !ok {
					t.Fatalf("frame %d type %T", i, f)
				}
				sameNRGBAMsg(t, fmt.Sprintf("frame %d", i), f, want[i])
			}
			// Sampling 3 of 7: frames 0, 3, 6, identical to the oracle.
			d = mustDecode(t, data, Limits{MaxFrames: 3})
			if fmt.Sprint(d.FrameIndex) != "[0 3 6]" {
				t.Fatalf("FrameIndex %v, want [0 3 6]", d.FrameIndex)
			}
			for i, f := range d.Frames {
				sameNRGBAMsg(t, fmt.Sprintf("sample %d", i), f, want[d.FrameIndex[i]])
			}
		})
	}
}

// TestGIFHandComputed pins pixels to values worked out by hand from the
// frame definitions in animation(), so the oracle itself is checked too.
func TestGIFHandComputed(t *testing.T) {
	data := encGIF(t, animation(false))
	d := mustDecode(t, data, Limits{MaxFrames: 100})
	red, green, blue := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 255, 0, 255}, color.NRGBA{0, 0, 255, 255}
	yellow, white, clear := color.NRGBA{255, 255, 0, 255}, color.NRGBA{255, 255, 255, 255}, color.NRGBA{}
	for _, c := range []struct {
		frame, x, y int
		want        color.NRGBA
		why         string
	}{
		{0, 0, 0, red, "stripe (0/5)%3=0"},
		{0, 7, 0, green, "stripe (7/5)%3=1"},
		{0, 12, 15, blue, "stripe (12/5)%3=2"},
		{1, 2, 3, red, "even x is transparent in frame 1: frame 0 shows"},
		{1, 3, 3, yellow, "odd x in frame 1"},
		{2, 6, 6, white, "frame 2"},
		{3, 6, 6, green, "frame 2 restored to previous: frame 1 hole over frame 0"},
		{3, 0, 10, red, "frame 3 row 10 (even)"},
		{3, 0, 11, green, "frame 3 row 11 (odd)"},
		{4, 0, 10, clear, "frame 3 disposed to background = transparent"},
		{4, 0, 9, red, "row 9 never touched after frame 0"},
		{4, 9, 0, green, "frame 4 transparent where (x+y)%3==0"},
		{4, 10, 0, blue, "frame 4 blue"},
		{5, 0, 0, yellow, "frame 5, 1x1"},
		{6, 0, 0, red, "frame 5 restored to previous"},
		{6, 5, 5, yellow, "frame 6 fully transparent; frame 1 at odd x"},
		{6, 12, 14, clear, "still cleared by frame 3's disposal"},
	} {
		if got := rgbaAt(d.Frames[c.frame], c.x, c.y); got != c.want {
			t.Errorf("frame %d (%d,%d) = %v, want %v (%s)", c.frame, c.x, c.y, got, c.want, c.why)
		}
	}
}

func sameNRGBAMsg(t *testing.T, what string, got, want image.Image) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("%s: bounds %v, want %v", what, got.Bounds(), want.Bounds())
	}
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g, w := rgbaAt(got, x, y), rgbaAt(want, x, y); g != w {
				t.Fatalf("%s: pixel (%d,%d) = %v, want %v", what, x, y, g, w)
			}
		}
	}
}

// shrinkScreen rewrites the logical screen size of a GIF, so that frames
// stick out of the canvas (browsers clip them; gif.Decode rejects them).
func shrinkScreen(data []byte, w, h int) []byte {
	out := append([]byte{}, data...)
	out[6], out[7], out[8], out[9] = byte(w), byte(w>>8), byte(h), byte(h>>8)
	return out
}

func TestGIFFramesOutsideCanvasAreClipped(t *testing.T) {
	data := shrinkScreen(encGIF(t, animation(true)), 11, 7)
	if _, err := gif.DecodeAll(bytes.NewReader(data)); err == nil {
		t.Fatal("expected the standard decoder to reject this file; the test is not exercising clipping")
	}
	want := naiveComposite(t, encGIF(t, animation(true)), 11, 7)
	d := mustDecode(t, data, Limits{MaxFrames: 100})
	if d.Width != 11 || d.Height != 7 || len(d.Frames) != 7 {
		t.Fatalf("got %dx%d with %d frames", d.Width, d.Height, len(d.Frames))
	}
	for i, f := range d.Frames {
		sameNRGBAMsg(t, fmt.Sprintf("frame %d", i), f, want[i])
	}
}

func TestGIFStill(t *testing.T) {
	src := frame(image.Rect(0, 0, 9, 5), func(x, y int) uint8 { return uint8(x % 6) })
	data := encGIF(t, &gif.GIF{Image: []*image.Paletted{src}, Delay: []int{0}})
	d := mustDecode(t, data, Limits{})
	if d.FrameCount != 1 || len(d.Frames) != 1 || d.Partial {
		t.Fatalf("got %+v", d)
	}
	if _, ok := d.Frames[0].(*image.Paletted); !ok {
		t.Errorf("full-canvas still: type %T, want *image.Paletted", d.Frames[0])
	}
	sameNRGBA(t, d.Frames[0], src)

	// A still smaller than its canvas is composited onto transparency.
	small := frame(image.Rect(2, 1, 6, 4), func(x, y int) uint8 { return 4 })
	data = encGIF(t, &gif.GIF{Image: []*image.Paletted{small}, Delay: []int{0}, Config: image.Config{Width: 9, Height: 5}})
	d = mustDecode(t, data, Limits{})
	if got := rgbaAt(d.Frames[0], 0, 0); got != (color.NRGBA{}) {
		t.Errorf("outside the frame: %v, want transparent", got)
	}
	if got := rgbaAt(d.Frames[0], 3, 2); got != (color.NRGBA{255, 255, 0, 255}) {
		t.Errorf("inside the frame: %v, want yellow", got)
	}
}

func TestSampleIndices(t *testing.T) {
	for _, c := range []struct {
		n, k int
		want string
	}{
		{1, 8, "[0]"}, {5, 1, "[0]"}, {2, 8, "[0 1]"}, {7, 3, "[0 3 6]"},
		{8, 8, "[0 1 2 3 4 5 6 7]"}, {100, 8, "[0 14 28 42 57 71 85 99]"}, {9, 8, "[0 1 2 3 5 6 7 8]"},
	} {
		if got := fmt.Sprint(sampleIndices(c.n, c.k)); got != c.want {
			t.Errorf("sampleIndices(%d, %d) = %s, want %s", c.n, c.k, got, c.want)
		}
	}
	for n := 1; n < 300; n++ {
		for k := 1; k < 20; k++ {
			s := sampleIndices(n, k)
			if len(s) != min(n, k) || s[0] != 0 || (len(s) > 1 && s[len(s)-1] != n-1) {
				t.Fatalf("sampleIndices(%d, %d) = %v", n, k, s)
			}
			for i := 1; i < len(s); i++ {
				if s[i] <= s[i-1] {
					t.Fatalf("sampleIndices(%d, %d) = %v not increasing", n, k, s)
				}
			}
		}
	}
}

// rawGIF assembles a GIF by hand from a header, a global palette of 4
// colours, and repeated copies of one frame block (GCE + descriptor + data).
func rawGIF(w, h int, frameBlock []byte, n int, trailer bool) []byte {
	b := []byte("GIF89a")
	b = append(b, byte(w), byte(w>>8), byte(h), byte(h>>8), 0x81, 0, 0)
	b = append(b, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255) // red green blue white
	for i := 0; i < n; i++ {
		b = append(b, frameBlock...)
	}
	if trailer {
		b = append(b, 0x3b)
	}
	return b
}

// frameBlockOf extracts the first frame's GCE+descriptor+data from a GIF
// made by gif.Encode with a 4-colour global palette (so no local table).
func frameBlockOf(t testing.TB, w, h int, idx uint8) []byte {
	t.Helper()
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{255, 255, 255, 255}}
	m := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for i := range m.Pix {
		m.Pix[i] = idx
	}
	data := encGIF(t, &gif.GIF{Image: []*image.Paletted{m}, Delay: []int{1}, Config: image.Config{ColorModel: pal, Width: w, Height: h}})
	start := 13 + 12
	return data[start : len(data)-1]
}

func TestGIFManyFramesBounded(t *testing.T) {
	block := frameBlockOf(t, 64, 64, 2)
	data := rawGIF(64, 64, block, 60000, true)
	t.Logf("60000-frame GIF: %d bytes", len(data))

	// Default limits: the budget allows min(60000, 500e6 / (4096 + 4096))
	// frames, and decoding them must stay fast.
	perFrame := int64(64*64 + frameOverhead)
	start := time.Now()
	d := mustDecode(t, data, Limits{})
	el := time.Since(start)
	wantUsable := min(60000, int(DefaultMaxTotalPixels/perFrame))
	if d.FrameCount != 60000 {
		t.Errorf("FrameCount %d, want 60000", d.FrameCount)
	}
	if last := d.FrameIndex[len(d.FrameIndex)-1]; last != wantUsable-1 {
		t.Errorf("last sampled frame %d, want %d", last, wantUsable-1)
	}
	if d.Partial != (wantUsable < 60000) {
		t.Errorf("Partial = %v", d.Partial)
	}
	if len(d.Frames) != DefaultMaxFrames {
		t.Errorf("%d frames, want %d", len(d.Frames), DefaultMaxFrames)
	}
	if el > 20*time.Second {
		t.Errorf("took %v", el)
	}
	t.Logf("default budget: decoded %d frames in %v", wantUsable, el)

	// A tight budget stops early and samples among the frames that fit.
	lim := Limits{MaxTotalPixels: 100 * perFrame}
	start = time.Now()
	d = mustDecode(t, data, lim)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("tight budget took %v", el)
	}
	if !d.Partial || d.FrameCount != 60000 || d.FrameIndex[len(d.FrameIndex)-1] != 99 {
		t.Errorf("tight budget: Partial=%v FrameCount=%d FrameIndex=%v", d.Partial, d.FrameCount, d.FrameIndex)
	}
	if got := rgbaAt(d.Frames[len(d.Frames)-1], 10, 10); got != (color.NRGBA{0, 0, 255, 255}) {
		t.Errorf("pixel %v, want blue", got)
	}
}

func TestGIFTruncated(t *testing.T) {
	data := encGIF(t, animation(false))
	// Find where each frame's image descriptor starts by scanning.
	hdr, err := parseGIFHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	var descs []int
	sc := &gifSource{data: data, hdr: hdr}
	sc.reset()
	for f, ok := sc.next(); ok; f, ok = sc.next() {
		descs = append(descs, f.start)
	}
	if len(descs) != 7 {
		t.Fatalf("scanner found %d frames", len(descs))
	}
	want := naiveComposite(t, data, 20, 16)

	// Cut inside the last frame's data: the first 6 frames survive.
	cut := data[:descs[6]+15]
	d := mustDecode(t, cut, Limits{MaxFrames: 100})
	if !d.Partial || d.FrameCount != 7 || len(d.Frames) != 6 || d.FrameIndex[5] != 5 {
		t.Fatalf("Partial=%v FrameCount=%d FrameIndex=%v", d.Partial, d.FrameCount, d.FrameIndex)
	}
	sameNRGBAMsg(t, "frame 5", d.Frames[5], want[5])

	// Sampling 2 of the 6 survivors: frames 0 and 5.
	d = mustDecode(t, cut, Limits{MaxFrames: 2})
	if fmt.Sprint(d.FrameIndex) != "[0 5]" {
		t.Fatalf("FrameIndex %v", d.FrameIndex)
	}

	// Cut at every point inside the first frame: always a clean error.
	for n := 0; n < descs[1]; n++ {
		_, err := DecodeBytes(data[:n], Limits{})
		if err == nil {
			// A cut after the first frame's data (before the next block) is
			// a valid one-frame GIF without a trailer, which browsers show.
			if n < descs[0]+10 {
				t.Fatalf("cut at %d: no error", n)
			}
			continue
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("cut at %d: %v is not ErrCorrupt", n, err)
		}
		if n > 13 && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: %v does not wrap io.ErrUnexpectedEOF", n, err)
		}
	}
}

// TestGIFCorruptMiddleFrame: a frame whose LZW data is garbage ends the
// animation there, like a browser; earlier frames are kept.
func TestGIFCorruptMiddleFrame(t *testing.T) {
	data := encGIF(t, animation(false))
	hdr, _ := parseGIFHeader(data)
	sc := &gifSource{data: data, hdr: hdr}
	sc.reset()
	var frames []animFrame
	for f, ok := sc.next(); ok; f, ok = sc.next() {
		frames = append(frames, f)
	}
	bad := append([]byte{}, data...)
	f := frames[4]
	// Data starts after the 10-byte descriptor, local table and code size.
	lct := 3 << (1 + bad[f.start+9]&7)
	p := f.start + 10 + lct
	bad[p] = 9 // invalid LZW minimum code size
	d := mustDecode(t, bad, Limits{MaxFrames: 100})
	if !d.Partial || len(d.Frames) != 4 || d.FrameIndex[3] != 3 {
		t.Fatalf("Partial=%v FrameIndex=%v", d.Partial, d.FrameIndex)
	}
	want := naiveComposite(t, data, 20, 16)
	sameNRGBAMsg(t, "frame 3", d.Frames[3], want[3])

	// Sampled [0 3 6] before the failure at 4: keeps 0 and 3.
	d = mustDecode(t, bad, Limits{MaxFrames: 3})
	if fmt.Sprint(d.FrameIndex) != "[0 3]" {
		t.Fatalf("FrameIndex %v, want [0 3]", d.FrameIndex)
	}
	// Sampled [0 6] only: frame 3, the last good one, is added.
	d = mustDecode(t, bad, Limits{MaxFrames: 2})
	if fmt.Sprint(d.FrameIndex) != "[0 3]" {
		t.Fatalf("FrameIndex %v, want [0 3]", d.FrameIndex)
	}
}

func TestGIFSnapshotBudget(t *testing.T) {
	// 7 frames of 20x16 = 320 pixels; MaxPixels 1000 allows 3 snapshots.
	data := encGIF(t, animation(false))
	d := mustDecode(t, data, Limits{MaxPixels: 1000, MaxFrames: 8})
	if fmt.Sprint(d.FrameIndex) != "[0 3 6]" {
		t.Fatalf("FrameIndex %v, want [0 3 6]", d.FrameIndex)
	}
}

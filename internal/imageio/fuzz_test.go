package imageio

import (
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"testing"
)

// fuzzLimits are small so the fuzzer spends its time on parsing, not on
// allocating large canvases.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxFrames: 4, MaxTotalPixels: 1 << 22}

func FuzzDecode(f *testing.F) {
	anim := encGIF(f, animation(false))
	seeds := [][]byte{
		encPNG(f, quadrants(5, 3)),
		encJPEG(f, quadrants(9, 7), 75),
		withEXIF(encJPEG(f, quadrants(9, 7), 75), 6, binary.BigEndian),
		anim,
		shrinkScreen(anim, 9, 5),
		encGIF(f, &gif.GIF{Image: []*image.Paletted{frame(image.Rect(0, 0, 3, 2), func(x, y int) uint8 { return 1 })}, Delay: []int{0}}),
		encBMP(f, quadrants(5, 3)),
		webpLossy, webpLossless, webpAlpha, webpAnim,
		progressiveJPEG(16, 16, 3),
		pngWithSize(f, 100000, 100000),
		pngWithSize(f, 0, 3),
		rawGIF(8, 8, frameBlockOf(f, 8, 8, 1), 50, true),
		anim[:len(anim)/2],
		makeAPNG(f, 24, 16, nil, apngTestFrames()),
		makeAPNG(f, 8, 8, patchFrame(0, 0, 8, 8, func(x, y int) color.NRGBA { return color.NRGBA{1, 2, 3, 255} }),
			[]apngFrame{{patchFrame(2, 2, 4, 4, func(x, y int) color.NRGBA { return color.NRGBA{200, 0, 0, 90} }), 2, 1}}),
		nil, []byte("\x13\x37\x42"), []byte("just some text"),
		[]byte("\x00\x00\x00\x18ftypheic"),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	for _, s := range colourSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeBytes(data, fuzzLimits)
		if err != nil {
			if d != nil {
				t.Fatalf("result and error: %v", err)
			}
			n := 0
			for _, kind := range sentinels {
				if errors.Is(err, kind) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %q wraps %d sentinels, want 1", err, n)
			}
			if errors.Is(err, errPanic) {
				// Recovered from a third-party decoder: handled by design,
				// but worth knowing about.
				t.Logf("recovered decoder panic: %v", err)
			}
			return
		}
		checkInvariants(t, d, fuzzLimits.withDefaults())
		// Touch every pixel at the corners so a bad layout panics here.
		for _, fr := range d.Frames {
			b := fr.Bounds()
			_ = fr.At(b.Min.X, b.Min.Y)
			_ = fr.At(b.Max.X-1, b.Max.Y-1)
		}
	})
}

var sentinels = []error{ErrUnsupported, ErrTooLarge, ErrEmpty, ErrCorrupt, ErrTooManyFrames}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, kind := range sentinels {
		if errors.Is(err, kind) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %q wraps %d sentinels, want 1", err, n)
	}
}

// FuzzFrames runs the every-frame reader: the scan-first refusals, the
// frame iteration, duplicate skipping, the APNG default image and colour
// conversion.
func FuzzFrames(f *testing.F) {
	anim := encGIF(f, animation(false))
	for _, s := range [][]byte{
		anim, anim[:len(anim)*2/3], encPNG(f, quadrants(5, 3)), encJPEG(f, quadrants(9, 7), 75),
		makeAPNG(f, 24, 16, nil, apngTestFrames()),
		makeAPNG(f, 8, 8, patchFrame(0, 0, 8, 8, func(x, y int) color.NRGBA { return color.NRGBA{9, 9, 9, 255} }), apngTestFrames()[:2]),
		rawGIF(8, 8, frameBlockOf(f, 8, 8, 1), 6, true),
	} {
		f.Add(s)
	}
	for _, s := range colourSeeds(f) {
		f.Add(s)
	}
	lim := fuzzLimits
	lim.MaxFrameCount = 5
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewFrameReader(data, lim)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		info := r.Info()
		n := 0
		for {
			fr, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				checkSentinel(t, err)
				return
			}
			if b := fr.Image.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
				t.Fatalf("frame %d is %v, want %dx%d", fr.Index, b, info.Width, info.Height)
			}
			n++
		}
		if n+r.Skipped() > info.Frames {
			t.Fatalf("%d frames and %d skipped, Info says %d", n, r.Skipped(), info.Frames)
		}
	})
}

// FuzzICC parses ICC profiles, as found in iCCP chunks.
func FuzzICC(f *testing.F) {
	for _, p := range iccSeeds() {
		f.Add(p, byte(3))
		f.Add(p, byte(1))
	}
	f.Fuzz(func(t *testing.T, p []byte, channels byte) {
		prof, err := parseICC(p, int(channels%4))
		if err != nil {
			return
		}
		for _, c := range prof.trc {
			for _, x := range []float64{0, 0.25, 1} {
				if y := c.eval(x); !(y >= 0 && y <= 1) {
					t.Fatalf("curve(%v) = %v", x, y)
				}
			}
		}
	})
}

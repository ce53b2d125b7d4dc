package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// readAll runs a FrameReader to the end, copying each frame.
func readAll(t *testing.T, data []byte, lim Limits) (*FrameReader, []Frame) {
	t.Helper()
	r, err := NewFrameReader(data, lim)
	if err != nil {
		t.Fatalf("NewFrameReader: %v", err)
	}
	var out []Frame
	for {
		f, err := r.Next()
		if err == io.EOF {
			return r, out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if m, ok := f.Image.(*image.NRGBA); ok {
			f.Image = cloneNRGBA(m)
		}
		out = append(out, f)
	}
}

// nineFrames is a 9-frame GIF whose frame 4 alone is different (red where
// the others are blue), and whose other frames differ from each other by
// one pixel, so none is a duplicate: the case sampling 8 frames misses.
func nineFrames(t testing.TB, special int) []byte {
	const w, h = 16, 12
	g := &gif.GIF{Config: image.Config{Width: w, Height: h}}
	for i := range 9 {
		fill := uint8(2) // blue
		if i == special {
			fill = 0 // red
		}
		g.Image = append(g.Image, frame(image.Rect(0, 0, w, h), func(x, y int) uint8 {
			if x == i && y == 0 {
				return 5
			}
			return fill
		}))
		g.Delay = append(g.Delay, 600) // 6 s each
		g.Disposal = append(g.Disposal, gif.DisposalNone)
	}
	return encGIF(t, g)
}

// TestFrameReaderEveryFrame: every frame is yielded, composited exactly as
// the oracle composites it; sampling 8 of 9 frames skips frame 4.
func TestFrameReaderEveryFrame(t *testing.T) {
	data := nineFrames(t, 4)
	d := mustDecode(t, data, Limits{})
	for _, i := range d.FrameIndex {
		if i == 4 {
			t.Fatalf("sampling includes frame 4 (%v): the test shows nothing", d.FrameIndex)
		}
	}
	r, frames := readAll(t, data, Limits{})
	want := naiveComposite(t, data, 16, 12)
	if len(frames) != 9 || r.Skipped() != 0 || r.Info().Frames != 9 || r.Info().FrameCount != 9 {
		t.Fatalf("%d frames, %d skipped, info %+v", len(frames), r.Skipped(), r.Info())
	}
	for i, f := range frames {
		if f.Index != i {
			t.Fatalf("frame %d has index %d", i, f.Index)
		}
		sameNRGBAMsg(t, fmt.Sprintf("frame %d", i), f.Image, want[i])
	}
	if c := rgbaAt(frames[4].Image, 8, 8); c != (color.NRGBA{255, 0, 0, 255}) {
		t.Errorf("frame 4 is %v, want red", c)
	}

	// The same with an APNG, against the APNG oracle. Its frame 4 is fully
	// transparent, drawn "over": the canvas stays as frame 3 left it, and
	// it is skipped as a duplicate.
	apng := makeAPNG(t, 24, 16, nil, apngTestFrames())
	r, frames = readAll(t, apng, Limits{})
	oracle := naiveAPNG(24, 16, apngTestFrames())
	var idx []int
	for _, f := range frames {
		idx = append(idx, f.Index)
		checkSnapshot(t, fmt.Sprintf("APNG frame %d", f.Index), f.Image, oracle[f.Index], 24)
	}
	if fmt.Sprint(idx) != "[0 1 2 3]" || r.Skipped() != 1 {
		t.Fatalf("APNG frames %v, %d skipped", idx, r.Skipped())
	}
	checkSnapshot(t, "APNG frame 4 (skipped)", frames[3].Image, oracle[4], 24)
}

// TestFrameReaderDefaultImage: an APNG default image that is not a frame
// comes first, at index -1, then every frame.
func TestFrameReaderDefaultImage(t *testing.T) {
	white := patchFrame(0, 0, 8, 8, func(x, y int) color.NRGBA { return color.NRGBA{255, 255, 255, 255} })
	red := patchFrame(0, 0, 8, 8, func(x, y int) color.NRGBA { return color.NRGBA{255, 0, 0, 255} })
	blue := patchFrame(0, 0, 8, 8, func(x, y int) color.NRGBA { return color.NRGBA{0, 0, 255, 255} })
	r, frames := readAll(t, makeAPNG(t, 8, 8, white, []apngFrame{{red, 0, 0}, {blue, 0, 0}}), Limits{})
	if info := r.Info(); !info.DefaultImage || info.Frames != 3 || info.FrameCount != 2 {
		t.Errorf("info %+v", info)
	}
	var got []string
	for _, f := range frames {
		got = append(got, fmt.Sprintf("%d:%v", f.Index, rgbaAt(f.Image, 3, 3)))
	}
	if fmt.Sprint(got) != "[-1:{255 255 255 255} 0:{255 0 0 255} 1:{0 0 255 255}]" {
		t.Errorf("frames %v", got)
	}
}

// TestFrameReaderSkipsDuplicates: a frame whose composited canvas equals
// one already yielded is skipped (it would classify identically); a frame
// that differs by one pixel is not.
func TestFrameReaderSkipsDuplicates(t *testing.T) {
	const w, h = 10, 10
	g := &gif.GIF{Config: image.Config{Width: w, Height: h}}
	add := func(fill uint8, dot bool) {
		g.Image = append(g.Image, frame(image.Rect(0, 0, w, h), func(x, y int) uint8 {
			if dot && x == 9 && y == 9 {
				return 5
			}
			return fill
		}))
		g.Delay = append(g.Delay, 10)
		g.Disposal = append(g.Disposal, gif.DisposalNone)
	}
	add(0, false) // A
	add(1, false) // B
	add(0, false) // A again
	add(1, false) // B again
	add(1, true)  // B with one pixel changed
	// A transparent frame drawn over B-with-dot changes nothing.
	g.Image = append(g.Image, frame(image.Rect(2, 2, 5, 5), func(x, y int) uint8 { return 3 }))
	g.Delay = append(g.Delay, 10)
	g.Disposal = append(g.Disposal, gif.DisposalNone)
	r, frames := readAll(t, encGIF(t, g), Limits{})
	var idx []int
	for _, f := range frames {
		idx = append(idx, f.Index)
	}
	if fmt.Sprint(idx) != "[0 1 4]" || r.Skipped() != 3 {
		t.Errorf("yielded %v, skipped %d; want [0 1 4] and 3", idx, r.Skipped())
	}
}

// garbageFrames is a GIF of n frames of w x h whose image data is not
// valid LZW (but long enough to be plausible): decoding any frame fails,
// so a refusal of it cannot come from decoding.
func garbageFrames(w, h, n int) []byte {
	var block []byte
	block = append(block, 0x2c, 0, 0, 0, 0, byte(w), byte(w>>8), byte(h), byte(h>>8), 0, 2)
	need := w*h/lzwMaxPixelsPerByte + 100
	for need > 0 {
		k := min(need, 255)
		block = append(block, byte(k))
		block = append(block, bytes.Repeat([]byte{0xff}, k)...)
		need -= k
	}
	block = append(block, 0)
	return rawGIF(w, h, block, n, true)
}

// TestFrameReaderRefusesBeforeDecoding: too many frames, or frames over
// the work budget, are refused from the scan alone (the frames' data is
// garbage: decoding it would fail with ErrCorrupt instead).
func TestFrameReaderRefusesBeforeDecoding(t *testing.T) {
	if _, err := NewFrameReader(garbageFrames(8, 8, 201), Limits{}); !errors.Is(err, ErrTooManyFrames) || !bytes.Contains([]byte(err.Error()), []byte("201 frames, over the limit of 200")) {
		t.Errorf("201 frames: %v", err)
	}
	if _, err := NewFrameReader(garbageFrames(8, 8, 6), Limits{MaxFrameCount: 5}); !errors.Is(err, ErrTooManyFrames) {
		t.Errorf("6 frames, limit 5: %v", err)
	}
	// 20 frames of 1000x1000 are 20 MP of work, over a 10 MP budget.
	big := garbageFrames(1000, 1000, 20)
	t.Logf("20 frames of 1000x1000: %d bytes", len(big))
	if _, err := NewFrameReader(big, Limits{MaxTotalPixels: 10_000_000}); !errors.Is(err, ErrTooManyFrames) || !bytes.Contains([]byte(err.Error()), []byte("work budget")) {
		t.Errorf("over the work budget: %v", err)
	}
	// Within both limits the same garbage reaches the decoder.
	r, err := NewFrameReader(garbageFrames(8, 8, 5), Limits{MaxFrameCount: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("decoding garbage: %v", err)
	}
	// Decode, which samples, still accepts long animations.
	if _, err := DecodeBytes(encGIF(t, manyFrameGIF(250)), Limits{}); err != nil {
		t.Errorf("Decode of 250 frames: %v", err)
	}
}

func manyFrameGIF(n int) *gif.GIF {
	g := &gif.GIF{Config: image.Config{Width: 4, Height: 4}}
	for i := range n {
		g.Image = append(g.Image, frame(image.Rect(0, 0, 4, 4), func(x, y int) uint8 { return uint8((x + i) % 3) }))
		g.Delay = append(g.Delay, 1)
		g.Disposal = append(g.Disposal, 0)
	}
	return g
}

// TestFrameReaderPartial: a truncated animation yields its complete
// frames, then reports why it ended.
func TestFrameReaderPartial(t *testing.T) {
	data := nineFrames(t, 4)
	cut := data[:len(data)-40]
	r, frames := readAll(t, cut, Limits{})
	if len(frames) == 0 || len(frames) >= 9 || r.Partial() == nil || !errors.Is(r.Partial(), io.ErrUnexpectedEOF) {
		t.Errorf("%d frames, partial %v", len(frames), r.Partial())
	}
	if r, _ := readAll(t, data, Limits{}); r.Partial() != nil {
		t.Errorf("whole file partial: %v", r.Partial())
	}
}

// TestTrailingBytes: data after the end of the image is counted.
func TestTrailingBytes(t *testing.T) {
	zip := append([]byte("PK\x03\x04"), bytes.Repeat([]byte{7}, 996)...)
	for name, data := range map[string][]byte{
		"png":  encPNG(t, quadrants(8, 6)),
		"gif":  nineFrames(t, 4),
		"jpeg": encJPEG(t, quadrants(16, 16), 80),
		"apng": makeAPNG(t, 24, 16, nil, apngTestFrames()),
		"bmp":  encBMP(t, quadrants(5, 3)),
		"webp": webpLossless,
	} {
		info, err := Inspect(data, Limits{})
		if err != nil || info.Trailing != 0 {
			t.Errorf("%s: trailing %d, %v", name, info.Trailing, err)
		}
		info, err = Inspect(append(bytes.Clone(data), zip...), Limits{})
		if err != nil || info.Trailing != int64(len(zip)) {
			t.Errorf("%s + zip: trailing %d, want %d (%v)", name, info.Trailing, len(zip), err)
		}
	}
}

// TestMemoryEstimate: Info.Memory bounds what decoding really allocates
// (runtime.MemStats.TotalAlloc, garbage included), without being wildly
// above it.
func TestMemoryEstimate(t *testing.T) {
	photo := photoLike(900, 700)
	deep := image.NewNRGBA64(photo.Bounds())
	for i := range deep.Pix {
		deep.Pix[i] = photo.Pix[i/2]
	}
	gray16 := image.NewGray16(image.Rect(0, 0, 700, 500))
	interlaced := func(t *testing.T, name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	g := &gif.GIF{Config: image.Config{Width: 400, Height: 300}}
	for i := range 12 {
		g.Image = append(g.Image, frame(image.Rect(i*10, i*5, 200+i*10, 150+i*5), func(x, y int) uint8 { return uint8((x + y + i) % 6) }))
		g.Delay = append(g.Delay, 1)
		g.Disposal = append(g.Disposal, byte(i%4))
	}
	cases := map[string][]byte{
		"png rgba8":        encPNG(t, photo),
		"png rgba16":       encPNG(t, deep),
		"png rgba16 gAMA":  withChunks(encPNG(t, deep), false, gamaChunk(30000)),
		"png gray16 gAMA":  withChunks(encPNG(t, gray16), false, gamaChunk(30000)),
		"png interlaced":   interlaced(t, "photo-lighthouse-interlaced.png"),
		"jpeg 4:2:0":       encJPEG(t, photo, 85),
		"jpeg progressive": interlaced(t, "photo-chelsea-progressive.jpg"),
		"jpeg 4:2:2 prog":  interlaced(t, "photo-redwoods-422-progressive.jpg"),
		"jpeg rotated":     withEXIF(encJPEG(t, photo, 85), 6, binary.BigEndian),
		"gif animation":    encGIF(t, g),
		"apng":             makeAPNG(t, 24, 16, patchFrame(0, 0, 24, 16, func(x, y int) color.NRGBA { return color.NRGBA{1, 2, 3, 255} }), apngTestFrames()),
		"bmp":              encBMP(t, photo),
		"webp lossless":    interlaced(t, "drawing-balloon-lossless.webp"),
		"webp lossy":       interlaced(t, "photo-jellyfish-lossy.webp"),
	}
	for name, data := range cases {
		info, err := Inspect(data, Limits{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// Peak: what is live before each step (after a collection), plus
		// everything the step allocates; garbage of earlier frames is the
		// collector's to reclaim and is not counted.
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := int64(ms.HeapAlloc)
		var used int64
		step := func(fn func()) {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			live, total := int64(ms.HeapAlloc), ms.TotalAlloc
			fn()
			runtime.ReadMemStats(&ms)
			used = max(used, live-base+int64(ms.TotalAlloc-total))
		}
		var r *FrameReader
		step(func() { r, err = NewFrameReader(data, Limits{}) })
		if err != nil {
			t.Fatal(err)
		}
		for done := false; !done; {
			step(func() {
				if _, err := r.Next(); err != nil {
					if err != io.EOF {
						t.Fatalf("%s: %v", name, err)
					}
					done = true
				}
			})
		}
		runtime.KeepAlive(r)
		slack := int64(256 << 10) // decoder state (zlib, LZW, bufio), frame wrappers
		t.Logf("%-18s %dx%d: estimate %7.2f MB, allocated %7.2f MB", name, info.Width, info.Height, float64(info.Memory)/1e6, float64(used)/1e6)
		if used > info.Memory+slack {
			t.Errorf("%s: allocated %d bytes, over the estimate %d (+%d slack)", name, used, info.Memory, slack)
		}
		if info.Memory > 4*used+(1<<20) {
			t.Errorf("%s: estimate %d is far above the %d bytes allocated", name, info.Memory, used)
		}
	}
}

// TestDecodeBudget: the 16-bit interlaced PNG of the attack (7000x7000
// declared in 430 KB) is refused from its header: decoding would take
// about 800 MB. The data is garbage, so the refusal cannot come from
// decoding.
func TestDecodeBudget(t *testing.T) {
	hdr := pngWithSize(t, 7000, 7000)
	hdr[24], hdr[25], hdr[28] = 16, 6, 1 // 16-bit RGBA, interlaced
	ihdr := hdr[12:29]
	putBE32(hdr[29:], crc32.ChecksumIEEE(ihdr))
	data := append(hdr[:33:33], chunk("IDAT", bytes.Repeat([]byte{0x55}, 430_000))...)
	data = append(data, chunk("IEND", nil)...)
	_, err := Inspect(data, Limits{MaxDecodeBytes: 256 << 20})
	if !errors.Is(err, ErrTooLarge) || !bytes.Contains([]byte(err.Error()), []byte("over the 256 MiB limit")) {
		t.Fatalf("got %v", err)
	}
	t.Log(err)
	// Under a budget that allows it, the header passes and the decoder
	// meets the garbage.
	if info, err := Inspect(data, Limits{MaxDecodeBytes: 1 << 40, MaxPixels: 1 << 30}); err != nil || info.Memory < 7000*7000*16 {
		t.Errorf("with a large budget: %+v %v", info, err)
	}
}

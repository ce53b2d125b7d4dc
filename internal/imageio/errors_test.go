package imageio

import (
	"bytes"
	"errors"
	"hash/crc32"
	"image"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// wantErr checks an error's class and that its message mentions substr.
func wantErr(t testing.TB, err, kind error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %q does not wrap %v", err, kind)
	}
	for _, other := range []error{ErrUnsupported, ErrTooLarge, ErrEmpty, ErrCorrupt} {
		if other != kind && errors.Is(err, other) {
			t.Fatalf("error %q wraps both %v and %v", err, kind, other)
		}
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not mention %q", err, substr)
	}
}

func TestSniffErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		data   string
		kind   error
		substr string
	}{
		{"empty", "", ErrEmpty, "no data"},
		{"3 random bytes", "\x13\x37\x42", ErrUnsupported, "unknown format"},
		{"text", "Hello, this is a text file.\nIt is not an image.\n", ErrUnsupported, "not an image: looks like text"},
		{"html", "<!DOCTYPE html><html><body>hi</body></html>", ErrUnsupported, "looks like HTML"},
		{"svg", "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>", ErrUnsupported, "SVG"},
		{"heic", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", ErrUnsupported, "HEIC"},
		{"avif", "\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", ErrUnsupported, "AVIF"},
		{"tiff", "II*\x00\x08\x00\x00\x00\x00\x00", ErrUnsupported, "TIFF"},
		{"pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ErrUnsupported, "PDF"},
		{"zip", "PK\x03\x04\x14\x00\x00\x00", ErrUnsupported, "ZIP"},
		{"riff-avi", "RIFF\x00\x00\x00\x00AVI LIST", ErrUnsupported, "not WebP"},
		{"bm-text", "BMW is a car maker, and this is text.", ErrUnsupported, "looks like text"},
		{"truncated png magic", "\x89PNG", ErrCorrupt, "png: corrupt image: truncated"},
		{"truncated gif magic", "GIF8", ErrCorrupt, "gif: corrupt image: truncated"},
		{"jpeg soi only", "\xff\xd8\xff", ErrCorrupt, "jpeg: corrupt image"},
		{"gif header only", "GIF89a", ErrCorrupt, "truncated"},
		{"webp header only", "RIFF\x10\x00\x00\x00WEBP", ErrCorrupt, "webp: corrupt image"},
		{"bmp header only", "BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", ErrCorrupt, "bmp: corrupt image"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := DecodeBytes([]byte(c.data), Limits{})
			if d != nil {
				t.Errorf("got a result with an error")
			}
			wantErr(t, err, c.kind, c.substr)
		})
	}
}

// pngWithSize rewrites the IHDR dimensions of a PNG, fixing the CRC so
// only the size is wrong.
func pngWithSize(t testing.TB, w, h uint32) []byte {
	data := encPNG(t, quadrants(4, 4))
	out := append([]byte{}, data...)
	putBE32(out[16:], w)
	putBE32(out[20:], h)
	putBE32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	return out
}

func putBE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func TestHugeDimensionsFailFast(t *testing.T) {
	data := pngWithSize(t, 100000, 100000)
	var err error
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	for range 10 {
		_, err = DecodeBytes(data, Limits{})
	}
	el := time.Since(start)
	runtime.ReadMemStats(&after)
	wantErr(t, err, ErrTooLarge, "100000x100000")
	if alloc := (after.TotalAlloc - before.TotalAlloc) / 10; alloc > 1<<20 {
		t.Errorf("rejecting a 100000x100000 header allocated %d bytes per call", alloc)
	}
	if el > time.Second {
		t.Errorf("took %v", el)
	}
	allocs := testing.AllocsPerRun(20, func() { _, _ = DecodeBytes(data, Limits{}) })
	if allocs > 50 {
		t.Errorf("%v allocations per rejected decode", allocs)
	}

	// Each format's header path.
	gifData := shrinkScreen(encGIF(t, animation(false)), 65535, 65535)
	_, err = DecodeBytes(gifData, Limits{})
	wantErr(t, err, ErrTooLarge, "65535x65535")
	bmpData := encBMP(t, quadrants(4, 4))
	putLE32(bmpData[18:], 30000)
	putLE32(bmpData[22:], 30000)
	_, err = DecodeBytes(bmpData, Limits{})
	wantErr(t, err, ErrTooLarge, "30000x30000")
	jpg := encJPEG(t, quadrants(16, 16), 80)
	i := bytes.Index(jpg, []byte{0xff, 0xc0})
	jpg[i+5], jpg[i+6], jpg[i+7], jpg[i+8] = 0xff, 0xff, 0xff, 0xff
	_, err = DecodeBytes(jpg, Limits{})
	wantErr(t, err, ErrTooLarge, "65535x65535")
	// WebP VP8X canvas (x/image itself calls anything over 2^31 pixels
	// "invalid format").
	wp := append([]byte{}, webpAlpha...)
	copy(wp[24:30], []byte{0xff, 0xff, 0xff, 0xff, 0x01, 0x00}) // 16777216 x 512
	_, err = DecodeBytes(wp, Limits{})
	wantErr(t, err, ErrTooLarge, "16777216x512")
	// A custom MaxPixels applies too, and the multiplication cannot overflow.
	_, err = DecodeBytes(encPNG(t, quadrants(40, 30)), Limits{MaxPixels: 1000})
	wantErr(t, err, ErrTooLarge, "40x30")
	if err := checkDims("png", 1<<31-1, 1<<31-1, Limits{MaxPixels: 1<<63 - 1}); err != nil {
		t.Errorf("MaxPixels = MaxInt64: %v", err)
	}
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func TestZeroDimensions(t *testing.T) {
	_, err := DecodeBytes(pngWithSize(t, 0, 10), Limits{})
	if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("png 0x10: %v", err) // the png package itself rejects zero sizes
	}
	_, err = DecodeBytes(shrinkScreen(encGIF(t, animation(false)), 0, 16), Limits{})
	wantErr(t, err, ErrEmpty, "0x16")
	bmpData := encBMP(t, quadrants(4, 4))
	putLE32(bmpData[18:], 0)
	putLE32(bmpData[22:], 0)
	_, err = DecodeBytes(bmpData, Limits{})
	wantErr(t, err, ErrEmpty, "0x0")
	jpg := encJPEG(t, quadrants(16, 16), 80)
	i := bytes.Index(jpg, []byte{0xff, 0xc0})
	jpg[i+5], jpg[i+6] = 0, 0 // height 0 (which JPEG allows with a DNL marker)
	_, err = DecodeBytes(jpg, Limits{})
	if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("jpeg height 0: %v", err)
	}
}

func TestTruncated(t *testing.T) {
	for _, c := range []struct {
		format string
		data   []byte
	}{
		{"png", encPNG(t, quadrants(40, 30))},
		{"jpeg", encJPEG(t, quadrants(40, 30), 90)},
		{"gif", encGIF(t, &gif.GIF{Image: []*image.Paletted{frame(image.Rect(0, 0, 40, 30), func(x, y int) uint8 { return uint8(x % 5) })}, Delay: []int{0}})},
		{"bmp", encBMP(t, quadrants(40, 30))},
		{"webp", webpLossy},
	} {
		t.Run(c.format, func(t *testing.T) {
			n := len(c.data)
			for _, cut := range []int{n / 4, n / 2, n * 3 / 4, n - 20, n - 1} {
				if c.format == "png" && cut >= n-12 || c.format == "gif" && cut == n-1 {
					continue // only IEND or the trailer is missing: still decodable, as in browsers
				}
				_, err := DecodeBytes(c.data[:cut], Limits{})
				if err == nil {
					t.Fatalf("cut at %d of %d: no error", cut, n)
				}
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("cut at %d of %d: %v is not ErrCorrupt", cut, n, err)
				}
				if !strings.HasPrefix(err.Error(), c.format+": ") {
					t.Errorf("cut at %d: %q does not name the format", cut, err)
				}
				if c.format != "webp" && !strings.Contains(err.Error(), "truncated") {
					t.Errorf("cut at %d: %q does not say truncated", cut, err)
				}
			}
		})
	}
}

func TestCorruptMessage(t *testing.T) {
	data := encPNG(t, quadrants(8, 8))
	data[len(data)-20] ^= 0xff // inside the IDAT payload or its CRC
	_, err := DecodeBytes(data, Limits{})
	wantErr(t, err, ErrCorrupt, "png: corrupt image: ")
	if strings.Count(err.Error(), "png:") != 1 {
		t.Errorf("message repeats the format: %q", err)
	}
}

// TestPNGAmplification: a tiny file claiming a big (but allowed) size is
// refused before the decoder allocates its pixel buffer.
func TestPNGAmplification(t *testing.T) {
	data := pngWithSize(t, 6000, 6000) // 36 MP, under the limit, ~100 bytes of data
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := DecodeBytes(data, Limits{})
	runtime.ReadMemStats(&after)
	wantErr(t, err, ErrCorrupt, "truncated")
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("%v does not wrap io.ErrUnexpectedEOF", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
	bmpData := encBMP(t, quadrants(4, 4))
	putLE32(bmpData[18:], 6000)
	putLE32(bmpData[22:], 6000)
	_, err = DecodeBytes(bmpData, Limits{})
	wantErr(t, err, ErrCorrupt, "truncated")
}

func TestMaxBytes(t *testing.T) {
	data := encPNG(t, quadrants(64, 64))
	lim := Limits{MaxBytes: int64(len(data)) - 1}
	_, err := Decode(bytes.NewReader(data), lim)
	wantErr(t, err, ErrTooLarge, "limit")
	_, err = DecodeBytes(data, lim)
	wantErr(t, err, ErrTooLarge, "limit")
	// Exactly at the limit is fine.
	if _, err := Decode(bytes.NewReader(data), Limits{MaxBytes: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	// The reader is not drained past the limit (an endless reader ends).
	_, err = Decode(endless{}, Limits{MaxBytes: 1 << 20})
	wantErr(t, err, ErrTooLarge, "1 MiB")

	dir := t.TempDir()
	path := filepath.Join(dir, "x.png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = DecodeFile(path, lim)
	wantErr(t, err, ErrTooLarge, "limit")
	d, err := DecodeFile(path, Limits{})
	if err != nil || d.Width != 64 {
		t.Fatalf("DecodeFile: %v", err)
	}
	if _, err := DecodeFile(filepath.Join(dir, "missing.png"), Limits{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// Read errors are passed through, not misclassified.
	_, err = Decode(io.MultiReader(bytes.NewReader(data[:10]), errReader{}), Limits{})
	if err == nil || !errors.Is(err, errBoom) {
		t.Errorf("read error: %v", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0xff
	}
	return len(p), nil
}

var errBoom = errors.New("boom")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBoom }

// progressiveJPEG builds a grey progressive JPEG with one DC scan and n AC
// scans that code nothing but a maximal end-of-band run: tiny, valid, and
// expensive for a decoder that walks every block once per scan.
func progressiveJPEG(w, h, n int) []byte {
	seg := func(m byte, p []byte) []byte {
		l := len(p) + 2
		return append([]byte{0xff, m, byte(l >> 8), byte(l)}, p...)
	}
	var bw bitWriter
	out := []byte{0xff, 0xd8}
	dqt := make([]byte, 65)
	for i := 1; i < 65; i++ {
		dqt[i] = 1
	}
	out = append(out, seg(0xdb, dqt)...)
	out = append(out, seg(0xc2, []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0})...)
	out = append(out, seg(0xc4, append([]byte{0x00, 1}, append(make([]byte, 15), 0)...))...)    // DC: symbol 0, code "0"
	out = append(out, seg(0xc4, append([]byte{0x10, 1}, append(make([]byte, 15), 0xe0)...))...) // AC: EOB14, code "0"
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	out = append(out, seg(0xda, []byte{1, 1, 0x00, 0, 0, 0})...)
	for range blocks {
		bw.put(0, 1)
	}
	out = append(out, bw.flush()...)
	for range n {
		out = append(out, seg(0xda, []byte{1, 1, 0x00, 1, 63, 0})...)
		for left := blocks; left > 0; left -= 32767 {
			bw.put(0, 1)
			bw.put(0x3fff, 14)
		}
		out = append(out, bw.flush()...)
	}
	return append(out, 0xff, 0xd9)
}

type bitWriter struct {
	buf []byte
	acc uint32
	n   uint
}

func (b *bitWriter) put(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		b.acc = b.acc<<1 | (v>>uint(i))&1
		b.n++
		if b.n == 8 {
			b.buf = append(b.buf, byte(b.acc))
			if byte(b.acc) == 0xff {
				b.buf = append(b.buf, 0)
			}
			b.acc, b.n = 0, 0
		}
	}
}

func (b *bitWriter) flush() []byte {
	for b.n != 0 {
		b.put(1, 1)
	}
	out := b.buf
	b.buf = nil
	return out
}

func TestJPEGScanLimit(t *testing.T) {
	// A normal progressive file decodes.
	d := mustDecode(t, progressiveJPEG(64, 64, 10), Limits{})
	if d.Width != 64 {
		t.Fatalf("got %+v", d)
	}
	// Thousands of scans: refused quickly from the marker scan alone.
	data := progressiveJPEG(4000, 4000, 3000)
	start := time.Now()
	_, err := DecodeBytes(data, Limits{})
	wantErr(t, err, ErrTooLarge, "3001 progressive scans")
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %v", el)
	}
	// The cap scales with the image: 200 scans are fine for 64x64...
	mustDecode(t, progressiveJPEG(64, 64, 200), Limits{})
	// ...but not for 4000x4000 (16 MP -> 8*500e6/16e6 = 250 allowed).
	_, err = DecodeBytes(progressiveJPEG(4000, 4000, 300), Limits{})
	wantErr(t, err, ErrTooLarge, "limit of 250 scans")
	// Sequential JPEGs have one scan per component at most.
	jpg := encJPEG(t, quadrants(16, 16), 80)
	sos := bytes.Index(jpg, []byte{0xff, 0xda})
	body := jpg[sos : len(jpg)-2]
	var many []byte
	many = append(many, jpg[:sos]...)
	for range 6 {
		many = append(many, body...)
	}
	many = append(many, 0xff, 0xd9)
	_, err = DecodeBytes(many, Limits{})
	wantErr(t, err, ErrCorrupt, "6 scans")
}

func TestPanicRecovery(t *testing.T) {
	_, err := safely("webp", func() (image.Image, error) { panic("index out of range") })
	wantErr(t, err, ErrCorrupt, "webp: corrupt image: decoder panic: index out of range")
	if !errors.Is(err, errPanic) {
		t.Error("recovered panic not marked")
	}
}

package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/bmp"
)

func init() { debugPanics = true }

// Quadrant colours of the asymmetric test pattern.
var (
	qTL = color.NRGBA{255, 0, 0, 255}     // red
	qTR = color.NRGBA{0, 255, 0, 255}     // green
	qBL = color.NRGBA{0, 0, 255, 255}     // blue
	qBR = color.NRGBA{255, 255, 255, 255} // white
)

// quadrants returns a w x h image whose four quadrants have distinct
// colours, so any flip or rotation is visible.
func quadrants(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := qBR
			switch {
			case x < w/2 && y < h/2:
				c = qTL
			case y < h/2:
				c = qTR
			case x < w/2:
				c = qBL
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

func encPNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encJPEG(t testing.TB, m image.Image, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encBMP(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := bmp.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encGIF(t testing.TB, g *gif.GIF) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// withEXIF inserts an APP1 EXIF segment carrying the given orientation
// right after the SOI marker of a JPEG.
func withEXIF(jpg []byte, orientation int, order byteOrder) []byte {
	var tiff []byte
	if order == binary.LittleEndian {
		tiff = append(tiff, 'I', 'I')
	} else {
		tiff = append(tiff, 'M', 'M')
	}
	tiff = order.AppendUint16(tiff, 42)
	tiff = order.AppendUint32(tiff, 8) // IFD0 right after the header
	tiff = order.AppendUint16(tiff, 2) // two entries: a decoy, then orientation
	// 0x010f Make, ASCII, count 4, inline "Go\0\0".
	tiff = order.AppendUint16(tiff, 0x010f)
	tiff = order.AppendUint16(tiff, 2)
	tiff = order.AppendUint32(tiff, 4)
	tiff = append(tiff, 'G', 'o', 0, 0)
	// 0x0112 Orientation, SHORT, count 1, value left-justified.
	tiff = order.AppendUint16(tiff, 0x0112)
	tiff = order.AppendUint16(tiff, 3)
	tiff = order.AppendUint32(tiff, 1)
	tiff = order.AppendUint16(tiff, uint16(orientation))
	tiff = append(tiff, 0, 0)
	tiff = order.AppendUint32(tiff, 0) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, 0xe1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// rgbaAt returns the non-premultiplied colour of m at (x, y).
func rgbaAt(m image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
}

// blockMean averages the colour over r (coarse comparison for lossy data).
func blockMean(m image.Image, r image.Rectangle) [3]float64 {
	var s [3]float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := rgbaAt(m, x, y)
			s[0] += float64(c.R)
			s[1] += float64(c.G)
			s[2] += float64(c.B)
			n++
		}
	}
	for i := range s {
		s[i] /= float64(n)
	}
	return s
}

// near reports whether a block mean is within tol of colour c.
func near(mean [3]float64, c color.NRGBA, tol float64) bool {
	d := []float64{mean[0] - float64(c.R), mean[1] - float64(c.G), mean[2] - float64(c.B)}
	for _, v := range d {
		if v > tol || v < -tol {
			return false
		}
	}
	return true
}

// quadrantCentres returns the inner rectangles of the four quadrants of a
// w x h image, avoiding edges where lossy codecs bleed.
func quadrantCentres(w, h int) (tl, tr, bl, br image.Rectangle) {
	qw, qh := w/2, h/2
	in := func(x0, y0 int) image.Rectangle {
		return image.Rect(x0+qw/4, y0+qh/4, x0+qw-qw/4, y0+qh-qh/4)
	}
	return in(0, 0), in(qw, 0), in(0, qh), in(qw, qh)
}

// mustDecode decodes data with lim and fails the test on error.
func mustDecode(t testing.TB, data []byte, lim Limits) *Decoded {
	t.Helper()
	d, err := DecodeBytes(data, lim)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	checkInvariants(t, d, lim.withDefaults())
	return d
}

// checkInvariants asserts the properties every successful decode has.
func checkInvariants(t testing.TB, d *Decoded, lim Limits) {
	t.Helper()
	if d.Width <= 0 || d.Height <= 0 {
		t.Fatalf("bad size %dx%d", d.Width, d.Height)
	}
	if int64(d.Width)*int64(d.Height) > lim.MaxPixels {
		t.Fatalf("size %dx%d over MaxPixels %d", d.Width, d.Height, lim.MaxPixels)
	}
	// An APNG default image that is not a frame comes first, at index -1.
	deflt := len(d.FrameIndex) > 0 && d.FrameIndex[0] == -1
	maxFrames := lim.MaxFrames
	if deflt {
		maxFrames = max(2, maxFrames)
	}
	if len(d.Frames) < 1 || len(d.Frames) > maxFrames {
		t.Fatalf("%d frames, want 1..%d", len(d.Frames), maxFrames)
	}
	if len(d.FrameIndex) != len(d.Frames) {
		t.Fatalf("%d frame indices for %d frames", len(d.FrameIndex), len(d.Frames))
	}
	first := 0
	if deflt {
		first = 1
	}
	if len(d.FrameIndex) <= first || d.FrameIndex[first] != 0 {
		t.Fatalf("frame indices %v: want the first animation frame to be 0", d.FrameIndex)
	}
	var px int64
	for i, f := range d.Frames {
		if f == nil {
			t.Fatalf("frame %d is nil", i)
		}
		if b := f.Bounds(); b.Dx() != d.Width || b.Dy() != d.Height {
			t.Fatalf("frame %d bounds %v, want %dx%d", i, b, d.Width, d.Height)
		}
		if i > 0 && d.FrameIndex[i] <= d.FrameIndex[i-1] {
			t.Fatalf("frame indices not increasing: %v", d.FrameIndex)
		}
		px += int64(d.Width) * int64(d.Height)
	}
	limit := lim.MaxPixels
	if deflt {
		limit += int64(d.Width) * int64(d.Height)
	}
	if px > limit {
		t.Fatalf("output holds %d pixels, over %d", px, limit)
	}
	if d.FrameCount < d.FrameIndex[len(d.FrameIndex)-1]+1 {
		t.Fatalf("FrameCount %d but frame index %d", d.FrameCount, d.FrameIndex[len(d.FrameIndex)-1])
	}
}

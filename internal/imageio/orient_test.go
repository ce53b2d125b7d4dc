package imageio

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"testing"
)

// TestEXIFOrientation encodes a 64x32 quadrant pattern (TL red, TR green,
// BL blue, BR white) as stored pixels, tags it with each orientation, and
// checks where each stored corner appears once displayed. The expectations
// are the EXIF definitions written out by hand, independent of the code.
func TestEXIFOrientation(t *testing.T) {
	const w, h = 64, 32
	stored := encJPEG(t, quadrants(w, h), 95)
	cases := []struct {
		o              int
		tl, tr, bl, br color.NRGBA // displayed quadrants
	}{
		{1, qTL, qTR, qBL, qBR},
		{2, qTR, qTL, qBR, qBL}, // mirror left-right
		{3, qBR, qBL, qTR, qTL}, // rotate 180
		{4, qBL, qBR, qTL, qTR}, // mirror top-bottom
		{5, qTL, qBL, qTR, qBR}, // transpose
		{6, qBL, qTL, qBR, qTR}, // rotate 90 clockwise: stored left column becomes top row
		{7, qBR, qTR, qBL, qTL}, // transverse
		{8, qTR, qBR, qTL, qBL}, // rotate 90 counter-clockwise
	}
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/%d", order, c.o), func(t *testing.T) {
				data := withEXIF(stored, c.o, order)
				d := mustDecode(t, data, Limits{})
				if d.Orientation != c.o {
					t.Errorf("Orientation %d, want %d", d.Orientation, c.o)
				}
				ww, wh := w, h
				if c.o >= 5 {
					ww, wh = h, w
				}
				if d.Width != ww || d.Height != wh {
					t.Fatalf("size %dx%d, want %dx%d", d.Width, d.Height, ww, wh)
				}
				if _, ok := d.Frames[0].(*image.YCbCr); !ok {
					t.Errorf("type %T, want *image.YCbCr kept", d.Frames[0])
				}
				checkQuadrants(t, d.Frames[0], c.tl, c.tr, c.bl, c.br)

				// IgnoreOrientation gives the stored pixels.
				d = mustDecode(t, data, Limits{IgnoreOrientation: true})
				if d.Width != w || d.Height != h || d.Orientation != c.o {
					t.Fatalf("ignored: %dx%d orientation %d", d.Width, d.Height, d.Orientation)
				}
				checkQuadrants(t, d.Frames[0], qTL, qTR, qBL, qBR)
			})
		}
	}
}

func TestEXIFOrientationInvalid(t *testing.T) {
	stored := encJPEG(t, quadrants(32, 16), 90)
	for _, o := range []int{0, 9, 0xffff} {
		d := mustDecode(t, withEXIF(stored, o, binary.BigEndian), Limits{})
		if d.Orientation != 0 || d.Width != 32 {
			t.Errorf("orientation %d: got Orientation %d, %dx%d", o, d.Orientation, d.Width, d.Height)
		}
	}
	// Truncated / hostile TIFF structures are ignored, never trusted.
	for _, tiff := range [][]byte{
		nil, []byte("II"), []byte("II*\x00\xff\xff\xff\xff"), []byte("MM\x00*\x00\x00\x00\x08\xff\xff"),
		[]byte("XX*\x00\x08\x00\x00\x00"), []byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00"),
	} {
		if got := exifOrientation(tiff); got != 0 {
			t.Errorf("exifOrientation(%q) = %d", tiff, got)
		}
	}
}

// TestOrientTypes checks the fast per-type paths against a per-pixel
// reference for every orientation, pixel type and chroma subsampling. With
// sizes that are multiples of the subsampling, chroma must match exactly;
// with odd sizes, subsampled chroma may shift by a pixel, so only luma is
// compared.
func TestOrientTypes(t *testing.T) {
	for _, size := range []image.Point{{8, 6}, {7, 5}} {
		for _, m := range orientSamples(size.X, size.Y) {
			for o := 1; o <= 8; o++ {
				checkOrient(t, m, o, size.X%4 == 0 && size.Y%2 == 0)
			}
		}
	}
}

func orientSamples(w, h int) []image.Image {
	r := image.Rect(0, 0, w, h)
	gray := image.NewGray(r)
	rgba := image.NewRGBA(r)
	nrgba := image.NewNRGBA(r)
	cmyk := image.NewCMYK(r)
	g16 := image.NewGray16(r)
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 5)
	}
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 3)
		nrgba.Pix[i] = uint8(i*7 + 1)
		cmyk.Pix[i] = uint8(i * 11)
	}
	for i := range g16.Pix {
		g16.Pix[i] = uint8(i * 13)
	}
	imgs := []image.Image{gray, rgba, nrgba, cmyk, g16}
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		m := image.NewYCbCr(r, ratio)
		for i := range m.Y {
			m.Y[i] = uint8(i * 9)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*40), uint8(255-i*30)
		}
		imgs = append(imgs, m)
	}
	return imgs
}

func checkOrient(t *testing.T, m image.Image, o int, exactChroma bool) {
	t.Helper()
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	got := orient(m, o)
	if o == 1 && got != m {
		t.Fatalf("orientation 1 must return the image unchanged")
	}
	if typeName(got) != typeName(m) && typeName(got) != "*image.NRGBA" {
		t.Errorf("%T orientation %d: type %T", m, o, got)
	}
	ww, wh := w, h
	if o >= 5 {
		ww, wh = h, w
	}
	if b := got.Bounds(); b != image.Rect(0, 0, ww, wh) {
		t.Fatalf("%T orientation %d: bounds %v", m, o, b)
	}
	src, srcYCC := m.(*image.YCbCr)
	dst, dstYCC := got.(*image.YCbCr)
	lumaOnly := srcYCC && dstYCC && !exactChroma && src.SubsampleRatio != image.YCbCrSubsampleRatio444
	for dy := 0; dy < wh; dy++ {
		for dx := 0; dx < ww; dx++ {
			sx, sy := srcPos(o, dx, dy, w, h)
			if lumaOnly {
				if g, w := dst.Y[dst.YOffset(dx, dy)], src.Y[src.YOffset(sx, sy)]; g != w {
					t.Fatalf("%v orientation %d: luma at (%d,%d) = %d, want %d", src.SubsampleRatio, o, dx, dy, g, w)
				}
				continue
			}
			if g, w := got.At(dx, dy), m.At(sx, sy); rgbaAt(got, dx, dy) != rgbaAt(m, sx, sy) {
				t.Fatalf("%T orientation %d: (%d,%d) = %v, want %v", m, o, dx, dy, g, w)
			}
		}
	}
}

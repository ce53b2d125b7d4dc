package imageio

import (
	"image"
	"image/color"
	"image/color/palette"
	"testing"
)

// sameNRGBA checks that got shows exactly the colours of want.
func sameNRGBA(t *testing.T, got, want image.Image) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g, w := rgbaAt(got, x, y), rgbaAt(want, x, y); g != w {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

func TestPNGRoundTrip(t *testing.T) {
	src := quadrants(37, 21) // odd sizes on purpose
	pal := image.NewPaletted(src.Bounds(), palette.Plan9)
	gray16 := image.NewGray16(src.Bounds())
	rgba64 := image.NewRGBA64(src.Bounds())
	for y := 0; y < 21; y++ {
		for x := 0; x < 37; x++ {
			pal.Set(x, y, src.At(x, y))
			gray16.SetGray16(x, y, color.Gray16{Y: uint16(x*1000 + y)})
			rgba64.SetRGBA64(x, y, color.RGBA64{uint16(x * 1700), uint16(y * 3000), 0x1234, 0xffff})
		}
	}
	translucent := quadrants(8, 6)
	translucent.SetNRGBA(1, 1, color.NRGBA{10, 20, 30, 40})
	for _, tc := range []struct {
		name     string
		img      image.Image
		wantType string
	}{
		{"nrgba-opaque", src, "*image.RGBA"}, // png stores opaque NRGBA as RGB
		{"nrgba-translucent", translucent, "*image.NRGBA"},
		{"paletted", pal, "*image.Paletted"},
		{"gray16", gray16, "*image.Gray16"},
		{"rgba64", rgba64, "*image.RGBA64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mustDecode(t, encPNG(t, tc.img), Limits{})
			if d.Format != "png" || d.FrameCount != 1 || len(d.Frames) != 1 {
				t.Fatalf("got %+v", d)
			}
			if got := typeName(d.Frames[0]); got != tc.wantType {
				t.Errorf("type %s, want %s (stills must keep the decoder's type)", got, tc.wantType)
			}
			sameNRGBA(t, d.Frames[0], tc.img)
		})
	}
}

func typeName(m image.Image) string {
	switch m.(type) {
	case *image.RGBA:
		return "*image.RGBA"
	case *image.NRGBA:
		return "*image.NRGBA"
	case *image.Paletted:
		return "*image.Paletted"
	case *image.Gray:
		return "*image.Gray"
	case *image.Gray16:
		return "*image.Gray16"
	case *image.RGBA64:
		return "*image.RGBA64"
	case *image.NRGBA64:
		return "*image.NRGBA64"
	case *image.YCbCr:
		return "*image.YCbCr"
	case *image.NYCbCrA:
		return "*image.NYCbCrA"
	case *image.CMYK:
		return "*image.CMYK"
	}
	return "other"
}

func TestJPEGRoundTrip(t *testing.T) {
	src := quadrants(64, 48)
	gray := image.NewGray(src.Bounds())
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			gray.Set(x, y, src.At(x, y))
		}
	}
	d := mustDecode(t, encJPEG(t, src, 95), Limits{})
	if d.Format != "jpeg" || d.Width != 64 || d.Height != 48 || d.Orientation != 0 {
		t.Fatalf("got %+v", d)
	}
	if _, ok := d.Frames[0].(*image.YCbCr); !ok {
		t.Errorf("type %T, want *image.YCbCr", d.Frames[0])
	}
	checkQuadrants(t, d.Frames[0], qTL, qTR, qBL, qBR)

	d = mustDecode(t, encJPEG(t, gray, 95), Limits{})
	if _, ok := d.Frames[0].(*image.Gray); !ok {
		t.Errorf("type %T, want *image.Gray", d.Frames[0])
	}
}

// checkQuadrants compares the mean colour of each quadrant's centre.
func checkQuadrants(t *testing.T, m image.Image, tl, tr, bl, br color.NRGBA) {
	t.Helper()
	b := m.Bounds()
	rtl, rtr, rbl, rbr := quadrantCentres(b.Dx(), b.Dy())
	for _, q := range []struct {
		name string
		r    image.Rectangle
		c    color.NRGBA
	}{{"top-left", rtl, tl}, {"top-right", rtr, tr}, {"bottom-left", rbl, bl}, {"bottom-right", rbr, br}} {
		if mean := blockMean(m, q.r.Add(b.Min)); !near(mean, q.c, 40) {
			t.Errorf("%s quadrant mean %v, want about %v", q.name, mean, q.c)
		}
	}
}

func TestBMPRoundTrip(t *testing.T) {
	src := quadrants(13, 7)
	gray := image.NewGray(src.Bounds())
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 7)
	}
	for _, m := range []image.Image{src, gray} {
		d := mustDecode(t, encBMP(t, m), Limits{})
		if d.Format != "bmp" || d.Width != 13 || d.Height != 7 {
			t.Fatalf("got %+v", d)
		}
		sameNRGBA(t, d.Frames[0], m)
	}
}

func TestWebP(t *testing.T) {
	t.Run("lossless", func(t *testing.T) {
		d := mustDecode(t, webpLossless, Limits{})
		if d.Format != "webp" || d.Width != 32 || d.Height != 16 {
			t.Fatalf("got %+v", d)
		}
		sameNRGBA(t, d.Frames[0], quadrants(32, 16))
	})
	t.Run("lossy", func(t *testing.T) {
		d := mustDecode(t, webpLossy, Limits{})
		if _, ok := d.Frames[0].(*image.YCbCr); !ok {
			t.Errorf("type %T, want *image.YCbCr", d.Frames[0])
		}
		checkQuadrants(t, d.Frames[0], qTL, qTR, qBL, qBR)
	})
	t.Run("alpha", func(t *testing.T) {
		d := mustDecode(t, webpAlpha, Limits{})
		m, ok := d.Frames[0].(*image.NYCbCrA)
		if !ok {
			t.Fatalf("type %T, want *image.NYCbCrA", d.Frames[0])
		}
		if a := m.NYCbCrAAt(4, 4).A; a != 255 {
			t.Errorf("left half alpha %d, want 255", a)
		}
		if a := m.NYCbCrAAt(28, 12).A; a != 0 {
			t.Errorf("right half alpha %d, want 0", a)
		}
	})
	t.Run("animated", func(t *testing.T) {
		_, err := DecodeBytes(webpAnim, Limits{})
		wantErr(t, err, ErrUnsupported, "animated WebP is not supported")
	})
}

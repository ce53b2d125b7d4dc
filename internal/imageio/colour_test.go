package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"
)

// withChunks inserts chunks right after a PNG's IHDR (where colour chunks
// belong), or right before IEND when late is set.
func withChunks(data []byte, late bool, chunks ...[]byte) []byte {
	at := 33 // 8 signature + 25 IHDR
	if late {
		at = len(data) - 12
	}
	out := append([]byte(nil), data[:at]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, data[at:]...)
}

func gamaChunk(g uint32) []byte { return chunk("gAMA", be32append(nil, g)) }

// chrmChunk: white, red, green, blue chromaticities.
func chrmChunk(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = be32append(b, uint32(math.Round(x*100000)))
	}
	return chunk("cHRM", b)
}

func iccpChunk(profile []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(profile)
	zw.Close()
	return chunk("iCCP", append([]byte("test\x00\x00"), z.Bytes()...))
}

// iccTag is one tag of a test profile.
type iccTag struct {
	sig  string
	data []byte
}

// makeICC assembles a profile (version 4, display class) from its tags.
func makeICC(space string, tags ...iccTag) []byte {
	hdr := make([]byte, 128)
	copy(hdr[8:], []byte{4, 0x30, 0, 0})
	copy(hdr[12:], "mntr")
	copy(hdr[16:], space)
	copy(hdr[20:], "XYZ ")
	copy(hdr[36:], "acsp")
	table := binary.BigEndian.AppendUint32(nil, uint32(len(tags)))
	off := 128 + 4 + 12*len(tags)
	var body []byte
	for _, t := range tags {
		table = append(table, t.sig...)
		table = binary.BigEndian.AppendUint32(table, uint32(off+len(body)))
		table = binary.BigEndian.AppendUint32(table, uint32(len(t.data)))
		body = append(body, t.data...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	p := append(append(hdr, table...), body...)
	binary.BigEndian.PutUint32(p, uint32(len(p)))
	return p
}

func s15(v float64) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(int32(math.Round(v*65536))))
}

func xyzTag(x, y, z float64) []byte {
	b := append([]byte("XYZ \x00\x00\x00\x00"), s15(x)...)
	return append(append(b, s15(y)...), s15(z)...)
}

func paraTag(typ int, params ...float64) []byte {
	b := append([]byte("para\x00\x00\x00\x00"), byte(typ>>8), byte(typ), 0, 0)
	for _, p := range params {
		b = append(b, s15(p)...)
	}
	return b
}

func curvTag(table ...uint16) []byte {
	b := binary.BigEndian.AppendUint32([]byte("curv\x00\x00\x00\x00"), uint32(len(table)))
	for _, v := range table {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

// rgbICC is a matrix/TRC profile with the sRGB primaries and trc for
// every channel.
func rgbICC(trc []byte, extra ...iccTag) []byte {
	m := srgbToXYZD50
	tags := []iccTag{
		{"rXYZ", xyzTag(m[0][0], m[1][0], m[2][0])},
		{"gXYZ", xyzTag(m[0][1], m[1][1], m[2][1])},
		{"bXYZ", xyzTag(m[0][2], m[1][2], m[2][2])},
		{"rTRC", trc}, {"gTRC", trc}, {"bTRC", trc},
	}
	return makeICC("RGB ", append(tags, extra...)...)
}

func iccSeeds() [][]byte {
	return [][]byte{
		rgbICC(paraTag(0, 1.8)),
		rgbICC(paraTag(3, 2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045)),
		rgbICC(curvTag(0, 4096, 65535)),
		rgbICC(curvTag()),
		rgbICC(curvTag(0x0200)),
		rgbICC(paraTag(0, 2), iccTag{"A2B0", []byte("mAB \x00\x00\x00\x00")}),
		makeICC("GRAY", iccTag{"kTRC", paraTag(4, 2.2, 1, 0, 0.1, 0.05, 0, 0.01)}),
		makeICC("CMYK", iccTag{"kTRC", paraTag(0, 1)}),
	}
}

// colourSeeds are PNGs with colour chunks, for the fuzzers.
func colourSeeds(t testing.TB) [][]byte {
	rgb := encPNG(t, photoLike(6, 4))
	gray := encPNG(t, image.NewGray16(image.Rect(0, 0, 5, 3)))
	return [][]byte{
		withChunks(rgb, false, gamaChunk(20000)),
		withChunks(rgb, false, gamaChunk(45455), chrmChunk(0.3127, 0.329, 0.68, 0.32, 0.265, 0.69, 0.15, 0.06)),
		withChunks(rgb, false, iccpChunk(rgbICC(paraTag(0, 1.5)))),
		withChunks(rgb, false, chunk("cICP", []byte{9, 16, 0, 1})),
		withChunks(gray, false, gamaChunk(100000)),
		withChunks(gray, false, iccpChunk(makeICC("GRAY", iccTag{"kTRC", curvTag(0x0180)}))),
	}
}

// TestPNGGammaAsBrowsers: a gAMA chunk (without sRGB or iCCP) is applied
// as Chromium applies it: linear = sample^(1/gamma), shown through the
// sRGB curve. The reference is the formula in float64, per pixel.
func TestPNGGammaAsBrowsers(t *testing.T) {
	src := photoLike(40, 30)
	src.Pix[3] = 128 // one translucent pixel: alpha is kept as it is
	plain := encPNG(t, src)
	for _, g := range []uint32{45455, 100000, 20000, 300000} {
		data := withChunks(plain, false, gamaChunk(g))
		got := mustDecode(t, data, Limits{}).Frames[0]
		exp := 100000 / float64(g)
		b := src.Bounds()
		bad := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				s := src.NRGBAAt(x, y)
				want := color.NRGBA{ref8(s.R, exp), ref8(s.G, exp), ref8(s.B, exp), s.A}
				if c := rgbaAt(got, x, y); c != want && bad < 3 {
					bad++
					t.Errorf("gAMA %d at (%d,%d): %v, want %v (stored %v)", g, x, y, c, want, s)
				}
			}
		}
	}
	// An sRGB chunk wins over gAMA, and colour chunks after IDAT are
	// ignored: both decode exactly as the plain file.
	want := mustDecode(t, plain, Limits{}).Frames[0]
	for name, data := range map[string][]byte{
		"sRGB":         withChunks(plain, false, chunk("sRGB", []byte{0}), gamaChunk(20000)),
		"late gAMA":    withChunks(plain, true, gamaChunk(20000)),
		"gAMA 0":       withChunks(plain, false, gamaChunk(0)),
		"sRGB profile": withChunks(plain, false, iccpChunk(rgbICC(paraTag(3, 2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045)))),
		"sRGB cICP":    withChunks(plain, false, chunk("cICP", []byte{1, 13, 0, 1})),
	} {
		sameNRGBAMsg(t, name, mustDecode(t, data, Limits{}).Frames[0], want)
	}
}

func ref8(v uint8, exp float64) uint8 {
	l := math.Pow(float64(v)/255, exp)
	var e float64
	if l <= 0.0031308 {
		e = 12.92 * l
	} else {
		e = 1.055*math.Pow(l, 1/2.4) - 0.055
	}
	return uint8(math.Round(math.Max(0, math.Min(1, e)) * 255))
}

// TestPNG16BitGamma: a 16-bit PNG with a gAMA chunk comes out as 8-bit
// NRGBA, converted from the high byte of each sample as Chromium converts
// it (internal/e2e compares with its rendering); the same samples without
// the chunk stay as image/png reads them.
func TestPNG16BitGamma(t *testing.T) {
	src := image.NewRGBA64(image.Rect(0, 0, 64, 2))
	for x := range 64 {
		v := uint16(x * 1021)
		src.SetRGBA64(x, 0, color.RGBA64{v, v / 2, v / 3, 0xffff})
		src.SetRGBA64(x, 1, color.RGBA64{65535 - v, v, 0, 0xffff})
	}
	data := withChunks(encPNG(t, src), false, gamaChunk(100000)) // linear samples
	got := mustDecode(t, data, Limits{})
	if _, ok := got.Frames[0].(*image.NRGBA); !ok {
		t.Fatalf("decoded as %T, want *image.NRGBA", got.Frames[0])
	}
	for x := range 64 {
		for y := range 2 {
			s := src.RGBA64At(x, y)
			ch := func(v uint16) uint8 { return ref8(uint8(v>>8), 1) }
			want := color.NRGBA{ch(s.R), ch(s.G), ch(s.B), 255}
			if c := rgbaAt(got.Frames[0], x, y); c != want {
				t.Fatalf("(%d,%d): %v, want %v", x, y, c, want)
			}
		}
	}
	// Gray 16-bit with an alpha channel, and without.
	ga := image.NewNRGBA64(image.Rect(0, 0, 3, 1))
	ga.SetNRGBA64(1, 0, color.NRGBA64{40000, 40000, 40000, 30000})
	if c := rgbaAt(mustDecode(t, withChunks(encPNG(t, ga), false, gamaChunk(100000)), Limits{}).Frames[0], 1, 0); c != (color.NRGBA{ref8(156, 1), ref8(156, 1), ref8(156, 1), 117}) {
		t.Errorf("16-bit gray and alpha: %v", c)
	}
	g16 := image.NewGray16(image.Rect(0, 0, 2, 1))
	g16.SetGray16(1, 0, color.Gray16{0x4321})
	gd := mustDecode(t, withChunks(encPNG(t, g16), false, gamaChunk(100000)), Limits{}).Frames[0]
	if g, ok := gd.(*image.Gray); !ok || g.Pix[1] != ref8(0x43, 1) {
		t.Errorf("16-bit gray: %T %v", gd, gd)
	}
}

// TestPNGChromaticities: cHRM primaries change colours through the matrix.
// Display P3 encodes sRGB's pure green as about (117, 251, 76) (P3 values
// from the CSS Color 4 conversion), and white stays white.
func TestPNGChromaticities(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	src.SetNRGBA(0, 0, color.NRGBA{117, 251, 76, 255})
	src.SetNRGBA(1, 0, color.NRGBA{255, 255, 255, 255})
	src.SetNRGBA(2, 0, color.NRGBA{128, 128, 128, 255})
	// P3 primaries, D65 white; no gAMA: the sRGB curve (as Skia assumes).
	data := withChunks(encPNG(t, src), false, chrmChunk(0.3127, 0.3290, 0.680, 0.320, 0.265, 0.690, 0.150, 0.060))
	got := mustDecode(t, data, Limits{}).Frames[0]
	within := func(c, want color.NRGBA, tol int) bool {
		return maxDiff(c, want) <= tol
	}
	if c := rgbaAt(got, 0, 0); !within(c, color.NRGBA{0, 255, 0, 255}, 3) {
		t.Errorf("P3 (117,251,76) shown as %v, want about sRGB green", c)
	}
	if c := rgbaAt(got, 1, 0); !within(c, color.NRGBA{255, 255, 255, 255}, 1) {
		t.Errorf("white shown as %v", c)
	}
	if c := rgbaAt(got, 2, 0); !within(c, color.NRGBA{128, 128, 128, 255}, 1) {
		t.Errorf("gray shown as %v", c)
	}
}

// TestPNGICCProfiles: an iCCP matrix/TRC profile is applied; its curve
// gives the same result as the same curve spelled as gAMA; profiles this
// code cannot apply are refused, never ignored.
func TestPNGICCProfiles(t *testing.T) {
	src := photoLike(20, 10)
	plain := encPNG(t, src)
	viaICC := mustDecode(t, withChunks(plain, false, iccpChunk(rgbICC(paraTag(0, 2.5)))), Limits{}).Frames[0]
	viaGAMA := mustDecode(t, withChunks(plain, false, gamaChunk(40000)), Limits{}).Frames[0]
	sameNRGBAMsg(t, "para gamma 2.5 vs gAMA 0.4", viaICC, viaGAMA)

	// A sampled curve: three points, interpolated linearly.
	table := mustDecode(t, withChunks(plain, false, iccpChunk(rgbICC(curvTag(0, 10000, 65535)))), Limits{}).Frames[0]
	for _, x := range []int{0, 7, 19} {
		s := src.NRGBAAt(x, 3)
		lin := func(v uint8) uint8 {
			p := float64(v) / 255 * 2
			var l float64
			if p <= 1 {
				l = p * 10000 / 65535
			} else {
				l = (10000 + (p-1)*55535) / 65535
			}
			return to8(srgbOETF(l))
		}
		want := color.NRGBA{lin(s.R), lin(s.G), lin(s.B), 255}
		if c := rgbaAt(table, x, 3); maxDiff(c, want) > 1 {
			t.Errorf("curv table at x=%d: %v, want %v", x, c, want)
		}
	}

	// A gray profile on a gray image: the curve only.
	g := image.NewGray(image.Rect(0, 0, 4, 1))
	copy(g.Pix, []byte{0, 60, 128, 255})
	gd := mustDecode(t, withChunks(encPNG(t, g), false, iccpChunk(makeICC("GRAY", iccTag{"kTRC", curvTag(0x0100)}))), Limits{}).Frames[0]
	if _, ok := gd.(*image.Gray); !ok {
		t.Errorf("gray image decoded as %T", gd)
	}
	for i, v := range g.Pix {
		if c := rgbaAt(gd, i, 0); c.R != to8(srgbOETF(float64(v)/255)) {
			t.Errorf("gray %d with a linear profile: %v", v, c)
		}
	}

	for name, data := range map[string][]byte{
		"A2B0":              withChunks(plain, false, iccpChunk(rgbICC(paraTag(0, 2), iccTag{"A2B0", []byte("mAB \x00\x00\x00\x00")}))),
		"gray profile, RGB": withChunks(plain, false, iccpChunk(makeICC("GRAY", iccTag{"kTRC", paraTag(0, 1)}))),
		"CMYK profile":      withChunks(plain, false, iccpChunk(makeICC("CMYK", iccTag{"kTRC", paraTag(0, 1)}))),
		"no TRC":            withChunks(plain, false, iccpChunk(makeICC("RGB ", iccTag{"rXYZ", xyzTag(0.4, 0.2, 0)}))),
		"not zlib":          withChunks(plain, false, chunk("iCCP", []byte("x\x00\x00not zlib"))),
		"truncated":         withChunks(plain, false, iccpChunk(rgbICC(paraTag(0, 2))[:140])),
		"HDR cICP":          withChunks(plain, false, chunk("cICP", []byte{9, 16, 0, 1})),
	} {
		_, err := DecodeBytes(data, Limits{})
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
}

// TestAPNGFramesGetTheColourChunks: every frame of an APNG is converted
// as the still would be.
func TestAPNGFramesGetTheColourChunks(t *testing.T) {
	f := patchFrame(0, 0, 8, 8, func(x, y int) color.NRGBA { return color.NRGBA{uint8(30 * x), uint8(30 * y), 90, 255} })
	data := withChunks(makeAPNG(t, 8, 8, nil, []apngFrame{{f, 0, 0}, {f, 0, 0}}), false, gamaChunk(20000))
	d := mustDecode(t, data, Limits{})
	for i, fr := range d.Frames {
		for x := range 8 {
			s := f.NRGBAAt(x, 2)
			want := color.NRGBA{ref8(s.R, 5), ref8(s.G, 5), ref8(s.B, 5), 255}
			if c := rgbaAt(fr, x, 2); c != want {
				t.Fatalf("frame %d (%d,2): %v, want %v", i, x, c, want)
			}
		}
	}
}

// TestNoColourChunksNoChange: without colour chunks, decoding is exactly
// image/png's (the nsfwjs parity path).
func TestNoColourChunksNoChange(t *testing.T) {
	for _, m := range []image.Image{photoLike(13, 7), image.NewRGBA64(image.Rect(0, 0, 3, 3)), image.NewGray(image.Rect(0, 0, 2, 2))} {
		data := encPNG(t, m)
		want, _ := png.Decode(bytes.NewReader(data))
		got := mustDecode(t, data, Limits{}).Frames[0]
		if typeName(got) != typeName(want) {
			t.Errorf("%T decoded as %T", want, got)
		}
		sameNRGBAMsg(t, typeName(want), got, want)
	}
}

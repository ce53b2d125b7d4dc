package imageio

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"sync"
)

// PNG colour chunks change what a browser shows: Chromium (Skia) converts
// a PNG's samples to sRGB using, in this order of precedence,
//
//   - cICP (coding-independent code points, for HDR): only the sRGB code
//     points are accepted here; others are reported unsupported, since
//     their rendering depends on the display;
//   - iCCP, an ICC profile, applied when it is a matrix/TRC profile (see
//     icc.go); any other profile is reported unsupported;
//   - sRGB: the samples are sRGB already (gAMA and cHRM are ignored);
//   - gAMA and cHRM: a transfer function sample^(1/gamma) (the sRGB curve
//     when gAMA is absent) and primaries (sRGB's when cHRM is absent).
//
// A PNG without colour chunks is shown as stored, and decoded exactly as
// before (nsfwjs parity). Browsers ignore these chunks after the first IDAT,
// and so does this code.

// colourTransform converts decoded samples to the sRGB a browser shows.
type colourTransform struct {
	what   string                   // for messages: "gAMA 1.00", "iCCP", ...
	gray   bool                     // gray image or gray profile: the curve only
	curves [3]func(float64) float64 // sample in [0,1] to linear light
	m      [3][3]float64            // linear source RGB to linear sRGB
	matrix bool                     // m is not the identity

	once   sync.Once
	lut8   [3][256]uint8   // 8-bit sample to 8-bit sRGB (no matrix)
	lin8   [3][256]float32 // 8-bit sample to linear (matrix)
	lut16  [3][]uint8      // 16-bit sample to 8-bit sRGB, built on first 16-bit image
	lin16  [3][]float32
	once16 sync.Once
}

// srgbToXYZD50 is skcms's sRGB matrix (primaries adapted to D50).
var srgbToXYZD50 = [3][3]float64{
	{0.436065674, 0.385147095, 0.143066406},
	{0.222488403, 0.716873169, 0.060607910},
	{0.013916016, 0.097076416, 0.714096069},
}

// srgbEOTF and srgbOETF are the sRGB transfer function and its inverse.
func srgbEOTF(x float64) float64 {
	if x <= 0.04045 {
		return x / 12.92
	}
	return math.Pow((x+0.055)/1.055, 2.4)
}

func srgbOETF(l float64) float64 {
	if l <= 0.0031308 {
		return 12.92 * l
	}
	return 1.055*math.Pow(l, 1/2.4) - 0.055
}

// encodeSteps is the resolution of the linear-to-sRGB table: fine enough
// that no 8-bit output is off by more than rounding.
const encodeSteps = 1 << 14

var encodeTable = sync.OnceValue(func() *[encodeSteps + 1]uint8 {
	var t [encodeSteps + 1]uint8
	for i := range t {
		t[i] = to8(srgbOETF(float64(i) / encodeSteps))
	}
	return &t
})

func to8(v float64) uint8 {
	switch {
	case !(v > 0):
		return 0
	case v >= 1:
		return 255
	}
	return uint8(v*255 + 0.5)
}

// encode maps linear light to an 8-bit sRGB value.
func encode(l float32) uint8 {
	switch {
	case !(l > 0):
		return 0
	case l >= 1:
		return 255
	}
	return encodeTable()[int(l*encodeSteps+0.5)]
}

// pngColourInfo parses the colour chunks of a PNG (before its first IDAT).
// It returns nil when the samples are shown as stored.
func pngColourInfo(data []byte) (*colourTransform, error) {
	if len(data) < 33 {
		return nil, nil
	}
	colorType := data[25]
	channels := 3
	if colorType == 0 || colorType == 4 {
		channels = 1
	}
	var gama, chrm, iccp, cicp []byte
	srgb := false
	for pos := 8; ; {
		typ, body, end, ok := pngChunk(data, pos)
		if !ok || typ == "IDAT" || typ == "IEND" {
			break
		}
		switch typ {
		case "gAMA":
			if gama == nil && len(body) == 4 {
				gama = body
			}
		case "cHRM":
			if chrm == nil && len(body) == 32 {
				chrm = body
			}
		case "iCCP":
			if iccp == nil {
				iccp = body
			}
		case "sRGB":
			srgb = true
		case "cICP":
			if cicp == nil {
				cicp = body
			}
		}
		pos = end
	}
	if cicp != nil {
		// Primaries BT.709, sRGB transfer, RGB, full range: sRGB itself.
		if len(cicp) == 4 && cicp[0] == 1 && cicp[1] == 13 && cicp[2] == 0 && cicp[3] == 1 {
			return nil, nil
		}
		return nil, newError(ErrUnsupported, nil, "png: unsupported feature: cICP colour chunk % x (HDR or non-sRGB video colour)", cicp)
	}
	if iccp != nil {
		prof, err := pngICC(iccp, channels)
		if err != nil {
			return nil, newError(ErrUnsupported, nil, "png: unsupported feature: iCCP colour profile that browsers apply and this check cannot: %v", err)
		}
		t := &colourTransform{what: "iCCP", gray: prof.gray || channels == 1}
		for i := range t.curves {
			c := prof.trc[i]
			t.curves[i] = c.eval
		}
		if !t.gray {
			t.setMatrix(prof.toXYZ)
		}
		return t.orNil(), nil
	}
	if srgb || (gama == nil && chrm == nil) {
		return nil, nil
	}
	t := &colourTransform{gray: channels == 1}
	curve := srgbEOTF
	if gama != nil && be32(gama) != 0 {
		g := be32(gama)
		exp := 100000 / float64(g)
		curve = func(x float64) float64 { return math.Pow(x, exp) }
		t.what = fmt.Sprintf("gAMA %.5f", float64(g)/100000)
	}
	t.curves = [3]func(float64) float64{curve, curve, curve}
	toXYZ := srgbToXYZD50
	if chrm != nil {
		var v [8]float64
		for i := range v {
			v[i] = float64(be32(chrm[4*i:])) / 100000
		}
		// cHRM: white x, y, then red, green, blue.
		if m, ok := primariesToXYZD50(v[2], v[3], v[4], v[5], v[6], v[7], v[0], v[1]); ok {
			toXYZ = m
		}
		t.what += " cHRM"
	}
	if !t.gray {
		t.setMatrix(toXYZ)
	}
	return t.orNil(), nil
}

// pngICC inflates and parses an iCCP chunk: name, NUL, method 0, zlib data.
func pngICC(body []byte, channels int) (*iccProfile, error) {
	i := bytes.IndexByte(body, 0)
	if i < 1 || i > 79 || i+2 > len(body) || body[i+1] != 0 {
		return nil, fmt.Errorf("malformed iCCP chunk")
	}
	zr, err := zlib.NewReader(bytes.NewReader(body[i+2:]))
	if err != nil {
		return nil, fmt.Errorf("iCCP profile: %v", err)
	}
	defer zr.Close()
	p, err := io.ReadAll(io.LimitReader(zr, iccMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("iCCP profile: %v", err)
	}
	if len(p) > iccMaxBytes {
		return nil, fmt.Errorf("iCCP profile over %d bytes", iccMaxBytes)
	}
	return parseICC(p, channels)
}

// setMatrix sets m = inverse(sRGB) · toXYZ.
func (t *colourTransform) setMatrix(toXYZ [3][3]float64) {
	inv, ok := invert3(srgbToXYZD50)
	if !ok {
		panic("sRGB matrix is singular")
	}
	t.m = mul3(inv, toXYZ)
	for i := range 3 {
		for j := range 3 {
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(t.m[i][j]-want) > 1e-3 {
				t.matrix = true
			}
		}
	}
}

// orNil returns nil when t changes no 8-bit sample by more than rounding:
// an sRGB profile spelled as iCCP or as gAMA and cHRM.
func (t *colourTransform) orNil() *colourTransform {
	if t.matrix {
		return t
	}
	for _, c := range t.curves {
		for v := range 256 {
			x := float64(v) / 255
			if math.Abs(srgbOETF(c(x))-x) > 0.4/255 {
				return t
			}
		}
	}
	return nil
}

func (t *colourTransform) build8() {
	t.once.Do(func() {
		for c := range 3 {
			for v := range 256 {
				l := t.curves[c](float64(v) / 255)
				t.lin8[c][v] = float32(l)
				t.lut8[c][v] = to8(srgbOETF(l))
			}
		}
	})
}

// rgb8 converts one pixel of 8-bit samples.
func (t *colourTransform) rgb8(r, g, b uint8) (uint8, uint8, uint8) {
	if !t.matrix || t.gray {
		return t.lut8[0][r], t.lut8[1][g], t.lut8[2][b]
	}
	return t.mix(t.lin8[0][r], t.lin8[1][g], t.lin8[2][b])
}

func (t *colourTransform) mix(r, g, b float32) (uint8, uint8, uint8) {
	m := &t.m
	out := func(i int) uint8 {
		return encode(float32(m[i][0])*r + float32(m[i][1])*g + float32(m[i][2])*b)
	}
	return out(0), out(1), out(2)
}

// apply converts img to what a browser shows. 8-bit images are converted
// in place (the decoder's buffers are ours); 16-bit ones become 8-bit
// *image.NRGBA or *image.Gray. Chromium keeps only the high byte of a
// 16-bit sample before converting colour (checked against its rendering
// in internal/e2e), and so does this code: a browser shows shadows that
// only the low bytes would separate as one.
func (t *colourTransform) apply(img image.Image) image.Image {
	t.build8()
	switch m := img.(type) {
	case *image.Gray:
		for i, v := range m.Pix {
			m.Pix[i] = t.lut8[0][v]
		}
		return m
	case *image.Paletted:
		pal := make(color.Palette, len(m.Palette))
		for i, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			n.R, n.G, n.B = t.rgb8(n.R, n.G, n.B)
			pal[i] = n
		}
		m.Palette = pal
		return m
	case *image.NRGBA:
		b := m.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)]
			for i := 0; i+3 < len(row); i += 4 {
				row[i], row[i+1], row[i+2] = t.rgb8(row[i], row[i+1], row[i+2])
			}
		}
		return m
	case *image.Gray16:
		b := m.Bounds()
		out := image.NewGray(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)]
			dst := out.Pix[out.PixOffset(b.Min.X, y):out.PixOffset(b.Max.X, y)]
			for i := range dst {
				dst[i] = t.lut8[0][src[2*i]]
			}
		}
		return out
	case *image.NRGBA64:
		b := m.Bounds()
		out := image.NewNRGBA(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)]
			dst := out.Pix[out.PixOffset(b.Min.X, y):out.PixOffset(b.Max.X, y)]
			for i, j := 0, 0; i+7 < len(src); i, j = i+8, j+4 {
				dst[j], dst[j+1], dst[j+2] = t.rgb8(src[i], src[i+2], src[i+4])
				dst[j+3] = src[i+6] // the high byte of the 16-bit alpha, as Go converts
			}
		}
		return out
	case *image.RGBA:
		// Opaque truecolour from image/png; translucent pixels (not made by
		// image/png) are converted through non-premultiplied colour.
		b := m.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)]
			for i := 0; i+3 < len(row); i += 4 {
				if a := row[i+3]; a != 255 {
					n := color.NRGBAModel.Convert(color.RGBA{row[i], row[i+1], row[i+2], a}).(color.NRGBA)
					n.R, n.G, n.B = t.rgb8(n.R, n.G, n.B)
					p := color.RGBAModel.Convert(n).(color.RGBA)
					row[i], row[i+1], row[i+2] = p.R, p.G, p.B
					continue
				}
				row[i], row[i+1], row[i+2] = t.rgb8(row[i], row[i+1], row[i+2])
			}
		}
		return m
	case *image.RGBA64:
		if m.Opaque() {
			b := m.Bounds()
			out := image.NewNRGBA(b)
			for y := b.Min.Y; y < b.Max.Y; y++ {
				src := m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)]
				dst := out.Pix[out.PixOffset(b.Min.X, y):out.PixOffset(b.Max.X, y)]
				for i, j := 0, 0; i+7 < len(src); i, j = i+8, j+4 {
					dst[j], dst[j+1], dst[j+2] = t.rgb8(src[i], src[i+2], src[i+4])
					dst[j+3] = 255
				}
			}
			return out
		}
	}
	// Anything else, through non-premultiplied colour.
	b := img.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			i := out.PixOffset(x, y)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2] = t.rgb8(c.R, c.G, c.B)
			out.Pix[i+3] = c.A
		}
	}
	return out
}

// primariesToXYZD50 is skcms_PrimariesToXYZD50: the RGB-to-XYZ matrix of
// the primaries and white point, adapted to D50 with Bradford.
func primariesToXYZD50(rx, ry, gx, gy, bx, by, wx, wy float64) ([3][3]float64, bool) {
	for _, v := range []float64{rx, ry, gx, gy, bx, by, wx, wy} {
		if v < 0 || v > 1 {
			return [3][3]float64{}, false
		}
	}
	if ry == 0 || gy == 0 || by == 0 || wy == 0 {
		return [3][3]float64{}, false
	}
	p := [3][3]float64{
		{rx, gx, bx},
		{ry, gy, by},
		{1 - rx - ry, 1 - gx - gy, 1 - bx - by},
	}
	pinv, ok := invert3(p)
	if !ok {
		return [3][3]float64{}, false
	}
	wXYZ := [3]float64{wx / wy, 1, (1 - wx - wy) / wy}
	var s [3]float64
	for i := range 3 {
		s[i] = pinv[i][0]*wXYZ[0] + pinv[i][1]*wXYZ[1] + pinv[i][2]*wXYZ[2]
	}
	var toXYZ [3][3]float64
	for i := range 3 {
		for j := range 3 {
			toXYZ[i][j] = p[i][j] * s[j]
		}
	}
	bradford := [3][3]float64{
		{0.8951, 0.2664, -0.1614},
		{-0.7502, 1.7135, 0.0367},
		{0.0389, -0.0685, 1.0296},
	}
	binv, _ := invert3(bradford)
	d50 := [3]float64{0.9642, 1.0, 0.8249}
	srcCone := mulVec(bradford, wXYZ)
	dstCone := mulVec(bradford, d50)
	var scale [3][3]float64
	for i := range 3 {
		if srcCone[i] == 0 {
			return [3][3]float64{}, false
		}
		scale[i][i] = dstCone[i] / srcCone[i]
	}
	adapt := mul3(binv, mul3(scale, bradford))
	return mul3(adapt, toXYZ), true
}

func mul3(a, b [3][3]float64) [3][3]float64 {
	var c [3][3]float64
	for i := range 3 {
		for j := range 3 {
			c[i][j] = a[i][0]*b[0][j] + a[i][1]*b[1][j] + a[i][2]*b[2][j]
		}
	}
	return c
}

func mulVec(a [3][3]float64, v [3]float64) [3]float64 {
	var o [3]float64
	for i := range 3 {
		o[i] = a[i][0]*v[0] + a[i][1]*v[1] + a[i][2]*v[2]
	}
	return o
}

func invert3(m [3][3]float64) ([3][3]float64, bool) {
	a, b, c := m[0][0], m[0][1], m[0][2]
	d, e, f := m[1][0], m[1][1], m[1][2]
	g, h, i := m[2][0], m[2][1], m[2][2]
	A, B, C := e*i-f*h, -(d*i - f*g), d*h-e*g
	det := a*A + b*B + c*C
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return [3][3]float64{}, false
	}
	k := 1 / det
	return [3][3]float64{
		{A * k, -(b*i - c*h) * k, (b*f - c*e) * k},
		{B * k, (a*i - c*g) * k, -(a*f - c*d) * k},
		{C * k, -(a*h - b*g) * k, (a*e - b*d) * k},
	}, true
}

package preprocess

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// tfjsResize is tfjs-backend-cpu's ResizeBilinear kernel transliterated
// (alignCorners=true, halfPixelCenters=false) over a float32 image, the
// independent reference for Resize.
func tfjsResize(x []float32, oldH, oldW, newH, newW int) []float32 {
	effIn := [2]float64{float64(oldH), float64(oldW)}
	effOut := [2]float64{float64(newH), float64(newW)}
	if newH > 1 {
		effIn[0], effOut[0] = float64(oldH-1), float64(newH-1)
	}
	if newW > 1 {
		effIn[1], effOut[1] = float64(oldW-1), float64(newW-1)
	}
	rowRatio, colRatio := effIn[0]/effOut[0], effIn[1]/effOut[1]
	out := make([]float32, newH*newW*3)
	i := 0
	for r := 0; r < newH; r++ {
		srcR := rowRatio * float64(r)
		r0 := math.Max(0, math.Floor(srcR))
		rowFrac := srcR - r0
		r1 := math.Min(float64(oldH-1), math.Ceil(srcR))
		for c := 0; c < newW; c++ {
			srcC := colRatio * float64(c)
			c0 := math.Max(0, math.Floor(srcC))
			colFrac := srcC - c0
			c1 := math.Min(float64(oldW-1), math.Ceil(srcC))
			for d := 0; d < 3; d++ {
				tl := float64(x[(int(r0)*oldW+int(c0))*3+d])
				tr := float64(x[(int(r0)*oldW+int(c1))*3+d])
				bl := float64(x[(int(r1)*oldW+int(c0))*3+d])
				br := float64(x[(int(r1)*oldW+int(c1))*3+d])
				top := tl + float64((tr-tl)*colFrac)
				bottom := bl + float64((br-bl)*colFrac)
				out[i] = float32(top + float64((bottom-top)*rowFrac))
				i++
			}
		}
	}
	return out
}

// tfjsInput is fromPixels + toFloat + div(255): JS divides in float64 and
// stores into a Float32Array.
func tfjsInput(img *image.NRGBA) []float32 {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	out := make([]float32, 0, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := img.NRGBAAt(x, y)
			for _, v := range []uint8{c.R, c.G, c.B} {
				out = append(out, float32(float64(v)/255))
			}
		}
	}
	return out
}

func randomNRGBA(r *rand.Rand, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	return img
}

var sizes = [][2]int{{1, 1}, {2, 3}, {1, 300}, {300, 1}, {17, 23}, {224, 224}, {225, 223}, {500, 20}, {640, 480}}

func TestResizeIsBitExactWithTFJS(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tab := NewTable(0, 1)
	for _, sz := range sizes {
		for _, out := range [][2]int{{224, 224}, {7, 5}, {1, 1}} {
			img := randomNRGBA(r, sz[0], sz[1])
			want := tfjsResize(tfjsInput(img), sz[1], sz[0], out[0], out[1])
			src, err := FromImage(img)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, out[0]*out[1]*3)
			if _, err := Resize(got, out[0], out[1], &src, tab, 0, &Taps{}); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%dx%d → %v: value %d = %v, TF.js gives %v", sz[0], sz[1], out, i, got[i], want[i])
				}
			}
		}
	}
}

// TestSourceKindsAgree reads the same colours through every fast path and
// the generic image.Image path.
func TestSourceKindsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tab := NewTable(0, 1)
	resize := func(s Source) []float32 {
		out := make([]float32, 31*29*3)
		if _, err := Resize(out, 31, 29, &s, tab, 0, &Taps{}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	same := func(name string, got, want []float32) {
		t.Helper()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: value %d = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	const w, h = 37, 41
	// Opaque RGB through NRGBA, RGBA, RGB bytes with padding in the stride.
	nrgba := randomNRGBA(r, w, h)
	for i := 3; i < len(nrgba.Pix); i += 4 {
		nrgba.Pix[i] = 255
	}
	base, _ := FromImage(nrgba)
	want := resize(base)
	rgba := image.NewRGBA(nrgba.Bounds())
	copy(rgba.Pix, nrgba.Pix)
	s, _ := FromImage(rgba)
	same("RGBA", resize(s), want)
	stride := w*3 + 5
	rgb := make([]byte, stride*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := nrgba.NRGBAAt(x, y)
			copy(rgb[y*stride+3*x:], []byte{c.R, c.G, c.B})
		}
	}
	s, err := FromRGB(rgb, w, h, stride)
	if err != nil {
		t.Fatal(err)
	}
	same("RGB", resize(s), want)
	s, err = FromRGBA(nrgba.Pix, w, h, nrgba.Stride)
	if err != nil {
		t.Fatal(err)
	}
	same("raw RGBA", resize(s), want)
	// A sub-image must be read from its own origin.
	big := randomNRGBA(r, w+10, h+10)
	sub := big.SubImage(image.Rect(4, 6, 4+w, 6+h)).(*image.NRGBA)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sub.SetNRGBA(4+x, 6+y, nrgba.NRGBAAt(x, y))
		}
	}
	s, _ = FromImage(sub)
	same("sub-image", resize(s), want)
	// Generic path (NRGBA64) and YCbCr, Gray, Paletted against generic.
	n64 := image.NewNRGBA64(nrgba.Bounds())
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n64.Set(x, y, nrgba.At(x, y))
		}
	}
	s, _ = FromImage(n64)
	same("NRGBA64", resize(s), want)

	ycc := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(r.IntN(256))
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(r.IntN(256)), uint8(r.IntN(256))
	}
	gray := image.NewGray(image.Rect(0, 0, w, h))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(r.IntN(256))
	}
	pal := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.NRGBA{1, 2, 3, 255}, color.NRGBA{200, 100, 50, 128}, color.Black})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(r.IntN(3))
	}
	for _, m := range []image.Image{ycc, gray, pal} {
		fast, _ := FromImage(m)
		generic := Source{kind: kindGeneric, w: w, h: h, img: m}
		same(fmt.Sprintf("%T", m), resize(fast), resize(generic))
	}
}

func TestTransparentPixelsKeepTheirRGB(t *testing.T) {
	// nsfwjs drops alpha; pngjs and Go's decoder keep the raw RGB of
	// transparent pixels, so must we.
	img := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	img.Pix = []byte{200, 100, 50, 0}
	s, _ := FromImage(img)
	out := make([]float32, 3)
	if _, err := Resize(out, 1, 1, &s, NewTable(0, 1), 0, &Taps{}); err != nil {
		t.Fatal(err)
	}
	if out[0] != float32(200.0/255) || out[1] != float32(100.0/255) || out[2] != float32(50.0/255) {
		t.Fatalf("got %v", out)
	}
}

func TestReduction(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct{ w, h, f int }{{100, 80, 2}, {101, 83, 3}, {7, 1000, 4}} {
		img := randomNRGBA(r, c.w, c.h)
		maxPx := int64((c.w / c.f) * (c.h / c.f))
		if f := ReductionFactor(c.w, c.h, maxPx); f != c.f {
			t.Fatalf("ReductionFactor(%d, %d, %d) = %d, want %d", c.w, c.h, maxPx, f, c.f)
		}
		// Reference: reduce explicitly, then resize the reduced image.
		small := image.NewNRGBA(image.Rect(0, 0, c.w/c.f, c.h/c.f))
		for y := 0; y < c.h/c.f; y++ {
			for x := 0; x < c.w/c.f; x++ {
				var sum [3]int
				for dy := 0; dy < c.f; dy++ {
					for dx := 0; dx < c.f; dx++ {
						p := img.NRGBAAt(c.f*x+dx, c.f*y+dy)
						sum[0] += int(p.R)
						sum[1] += int(p.G)
						sum[2] += int(p.B)
					}
				}
				n := c.f * c.f
				small.SetNRGBA(x, y, color.NRGBA{uint8((sum[0] + n/2) / n), uint8((sum[1] + n/2) / n), uint8((sum[2] + n/2) / n), 255})
			}
		}
		want := tfjsResize(tfjsInput(small), c.h/c.f, c.w/c.f, 224, 224)
		s, _ := FromImage(img)
		got := make([]float32, 224*224*3)
		f, err := Resize(got, 224, 224, &s, NewTable(0, 1), maxPx, &Taps{})
		if err != nil || f != c.f {
			t.Fatalf("Resize: factor %d, err %v", f, err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v: value %d = %v, want %v", c, i, got[i], want[i])
			}
		}
	}
	if f := ReductionFactor(5000, 4000, 16e6); f != 2 {
		t.Fatalf("20 MP under a 16 MP budget: factor %d, want 2", f)
	}
	if f := ReductionFactor(4000, 4000, 16e6); f != 1 {
		t.Fatalf("16 MP under a 16 MP budget: factor %d, want 1", f)
	}
}

func TestErrors(t *testing.T) {
	if _, err := FromRGBA(nil, 0, 0, 0); !errors.Is(err, ErrEmpty) {
		t.Errorf("0x0: %v", err)
	}
	if _, err := FromRGBA(make([]byte, 15), 2, 2, 8); err == nil {
		t.Error("short buffer accepted")
	}
	if _, err := FromRGB(make([]byte, 100), 10, 2, 20); err == nil {
		t.Error("stride below width accepted")
	}
	if _, err := FromImage(image.NewNRGBA(image.Rect(0, 0, 5, 0))); !errors.Is(err, ErrEmpty) {
		t.Errorf("5x0: %v", err)
	}
	if _, err := FromImage(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("nil: %v", err)
	}
	var zero Source
	if _, err := Resize(make([]float32, 3), 1, 1, &zero, NewTable(0, 1), 0, &Taps{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("zero Source: %v", err)
	}
	s, _ := FromRGB(make([]byte, 3), 1, 1, 3)
	if _, err := Resize(make([]float32, 2), 1, 1, &s, NewTable(0, 1), 0, &Taps{}); err == nil {
		t.Error("short destination accepted")
	}
}

func TestResizeAllocatesNothing(t *testing.T) {
	img := randomNRGBA(rand.New(rand.NewPCG(7, 8)), 640, 480)
	s, _ := FromImage(img)
	dst := make([]float32, 224*224*3)
	tab := NewTable(0, 1)
	var taps Taps
	if n := testing.AllocsPerRun(5, func() { _, _ = Resize(dst, 224, 224, &s, tab, 0, &taps) }); n != 0 {
		t.Fatalf("Resize allocates %v times", n)
	}
}

func BenchmarkResize(b *testing.B) {
	for _, sz := range [][2]int{{640, 480}, {4000, 3000}} {
		img := randomNRGBA(rand.New(rand.NewPCG(7, 8)), sz[0], sz[1])
		s, _ := FromImage(img)
		dst := make([]float32, 224*224*3)
		tab := NewTable(0, 1)
		var taps Taps
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			for b.Loop() {
				_, _ = Resize(dst, 224, 224, &s, tab, 0, &taps)
			}
		})
	}
}

// TestResizeGridMatchesResize extracts the tap grid the way the browser
// shim does (pixel (Cols[j], Rows[i]) at grid (j, i)) and expects the
// exact Resize result, with and without reduction.
func TestResizeGridMatchesResize(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	tab := NewTable(0, 1)
	for _, c := range []struct {
		w, h      int
		maxPixels int64
	}{{1, 1, 0}, {3, 500, 0}, {17, 23, 0}, {640, 480, 0}, {640, 480, 100000}, {101, 97, 2000}} {
		img := randomNRGBA(r, c.w, c.h)
		src, _ := FromImage(img)
		want := make([]float32, 224*224*3)
		var taps Taps
		f, err := Resize(want, 224, 224, &src, tab, c.maxPixels, &taps)
		if err != nil {
			t.Fatal(err)
		}
		gw, gh := taps.GridSize()
		if gw != 2*224*f || gh != 2*224*f {
			t.Fatalf("%v: grid %dx%d for factor %d", c, gw, gh, f)
		}
		stride := gw*4 + 8
		grid := make([]byte, stride*gh)
		for i, y := range taps.Rows {
			for j, x := range taps.Cols {
				p := img.NRGBAAt(int(x), int(y))
				copy(grid[i*stride+4*j:], []byte{p.R, p.G, p.B, p.A})
			}
		}
		got := make([]float32, 224*224*3)
		if err := ResizeGrid(got, grid, stride, tab, &taps); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v: value %d = %v, Resize gives %v", c, i, got[i], want[i])
			}
		}
	}
	var empty Taps
	if err := ResizeGrid(make([]float32, 3), nil, 0, tab, &empty); err == nil {
		t.Fatal("unplanned taps accepted")
	}
	var taps Taps
	_ = taps.Plan(10, 10, 2, 2, 0)
	if err := ResizeGrid(make([]float32, 12), make([]byte, 10), 16, tab, &taps); err == nil {
		t.Fatal("short grid accepted")
	}
}

// TestInterpolateBytesMatchesAny runs the indexed fast path against the
// call-per-tap reference on odd sizes and strides, for RGBA and RGB
// sources, by coordinates and from a tap grid, and expects the same bits.
func TestInterpolateBytesMatchesAny(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, tab := range []*Table{NewTable(0, 1), NewTable(-1, 1)} {
		for _, sz := range sizes {
			w, h := sz[0], sz[1]
			for _, bpp := range []int{3, 4} {
				stride := w*bpp + r.IntN(9) // padded rows
				pix := make([]byte, stride*h)
				for i := range pix {
					pix[i] = uint8(r.IntN(256))
				}
				var src Source
				var err error
				if bpp == 4 {
					src, err = FromRGBA(pix, w, h, stride)
				} else {
					src, err = FromRGB(pix, w, h, stride)
				}
				if err != nil {
					t.Fatal(err)
				}
				outW, outH := 224, 1+r.IntN(230) // also not square
				var taps Taps
				if err := taps.Plan(w, h, outW, outH, 0); err != nil {
					t.Fatal(err)
				}
				want := make([]float32, outH*outW*3)
				got := make([]float32, len(want)+1)
				got[len(want)] = 42 // guard
				interpolateAny(want, &src, tab, &taps, false)
				interpolateBytes(got, pix, stride, bpp, tab, &taps, false)
				compareBits(t, fmt.Sprintf("%dx%d bpp %d", w, h, bpp), got, want)

				// The same taps gathered into a grid, as the browser shim does.
				gw, gh := taps.GridSize()
				gstride := gw*bpp + 5
				grid := make([]byte, gstride*gh)
				for i, y := range taps.Rows {
					for j, x := range taps.Cols {
						copy(grid[i*gstride+bpp*j:i*gstride+bpp*(j+1)], pix[int(y)*stride+int(x)*bpp:])
					}
				}
				gsrc := Source{kind: src.kind, w: gw, h: gh, pix: grid, stride: gstride}
				interpolateAny(want, &gsrc, tab, &taps, true)
				interpolateBytes(got, grid, gstride, bpp, tab, &taps, true)
				compareBits(t, fmt.Sprintf("%dx%d bpp %d grid", w, h, bpp), got, want)
			}
		}
	}
}

func compareBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d = %v, reference %v", name, i, got[i], want[i])
		}
	}
	if len(got) > len(want) && got[len(want)] != 42 {
		t.Fatalf("%s: wrote past the output", name)
	}
}

// TestInterpolateYCbCrMatchesAny runs the JPEG fast path against the
// call-per-tap reference for every chroma subsampling, on odd sizes and on
// sub-images whose origin is not (0, 0), and expects the same bits; then
// checks that it allocates nothing once the taps have grown.
func TestInterpolateYCbCrMatchesAny(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	tab := NewTable(0, 1)
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410}
	for _, ratio := range ratios {
		for _, sz := range sizes {
			full := image.NewYCbCr(image.Rect(0, 0, sz[0]+5, sz[1]+3), ratio)
			for _, plane := range [][]byte{full.Y, full.Cb, full.Cr} {
				for i := range plane {
					plane[i] = uint8(r.IntN(256))
				}
			}
			// An odd origin exercises the chroma rounding of COffset.
			img := full.SubImage(image.Rect(3, 1, 3+sz[0], 1+sz[1])).(*image.YCbCr)
			src, err := FromImage(img)
			if err != nil {
				t.Fatal(err)
			}
			var taps Taps
			if err := taps.Plan(sz[0], sz[1], 224, 1+r.IntN(230), 0); err != nil {
				t.Fatal(err)
			}
			n := taps.OutH * taps.OutW * 3
			want, got := make([]float32, n), make([]float32, n+1)
			got[n] = 42
			interpolateAny(want, &src, tab, &taps, false)
			interpolateYCbCr(got, &src, tab, &taps)
			compareBits(t, fmt.Sprintf("%v %dx%d", ratio, sz[0], sz[1]), got, want)
			if allocs := testing.AllocsPerRun(2, func() { interpolateYCbCr(got, &src, tab, &taps) }); allocs != 0 {
				t.Fatalf("%v %dx%d: %v allocations", ratio, sz[0], sz[1], allocs)
			}
		}
	}
}

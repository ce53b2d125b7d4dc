// Package preprocess turns pixels into a model input exactly as nsfwjs
// does it: alpha dropped, each 8-bit value divided by 255 into float32,
// then tf.image.resizeBilinear with alignCorners=true.
//
// The arithmetic replicates TF.js's CPU kernel operation for operation:
// taps are read as float32, interpolation runs in float64 in the same order,
// and the result is rounded once to float32. Explicit float64 conversions
// forbid the compiler from fusing a multiply and an add, so the output is
// bit-identical to TF.js on every platform.
//
// Images over a pixel budget are first reduced by an integer factor f with
// an f×f box average (rounded to 8 bits), computed only at the taps the
// resize reads; see Resize.
package preprocess

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
)

// Source is a view of 8-bit pixels. Build one with FromImage, FromRGBA or
// FromRGB; the zero Source is empty.
type Source struct {
	kind   kind
	w, h   int
	pix    []byte
	stride int
	x0, y0 int // origin of image.Image sources
	ycc    *image.YCbCr
	pal    *image.Paletted
	img    image.Image
}

type kind uint8

const (
	kindNone kind = iota
	kindNRGBA
	kindRGBA // premultiplied
	kindRGB
	kindGray
	kindYCbCr
	kindPaletted
	kindGeneric
)

// ErrEmpty is returned for zero-sized images.
var ErrEmpty = errors.New("image has zero width or height")

// Size returns the width and height.
func (s *Source) Size() (w, h int) { return s.w, s.h }

// FromRGBA wraps non-premultiplied RGBA bytes (as a canvas's ImageData
// holds them), stride bytes per row.
func FromRGBA(pix []byte, w, h, stride int) (Source, error) {
	if err := checkRaw(len(pix), w, h, stride, 4); err != nil {
		return Source{}, err
	}
	return Source{kind: kindNRGBA, w: w, h: h, pix: pix, stride: stride}, nil
}

// FromRGB wraps packed RGB bytes, stride bytes per row.
func FromRGB(pix []byte, w, h, stride int) (Source, error) {
	if err := checkRaw(len(pix), w, h, stride, 3); err != nil {
		return Source{}, err
	}
	return Source{kind: kindRGB, w: w, h: h, pix: pix, stride: stride}, nil
}

func checkRaw(n, w, h, stride, bpp int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w (%dx%d)", ErrEmpty, w, h)
	}
	if w > 1<<20 || h > 1<<20 {
		return fmt.Errorf("image %dx%d is too large", w, h)
	}
	if stride < w*bpp {
		return fmt.Errorf("stride %d is less than width %d × %d bytes", stride, w, bpp)
	}
	if need := stride*(h-1) + w*bpp; n < need {
		return fmt.Errorf("pixel buffer has %d bytes, %dx%d with stride %d needs %d", n, w, h, stride, need)
	}
	return nil
}

// FromImage wraps img, with fast paths for the types Go's decoders return.
func FromImage(img image.Image) (Source, error) {
	if img == nil {
		return Source{}, fmt.Errorf("%w (nil image)", ErrEmpty)
	}
	b := img.Bounds()
	s := Source{w: b.Dx(), h: b.Dy(), x0: b.Min.X, y0: b.Min.Y}
	if s.w <= 0 || s.h <= 0 {
		return Source{}, fmt.Errorf("%w (%dx%d)", ErrEmpty, s.w, s.h)
	}
	switch m := img.(type) {
	case *image.NRGBA:
		s.kind, s.pix, s.stride = kindNRGBA, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	case *image.RGBA:
		s.kind, s.pix, s.stride = kindRGBA, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	case *image.Gray:
		s.kind, s.pix, s.stride = kindGray, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	case *image.YCbCr:
		s.kind, s.ycc = kindYCbCr, m
	case *image.Paletted:
		s.kind, s.pal = kindPaletted, m
	default:
		s.kind, s.img = kindGeneric, img
	}
	return s, nil
}

// at returns the RGB of pixel (x, y), 0-based. Alpha is dropped the way a
// browser canvas reports it: non-premultiplied.
func (s *Source) at(x, y int) (r, g, b uint8) {
	switch s.kind {
	case kindNRGBA:
		p := s.pix[y*s.stride+4*x:]
		return p[0], p[1], p[2]
	case kindRGB:
		p := s.pix[y*s.stride+3*x:]
		return p[0], p[1], p[2]
	case kindRGBA:
		p := s.pix[y*s.stride+4*x:]
		return unpremul(p[0], p[3]), unpremul(p[1], p[3]), unpremul(p[2], p[3])
	case kindGray:
		v := s.pix[y*s.stride+x]
		return v, v, v
	case kindYCbCr:
		m := s.ycc
		yi := m.YOffset(s.x0+x, s.y0+y)
		ci := m.COffset(s.x0+x, s.y0+y)
		return color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
	case kindPaletted:
		m := s.pal
		idx := m.Pix[m.PixOffset(s.x0+x, s.y0+y)]
		if int(idx) >= len(m.Palette) {
			return 0, 0, 0
		}
		return nrgb(m.Palette[idx])
	}
	return nrgb(s.img.At(s.x0+x, s.y0+y))
}

func unpremul(v, a uint8) uint8 {
	switch a {
	case 255:
		return v
	case 0:
		return 0
	}
	return uint8((uint32(v)*255 + uint32(a)/2) / uint32(a))
}

func nrgb(c color.Color) (r, g, b uint8) {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return n.R, n.G, n.B
}

// ReductionFactor is the integer factor f by which an image of w×h pixels
// is box-reduced before resizing: the smallest f with (w/f)·(h/f) ≤
// maxPixels. It is 1 when the image fits or maxPixels ≤ 0.
func ReductionFactor(w, h int, maxPixels int64) int {
	if maxPixels <= 0 {
		return 1
	}
	f := 1
	for int64(w/f)*int64(h/f) > maxPixels && w/f > 1 && h/f > 1 {
		f++
	}
	return f
}

// reducedAt is pixel (x, y) of the image box-reduced by f: the rounded mean
// of the f×f block at (f·x, f·y).
func (s *Source) reducedAt(x, y, f int) (r, g, b uint8) {
	if f == 1 {
		return s.at(x, y)
	}
	var sr, sg, sb int
	for dy := 0; dy < f; dy++ {
		for dx := 0; dx < f; dx++ {
			pr, pg, pb := s.at(f*x+dx, f*y+dy)
			sr += int(pr)
			sg += int(pg)
			sb += int(pb)
		}
	}
	n := f * f
	return uint8((sr + n/2) / n), uint8((sg + n/2) / n), uint8((sb + n/2) / n)
}

// Table maps an 8-bit value to its model input value. For the range [0, 1]
// it is float32(v/255) computed in float64, as TF.js's div does.
type Table [256]float32

// NewTable builds the table for the input range [lo, hi].
func NewTable(lo, hi float32) *Table {
	var t Table
	for v := range t {
		x := float64(v) / 255
		if lo != 0 || hi != 1 {
			x = float64(lo) + float64(float64(hi-lo)*x)
		}
		t[v] = float32(x)
	}
	return &t
}

// Resize writes the outH×outW×3 model input for src into dst. Images over
// maxPixels (≤ 0: no limit) are first box-reduced by ReductionFactor.
// It returns that factor. It allocates nothing.
func Resize(dst []float32, outH, outW int, src *Source, t *Table, maxPixels int64) (factor int, err error) {
	if src.w <= 0 || src.h <= 0 {
		return 0, ErrEmpty
	}
	if len(dst) < outH*outW*3 {
		return 0, fmt.Errorf("destination holds %d values, %dx%dx3 needs %d", len(dst), outH, outW, outH*outW*3)
	}
	f := ReductionFactor(src.w, src.h, maxPixels)
	inW, inH := src.w/f, src.h/f
	// TF.js: effective sizes are (in-1)/(out-1) when aligning corners.
	rowRatio, colRatio := ratio(inH, outH), ratio(inW, outW)
	o := 0
	for r := 0; r < outH; r++ {
		fr := float64(rowRatio * float64(r))
		r0 := max(0, int(math.Floor(fr)))
		rowFrac := fr - float64(r0)
		r1 := min(inH-1, int(math.Ceil(fr)))
		for c := 0; c < outW; c++ {
			fc := float64(colRatio * float64(c))
			c0 := max(0, int(math.Floor(fc)))
			colFrac := fc - float64(c0)
			c1 := min(inW-1, int(math.Ceil(fc)))
			tlR, tlG, tlB := src.reducedAt(c0, r0, f)
			trR, trG, trB := src.reducedAt(c1, r0, f)
			blR, blG, blB := src.reducedAt(c0, r1, f)
			brR, brG, brB := src.reducedAt(c1, r1, f)
			dst[o+0] = lerp2(t[tlR], t[trR], t[blR], t[brR], colFrac, rowFrac)
			dst[o+1] = lerp2(t[tlG], t[trG], t[blG], t[brG], colFrac, rowFrac)
			dst[o+2] = lerp2(t[tlB], t[trB], t[blB], t[brB], colFrac, rowFrac)
			o += 3
		}
	}
	return f, nil
}

func ratio(in, out int) float64 {
	if out > 1 {
		return float64(in-1) / float64(out-1)
	}
	return float64(in) / float64(out)
}

// lerp2 is TF.js's
//
//	top = topLeft + (topRight - topLeft) * colFrac
//	bottom = bottomLeft + (bottomRight - bottomLeft) * colFrac
//	newValue = top + (bottom - top) * rowFrac
//
// in float64, each product rounded on its own.
func lerp2(tl, tr, bl, br float32, colFrac, rowFrac float64) float32 {
	top := float64(tl) + float64((float64(tr)-float64(tl))*colFrac)
	bottom := float64(bl) + float64((float64(br)-float64(bl))*colFrac)
	return float32(top + float64((bottom-top)*rowFrac))
}

// ReadRGB writes every pixel as packed RGB (w·h·3 bytes) into dst, as the
// resize sees them; for dumping decoded pixels to reference tools.
func (s *Source) ReadRGB(dst []byte) error {
	if len(dst) < s.w*s.h*3 {
		return fmt.Errorf("destination holds %d bytes, %dx%d needs %d", len(dst), s.w, s.h, s.w*s.h*3)
	}
	i := 0
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			dst[i], dst[i+1], dst[i+2] = s.at(x, y)
			i += 3
		}
	}
	return nil
}

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
	"image"
	"image/color"
	"math"

	"github.com/nsfw-go/nsfw/internal/errfmt"
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
		return errfmt.Errorf("%w (%dx%d)", ErrEmpty, w, h)
	}
	if w > 1<<20 || h > 1<<20 {
		return errfmt.Errorf("image %dx%d is too large", w, h)
	}
	if stride < w*bpp {
		return errfmt.Errorf("stride %d is less than width %d × %d bytes", stride, w, bpp)
	}
	if need := stride*(h-1) + w*bpp; n < need {
		return errfmt.Errorf("pixel buffer has %d bytes, %dx%d with stride %d needs %d", n, w, h, stride, need)
	}
	return nil
}

// FromImage wraps img, with fast paths for the types Go's decoders return.
func FromImage(img image.Image) (Source, error) {
	if img == nil {
		return Source{}, errfmt.Errorf("%w (nil image)", ErrEmpty)
	}
	b := img.Bounds()
	s := Source{w: b.Dx(), h: b.Dy(), x0: b.Min.X, y0: b.Min.Y}
	if s.w <= 0 || s.h <= 0 {
		return Source{}, errfmt.Errorf("%w (%dx%d)", ErrEmpty, s.w, s.h)
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

// Taps is the sampling plan of a resize: the source rows and columns the
// bilinear interpolation reads, and their weights. Only 2·out rows and
// 2·out columns of the source are ever read (times f² when reducing), so a
// caller that can read pixels sparsely (a browser canvas, a tiled image)
// can hand over just this grid (see ResizeGrid) and get a result
// bit-identical to Resize on the whole image.
type Taps struct {
	SrcW, SrcH int
	OutW, OutH int
	// Factor is the box-reduction factor f (1: none).
	Factor int
	// Rows holds, for output row r, tap a (0 upper, 1 lower) and block row
	// k < Factor, the source row Rows[(2r+a)·Factor+k]; Cols likewise.
	Rows, Cols       []int32
	rowFrac, colFrac []float64
	chromaCols       []int32 // interpolateYCbCr's chroma offset of each column tap
}

// Plan fills t for a srcW×srcH source and an outW×outH output, reducing
// images over maxPixels (≤ 0: never). It reuses t's slices.
func (t *Taps) Plan(srcW, srcH, outW, outH int, maxPixels int64) error {
	if srcW <= 0 || srcH <= 0 {
		return errfmt.Errorf("%w (%dx%d)", ErrEmpty, srcW, srcH)
	}
	if outW <= 0 || outH <= 0 || outW > 4096 || outH > 4096 {
		return errfmt.Errorf("output size %dx%d out of range", outW, outH)
	}
	f := ReductionFactor(srcW, srcH, maxPixels)
	*t = Taps{SrcW: srcW, SrcH: srcH, OutW: outW, OutH: outH, Factor: f,
		Rows: t.Rows[:0], Cols: t.Cols[:0], rowFrac: t.rowFrac[:0], colFrac: t.colFrac[:0], chromaCols: t.chromaCols[:0]}
	t.Rows, t.rowFrac = planAxis(t.Rows, t.rowFrac, srcH/f, outH, f)
	t.Cols, t.colFrac = planAxis(t.Cols, t.colFrac, srcW/f, outW, f)
	return nil
}

// planAxis is TF.js's tap arithmetic for one axis of the (reduced) image
// of n pixels, expanded to the f source pixels of each reduced pixel.
func planAxis(idx []int32, frac []float64, n, out, f int) ([]int32, []float64) {
	// TF.js: effective sizes are (in-1)/(out-1) when aligning corners.
	ratio := ratio(n, out)
	for i := 0; i < out; i++ {
		src := float64(ratio * float64(i))
		lo := max(0, int(math.Floor(src)))
		hi := min(n-1, int(math.Ceil(src)))
		frac = append(frac, src-float64(lo))
		for _, p := range [2]int{lo, hi} {
			for k := 0; k < f; k++ {
				idx = append(idx, int32(f*p+k))
			}
		}
	}
	return idx, frac
}

// GridSize is the width and height of the grid ResizeGrid reads.
func (t *Taps) GridSize() (w, h int) { return len(t.Cols), len(t.Rows) }

// Resize writes the outH×outW×3 model input for src into dst. Images over
// maxPixels (≤ 0: no limit) are first box-reduced by ReductionFactor.
// It returns that factor. It allocates nothing once taps has grown to size.
func Resize(dst []float32, outH, outW int, src *Source, t *Table, maxPixels int64, taps *Taps) (factor int, err error) {
	if src.w <= 0 || src.h <= 0 {
		return 0, ErrEmpty
	}
	if err := taps.Plan(src.w, src.h, outW, outH, maxPixels); err != nil {
		return 0, err
	}
	return taps.Factor, interpolate(dst, src, t, taps, false)
}

// ResizeGrid is Resize from the pixels at the taps only: grid is RGBA
// (alpha ignored), stride bytes per row, pixel (j, i) holding source
// pixel (Cols[j], Rows[i]) of a plan made with Plan.
func ResizeGrid(dst []float32, grid []byte, stride int, t *Table, taps *Taps) error {
	gw, gh := taps.GridSize()
	if gw == 0 || gh == 0 {
		return errfmt.Errorf("taps are not planned")
	}
	src, err := FromRGBA(grid, gw, gh, stride)
	if err != nil {
		return errfmt.Errorf("tap grid: %w", err)
	}
	return interpolate(dst, &src, t, taps, true)
}

// interpolate reads the taps from src, by source coordinates or, for a
// grid, by tap index, and writes the interpolated input.
func interpolate(dst []float32, src *Source, t *Table, taps *Taps, grid bool) error {
	outH, outW := taps.OutH, taps.OutW
	if len(dst) < outH*outW*3 {
		return errfmt.Errorf("destination holds %d values, %dx%dx3 needs %d", len(dst), outH, outW, outH*outW*3)
	}
	if taps.Factor == 1 && (src.kind == kindNRGBA || src.kind == kindRGB) {
		bpp := 4
		if src.kind == kindRGB {
			bpp = 3
		}
		interpolateBytes(dst, src.pix, src.stride, bpp, t, taps, grid)
		return nil
	}
	if taps.Factor == 1 && src.kind == kindYCbCr && !grid {
		interpolateYCbCr(dst, src, t, taps)
		return nil
	}
	interpolateAny(dst, src, t, taps, grid)
	return nil
}

// interpolateYCbCr is interpolateAny for decoded JPEGs without reduction:
// the offsets of the taps in the luma and chroma planes are worked out once
// per row and column instead of per tap (image.YCbCr's COffset is a row
// term plus a column term for every subsampling ratio). Twice as fast; the
// colour conversion per tap is the same call, so the result is too.
func interpolateYCbCr(dst []float32, src *Source, t *Table, taps *Taps) {
	m := src.ycc
	minX, minY := m.Rect.Min.X, m.Rect.Min.Y
	base := m.COffset(minX, minY)
	cols := taps.chromaCols[:0]
	for _, x := range taps.Cols {
		cols = append(cols, int32(m.COffset(src.x0+int(x), minY)-base))
	}
	taps.chromaCols = cols
	rgb := func(yi, ci int) (r, g, b uint8) { return color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci]) }
	o := 0
	for r := range taps.OutH {
		ya, yb := src.y0+int(taps.Rows[2*r]), src.y0+int(taps.Rows[2*r+1])
		lumaA, lumaB := m.YOffset(src.x0, ya), m.YOffset(src.x0, yb)
		chromaA, chromaB := m.COffset(minX, ya), m.COffset(minX, yb)
		rowFrac := taps.rowFrac[r]
		for c := range taps.OutW {
			x0, x1 := int(taps.Cols[2*c]), int(taps.Cols[2*c+1])
			c0, c1 := int(cols[2*c]), int(cols[2*c+1])
			tlR, tlG, tlB := rgb(lumaA+x0, chromaA+c0)
			trR, trG, trB := rgb(lumaA+x1, chromaA+c1)
			blR, blG, blB := rgb(lumaB+x0, chromaB+c0)
			brR, brG, brB := rgb(lumaB+x1, chromaB+c1)
			colFrac := taps.colFrac[c]
			d := dst[o : o+3]
			d[0] = lerp2(t[tlR], t[trR], t[blR], t[brR], colFrac, rowFrac)
			d[1] = lerp2(t[tlG], t[trG], t[blG], t[brG], colFrac, rowFrac)
			d[2] = lerp2(t[tlB], t[trB], t[blB], t[brB], colFrac, rowFrac)
			o += 3
		}
	}
}

// interpolateBytes is interpolateAny for sources with a byte per channel
// (RGBA grids from browsers, decoded PNGs, raw pixels) and no reduction:
// the taps are read by index in the loop instead of through a call per
// tap. It runs the same arithmetic, 3× faster natively and more in V8's
// baseline tier, where a browser's first image runs.
func interpolateBytes(dst []float32, pix []byte, stride, bpp int, t *Table, taps *Taps, grid bool) {
	o := 0
	for r := range taps.OutH {
		var y0, y1 int
		if grid {
			y0, y1 = 2*r, 2*r+1
		} else {
			y0, y1 = int(taps.Rows[2*r]), int(taps.Rows[2*r+1])
		}
		top, bottom := pix[y0*stride:], pix[y1*stride:]
		rowFrac := taps.rowFrac[r]
		for c := range taps.OutW {
			var x0, x1 int
			if grid {
				x0, x1 = 2*c*bpp, (2*c+1)*bpp
			} else {
				x0, x1 = int(taps.Cols[2*c])*bpp, int(taps.Cols[2*c+1])*bpp
			}
			tl, tr := top[x0:x0+3], top[x1:x1+3]
			bl, br := bottom[x0:x0+3], bottom[x1:x1+3]
			colFrac := taps.colFrac[c]
			d := dst[o : o+3]
			d[0] = lerp2(t[tl[0]], t[tr[0]], t[bl[0]], t[br[0]], colFrac, rowFrac)
			d[1] = lerp2(t[tl[1]], t[tr[1]], t[bl[1]], t[br[1]], colFrac, rowFrac)
			d[2] = lerp2(t[tl[2]], t[tr[2]], t[bl[2]], t[br[2]], colFrac, rowFrac)
			o += 3
		}
	}
}

// interpolateAny is interpolate for every source kind and reduction
// factor, a call per tap: the reference for interpolateBytes and
// interpolateYCbCr.
func interpolateAny(dst []float32, src *Source, t *Table, taps *Taps, grid bool) {
	outH, outW, f := taps.OutH, taps.OutW, taps.Factor
	// tap returns the (reduced) pixel at row tap ri and column tap ci.
	tap := func(ri, ci int) (r, g, b uint8) {
		if f == 1 {
			if grid {
				return src.at(ci, ri)
			}
			return src.at(int(taps.Cols[ci]), int(taps.Rows[ri]))
		}
		var sr, sg, sb int
		for k := 0; k < f; k++ {
			for l := 0; l < f; l++ {
				var pr, pg, pb uint8
				if grid {
					pr, pg, pb = src.at(ci*f+l, ri*f+k)
				} else {
					pr, pg, pb = src.at(int(taps.Cols[ci*f+l]), int(taps.Rows[ri*f+k]))
				}
				sr += int(pr)
				sg += int(pg)
				sb += int(pb)
			}
		}
		n := f * f
		return uint8((sr + n/2) / n), uint8((sg + n/2) / n), uint8((sb + n/2) / n)
	}
	o := 0
	for r := 0; r < outH; r++ {
		rowFrac := taps.rowFrac[r]
		for c := 0; c < outW; c++ {
			colFrac := taps.colFrac[c]
			tlR, tlG, tlB := tap(2*r, 2*c)
			trR, trG, trB := tap(2*r, 2*c+1)
			blR, blG, blB := tap(2*r+1, 2*c)
			brR, brG, brB := tap(2*r+1, 2*c+1)
			dst[o+0] = lerp2(t[tlR], t[trR], t[blR], t[brR], colFrac, rowFrac)
			dst[o+1] = lerp2(t[tlG], t[trG], t[blG], t[brG], colFrac, rowFrac)
			dst[o+2] = lerp2(t[tlB], t[trB], t[blB], t[brB], colFrac, rowFrac)
			o += 3
		}
	}
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
		return errfmt.Errorf("destination holds %d bytes, %dx%d needs %d", len(dst), s.w, s.h, s.w*s.h*3)
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

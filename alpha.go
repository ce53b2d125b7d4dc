package nsfw

import (
	"image"
	"image/color"
	"time"

	"github.com/nsfw-go/nsfw/internal/preprocess"
)

// mayBeTransparent reports whether img's type can hold alpha below 255.
func mayBeTransparent(img image.Image) bool {
	switch img.(type) {
	case *image.YCbCr, *image.Gray, *image.Gray16, *image.CMYK, nil:
		return false
	}
	return true
}

// classifyComposited classifies img from the pixels the resize reads (its
// tap grid, as the browser shim does), composited over white and over
// black when any of them is transparent. Pixels the resize does not read
// cannot change the result, so checking the taps for transparency is
// checking the image. With no transparent tap the result is bit-identical
// to classifying img's colour channels (ResizeGrid equals Resize).
func (d *Detector) classifyComposited(img image.Image) (Result, error) {
	b := img.Bounds()
	if _, err := preprocess.FromImage(img); err != nil {
		return Result{}, err // empty
	}
	start := time.Now()
	s := d.pool.acquire()
	defer d.pool.release(s)
	t := &s.taps
	if err := t.Plan(b.Dx(), b.Dy(), d.info.InputWidth, d.info.InputHeight, d.reduceAbove); err != nil {
		return Result{}, err
	}
	gw, gh := t.GridSize()
	n := 4 * gw * gh
	if cap(s.grid) < n {
		s.grid, s.over = make([]byte, n), make([]byte, n)
	}
	grid, over := s.grid[:n], s.over[:n]
	if !readGrid(grid, img, t) {
		if err := preprocess.ResizeGrid(s.it.Input(), grid, 4*gw, d.table, t); err != nil {
			return Result{}, err
		}
		return d.run(s.it, start), nil
	}
	var res [2]Result
	for i, bg := range [2]uint32{255, 0} {
		compositeOver(over, grid, bg)
		if err := preprocess.ResizeGrid(s.it.Input(), over, 4*gw, d.table, t); err != nil {
			return Result{}, err
		}
		res[i] = d.run(s.it, start)
	}
	worse := res[0]
	if res[1].Verdict == NSFW && res[0].Verdict != NSFW || res[1].Verdict == res[0].Verdict && res[1].NSFWScore > res[0].NSFWScore {
		worse = res[1]
	}
	worse.Elapsed = time.Since(start)
	return worse, nil
}

// compositeOver writes src (non-premultiplied RGBA) composited over an
// opaque grey level bg into dst, rounding to nearest:
// (c·a + bg·(255−a) + 127) / 255.
func compositeOver(dst, src []byte, bg uint32) {
	for i := 0; i+3 < len(src); i += 4 {
		a := uint32(src[i+3])
		for c := range 3 {
			dst[i+c] = uint8((uint32(src[i+c])*a + bg*(255-a) + 127) / 255)
		}
		dst[i+3] = 255
	}
}

// readGrid copies the pixels at the taps of t into grid as
// non-premultiplied RGBA (colour exactly as the resize reads it) and
// reports whether any has alpha below 255.
func readGrid(grid []byte, img image.Image, t *preprocess.Taps) bool {
	b := img.Bounds()
	gw := len(t.Cols)
	var alpha uint8 = 255
	put := func(o int, c color.NRGBA) {
		grid[o], grid[o+1], grid[o+2], grid[o+3] = c.R, c.G, c.B, c.A
		alpha &= c.A
	}
	switch m := img.(type) {
	case *image.NRGBA:
		for i, y := range t.Rows {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+int(y)):]
			for j, x := range t.Cols {
				p := row[4*x : 4*x+4]
				o := 4 * (i*gw + j)
				copy(grid[o:o+4], p)
				alpha &= p[3]
			}
		}
	case *image.RGBA:
		for i, y := range t.Rows {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+int(y)):]
			for j, x := range t.Cols {
				p := row[4*x : 4*x+4]
				c := color.NRGBA{p[0], p[1], p[2], p[3]}
				if p[3] != 255 {
					c = color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
				}
				put(4*(i*gw+j), c)
			}
		}
	case *image.Paletted:
		var lut [256]color.NRGBA
		for i := range lut {
			lut[i] = color.NRGBA{0, 0, 0, 255} // out of the palette: black, as the resize reads it
			if i < len(m.Palette) {
				lut[i] = color.NRGBAModel.Convert(m.Palette[i]).(color.NRGBA)
			}
		}
		for i, y := range t.Rows {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+int(y)):]
			for j, x := range t.Cols {
				put(4*(i*gw+j), lut[row[x]])
			}
		}
	default:
		for i, y := range t.Rows {
			for j, x := range t.Cols {
				put(4*(i*gw+j), color.NRGBAModel.Convert(img.At(b.Min.X+int(x), b.Min.Y+int(y))).(color.NRGBA))
			}
		}
	}
	return alpha != 255
}

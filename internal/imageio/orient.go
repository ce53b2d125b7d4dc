package imageio

import (
	"image"
	"image/color"
)

// EXIF orientations. The value says how the stored pixels must be
// transformed for display:
//
//	1 as stored          5 transpose (flip about the main diagonal)
//	2 mirror left-right  6 rotate 90° clockwise
//	3 rotate 180°        7 transverse (flip about the anti-diagonal)
//	4 mirror top-bottom  8 rotate 90° counter-clockwise

// swapsAxes reports whether orientation o exchanges width and height.
func swapsAxes(o int) bool { return o >= 5 && o <= 8 }

// srcPos maps a destination pixel (dx, dy) of the displayed image to the
// stored pixel (sx, sy); w and h are the stored size.
func srcPos(o, dx, dy, w, h int) (sx, sy int) {
	switch o {
	case 2:
		return w - 1 - dx, dy
	case 3:
		return w - 1 - dx, h - 1 - dy
	case 4:
		return dx, h - 1 - dy
	case 5:
		return dy, dx
	case 6:
		return dy, h - 1 - dx
	case 7:
		return w - 1 - dy, h - 1 - dx
	case 8:
		return w - 1 - dy, dx
	}
	return dx, dy
}

// orient returns img transformed for display according to EXIF orientation
// o (2-8). It keeps the pixel type where it can (every plain Pix/Stride
// type, and *image.YCbCr for the subsampling ratios that have a transposed
// counterpart) so the later stage keeps its fast paths; anything else is
// converted to *image.NRGBA.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if swapsAxes(o) {
		dw, dh = h, w
	}
	dr := image.Rect(0, 0, dw, dh)
	switch m := img.(type) {
	case *image.YCbCr:
		if out, ok := orientYCbCr(m, o); ok {
			return out
		}
	case *image.Gray:
		out := image.NewGray(dr)
		orientPlane(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 1, o)
		return out
	case *image.RGBA:
		out := image.NewRGBA(dr)
		orientPlane(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 4, o)
		return out
	case *image.NRGBA:
		out := image.NewNRGBA(dr)
		orientPlane(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 4, o)
		return out
	case *image.CMYK:
		out := image.NewCMYK(dr)
		orientPlane(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 4, o)
		return out
	}
	// Generic (slow) path for anything else.
	out := image.NewNRGBA(dr)
	for dy := 0; dy < dh; dy++ {
		for dx := 0; dx < dw; dx++ {
			sx, sy := srcPos(o, dx, dy, w, h)
			c := color.NRGBAModel.Convert(img.At(b.Min.X+sx, b.Min.Y+sy)).(color.NRGBA)
			i := out.PixOffset(dx, dy)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = c.R, c.G, c.B, c.A
		}
	}
	return out
}

// orientPlane writes into dst (stride ds) the orientation-o transform of the
// w x h plane src (stride ss) with bpp bytes per pixel. For each
// destination row the source position moves by a constant step, so the
// inner loop is just two index increments.
func orientPlane(dst []byte, ds int, src []byte, ss int, w, h, bpp, o int) {
	dw, dh := w, h
	if swapsAxes(o) {
		dw, dh = h, w
	}
	if dw == 0 || dh == 0 {
		return
	}
	// Source offset change per destination x step.
	x0, y0 := srcPos(o, 0, 0, w, h)
	x1, y1 := srcPos(o, 1, 0, w, h)
	step := (x1-x0)*bpp + (y1-y0)*ss
	for dy := 0; dy < dh; dy++ {
		sx, sy := srcPos(o, 0, dy, w, h)
		si := sy*ss + sx*bpp
		row := dst[dy*ds : dy*ds+dw*bpp]
		if bpp == 1 {
			for dx := range row {
				row[dx] = src[si]
				si += step
			}
			continue
		}
		for di := 0; di < len(row); di += bpp {
			copy(row[di:di+bpp], src[si:si+bpp])
			si += step
		}
	}
}

// orientYCbCr transforms the three planes separately, which keeps the
// compact YCbCr layout. Transposing orientations swap the chroma
// subsampling axes (4:2:2 <-> 4:4:0); 4:1:1 and 4:1:0 have no transposed
// counterpart in package image and fall back to NRGBA. For odd sizes a
// mirror shifts chroma by at most one luma pixel, which is invisible to
// the classifier.
func orientYCbCr(m *image.YCbCr, o int) (*image.YCbCr, bool) {
	if m.Rect.Min != (image.Point{}) {
		return nil, false
	}
	ratio := m.SubsampleRatio
	if swapsAxes(o) {
		switch ratio {
		case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio420:
		case image.YCbCrSubsampleRatio422:
			ratio = image.YCbCrSubsampleRatio440
		case image.YCbCrSubsampleRatio440:
			ratio = image.YCbCrSubsampleRatio422
		default:
			return nil, false
		}
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := chromaSize(m.SubsampleRatio, w, h)
	dw, dh := w, h
	if swapsAxes(o) {
		dw, dh = h, w
	}
	out := image.NewYCbCr(image.Rect(0, 0, dw, dh), ratio)
	orientPlane(out.Y, out.YStride, m.Y, m.YStride, w, h, 1, o)
	orientPlane(out.Cb, out.CStride, m.Cb, m.CStride, cw, ch, 1, o)
	orientPlane(out.Cr, out.CStride, m.Cr, m.CStride, cw, ch, 1, o)
	return out, true
}

// chromaSize is the chroma plane size of a w x h YCbCr image at the origin,
// matching image.NewYCbCr.
func chromaSize(r image.YCbCrSubsampleRatio, w, h int) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}

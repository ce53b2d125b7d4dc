package imageio

import (
	"image"
	"image/color"
	"io"
)

// Animations (GIF, APNG) share one driver. A format provides a frameSource
// that can list its frames cheaply, without decoding pixel data, any number
// of times, and decode one frame on demand. The driver then:
//
//  1. scans all frames once to count them and to find how many fit the
//     limits (per-frame size, data plausibility, the work budget);
//  2. for Decode, picks the frames to sample among those; a FrameReader
//     takes every one of them instead, and refuses the file here if it
//     has more than Limits.MaxFrameCount or exceeds the work budget;
//  3. decodes and composites frames in order, keeping copies of the canvas
//     at the sampled indices (Decode) or handing out each composited
//     canvas in turn (FrameReader).
//
// Memory is one canvas, one decoded frame, one saved region for "restore
// previous", and for Decode the snapshots, whose total is capped at
// MaxPixels.

// frameOverhead is charged against Limits.MaxTotalPixels for every frame
// in addition to its area, because each frame has a fixed decode cost
// (measured at 15-20 µs, as much as ~3000 pixels) however small it is;
// without it a 64 MiB file of millions of 1x1 frames would take a minute.
const frameOverhead = 4096

// Normalised disposal operations, applied after a frame has been shown.
const (
	disposeNone       = iota // leave the frame on the canvas
	disposeBackground        // clear the frame's area to transparent
	disposePrevious          // restore the area to what it was before the frame
)

// animFrame describes one frame, as found by a frameSource scan.
type animFrame struct {
	rect        image.Rectangle // position on the canvas; may stick out of it
	complete    bool            // false: cut off by the end of the file
	implausible bool            // too little data to hold rect's pixels
	bad         string          // why the frame's header is invalid, if it is
	weight      int64           // budget cost per pixel (1, more for slow decodes)
	disposal    int             // dispose* constant
	blendOver   bool            // alpha-blend onto the canvas; false: replace (APNG "source")

	// Format-specific location of the frame's data.
	start, end  int
	payload     int64
	transparent bool // GIF: graphic control transparency flag
	transIndex  byte
}

// frameSource lists and decodes the frames of one animated file.
type frameSource interface {
	// reset restarts the listing at the first frame.
	reset()
	// next returns the next frame, or false at the end. A frame with
	// complete == false ends the listing.
	next() (animFrame, bool)
	// truncated reports, after the listing ended, whether the file ended
	// without its proper terminator.
	truncated() bool
	// decode returns the pixels of f, bounds (0,0)-(f.rect.Size()).
	decode(f *animFrame) (image.Image, error)
	// dataEnd is, after a full listing, the offset just past the end of
	// the image data (the GIF trailer, the PNG IEND chunk).
	dataEnd() int
}

// animScan is what pass 1 found: every frame counted, and how many of them
// fit the limits, without decoding any pixel data.
type animScan struct {
	total, usable int
	work          int64 // budget used by the usable frames
	maxFrameArea  int64 // largest usable frame, in pixels
	stopErr       error // why frame `usable` cannot be used
	partial       bool
	overBudget    bool // stopped by MaxTotalPixels
}

// scanAnimation is pass 1. It fails only when no frame is usable.
func scanAnimation(format string, w, h int, src frameSource, lim Limits) (animScan, error) {
	canvasRect := image.Rect(0, 0, w, h)
	var sc animScan
	src.reset()
	for f, ok := src.next(); ok; f, ok = src.next() {
		sc.total++
		if sc.stopErr != nil {
			continue // keep counting
		}
		i := sc.total - 1
		if !f.complete {
			sc.stopErr = newError(ErrCorrupt, io.ErrUnexpectedEOF, "%s: corrupt image: truncated file (in frame %d)", format, i)
			sc.partial = true
			continue
		}
		if f.bad != "" {
			sc.stopErr = newError(ErrCorrupt, nil, "%s: corrupt image: frame %d: %s", format, i, f.bad)
			sc.partial = true
			continue
		}
		cost := int64(frameOverhead)
		if !f.rect.Intersect(canvasRect).Empty() {
			fw, fh := int64(f.rect.Dx()), int64(f.rect.Dy())
			if fw*fh > lim.MaxPixels {
				sc.stopErr = newError(ErrTooLarge, nil, "%s: image too large: frame %d is %dx%d pixels, over the limit of %d pixels",
					format, i, fw, fh, lim.MaxPixels)
				sc.partial = true
				continue
			}
			if f.implausible {
				sc.stopErr = newError(ErrCorrupt, io.ErrUnexpectedEOF, "%s: corrupt image: frame %d (%dx%d) has only %d bytes of image data",
					format, i, fw, fh, f.payload)
				sc.partial = true
				continue
			}
			cost += fw * fh * max(1, f.weight)
			sc.maxFrameArea = max(sc.maxFrameArea, fw*fh)
		}
		if sc.usable > 0 && sc.work+cost > lim.MaxTotalPixels {
			sc.stopErr = newError(ErrTooLarge, nil, "%s: work budget of %d pixels exhausted at frame %d", format, lim.MaxTotalPixels, i)
			sc.partial, sc.overBudget = true, true
			continue
		}
		sc.work += cost
		sc.usable++
	}
	if sc.usable == 0 {
		if sc.stopErr != nil {
			return sc, sc.stopErr
		}
		if src.truncated() {
			return sc, newError(ErrCorrupt, io.ErrUnexpectedEOF, "%s: corrupt image: truncated file (no complete frame)", format)
		}
		return sc, newError(ErrCorrupt, nil, "%s: corrupt image: no image data", format)
	}
	return sc, nil
}

// sampleAnimation runs steps 2 and 3 of the sampling decoder on a w x h
// canvas, after scanAnimation: up to k snapshots, evenly spread.
func sampleAnimation(format string, w, h int, src frameSource, sc animScan, k int) (*Decoded, error) {
	canvasRect := image.Rect(0, 0, w, h)
	// Choose the snapshots. Their total size is capped by the caller (k) so
	// the output of a large animation costs no more than one maximal still.
	want := sampleIndices(sc.usable, k)
	last := want[len(want)-1]

	// Pass 2: decode and composite frames 0..last.
	c := compositor{rect: canvasRect}
	out := &Decoded{Format: format, Width: w, Height: h, FrameCount: sc.total, Partial: sc.partial}
	src.reset()
	for i := 0; i <= last; i++ {
		f, ok := src.next()
		if !ok || !f.complete {
			break // cannot happen: pass 1 saw these frames
		}
		var img image.Image
		if !f.rect.Intersect(canvasRect).Empty() {
			var err error
			img, err = src.decode(&f)
			if err == nil {
				err = checkDecoded(format, img, f.rect.Dx(), f.rect.Dy())
			}
			if err != nil {
				if i == 0 {
					return nil, err
				}
				// Keep what decoded, as browsers do: the canvas still shows
				// frame i-1, which becomes the final snapshot.
				out.Partial = true
				if n := len(out.FrameIndex); out.FrameIndex[n-1] != i-1 {
					out.Frames = append(out.Frames, c.canvas)
					out.FrameIndex = append(out.FrameIndex, i-1)
				}
				return out, nil
			}
		}
		if last == 0 && img != nil && f.rect == canvasRect {
			// Only frame 0 is wanted and it covers the canvas: drawing it onto
			// a transparent canvas (by either blend mode) would reproduce it,
			// so return the decoder's compact image (often *image.Paletted).
			out.Frames = []image.Image{img}
			out.FrameIndex = []int{0}
			return out, nil
		}
		c.draw(&f, img)
		if i == want[len(out.FrameIndex)] {
			snap := c.canvas
			if i != last {
				snap = cloneNRGBA(c.canvas)
			}
			out.Frames = append(out.Frames, snap)
			out.FrameIndex = append(out.FrameIndex, i)
		}
	}
	return out, nil
}

// animIter composites every usable frame in turn, holding one canvas.
type animIter struct {
	format string
	src    frameSource
	c      compositor
	next   int // index of the next frame
	n      int // usable frames
	err    error
}

func newAnimIter(format string, w, h int, src frameSource, sc animScan) *animIter {
	src.reset()
	return &animIter{format: format, src: src, c: compositor{rect: image.Rect(0, 0, w, h)}, n: sc.usable}
}

// frame decodes and composites the next frame and returns the canvas
// (valid until the next call) and the frame's index, or io.EOF. A frame
// that fails to decode after the first ends the iteration, as in browsers;
// failed reports why.
func (a *animIter) frame() (image.Image, int, error) {
	if a.next >= a.n || a.err != nil {
		return nil, 0, io.EOF
	}
	i := a.next
	a.next++
	f, ok := a.src.next()
	if !ok || !f.complete {
		a.err = newError(ErrCorrupt, nil, "%s: corrupt image: frame %d vanished", a.format, i)
		return nil, 0, io.EOF // cannot happen: pass 1 saw these frames
	}
	var img image.Image
	if !f.rect.Intersect(a.c.rect).Empty() {
		var err error
		img, err = a.src.decode(&f)
		if err == nil {
			err = checkDecoded(a.format, img, f.rect.Dx(), f.rect.Dy())
		}
		if err != nil {
			if i == 0 {
				return nil, 0, err
			}
			a.err = err
			return nil, 0, io.EOF
		}
	}
	if a.n == 1 && img != nil && f.rect == a.c.rect {
		return img, 0, nil // as in sampleAnimation: the compact still
	}
	a.c.draw(&f, img)
	return a.c.canvas, i, nil
}

// sampleIndices picks k of the frames 0..n-1, evenly spread, always
// including 0 and, when k > 1, n-1. Rounding keeps them strictly
// increasing because the spacing (n-1)/(k-1) is at least 1.
func sampleIndices(n, k int) []int {
	k = min(k, n)
	if k <= 1 {
		return []int{0}
	}
	out := make([]int, k)
	for j := range out {
		out[j] = int((int64(j)*int64(n-1) + int64(k-1)/2) / int64(k-1))
	}
	return out
}

// compositor holds the canvas and the disposal state between frames.
type compositor struct {
	rect   image.Rectangle
	canvas *image.NRGBA
	row    []byte // one frame row converted to NRGBA
	// Disposal of the previous frame, applied before the next is drawn.
	prevDisposal int
	prevClip     image.Rectangle
	saved        []byte // canvas pixels under prevClip, for disposePrevious
}

// draw applies the previous frame's disposal, then draws frame f (decoded
// as img, nil if off-canvas) clipped to the canvas. The canvas starts fully
// transparent, and "background" disposal clears to transparent rather than
// to the GIF background colour, as browsers do.
func (c *compositor) draw(f *animFrame, img image.Image) {
	if c.canvas == nil {
		c.canvas = image.NewNRGBA(c.rect)
	}
	cv := c.canvas
	switch c.prevDisposal {
	case disposeBackground:
		r := c.prevClip
		for y := r.Min.Y; y < r.Max.Y; y++ {
			clear(cv.Pix[cv.PixOffset(r.Min.X, y):cv.PixOffset(r.Max.X, y)])
		}
	case disposePrevious:
		r := c.prevClip
		w := 4 * r.Dx()
		for y, i := r.Min.Y, 0; y < r.Max.Y; y, i = y+1, i+w {
			copy(cv.Pix[cv.PixOffset(r.Min.X, y):], c.saved[i:i+w])
		}
	}
	clip := f.rect.Intersect(c.rect)
	c.prevDisposal, c.prevClip = f.disposal, clip
	if clip.Empty() || img == nil {
		c.prevDisposal = disposeNone
		return
	}
	if f.disposal == disposePrevious {
		w := 4 * clip.Dx()
		need := w * clip.Dy()
		if cap(c.saved) < need {
			c.saved = make([]byte, need)
		}
		c.saved = c.saved[:need]
		for y, i := clip.Min.Y, 0; y < clip.Max.Y; y, i = y+1, i+w {
			copy(c.saved[i:i+w], cv.Pix[cv.PixOffset(clip.Min.X, y):])
		}
	}
	// Frame coordinates of the clipped area.
	fx0, fx1 := clip.Min.X-f.rect.Min.X, clip.Max.X-f.rect.Min.X
	if pal, ok := img.(*image.Paletted); ok {
		drawPaletted(cv, pal, clip, fx0, clip.Min.Y-f.rect.Min.Y, f.blendOver)
		return
	}
	n := 4 * clip.Dx()
	if cap(c.row) < n {
		c.row = make([]byte, n)
	}
	row := c.row[:n]
	for y := clip.Min.Y; y < clip.Max.Y; y++ {
		nrgbaRow(row, img, y-f.rect.Min.Y, fx0, fx1)
		dst := cv.Pix[cv.PixOffset(clip.Min.X, y):][:n]
		if f.blendOver {
			blendOver(dst, row)
		} else {
			copy(dst, row)
		}
	}
}

// drawPaletted is the fast path for paletted frames (all GIF frames, some
// APNG ones): colours are converted once per frame through a lookup table.
// GIF palette entries are either opaque or fully transparent, so "over"
// blending is usually just copy or skip.
func drawPaletted(cv *image.NRGBA, pal *image.Paletted, clip image.Rectangle, fx0, fy0 int, over bool) {
	var lut [256][4]byte
	for i, col := range pal.Palette {
		if i >= 256 {
			break
		}
		n := color.NRGBAModel.Convert(col).(color.NRGBA)
		lut[i] = [4]byte{n.R, n.G, n.B, n.A}
	}
	w := clip.Dx()
	for y := 0; y < clip.Dy(); y++ {
		si := pal.PixOffset(fx0, fy0+y)
		src := pal.Pix[si : si+w]
		dst := cv.Pix[cv.PixOffset(clip.Min.X, clip.Min.Y+y):][:4*w]
		for x, ci := range src {
			c := &lut[ci]
			switch {
			case !over || c[3] == 255:
				copy(dst[4*x:4*x+4], c[:])
			case c[3] != 0:
				blendOver(dst[4*x:4*x+4], c[:])
			}
		}
	}
}

// nrgbaRow converts pixels [x0, x1) of row y of img (whose bounds start at
// the origin) to non-premultiplied RGBA bytes, with fast paths for the
// types the PNG decoder produces at 8 bits per sample (paletted images go
// through drawPaletted). Every path gives exactly
// color.NRGBAModel.Convert(img.At(x, y)).
func nrgbaRow(dst []byte, img image.Image, y, x0, x1 int) {
	switch m := img.(type) {
	case *image.NRGBA:
		copy(dst, m.Pix[m.PixOffset(x0, y):m.PixOffset(x1, y)])
		return
	case *image.RGBA:
		src := m.Pix[m.PixOffset(x0, y):m.PixOffset(x1, y)]
		for i := 0; i < len(src); i += 4 {
			if src[i+3] == 255 {
				copy(dst[i:i+4], src[i:i+4])
				continue
			}
			c := color.NRGBAModel.Convert(color.RGBA{src[i], src[i+1], src[i+2], src[i+3]}).(color.NRGBA)
			dst[i], dst[i+1], dst[i+2], dst[i+3] = c.R, c.G, c.B, c.A
		}
		return
	case *image.Gray:
		src := m.Pix[m.PixOffset(x0, y):m.PixOffset(x1, y)]
		for i, v := range src {
			dst[4*i], dst[4*i+1], dst[4*i+2], dst[4*i+3] = v, v, v, 255
		}
		return
	}
	for x, i := x0, 0; x < x1; x, i = x+1, i+4 {
		c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
		dst[i], dst[i+1], dst[i+2], dst[i+3] = c.R, c.G, c.B, c.A
	}
}

// blendOver composites the non-premultiplied pixels src over dst in place
// ("source over", the APNG OVER operation), rounding to nearest.
func blendOver(dst, src []byte) {
	for i := 0; i+3 < len(src); i += 4 {
		sa := uint32(src[i+3])
		switch sa {
		case 0:
			continue
		case 255:
			copy(dst[i:i+4], src[i:i+4])
			continue
		}
		da := uint32(dst[i+3])
		t := da * (255 - sa)  // destination weight, scaled by 255
		outA255 := sa*255 + t // result alpha, scaled by 255
		for j := 0; j < 3; j++ {
			v := (uint32(src[i+j])*sa*255 + uint32(dst[i+j])*t + outA255/2) / outA255
			dst[i+j] = uint8(v)
		}
		dst[i+3] = uint8((outA255 + 127) / 255)
	}
}

// cloneNRGBA copies an image so later compositing cannot change a snapshot.
func cloneNRGBA(m *image.NRGBA) *image.NRGBA {
	out := &image.NRGBA{Pix: make([]byte, len(m.Pix)), Stride: m.Stride, Rect: m.Rect}
	copy(out.Pix, m.Pix)
	return out
}

package imageio

import (
	"bytes"
	"hash/maphash"
	"image"
	"image/png"
	"io"
)

// Info is what the headers (and, for animations, a scan of the frame
// structure) tell about a file before any pixel data is decoded.
type Info struct {
	Format        string
	Width, Height int // displayed size, as in Decoded
	// FrameCount is the number of animation frames in the file (1 for a
	// still), including a truncated last frame and frames over the budget.
	FrameCount int
	// Frames is how many images a FrameReader yields: every decodable
	// frame, plus the APNG default image when it is not one of them.
	Frames int
	// DefaultImage reports an APNG whose default image (shown by image/png,
	// thumbnailers and every viewer without APNG support) is not part of
	// the animation (shown by browsers): both are yielded.
	DefaultImage bool
	// Work is the decoding work in pixels, as charged against
	// Limits.MaxTotalPixels (animation frames, JPEG scans).
	Work int64
	// Memory estimates the peak bytes decoding takes (pixel buffers of the
	// decoder, canvas, conversions), from the header; it is checked
	// against Limits.MaxDecodeBytes. The input's own bytes are not counted.
	Memory int64
	// Orientation is the JPEG EXIF orientation (see Decoded).
	Orientation int
	// Trailing counts the bytes after the end of the image (after PNG's
	// IEND, GIF's trailer, JPEG's EOI, WebP's RIFF chunk, BMP's pixels):
	// data no image viewer shows, such as an appended archive.
	Trailing int64
	// Partial, when not nil, says why the animation ends before
	// FrameCount: a truncated or corrupt frame, whose successors browsers
	// do not show either.
	Partial error
}

// opened is a file whose headers passed every check, ready to decode.
type opened struct {
	info   Info
	lim    Limits
	still  func() (image.Image, error) // decodes a still, colour and orientation applied
	anim   frameSource                 // or the animation
	scan   animScan
	deflt  func() (image.Image, error) // APNG default image outside the animation
	decode bool                        // true once pixel data was decoded
}

// open sniffs the format and checks everything that can be checked before
// decoding pixel data: dimensions, plausibility, colour chunks, the frame
// structure of animations and the memory estimate.
func open(data []byte, lim Limits) (*opened, error) {
	if len(data) == 0 {
		return nil, newError(ErrEmpty, nil, "empty image: the input has no data")
	}
	format, err := sniff(data)
	if err != nil {
		return nil, err
	}
	var o *opened
	switch format {
	case "jpeg":
		o, err = openJPEG(data, lim)
	case "png":
		o, err = openPNG(data, lim)
	case "gif":
		o, err = openGIF(data, lim)
	case "webp":
		o, err = openWebP(data, lim)
	case "bmp":
		o, err = openBMP(data, lim)
	default:
		// Unreachable: sniff only returns the formats above.
		err = newError(ErrUnsupported, nil, "unsupported format %q", format)
	}
	if err != nil {
		return nil, err
	}
	o.lim = lim
	if o.info.Memory > lim.MaxDecodeBytes {
		return nil, newError(ErrTooLarge, nil, "%s: image too large: decoding %dx%d pixels needs about %s, over the %s limit",
			format, o.info.Width, o.info.Height, formatBytes(roundMiB(o.info.Memory)), formatBytes(lim.MaxDecodeBytes))
	}
	return o, nil
}

// roundMiB rounds n up to whole MiB for messages.
func roundMiB(n int64) int64 { return (n + 1<<20 - 1) &^ (1<<20 - 1) }

// animated fills the animation part of o from a scan of src.
func (o *opened) animated(src frameSource, lim Limits) error {
	sc, err := scanAnimation(o.info.Format, o.info.Width, o.info.Height, src, lim)
	if err != nil {
		return err
	}
	o.anim, o.scan = src, sc
	o.info.FrameCount, o.info.Frames, o.info.Work = sc.total, sc.usable, sc.work
	if sc.partial && !sc.overBudget {
		o.info.Partial = sc.stopErr
	}
	o.info.Trailing = int64(len(dataOf(src)) - src.dataEnd())
	return nil
}

func dataOf(src frameSource) []byte {
	switch s := src.(type) {
	case *gifSource:
		return s.data
	case *apngSource:
		return s.data
	}
	return nil
}

// sampled is Decode's result: the still, or sampled animation frames
// (with the APNG default image first, at index -1).
func (o *opened) sampled() (*Decoded, error) {
	f := o.info.Format
	if o.anim == nil {
		img, err := o.still()
		if err != nil {
			return nil, err
		}
		d := single(f, img)
		d.Orientation = o.info.Orientation
		return d, nil
	}
	w, h := o.info.Width, o.info.Height
	k, budget := o.lim.MaxFrames, max(1, o.lim.MaxPixels/(int64(w)*int64(h)))
	if o.deflt != nil {
		k, budget = k-1, budget-1
	}
	k = int(max(1, min(int64(min(k, o.scan.usable)), budget)))
	d, err := sampleAnimation(f, w, h, o.anim, o.scan, k)
	if err != nil {
		return nil, err
	}
	if o.deflt != nil {
		img, err := o.deflt()
		if err != nil {
			return nil, err
		}
		d.Frames = append([]image.Image{img}, d.Frames...)
		d.FrameIndex = append([]int{-1}, d.FrameIndex...)
	}
	return d, nil
}

// DefaultMaxFrameCount is the default Limits.MaxFrameCount.
const DefaultMaxFrameCount = 200

// Frame is one image from a FrameReader.
type Frame struct {
	// Image is the frame as a browser shows it: for an animation, the
	// composited canvas, which the next call to Next overwrites.
	Image image.Image
	// Index is the frame's index in the animation (0 for a still); -1 is
	// an APNG's default image that is not part of its animation.
	Index int
}

// FrameReader decodes a file frame by frame: every frame a viewer can see,
// in order, each composited as a browser shows it, holding one canvas
// whatever the number of frames. Frames whose composited canvas is
// byte-for-byte identical to one already returned are skipped (Skipped
// counts them): they would classify identically.
//
// NewFrameReader does everything that needs no pixel decoding (format,
// header and frame-structure checks, the memory estimate), so a file that
// would be refused is refused before any expensive work; Next does the
// decoding. A FrameReader is not safe for concurrent use.
type FrameReader struct {
	o       *opened
	it      *animIter
	state   int // 0: default image next, 1: frames, 2: done
	seed    maphash.Seed
	seen    map[uint64]struct{}
	skipped int
}

// NewFrameReader checks data and prepares to decode it frame by frame.
// An animation with more than lim.MaxFrameCount frames, or whose frames
// would exceed lim.MaxTotalPixels, fails with ErrTooManyFrames at once.
// data must not change while the FrameReader is in use.
func NewFrameReader(data []byte, lim Limits) (*FrameReader, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, tooManyBytes(lim.MaxBytes)
	}
	o, err := open(data, lim)
	if err != nil {
		return nil, err
	}
	if o.anim != nil {
		f := o.info.Format
		if o.scan.total > lim.MaxFrameCount {
			return nil, newError(ErrTooManyFrames, nil, "%s: too many frames: the animation has %d frames, over the limit of %d",
				f, o.scan.total, lim.MaxFrameCount)
		}
		if o.scan.overBudget {
			return nil, newError(ErrTooManyFrames, nil, "%s: too many frames: decoding all %d frames (%dx%d) exceeds the work budget of %d pixels",
				f, o.scan.total, o.info.Width, o.info.Height, lim.MaxTotalPixels)
		}
	}
	r := &FrameReader{o: o, seed: maphash.MakeSeed()}
	if o.deflt == nil {
		r.state = 1
	}
	if o.anim != nil {
		r.it = newAnimIter(o.info.Format, o.info.Width, o.info.Height, o.anim, o.scan)
	}
	return r, nil
}

// Info describes the file, as found before decoding.
func (r *FrameReader) Info() Info { return r.o.info }

// Skipped is the number of frames skipped so far as duplicates.
func (r *FrameReader) Skipped() int { return r.skipped }

// Partial reports, once Next has returned io.EOF, why the animation ended
// early (nil if it did not): a frame that could not be decoded, or a
// truncated or corrupt frame found by the scan.
func (r *FrameReader) Partial() error {
	if r.it != nil && r.it.err != nil {
		return r.it.err
	}
	return r.o.info.Partial
}

// Next returns the next frame, or io.EOF after the last.
func (r *FrameReader) Next() (Frame, error) {
	switch r.state {
	case 0:
		r.state = 1
		img, err := r.o.deflt()
		if err != nil {
			r.state = 2
			return Frame{}, err
		}
		return Frame{Image: img, Index: -1}, nil
	case 2:
		return Frame{}, io.EOF
	}
	if r.it == nil {
		r.state = 2
		img, err := r.o.still()
		if err != nil {
			return Frame{}, err
		}
		return Frame{Image: img}, nil
	}
	for {
		img, i, err := r.it.frame()
		if err != nil {
			r.state = 2
			return Frame{}, err
		}
		if nrgba, ok := img.(*image.NRGBA); ok && r.it.n > 1 {
			h := maphash.Bytes(r.seed, nrgba.Pix)
			if _, dup := r.seen[h]; dup {
				r.skipped++
				continue
			}
			if r.seen == nil {
				r.seen = map[uint64]struct{}{}
			}
			r.seen[h] = struct{}{}
		}
		return Frame{Image: img, Index: i}, nil
	}
}

// Inspect reports what NewFrameReader would find, without keeping any
// state: the checks and estimates made before decoding.
func Inspect(data []byte, lim Limits) (Info, error) {
	r, err := NewFrameReader(data, lim)
	if err != nil {
		return Info{}, err
	}
	return r.Info(), nil
}

// pngEnd is the offset after a PNG's IEND chunk (len(data) if none).
func pngEnd(data []byte) int {
	for pos := 8; ; {
		typ, _, end, ok := pngChunk(data, pos)
		if !ok {
			return len(data)
		}
		if typ == "IEND" {
			return end
		}
		pos = end
	}
}

// pngDecodeDefault decodes a PNG's IDAT image (what image/png returns).
func pngDecodeDefault(data []byte, w, h int, colour *colourTransform) (image.Image, error) {
	img, err := safely("png", func() (image.Image, error) { return png.Decode(bytes.NewReader(data)) })
	if err != nil {
		return nil, corrupt("png", err)
	}
	if err := checkDecoded("png", img, w, h); err != nil {
		return nil, err
	}
	if colour != nil {
		img = colour.apply(img)
	}
	return img, nil
}

package imageio

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"
)

// openStill is the common path for single-image formats: header first,
// limits, a format-specific plausibility check; the real decode is left to
// the returned opened's still function.
func openStill(format string, data []byte, lim Limits,
	config func(io.Reader) (image.Config, error),
	decode func(io.Reader) (image.Image, error),
	plausible func(cfg image.Config) error,
) (*opened, error) {
	// Check the raw header first: the decoders' own overflow checks (on
	// 32-bit platforms, or WebP's 2^31 cap) would otherwise report a huge
	// image as unsupported or corrupt instead of too large.
	if w, h, ok := rawDims(format, data); ok {
		if err := checkDims(format, w, h, lim); err != nil {
			return nil, err
		}
	}
	cfg, err := safely(format, func() (image.Config, error) { return config(bytes.NewReader(data)) })
	if err != nil {
		return nil, corrupt(format, err)
	}
	if err := checkDims(format, cfg.Width, cfg.Height, lim); err != nil {
		return nil, err
	}
	if plausible != nil {
		if err := plausible(cfg); err != nil {
			return nil, err
		}
	}
	o := &opened{info: Info{Format: format, Width: cfg.Width, Height: cfg.Height, FrameCount: 1, Frames: 1,
		Work: int64(cfg.Width) * int64(cfg.Height)}}
	o.still = func() (image.Image, error) {
		img, err := safely(format, func() (image.Image, error) { return decode(bytes.NewReader(data)) })
		if err != nil {
			return nil, corrupt(format, err)
		}
		if err := checkDecoded(format, img, cfg.Width, cfg.Height); err != nil {
			return nil, err
		}
		return img, nil
	}
	return o, nil
}

// deflateMaxRatio is the largest possible DEFLATE expansion: a 258-byte
// match coded in two 1-bit codes.
const deflateMaxRatio = 1032

// openPNG opens a PNG, or the animation of an APNG (see apng.go), with
// the colour conversion its chunks call for (see colour.go).
func openPNG(data []byte, lim Limits) (*opened, error) {
	o, err := openStill("png", data, lim, png.DecodeConfig, png.Decode,
		func(cfg image.Config) error { return pngPlausible(data, cfg) })
	if err != nil {
		return nil, err
	}
	colour, err := pngColourInfo(data)
	if err != nil {
		return nil, err
	}
	w, h := o.info.Width, o.info.Height
	o.info.Trailing = int64(len(data) - pngEnd(data))
	bpp, interlaced, deep := pngBytesPerPixel(data)
	perPixel := func(area int64) int64 {
		n := area * bpp
		if interlaced {
			n *= 2 // each pass is a separate image until merged
		}
		if colour != nil && deep {
			n += 4 * area // converted to 8 bits
		}
		return n
	}
	canvas := int64(w) * int64(h)
	if src := newAPNGSource(data, w, h); src != nil {
		src.colour = colour
		trailing := o.info.Trailing
		if err := o.animated(src, lim); err != nil {
			return nil, err
		}
		o.info.Trailing = trailing
		o.still = nil
		// Canvas, saved region for "previous" disposal, one decoded frame.
		o.info.Memory = 8*canvas + perPixel(o.scan.maxFrameArea)
		if src.defaultSeparate {
			o.info.DefaultImage = true
			o.info.Frames++
			o.info.Work += canvas
			o.info.Memory += perPixel(canvas)
			o.deflt = func() (image.Image, error) { return pngDecodeDefault(data, w, h, colour) }
		}
		return o, nil
	}
	o.info.Memory = perPixel(canvas)
	if colour != nil {
		still := o.still
		o.still = func() (image.Image, error) {
			img, err := still()
			if err != nil {
				return nil, err
			}
			return colour.apply(img), nil
		}
	}
	return o, nil
}

// pngBytesPerPixel is what image/png allocates per pixel for a PNG's IHDR:
// the image type it returns, whether it is interlaced, and whether its
// samples are 16-bit.
func pngBytesPerPixel(data []byte) (bpp int64, interlaced, deep bool) {
	if len(data) < 33 {
		return 8, false, true
	}
	depth, ct := data[24], data[25]
	trns := false
	for pos := 8; ; {
		typ, _, end, ok := pngChunk(data, pos)
		if !ok || typ == "IDAT" {
			break
		}
		trns = trns || typ == "tRNS"
		pos = end
	}
	deep = depth == 16
	switch {
	case ct == 3:
		bpp = 1
	case ct == 0 && !trns:
		bpp = 1
		if deep {
			bpp = 2
		}
	default: // NRGBA, RGBA, or their 16-bit versions
		bpp = 4
		if deep {
			bpp = 8
		}
	}
	return bpp, data[28] == 1, deep
}

// pngPlausible rejects a PNG whose image data is too short to possibly
// inflate to the declared size. The decoder allocates the whole pixel buffer
// before reading any data, so without this a 100-byte file claiming 7000x7000
// would cost 200 MB before failing: a cheap amplification for anyone
// uploading junk in a loop.
func pngPlausible(data []byte, cfg image.Config) error {
	if len(data) < 33 {
		return nil // DecodeConfig succeeded, so this cannot happen; let Decode judge.
	}
	depth, colorType := int64(data[24]), data[25]
	channels := int64(1)
	switch colorType {
	case 2:
		channels = 3
	case 4:
		channels = 2
	case 6:
		channels = 4
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	// Raw size of a non-interlaced image; an interlaced one is never smaller.
	raw := h * (1 + (w*channels*depth+7)/8)
	var idat int64
	for pos := 8; pos+8 <= len(data); {
		n := int64(be32(data[pos:]))
		typ := string(data[pos+4 : pos+8])
		if typ == "IDAT" {
			idat += min(n, int64(len(data)-pos-8))
		}
		if typ == "IEND" {
			break
		}
		next := int64(pos) + 12 + n
		if next > int64(len(data)) {
			break
		}
		pos = int(next)
	}
	if idat*deflateMaxRatio+1024 < raw {
		return newError(ErrCorrupt, io.ErrUnexpectedEOF,
			"png: corrupt image: truncated file (%d bytes of image data cannot hold %dx%d pixels)",
			idat, cfg.Width, cfg.Height)
	}
	return nil
}

// openBMP opens a BMP (uncompressed variants, as x/image supports).
func openBMP(data []byte, lim Limits) (*opened, error) {
	o, err := openStill("bmp", data, lim, bmp.DecodeConfig, bmp.Decode, func(cfg image.Config) error {
		return bmpPlausible(data, cfg)
	})
	if err != nil {
		return nil, err
	}
	o.info.Memory = 4 * int64(o.info.Width) * int64(o.info.Height)
	if end := bmpEnd(data, o.info.Width, o.info.Height); end < len(data) {
		o.info.Trailing = int64(len(data) - end)
	}
	return o, nil
}

// bmpNeed is how many bytes an uncompressed BMP's rows reach to, from its
// header; ok is false for variants whose size the header does not tell.
func bmpNeed(data []byte, w, h int) (need, bpp int64, ok bool) {
	if len(data) < 30 {
		return 0, 0, false
	}
	offset := int64(le32(data[10:]))
	bpp = int64(le16(data[28:]))
	var row int64
	switch bpp {
	case 1, 2, 4, 8:
		ppb := 8 / bpp
		row = ((int64(w)+ppb-1)/ppb + 3) &^ 3
	case 24:
		row = (3*int64(w) + 3) &^ 3
	case 32:
		row = 4 * int64(w)
	default:
		return 0, bpp, false
	}
	return offset + row*int64(h), bpp, true
}

// bmpPlausible checks that an uncompressed BMP holds all its rows before
// the decoder allocates the canvas (see pngPlausible for why).
func bmpPlausible(data []byte, cfg image.Config) error {
	need, bpp, ok := bmpNeed(data, cfg.Width, cfg.Height)
	if ok && int64(len(data)) < need {
		return newError(ErrCorrupt, io.ErrUnexpectedEOF,
			"bmp: corrupt image: truncated file (%d bytes, %dx%d at %d bits per pixel needs %d)",
			len(data), cfg.Width, cfg.Height, bpp, need)
	}
	return nil
}

// bmpEnd is the offset after a BMP's pixel rows (len(data) if unknown).
func bmpEnd(data []byte, w, h int) int {
	need, _, ok := bmpNeed(data, w, h)
	if !ok || need > int64(len(data)) {
		return len(data)
	}
	return int(need)
}

// openWebP opens a still WebP (lossy, lossless, or lossy with alpha).
// x/image has no animation support: animated files are reported as
// unsupported rather than corrupt, so users learn why they were refused.
func openWebP(data []byte, lim Limits) (*opened, error) {
	animated := webpAnimated(data)
	o, err := openStill("webp", data, lim, webp.DecodeConfig, webp.Decode, nil)
	if animated && (err == nil || !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrEmpty)) {
		return nil, newError(ErrUnsupported, nil, "webp: animated WebP is not supported")
	}
	if err != nil {
		return nil, err
	}
	// Lossless: the decoder's ARGB words and the NRGBA output; lossy:
	// YCbCr 4:2:0 and an alpha plane.
	o.info.Memory = 8 * int64(o.info.Width) * int64(o.info.Height)
	if len(data) >= 8 {
		if end := int64(le32(data[4:])) + 8; end < int64(len(data)) {
			o.info.Trailing = int64(len(data)) - end - end&1
		}
	}
	return o, nil
}

// webpAnimated reports whether a WebP declares animation: the VP8X
// animation flag, or an ANIM/ANMF chunk anywhere at the top level.
func webpAnimated(data []byte) bool {
	if len(data) >= 21 && string(data[12:16]) == "VP8X" && data[20]&0x02 != 0 {
		return true
	}
	for pos := 12; pos+8 <= len(data); {
		id := string(data[pos : pos+4])
		if id == "ANIM" || id == "ANMF" {
			return true
		}
		n := int64(le32(data[pos+4:]))
		next := int64(pos) + 8 + n + n&1 // chunks are padded to even size
		if next > int64(len(data)) {
			break
		}
		pos = int(next)
	}
	return false
}

// rawDims reads the declared size straight from a PNG IHDR, a BMP info
// header or a WebP VP8X chunk, with no decoder involved. ok is false when
// the header is not there or not in the expected shape; the decoder then
// has the final word.
func rawDims(format string, data []byte) (w, h int, ok bool) {
	switch format {
	case "png":
		if len(data) >= 24 && string(data[12:16]) == "IHDR" {
			w, h := be32(data[16:]), be32(data[20:])
			if w <= 1<<31-1 && h <= 1<<31-1 {
				return int(w), int(h), true
			}
		}
	case "bmp":
		if len(data) >= 26 {
			w, h := int64(int32(le32(data[18:]))), int64(int32(le32(data[22:])))
			if h < 0 {
				h = -h
			}
			if w >= 0 && w <= 1<<31-1 && h <= 1<<31-1 {
				return int(w), int(h), true
			}
		}
	case "webp":
		if len(data) >= 30 && string(data[12:16]) == "VP8X" {
			w := 1 + (int(data[24]) | int(data[25])<<8 | int(data[26])<<16)
			h := 1 + (int(data[27]) | int(data[28])<<8 | int(data[29])<<16)
			return w, h, true
		}
	}
	return 0, 0, false
}

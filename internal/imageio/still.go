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

// decodeStill is the common path for single-image formats: header first,
// limits, a format-specific plausibility check, then the real decode.
func decodeStill(format string, data []byte, lim Limits,
	config func(io.Reader) (image.Config, error),
	decode func(io.Reader) (image.Image, error),
	plausible func(cfg image.Config) error,
) (*Decoded, error) {
	return decodeStillOrAnim(format, data, lim, config, decode, plausible, nil)
}

// decodeStillOrAnim is decodeStill with an optional animation hook: when
// anim returns a frameSource for the validated header, the file is decoded
// as an animation instead.
func decodeStillOrAnim(format string, data []byte, lim Limits,
	config func(io.Reader) (image.Config, error),
	decode func(io.Reader) (image.Image, error),
	plausible func(cfg image.Config) error,
	anim func(cfg image.Config) frameSource,
) (*Decoded, error) {
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
	if anim != nil {
		if src := anim(cfg); src != nil {
			return decodeAnimation(format, cfg.Width, cfg.Height, src, lim)
		}
	}
	img, err := safely(format, func() (image.Image, error) { return decode(bytes.NewReader(data)) })
	if err != nil {
		return nil, corrupt(format, err)
	}
	if err := checkDecoded(format, img, cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	return single(format, img), nil
}

// deflateMaxRatio is the largest possible DEFLATE expansion: a 258-byte
// match coded in two 1-bit codes.
const deflateMaxRatio = 1032

// decodePNG decodes a PNG, or the animation of an APNG (see apng.go).
func decodePNG(data []byte, lim Limits) (*Decoded, error) {
	return decodeStillOrAnim("png", data, lim, png.DecodeConfig, png.Decode,
		func(cfg image.Config) error { return pngPlausible(data, cfg) },
		func(cfg image.Config) frameSource {
			if src := newAPNGSource(data, cfg.Width, cfg.Height); src != nil {
				return src
			}
			return nil
		})
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

// decodeBMP decodes a BMP (uncompressed variants, as x/image supports).
func decodeBMP(data []byte, lim Limits) (*Decoded, error) {
	return decodeStill("bmp", data, lim, bmp.DecodeConfig, bmp.Decode, func(cfg image.Config) error {
		return bmpPlausible(data, cfg)
	})
}

// bmpPlausible checks that an uncompressed BMP holds all its rows before
// the decoder allocates the canvas (see pngPlausible for why).
func bmpPlausible(data []byte, cfg image.Config) error {
	if len(data) < 30 {
		return nil
	}
	offset := int64(le32(data[10:]))
	bpp := int64(le16(data[28:]))
	w, h := int64(cfg.Width), int64(cfg.Height)
	var row int64
	switch bpp {
	case 1, 2, 4, 8:
		ppb := 8 / bpp
		row = ((w+ppb-1)/ppb + 3) &^ 3
	case 24:
		row = (3*w + 3) &^ 3
	case 32:
		row = 4 * w
	default:
		return nil
	}
	if need := offset + row*h; int64(len(data)) < need {
		return newError(ErrCorrupt, io.ErrUnexpectedEOF,
			"bmp: corrupt image: truncated file (%d bytes, %dx%d at %d bits per pixel needs %d)",
			len(data), cfg.Width, cfg.Height, bpp, need)
	}
	return nil
}

// decodeWebP decodes a still WebP (lossy, lossless, or lossy with alpha).
// x/image has no animation support: animated files are reported as
// unsupported rather than corrupt, so users learn why they were refused.
func decodeWebP(data []byte, lim Limits) (*Decoded, error) {
	animated := webpAnimated(data)
	d, err := decodeStill("webp", data, lim, webp.DecodeConfig, webp.Decode, nil)
	if err != nil && animated && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrEmpty) {
		return nil, newError(ErrUnsupported, nil, "webp: animated WebP is not supported")
	}
	return d, err
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

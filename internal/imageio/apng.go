package imageio

import (
	"bytes"
	"hash/crc32"
	"image"
	"image/png"
)

// Animated PNG (APNG) support. Go's png package decodes only the default
// image (the IDAT data), but browsers play the animation, and the default
// image need not even be one of its frames. A classifier that looked only
// at the default image could be bypassed by hiding content in the frames,
// so APNGs are decoded like GIFs: each frame is wrapped in a minimal PNG for
// png.Decode and composited by the animation driver (anim.go). A default
// image that is not a frame is decoded too: thumbnailers, image/png and
// every viewer without APNG support show it.

// apngSource is the frameSource of an APNG.
type apngSource struct {
	data      []byte
	ihdr      []byte // IHDR chunk data (13 bytes)
	plte      []byte // whole PLTE chunk (length, type, data, CRC), if any
	trns      []byte // whole tRNS chunk, if any
	numFrames int64  // from acTL
	first     int    // offset of the first fcTL chunk
	width     int
	height    int
	pos       int
	seen      int64
	done      bool
	trunc     bool
	buf       []byte // reused buffer for the single-frame PNG
	colour    *colourTransform
	// defaultSeparate: the IDAT image comes before the first fcTL, so it
	// is not a frame of the animation (browsers never show it; image/png
	// and other viewers without APNG support show only it).
	defaultSeparate bool
}

// newAPNGSource returns the animation of a PNG, or nil when the file is a
// plain PNG: no acTL chunk before the image data, zero frames, or no fcTL
// chunk (browsers then show the default image, and so do we).
// defaultSeparate is set when the default image is not frame 0.
func newAPNGSource(data []byte, w, h int) *apngSource {
	s := &apngSource{data: data, width: w, height: h}
	sawIDAT := false
	for pos := 8; ; {
		typ, body, end, ok := pngChunk(data, pos)
		if !ok {
			break
		}
		switch typ {
		case "IHDR":
			s.ihdr = body
		case "acTL":
			if !sawIDAT && len(body) == 8 {
				s.numFrames = int64(be32(body))
			}
		case "PLTE":
			if !sawIDAT {
				s.plte = data[pos:end]
			}
		case "tRNS":
			if !sawIDAT {
				s.trns = data[pos:end]
			}
		case "IDAT":
			sawIDAT = true
		case "fcTL":
			if s.first == 0 {
				s.first = pos
				s.defaultSeparate = sawIDAT
			}
		}
		if typ == "IEND" || (s.first != 0 && sawIDAT) {
			break
		}
		pos = end
	}
	if s.numFrames <= 0 || s.first == 0 || len(s.ihdr) != 13 {
		return nil
	}
	return s
}

// pngChunk parses the chunk at pos: its type, data, and the offset after
// its CRC. ok is false if the chunk does not fit in data.
func pngChunk(data []byte, pos int) (typ string, body []byte, end int, ok bool) {
	if pos < 0 || pos+8 > len(data) {
		return "", nil, 0, false
	}
	n := int64(be32(data[pos:]))
	e := int64(pos) + 12 + n
	if e > int64(len(data)) {
		return "", nil, 0, false
	}
	return string(data[pos+4 : pos+8]), data[pos+8 : pos+8+int(n)], int(e), true
}

func (s *apngSource) reset() {
	s.pos, s.seen, s.done, s.trunc = s.first, 0, false, false
}

func (s *apngSource) truncated() bool { return s.trunc }

func (s *apngSource) dataEnd() int { return pngEnd(s.data) }

// next returns the frame described by the next fcTL chunk; its data is
// every IDAT/fdAT chunk up to the following fcTL or IEND. Frames beyond the
// count announced in acTL are ignored, as browsers do.
func (s *apngSource) next() (animFrame, bool) {
	if s.done || s.seen >= s.numFrames {
		return animFrame{}, false
	}
	data := s.data
	// Find the next fcTL.
	var fc []byte
	for !s.done {
		typ, body, end, ok := pngChunk(data, s.pos)
		switch {
		case !ok:
			s.done, s.trunc = true, true
		case typ == "IEND":
			s.done = true
		case typ == "fcTL":
			fc = body
			s.pos = end
		default:
			s.pos = end
		}
		if fc != nil {
			break
		}
	}
	if fc == nil {
		return animFrame{}, false
	}
	s.seen++
	f := animFrame{weight: 1, disposal: disposeNone}
	if len(fc) != 26 {
		f.bad = "malformed fcTL chunk"
	} else {
		w, h, x, y := be32(fc[4:]), be32(fc[8:]), be32(fc[12:]), be32(fc[16:])
		const lim = 1 << 30 // keeps x+w within a 32-bit int
		if w == 0 || h == 0 || w >= lim || h >= lim || x >= lim || y >= lim {
			f.bad = "invalid frame region in fcTL"
		} else {
			f.rect = image.Rect(int(x), int(y), int(x+w), int(y+h))
		}
		switch fc[24] {
		case 1:
			f.disposal = disposeBackground
		case 2:
			f.disposal = disposePrevious
			if s.seen == 1 {
				f.disposal = disposeBackground // APNG spec: no previous for frame 0
			}
		}
		f.blendOver = fc[25] == 1
	}
	if s.ihdr[8] == 16 {
		f.weight = 4 // 16-bit samples take the generic, slower compositing path
	}
	// Collect the frame's data chunks.
	f.start = s.pos
	for {
		typ, body, end, ok := pngChunk(data, s.pos)
		if !ok {
			s.done, s.trunc = true, true
			f.end = s.pos
			return f, true // complete stays false
		}
		if typ == "fcTL" || typ == "IEND" {
			break
		}
		switch typ {
		case "IDAT":
			f.payload += int64(len(body))
		case "fdAT":
			if len(body) >= 4 {
				f.payload += int64(len(body) - 4)
			}
		}
		s.pos = end
	}
	f.end, f.complete = s.pos, true
	if f.bad == "" {
		raw := int64(f.rect.Dy()) * (1 + (int64(f.rect.Dx())*pngBitsPerPixel(s.ihdr)+7)/8)
		f.implausible = f.payload*deflateMaxRatio+1024 < raw
	}
	return f, true
}

// pngBitsPerPixel computes bits per pixel from IHDR data.
func pngBitsPerPixel(ihdr []byte) int64 {
	depth, channels := int64(ihdr[8]), int64(1)
	switch ihdr[9] {
	case 2:
		channels = 3
	case 4:
		channels = 2
	case 6:
		channels = 4
	}
	return depth * channels
}

// decode builds a single-frame PNG (signature, IHDR with the frame's size,
// PLTE and tRNS, one IDAT holding the frame's data, IEND) and decodes it.
func (s *apngSource) decode(f *animFrame) (image.Image, error) {
	b := append(s.buf[:0], "\x89PNG\r\n\x1a\n"...)
	ihdr := append([]byte(nil), s.ihdr...)
	w, h := f.rect.Dx(), f.rect.Dy()
	ihdr[0], ihdr[1], ihdr[2], ihdr[3] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	ihdr[4], ihdr[5], ihdr[6], ihdr[7] = byte(h>>24), byte(h>>16), byte(h>>8), byte(h)
	b = appendChunk(b, "IHDR", ihdr)
	b = append(b, s.plte...)
	b = append(b, s.trns...)
	// IDAT: length placeholder, then the payloads, then the CRC.
	lenAt := len(b)
	b = append(b, 0, 0, 0, 0, 'I', 'D', 'A', 'T')
	for pos := f.start; pos < f.end; {
		typ, body, end, ok := pngChunk(s.data, pos)
		if !ok {
			break
		}
		switch typ {
		case "IDAT":
			b = append(b, body...)
		case "fdAT":
			if len(body) >= 4 {
				b = append(b, body[4:]...)
			}
		}
		pos = end
	}
	n := len(b) - lenAt - 8
	b[lenAt], b[lenAt+1], b[lenAt+2], b[lenAt+3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	b = be32append(b, crc32.ChecksumIEEE(b[lenAt+4:]))
	b = appendChunk(b, "IEND", nil)
	s.buf = b
	img, err := safely("png", func() (image.Image, error) { return png.Decode(bytes.NewReader(b)) })
	if err != nil {
		return nil, corrupt("png", err)
	}
	if s.colour != nil {
		img = s.colour.apply(img)
	}
	return img, nil
}

// appendChunk appends a PNG chunk with its CRC.
func appendChunk(b []byte, typ string, body []byte) []byte {
	b = be32append(b, uint32(len(body)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, body...)
	return be32append(b, crc32.ChecksumIEEE(b[start:]))
}

func be32append(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

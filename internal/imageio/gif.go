package imageio

import (
	"bytes"
	"image"
	"image/gif"
	"io"
)

// GIF animations are decoded without gif.DecodeAll, whose memory grows with
// the number of frames. Instead the block structure is scanned (without
// decoding any LZW data) to count frames and find their byte ranges; frames
// are then decoded one at a time, each wrapped in a minimal single-frame GIF
// for gif.Decode, and composited by decodeAnimation.

// lzwMaxPixelsPerByte bounds GIF LZW expansion: a code of w bits can emit at
// most 2^w bytes, so at best 4096 bytes per 12 bits. A frame with less data
// than area/lzwMaxPixelsPerByte cannot be valid, and is rejected before
// gif.Decode allocates its pixel buffer.
const lzwMaxPixelsPerByte = 4096 * 8 / 12

// gifHeader is the logical screen: the canvas size and global color table.
type gifHeader struct {
	width, height int
	flags         byte   // logical screen descriptor packed fields
	gct           []byte // raw global color table, nil if absent
	start         int    // offset of the first block after the header
}

// parseGIFHeader reads the header, logical screen descriptor and global
// color table.
func parseGIFHeader(data []byte) (gifHeader, error) {
	var h gifHeader
	if len(data) < 13 {
		return h, newError(ErrCorrupt, io.ErrUnexpectedEOF, "gif: corrupt image: truncated file (%d bytes, header needs 13)", len(data))
	}
	h.width, h.height = int(le16(data[6:])), int(le16(data[8:]))
	h.flags = data[10]
	h.start = 13
	if h.flags&0x80 != 0 {
		n := 3 << (1 + h.flags&7)
		if 13+n > len(data) {
			return h, newError(ErrCorrupt, io.ErrUnexpectedEOF, "gif: corrupt image: truncated file (in the global color table)")
		}
		h.gct = data[13 : 13+n]
		h.start += n
	}
	return h, nil
}

// openGIF opens a GIF: a still is a one-frame animation.
func openGIF(data []byte, lim Limits) (*opened, error) {
	hdr, err := parseGIFHeader(data)
	if err != nil {
		return nil, err
	}
	if err := checkDims("gif", hdr.width, hdr.height, lim); err != nil {
		return nil, err
	}
	o := &opened{info: Info{Format: "gif", Width: hdr.width, Height: hdr.height}}
	if err := o.animated(&gifSource{data: data, hdr: hdr}, lim); err != nil {
		return nil, err
	}
	// Canvas, saved region for "previous" disposal, one paletted frame.
	o.info.Memory = 8*int64(hdr.width)*int64(hdr.height) + o.scan.maxFrameArea
	return o, nil
}

// gifSource is the frameSource of a GIF. Scanning only follows block
// lengths and allocates nothing, so it is cheap to run twice.
type gifSource struct {
	data  []byte
	hdr   gifHeader
	pos   int
	done  bool
	trunc bool   // the data ended inside a block or before the trailer
	buf   []byte // reused buffer for the single-frame GIF
	// Pending graphic control extension, applying to the next image.
	transparent bool
	transIndex  byte
	disposal    byte
}

func (s *gifSource) reset() {
	s.pos, s.done, s.trunc = s.hdr.start, false, false
	s.transparent, s.transIndex, s.disposal = false, 0, 0
}

func (s *gifSource) truncated() bool { return s.trunc }

// dataEnd is the offset after the trailer; the listing stops on it.
func (s *gifSource) dataEnd() int {
	if s.pos < len(s.data) && s.data[s.pos] == 0x3b {
		return s.pos + 1
	}
	return min(s.pos, len(s.data))
}

// skipSubBlocks follows a chain of data sub-blocks starting at p and
// returns the offset after its zero-length terminator, the payload size,
// and false if the data ends first.
func skipSubBlocks(data []byte, p int) (int, int64, bool) {
	var payload int64
	for {
		if p >= len(data) {
			return len(data), payload, false
		}
		n := int(data[p])
		p++
		if n == 0 {
			return p, payload, true
		}
		p += n
		payload += int64(n)
	}
}

// gifDisposal maps GIF disposal methods to the browser behaviour: 2 clears
// to transparent, 3 restores the previous pixels, and 0, 1 and the reserved
// values 4-7 leave the frame in place.
func gifDisposal(d byte) int {
	switch d {
	case 2:
		return disposeBackground
	case 3:
		return disposePrevious
	}
	return disposeNone
}

// next returns the next frame. Like browsers, it treats an unknown block
// type or a missing trailer as the end of the animation rather than an
// error; a frame cut off by the end of the data is returned with
// complete == false and ends the listing.
func (s *gifSource) next() (animFrame, bool) {
	data := s.data
	for !s.done {
		if s.pos >= len(data) {
			s.done, s.trunc = true, true // no trailer
			break
		}
		switch data[s.pos] {
		case 0x21: // extension
			if s.pos+2 > len(data) {
				s.done, s.trunc = true, true
				break
			}
			label, p := data[s.pos+1], s.pos+2
			if label == 0xf9 && p+5 <= len(data) && data[p] >= 4 {
				flags := data[p+1]
				s.disposal = (flags >> 2) & 7
				s.transparent = flags&1 != 0
				s.transIndex = data[p+4]
			}
			end, _, ok := skipSubBlocks(data, p)
			if !ok {
				s.done, s.trunc = true, true
				break
			}
			s.pos = end
		case 0x2c: // image descriptor
			f := animFrame{
				start:       s.pos,
				transparent: s.transparent,
				transIndex:  s.transIndex,
				disposal:    gifDisposal(s.disposal),
				blendOver:   true,
				weight:      1,
			}
			s.transparent, s.transIndex, s.disposal = false, 0, 0
			if s.pos+10 > len(data) {
				s.done, s.trunc = true, true
				return f, true
			}
			d := data[s.pos+1:]
			left, top := int(le16(d[0:])), int(le16(d[2:]))
			f.rect = image.Rect(left, top, left+int(le16(d[4:])), top+int(le16(d[6:])))
			p := s.pos + 10
			if flags := d[8]; flags&0x80 != 0 {
				p += 3 << (1 + flags&7)
			}
			p++ // LZW minimum code size
			if p > len(data) {
				s.done, s.trunc = true, true
				return f, true
			}
			end, payload, ok := skipSubBlocks(data, p)
			if !ok {
				s.done, s.trunc = true, true
				return f, true
			}
			f.end, f.payload, f.complete = end, payload, true
			f.implausible = payload*lzwMaxPixelsPerByte+64 < int64(f.rect.Dx())*int64(f.rect.Dy())
			s.pos = end
			return f, true
		default: // 0x3b trailer, or garbage, which browsers treat as the end
			s.done = true
		}
	}
	return animFrame{}, false
}

// decode wraps frame f in a minimal GIF and decodes it: header, logical
// screen sized to the frame, global color table, a graphic control
// extension carrying only the transparency, the frame itself moved to
// (0, 0), and the trailer. Moving the frame lets gif.Decode accept frames
// that stick out of the canvas, which browsers clip rather than reject.
func (s *gifSource) decode(f *animFrame) (image.Image, error) {
	w, h := f.rect.Dx(), f.rect.Dy()
	b := s.buf[:0]
	b = append(b, "GIF89a"...)
	b = append(b, byte(w), byte(w>>8), byte(h), byte(h>>8), s.hdr.flags, 0, 0)
	b = append(b, s.hdr.gct...)
	if f.transparent {
		b = append(b, 0x21, 0xf9, 4, 1, 0, 0, f.transIndex, 0)
	}
	d := len(b)
	b = append(b, s.data[f.start:f.end]...)
	b[d+1], b[d+2], b[d+3], b[d+4] = 0, 0, 0, 0
	b = append(b, 0x3b)
	s.buf = b
	img, err := safely("gif", func() (image.Image, error) { return gif.Decode(bytes.NewReader(b)) })
	if err != nil {
		return nil, corrupt("gif", err)
	}
	return img, nil
}

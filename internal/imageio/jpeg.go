package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"math"
)

// JPEG scan limits. Go's decoder walks every block of the image once per
// scan (SOS segment), and a progressive scan that codes nothing but an
// end-of-band run takes about 15 bytes, so without a cap a 64 MiB file could
// keep a CPU busy for minutes (measured: 1000 such scans over 7000x7000
// take 10 s). Real encoders emit at most a few dozen scans.
const (
	// jpegMaxScans is an absolute cap, the value libjpeg-turbo recommends
	// for its own scan limit.
	jpegMaxScans = 500
	// jpegMinScans is always allowed for progressive files, whatever the
	// budget, so that ordinary images are never refused.
	jpegMinScans = 32
	// jpegScanWeight converts Limits.MaxTotalPixels into a scans*pixels
	// budget. A progressive scan costs much less per pixel than decoding a
	// GIF frame (no IDCT, about 0.2 ns per pixel), hence the factor.
	jpegScanWeight = 8
	// jpegMaxSequentialScans: a baseline/extended JPEG codes each of its at
	// most 4 components in exactly one scan; Go's decoder would redo the
	// full IDCT for every extra one.
	jpegMaxSequentialScans = 4
)

// jpegInfo is what a cheap pass over the JPEG marker structure tells us
// before decoding.
type jpegInfo struct {
	orientation int  // EXIF orientation 1-8, 0 when absent or invalid
	scans       int  // number of SOS segments
	progressive bool // SOF2 (the only progressive type Go decodes)
	comps       int  // components in the frame header
	h, v        [4]byte
	end         int // offset after the EOI marker; 0 if none was found
}

// openJPEG opens a JPEG; decoding applies its EXIF orientation.
func openJPEG(data []byte, lim Limits) (*opened, error) {
	const format = "jpeg"
	cfg, err := safely(format, func() (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(data)) })
	if err != nil {
		return nil, corrupt(format, err)
	}
	if err := checkDims(format, cfg.Width, cfg.Height, lim); err != nil {
		return nil, err
	}
	info := scanJPEG(data)
	if err := checkScans(info, cfg, lim); err != nil {
		return nil, err
	}
	w, h := cfg.Width, cfg.Height
	if !lim.IgnoreOrientation && info.orientation >= 5 {
		w, h = h, w
	}
	o := &opened{info: Info{Format: format, Width: w, Height: h, FrameCount: 1, Frames: 1,
		Orientation: info.orientation, Memory: jpegMemory(info, cfg, lim),
		Work: int64(cfg.Width) * int64(cfg.Height) * int64(max(1, info.scans/jpegScanWeight))}}
	if info.end > 0 {
		o.info.Trailing = int64(len(data) - info.end)
	}
	o.still = func() (image.Image, error) {
		img, err := safely(format, func() (image.Image, error) { return jpeg.Decode(bytes.NewReader(data)) })
		if err != nil {
			return nil, corrupt(format, err)
		}
		if err := checkDecoded(format, img, cfg.Width, cfg.Height); err != nil {
			return nil, err
		}
		if !lim.IgnoreOrientation && info.orientation > 1 {
			img = orient(img, info.orientation)
		}
		return img, nil
	}
	return o, nil
}

// jpegMemory is what image/jpeg allocates for a JPEG: its planes (padded
// to whole MCUs, chroma subsampled), a 32-bit coefficient per sample for a
// progressive file, the CMYK output of a 4-component one, and a rotated
// copy when the EXIF orientation is applied.
func jpegMemory(info jpegInfo, cfg image.Config, lim Limits) int64 {
	n := max(1, info.comps)
	hmax, vmax := 1, 1
	for i := range n {
		hmax, vmax = max(hmax, int(info.h[i])), max(vmax, int(info.v[i]))
	}
	mw := (int64(cfg.Width) + int64(8*hmax) - 1) / int64(8*hmax) * int64(8*hmax)
	mh := (int64(cfg.Height) + int64(8*vmax) - 1) / int64(8*vmax) * int64(8*vmax)
	var samples int64
	for i := range n {
		hi, vi := max(1, int64(info.h[i])), max(1, int64(info.v[i]))
		samples += mw * mh * hi * vi / int64(hmax*vmax)
	}
	mem := samples
	if info.progressive {
		mem += 4 * samples
	}
	if n == 4 {
		mem += 4 * int64(cfg.Width) * int64(cfg.Height)
	}
	if !lim.IgnoreOrientation && info.orientation > 1 {
		mem += samples
	}
	return mem
}

// checkScans applies the scan limits described at jpegMaxScans.
func checkScans(info jpegInfo, cfg image.Config, lim Limits) error {
	if !info.progressive {
		if info.scans > jpegMaxSequentialScans {
			return newError(ErrCorrupt, nil, "jpeg: corrupt image: %d scans in a sequential JPEG (at most %d are valid)",
				info.scans, jpegMaxSequentialScans)
		}
		return nil
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	budget := lim.MaxTotalPixels
	if budget > math.MaxInt64/jpegScanWeight {
		budget = math.MaxInt64
	} else {
		budget *= jpegScanWeight
	}
	allowed := int64(jpegMaxScans)
	if pixels > 0 {
		allowed = min(allowed, max(jpegMinScans, budget/pixels))
	}
	if int64(info.scans) > allowed {
		return newError(ErrTooLarge, nil, "jpeg: image too large: %d progressive scans over %dx%d pixels exceeds the limit of %d scans",
			info.scans, cfg.Width, cfg.Height, allowed)
	}
	return nil
}

// scanJPEG walks the marker segments, skipping entropy-coded data, to count
// scans and to find the EXIF orientation in the first APP1 "Exif" segment
// before the first scan (where browsers look for it). It runs in linear
// time and never allocates; on malformed structure it just stops, leaving
// the real decoder to report the error.
func scanJPEG(data []byte) jpegInfo {
	var info jpegInfo
	sawExif := false
	pos := 2 // after SOI
	for pos+2 <= len(data) {
		if data[pos] != 0xff {
			pos++ // stray byte between segments; decoders skip these too
			continue
		}
		marker := data[pos+1]
		switch {
		case marker == 0xff: // fill byte
			pos++
			continue
		case marker == 0x00, marker == 0x01, marker >= 0xd0 && marker <= 0xd7:
			pos += 2 // stuffed zero, TEM, RSTn: no length
			continue
		case marker == 0xd9: // EOI
			info.end = pos + 2
			return info
		}
		if pos+4 > len(data) {
			return info
		}
		end := pos + 2 + int(be16(data[pos+2:]))
		if end < pos+4 || end > len(data) {
			return info
		}
		switch marker {
		case 0xc0, 0xc1, 0xc2:
			info.progressive = info.progressive || marker == 0xc2
			if seg := data[pos+4 : end]; info.comps == 0 && len(seg) >= 6 {
				n := min(int(seg[5]), 4, (len(seg)-6)/3)
				info.comps = n
				for i := range n {
					f := seg[6+3*i+1]
					info.h[i], info.v[i] = min(4, max(1, f>>4)), min(4, max(1, f&15))
				}
			}
		case 0xe1: // APP1
			if !sawExif && info.scans == 0 {
				if seg := data[pos+4 : end]; bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
					sawExif = true
					info.orientation = exifOrientation(seg[6:])
				}
			}
		case 0xda: // SOS: the entropy-coded data runs to the next real marker
			info.scans++
			end = skipEntropyData(data, end)
		}
		pos = end
	}
	return info
}

// skipEntropyData returns the offset of the first marker at or after pos
// that ends entropy-coded data (not a stuffed 0xFF00, fill byte or RSTn).
func skipEntropyData(data []byte, pos int) int {
	for pos < len(data) {
		i := bytes.IndexByte(data[pos:], 0xff)
		if i < 0 {
			return len(data)
		}
		pos += i
		if pos+1 >= len(data) {
			return len(data)
		}
		m := data[pos+1]
		if m == 0x00 || m == 0xff || (m >= 0xd0 && m <= 0xd7) {
			pos++
			continue
		}
		return pos
	}
	return pos
}

// exifOrientation reads tag 0x0112 (Orientation) from IFD0 of a TIFF
// structure. Like Chromium, it accepts only a SHORT with count 1 and value
// 1-8, and it follows no offsets other than the IFD0 pointer, so it is
// bounded by the segment length (at most 64 KiB).
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 0
	}
	if order.Uint16(t[2:]) != 42 {
		return 0
	}
	off := uint64(order.Uint32(t[4:]))
	if off < 8 || off+2 > uint64(len(t)) {
		return 0
	}
	n := uint64(order.Uint16(t[off:]))
	for i := uint64(0); i < n; i++ {
		e := off + 2 + 12*i
		if e+12 > uint64(len(t)) {
			return 0
		}
		if order.Uint16(t[e:]) != 0x0112 {
			continue
		}
		typ, count := order.Uint16(t[e+2:]), order.Uint32(t[e+4:])
		if typ != 3 || count != 1 {
			return 0
		}
		if v := int(order.Uint16(t[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 0
	}
	return 0
}

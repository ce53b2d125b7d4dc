package imageio

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// signature is a supported format's magic number.
type signature struct {
	format string
	magic  string
}

var signatures = []signature{
	{"jpeg", "\xff\xd8\xff"},
	{"png", "\x89PNG\r\n\x1a\n"},
	{"gif", "GIF87a"},
	{"gif", "GIF89a"},
}

// sniff identifies the format from magic bytes only; file names and
// Content-Type headers are attacker-controlled and ignored. Unsupported
// inputs get a message naming what they look like, because "unknown
// format" is unhelpful to a user who uploaded a HEIC photo from a phone.
func sniff(data []byte) (string, error) {
	for _, s := range signatures {
		if bytes.HasPrefix(data, []byte(s.magic)) {
			return s.format, nil
		}
	}
	if len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP" {
		return "webp", nil
	}
	if isBMP(data) {
		return "bmp", nil
	}
	// A strict prefix of a signature is a truncated file of that format.
	for _, s := range signatures {
		if len(data) < len(s.magic) && bytes.HasPrefix([]byte(s.magic), data) && len(data) >= 2 {
			return "", newError(ErrCorrupt, nil, "%s: corrupt image: truncated file (%d bytes)", s.format, len(data))
		}
	}
	if len(data) >= 4 && len(data) < 12 && string(data[:4]) == "RIFF" {
		return "", newError(ErrCorrupt, nil, "webp: corrupt image: truncated file (%d bytes)", len(data))
	}
	if what := recognise(data); what != "" {
		return "", newError(ErrUnsupported, nil, "unsupported format (%s); supported formats are JPEG, PNG, GIF, WebP and BMP", what)
	}
	if kind := textKind(data); kind != "" {
		return "", newError(ErrUnsupported, nil, "not an image: looks like %s", kind)
	}
	return "", newError(ErrUnsupported, nil, "unknown format (first bytes: % x)", data[:min(len(data), 8)])
}

// isBMP accepts "BM" only when followed by a plausible DIB header size,
// since two letters alone match many text files.
func isBMP(data []byte) bool {
	if len(data) < 2 || data[0] != 'B' || data[1] != 'M' {
		return false
	}
	if len(data) < 18 {
		// Too short to check; binary bytes after "BM" suggest a truncated
		// BMP, which the decoder will report as such.
		return textKind(data) == ""
	}
	switch le32(data[14:]) {
	case 12, 16, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// recognise names common non-supported formats by their magic numbers.
func recognise(data []byte) string {
	has := func(off int, s string) bool {
		return len(data) >= off+len(s) && string(data[off:off+len(s)]) == s
	}
	switch {
	case has(4, "ftyp"):
		if len(data) < 12 {
			return "ISO media (truncated)"
		}
		switch brand := string(data[8:12]); brand {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1":
			return "HEIC/HEIF"
		case "avif", "avis":
			return "AVIF"
		case "crx ":
			return "Canon CR3 raw"
		case "qt  ":
			return "QuickTime video"
		default:
			return fmt.Sprintf("ISO media/MP4 %q", brand)
		}
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "TIFF or camera raw"
	case has(0, "II+\x00"), has(0, "MM\x00+"):
		return "BigTIFF"
	case has(0, "%PDF-"):
		return "PDF"
	case has(0, "PK\x03\x04"), has(0, "PK\x05\x06"):
		return "ZIP archive"
	case has(0, "\x00\x00\x01\x00"):
		return "ICO"
	case has(0, "\x00\x00\x02\x00"):
		return "CUR"
	case has(0, "\xff\x0a"), has(0, "\x00\x00\x00\x0cJXL \r\n\x87\n"):
		return "JPEG XL"
	case has(0, "\x00\x00\x00\x0cjP  \r\n\x87\n"), has(0, "\xff\x4f\xff\x51"):
		return "JPEG 2000"
	case has(0, "8BPS"):
		return "Photoshop PSD"
	case has(0, "RIFF"):
		if len(data) >= 12 {
			return fmt.Sprintf("RIFF %q, not WebP", data[8:12])
		}
		return "RIFF"
	case has(0, "\x1aE\xdf\xa3"):
		return "Matroska/WebM video"
	case has(0, "\x1f\x8b"):
		return "gzip"
	case has(0, "BZh"):
		return "bzip2"
	case has(0, "\xfd7zXZ\x00"):
		return "xz"
	case has(0, "7z\xbc\xaf\x27\x1c"):
		return "7-Zip archive"
	case has(0, "Rar!\x1a\x07"):
		return "RAR archive"
	case has(0, "\x7fELF"):
		return "ELF executable"
	case has(0, "MZ"):
		return "Windows executable"
	case has(0, "OggS"):
		return "Ogg media"
	case has(0, "ID3"), has(0, "\xff\xfb"), has(0, "\xff\xf3"):
		return "MP3 audio"
	case has(0, "fLaC"):
		return "FLAC audio"
	case has(0, "\x00\x00\x00\x00\x00\x00\x00\x00") && len(data) >= 8:
		return "zero bytes"
	case has(0, "P1"), has(0, "P2"), has(0, "P3"), has(0, "P4"), has(0, "P5"), has(0, "P6"):
		if len(data) > 2 && (data[2] == '\n' || data[2] == ' ' || data[2] == '\r' || data[2] == '\t') {
			return "Netpbm"
		}
	case has(0, "qoif"):
		return "QOI"
	case has(0, "DDS "):
		return "DDS"
	}
	if kind := textKind(data); kind == "SVG" {
		return "SVG"
	}
	return ""
}

// textKind reports "text" (or a more specific "HTML", "SVG", "JSON") when the
// start of data is printable UTF-8, "" otherwise. Only the first 512 bytes
// are examined, so this is cheap on any input.
func textKind(data []byte) string {
	head := data[:min(len(data), 512)]
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	if len(head) == 0 {
		return ""
	}
	// Allow a multi-byte rune cut off at the end (of the file or of the
	// 512 bytes examined).
	check := head
	for i := 0; i < utf8.UTFMax-1 && len(check) > 1 && !utf8.Valid(check); i++ {
		check = check[:len(check)-1]
	}
	if !utf8.Valid(check) {
		return ""
	}
	for _, r := range string(check) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' && r != '\f' {
			return ""
		}
		if r == 0x7f {
			return ""
		}
	}
	lower := bytes.ToLower(bytes.TrimLeft(check, " \t\r\n\f"))
	switch {
	case bytes.Contains(lower, []byte("<svg")):
		return "SVG"
	case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")):
		return "HTML"
	case bytes.HasPrefix(lower, []byte("<?xml")):
		return "XML"
	case bytes.HasPrefix(lower, []byte("{")), bytes.HasPrefix(lower, []byte("[")):
		return "JSON or text"
	case bytes.HasPrefix(lower, []byte("data:image/")):
		return "a data: URL (send the decoded bytes instead)"
	}
	return "text"
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// imageKinds are the formats recognise names that are images, though not
// ones the decoders read.
var imageKinds = map[string]bool{
	"HEIC/HEIF": true, "AVIF": true, "TIFF or camera raw": true, "BigTIFF": true, "Canon CR3 raw": true,
	"ICO": true, "CUR": true, "JPEG XL": true, "JPEG 2000": true, "Photoshop PSD": true,
	"Netpbm": true, "QOI": true, "DDS": true, "SVG": true,
}

// LooksLikeImage reports whether data starts like an image file: one of
// the supported formats, or an image format the decoders lack (HEIC, AVIF,
// TIFF, SVG, ...). Text, archives, documents and media are not images.
func LooksLikeImage(data []byte) bool {
	if _, err := sniff(data); err == nil {
		return true
	}
	return imageKinds[recognise(data)]
}

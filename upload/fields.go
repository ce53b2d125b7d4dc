package upload

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/nsfw-go/nsfw/internal/imageio"
)

// Images in text. A form value is text to the application, but it can
// carry an image that ends up shown: the raw bytes of an image file in a
// part without a filename, or a data: URL (<img src="data:image/png;
// base64,...">) in a rich-text field or a JSON document. The guard checks
// those too, as it checks files:
//
//   - a value that starts like an image file (by its signature, as files
//     are sniffed) is checked as one;
//   - every data: URL in a value is decoded as a browser decodes it
//     (percent-decoding, then base64 if it says ;base64, ignoring white
//     space) and, if its bytes start like an image, checked as one,
//     whatever media type it claims (browsers sniff images too).
//
// Images in a format the guard cannot decode (SVG, HEIC, ...) are refused
// as unsupported, as files are. Other encodings of the text itself (HTML
// entities, JSON \u escapes, a value that is base64 without a data: URL)
// are not undone: an application that decodes images out of text in such
// ways must check them itself.

// textImage is image data found in a form value.
type textImage struct {
	data []byte
	what string // where in the value: "the value", "a data: URL at byte 10"
}

// maxDataURLMeta bounds the media type and parameters of a data: URL.
const maxDataURLMeta = 256

// imagesInText finds the images in one form value.
func imagesInText(v string) []textImage {
	var out []textImage
	if imageio.LooksLikeImage([]byte(v[:min(len(v), 512)])) {
		out = append(out, textImage{data: []byte(v), what: "the value"})
	}
	lower := asciiLower(v) // same length as v, so its offsets are v's
	for from := 0; ; {
		i := strings.Index(lower[from:], "data:")
		if i < 0 {
			break
		}
		at := from + i
		from = at + 5
		data, n, ok := parseDataURL(v[at:])
		if !ok {
			continue
		}
		from = at + n
		if imageio.LooksLikeImage(data[:min(len(data), 512)]) {
			out = append(out, textImage{data: data, what: fmt.Sprintf("a data: URL at byte %d", at)})
		}
	}
	return out
}

// parseDataURL decodes the data: URL at the start of s (a data: URL runs
// to the first character that cannot be part of one in HTML, CSS or
// JSON: a quote, bracket, angle bracket or white space other than in
// base64). It returns the bytes, the length of the URL, and whether it is
// a data: URL whose body decodes.
func parseDataURL(s string) ([]byte, int, bool) {
	rest := s[len("data:"):]
	comma := strings.IndexByte(rest[:min(len(rest), maxDataURLMeta)], ',')
	if comma < 0 {
		return nil, 0, false
	}
	meta := strings.ToLower(strings.TrimSpace(rest[:comma]))
	for _, r := range meta {
		if r <= ' ' || strings.ContainsRune(`"'<>()\`, r) {
			return nil, 0, false
		}
	}
	isBase64 := strings.HasSuffix(meta, ";base64")
	body := rest[comma+1:]
	end := 0
	for end < len(body) {
		c := body[end]
		if strings.IndexByte("\"'<>()`", c) >= 0 || c == '\\' && !(end+1 < len(body) && body[end+1] == '/') {
			break
		}
		if !isBase64 && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			break
		}
		end++
	}
	n := len("data:") + comma + 1 + end
	raw := strings.ReplaceAll(body[:end], `\/`, "/") // JSON escapes slashes
	decoded, err := url.PathUnescape(raw)
	if err != nil {
		decoded = raw // browsers leave stray % as it is
	}
	if !isBase64 {
		return []byte(decoded), n, true
	}
	b64 := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '\f':
			return -1
		}
		return r
	}, decoded)
	b64 = strings.TrimRight(b64, "=")
	data, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return nil, n, false // a browser shows nothing for it either
	}
	return data, n, true
}

// asciiLower lowercases ASCII letters only, keeping every byte offset.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strings"
)

// Default limits, used when the corresponding Limits field is zero or
// negative. They are sized for photos from current phone cameras (up to
// about 50 MP) and ordinary animated GIFs, while keeping the worst case of a
// hostile file to well under a gigabyte and a few seconds of CPU.
const (
	// DefaultMaxBytes is the largest encoded file accepted: generous for a
	// 50 MP JPEG or a long GIF, small enough to buffer in memory.
	DefaultMaxBytes int64 = 64 << 20
	// DefaultMaxPixels bounds the canvas (width*height) of any image: 50 MP
	// is a large camera photo; the pixel buffers of bigger images would cost
	// hundreds of megabytes.
	DefaultMaxPixels int64 = 50_000_000
	// DefaultMaxFrames is how many frames of an animation are sampled: enough
	// to catch content that appears only part-way through, cheap to classify.
	DefaultMaxFrames = 8
	// DefaultMaxTotalPixels is the work budget across all decoded animation
	// frames (and JPEG scans, see Limits). Measured worst cases for 500 MP
	// of GIF frames: about 2 s native and 6 s in WebAssembly; real
	// animations rarely need a tenth of it.
	DefaultMaxTotalPixels int64 = 500_000_000
	// DefaultMaxDecodeBytes bounds the estimated memory of one decode (see
	// Limits.MaxDecodeBytes): a 50 MP progressive JPEG with subsampled
	// chroma, or a 50 MP 16-bit PNG, fits; a 50 MP 16-bit interlaced PNG
	// with a colour profile does not.
	DefaultMaxDecodeBytes int64 = 1 << 30
)

// Limits bounds the resources one decode may use. The zero value means "all
// defaults"; each zero or negative field takes its Default* constant.
type Limits struct {
	// MaxBytes is the largest encoded size read from the input. Inputs that
	// are longer fail with ErrTooLarge without being read further.
	MaxBytes int64
	// MaxPixels is the largest width*height accepted, checked from the
	// header before any pixel buffer is allocated. It also caps the total
	// size of the snapshots returned for an animation (see Decoded.Frames),
	// so the output never holds more than MaxPixels pixels in all.
	MaxPixels int64
	// MaxFrames is the most frames Decode samples from an animation
	// (besides an APNG default image that is not one of its frames, which
	// takes one of them when MaxFrames > 1).
	MaxFrames int
	// MaxFrameCount is the most frames an animation may have for a
	// FrameReader, which decodes every one: more fail with
	// ErrTooManyFrames before any is decoded. Default DefaultMaxFrameCount.
	// Decode, which samples, ignores it.
	MaxFrameCount int
	// MaxTotalPixels is a work budget so that a file with a huge number of
	// frames cannot take minutes: each animation frame (GIF or APNG) costs
	// its area plus a fixed per-frame overhead, and frames are decoded only
	// while the running total stays within the budget (the first frame is
	// always decoded). When the budget would be exceeded, decoding stops
	// early, frames are sampled among those that fit, and Decoded.Partial is
	// set. The default allows a few seconds of CPU. For JPEG the same budget
	// caps scans*pixels, defeating files with thousands of progressive scans.
	MaxTotalPixels int64
	// MaxDecodeBytes bounds the memory one decode may take, estimated
	// from the header before anything is allocated: the decoder's pixel
	// buffers (1 to 8 bytes per pixel by type and depth, twice that for an
	// interlaced PNG, 5 times the samples of a progressive JPEG), the
	// canvas and saved region of an animation, colour conversion. Over it:
	// ErrTooLarge. Default DefaultMaxDecodeBytes.
	MaxDecodeBytes int64
	// IgnoreOrientation disables applying the JPEG EXIF Orientation tag.
	// By default the tag is applied, as browsers do (CSS image-orientation:
	// from-image), so that the classifier sees what a person would see.
	// Set it to get the pixels exactly as stored.
	IgnoreOrientation bool
}

// withDefaults returns l with every unset field replaced by its default.
func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxFrames <= 0 {
		l.MaxFrames = DefaultMaxFrames
	}
	if l.MaxTotalPixels <= 0 {
		l.MaxTotalPixels = DefaultMaxTotalPixels
	}
	if l.MaxFrameCount <= 0 {
		l.MaxFrameCount = DefaultMaxFrameCount
	}
	if l.MaxDecodeBytes <= 0 {
		l.MaxDecodeBytes = DefaultMaxDecodeBytes
	}
	return l
}

// Decoded is the result of decoding one file.
type Decoded struct {
	// Format is the detected container: "jpeg", "png" (animated PNGs
	// included), "gif", "webp" or "bmp".
	Format string
	// Width and Height are the displayed size: after EXIF orientation, and
	// the logical screen size for GIF. Every frame has exactly these bounds.
	Width, Height int
	// Frames holds one image for a still and, for an animation, fully
	// composited snapshots of the canvas at the sampled frames (always frame
	// 0, and the last decodable frame when more than one is sampled), as a
	// browser would show them. Stills keep the decoder's pixel type;
	// animation snapshots are *image.NRGBA, except that a lone frame 0
	// covering the whole canvas is returned as decoded (a static GIF gives
	// an *image.Paletted). Callers must treat the images as read-only.
	Frames []image.Image
	// FrameIndex[i] is the index in the animation of Frames[i], increasing.
	FrameIndex []int
	// FrameCount is the number of frames found when scanning the file,
	// including a final truncated frame and frames beyond the work budget.
	FrameCount int
	// Orientation is the JPEG EXIF orientation found (1-8), 0 if none or not
	// a JPEG. It has been applied to Frames unless Limits.IgnoreOrientation.
	Orientation int
	// Partial reports that the later part of an animation was not
	// considered, because the work budget ran out or a frame was truncated,
	// corrupt or too large; Frames then covers only the frames before that
	// point. Content placed after that point was not seen, so a caller
	// enforcing a policy may want to treat Partial results with suspicion.
	Partial bool
}

// Every error about the content of the input wraps exactly one of these
// sentinels, so that callers (for example the HTTP middleware choosing
// its reason) can classify failures with errors.Is. Errors
// from reading r or opening a file are returned (wrapped) as they are.
// Truncated files also wrap io.ErrUnexpectedEOF.
var (
	// ErrUnsupported: the input is not an image in a supported format (or
	// uses a feature the decoders lack, such as 12-bit or arithmetic-coded
	// JPEG, RLE BMP or animated WebP).
	ErrUnsupported = errors.New("unsupported format")
	// ErrTooLarge: the input exceeds one of the Limits.
	ErrTooLarge = errors.New("image too large")
	// ErrEmpty: the input is empty or declares a zero width or height.
	ErrEmpty = errors.New("empty image")
	// ErrCorrupt: the input looks like a supported format but cannot be
	// decoded (including truncated files and decoder panics).
	ErrCorrupt = errors.New("corrupt image")
	// ErrTooManyFrames: an animation has more frames than a FrameReader
	// may decode (Limits.MaxFrameCount), or decoding them all would exceed
	// the work budget (Limits.MaxTotalPixels). It is found by scanning the
	// frame structure, before any frame is decoded.
	ErrTooManyFrames = errors.New("too many frames")
)

// decodeError carries a readable message while unwrapping to both a
// sentinel (the class) and, when there is one, the underlying error (so that
// errors.Is(err, io.ErrUnexpectedEOF) works for truncated files).
type decodeError struct {
	msg   string
	kind  error
	cause error
}

func (e *decodeError) Error() string { return e.msg }

func (e *decodeError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// newError builds an error of class kind with a formatted message.
func newError(kind, cause error, format string, args ...any) error {
	return &decodeError{msg: fmt.Sprintf(format, args...), kind: kind, cause: cause}
}

// errPanic marks errors produced by recovering a panic in a third-party
// decoder; it lets tests tell them apart from ordinary corrupt-file errors.
var errPanic = errors.New("decoder panic")

// Decode reads at most lim.MaxBytes+1 bytes from r and decodes them. It
// buffers the whole file because every supported format needs random access
// or a second pass (format sniffing, header checks before allocation, frame
// scanning), and buffering bounded input is what makes the later steps
// unable to block. Decode, DecodeBytes and DecodeFile are safe for
// concurrent use.
func Decode(r io.Reader, lim Limits) (*Decoded, error) {
	lim = lim.withDefaults()
	data, err := readLimited(r, lim.MaxBytes, -1)
	if err != nil {
		return nil, err
	}
	return decodeBytes(data, lim)
}

// DecodeFile decodes the file at path. A regular file larger than
// lim.MaxBytes is rejected from its size alone, before reading.
func DecodeFile(path string, lim Limits) (*Decoded, error) {
	lim = lim.withDefaults()
	data, err := ReadFile(path, lim)
	if err != nil {
		return nil, err
	}
	return decodeBytes(data, lim)
}

// ReadFile reads the file at path for decoding, at most lim.MaxBytes: a
// regular file larger than that is rejected from its size alone.
func ReadFile(path string, lim Limits) ([]byte, error) {
	lim = lim.withDefaults()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sizeHint := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if st.Size() > lim.MaxBytes {
			return nil, tooManyBytes(lim.MaxBytes)
		}
		sizeHint = st.Size()
	}
	return readLimited(f, lim.MaxBytes, sizeHint)
}

// DecodeBytes decodes an image already in memory (for example a buffer
// handed over from JavaScript), avoiding a copy. data is not modified or
// retained; inputs longer than lim.MaxBytes are rejected.
func DecodeBytes(data []byte, lim Limits) (*Decoded, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, tooManyBytes(lim.MaxBytes)
	}
	return decodeBytes(data, lim)
}

func tooManyBytes(max int64) error {
	return newError(ErrTooLarge, nil, "image too large: file exceeds the %s limit", formatBytes(max))
}

// formatBytes renders a byte count for messages: "64 MiB", "1000 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readLimited reads all of r, failing with ErrTooLarge as soon as more than
// max bytes arrive. sizeHint (if >= 0) preallocates the buffer exactly.
func readLimited(r io.Reader, max, sizeHint int64) ([]byte, error) {
	limit := max
	if limit < math.MaxInt64 {
		limit++ // one extra byte to tell "exactly max" from "more than max"
	}
	var buf bytes.Buffer
	if sizeHint >= 0 && sizeHint <= max {
		buf.Grow(int(sizeHint) + 1)
	}
	n, err := buf.ReadFrom(io.LimitReader(r, limit))
	if err != nil {
		return nil, fmt.Errorf("imageio: reading image: %w", err)
	}
	if n > max {
		return nil, tooManyBytes(max)
	}
	return buf.Bytes(), nil
}

// decodeBytes opens data and decodes it (sampling animations).
func decodeBytes(data []byte, lim Limits) (*Decoded, error) {
	o, err := open(data, lim)
	if err != nil {
		return nil, err
	}
	return o.sampled()
}

// checkDims validates declared dimensions before anything is allocated. The
// product is computed in int64 from values that each fit in 32 bits on every
// platform where they could matter, and is checked by division, so it
// cannot overflow silently.
func checkDims(format string, w, h int, lim Limits) error {
	if w < 0 || h < 0 {
		return newError(ErrCorrupt, nil, "%s: corrupt image: negative dimensions %dx%d", format, w, h)
	}
	if w == 0 || h == 0 {
		return newError(ErrEmpty, nil, "%s: empty image: %dx%d pixels", format, w, h)
	}
	if int64(w) > lim.MaxPixels || int64(h) > lim.MaxPixels/int64(w) {
		return newError(ErrTooLarge, nil, "%s: image too large: %dx%d pixels exceeds the limit of %d pixels",
			format, w, h, lim.MaxPixels)
	}
	return nil
}

// safely runs a third-party decoder call, turning a panic into an
// ErrCorrupt error: x/image (and, historically, the standard decoders) have
// panicked on fuzzed input, and one bad upload must not take the process
// (or the browser tab running the WebAssembly build) down.
func safely[T any](format string, fn func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero T
			v = zero
			err = &decodeError{
				msg:   fmt.Sprintf("%s: corrupt image: decoder panic: %v", format, p),
				kind:  ErrCorrupt,
				cause: errPanic,
			}
			if debugPanics {
				err = fmt.Errorf("%w\n%s", err, debug.Stack())
			}
		}
	}()
	return fn()
}

// debugPanics adds stack traces to recovered panics; tests flip it on.
var debugPanics = false

// corrupt converts an error from a decoder into an ErrCorrupt (or, for
// features the decoder lacks, ErrUnsupported) error whose message starts
// with the format name and says plainly when the file is truncated.
func corrupt(format string, err error) error {
	var de *decodeError
	if errors.As(err, &de) {
		return err // already classified (for example a recovered panic)
	}
	msg := cleanMessage(format, err.Error())
	if isTruncation(err) {
		return &decodeError{
			msg:   fmt.Sprintf("%s: corrupt image: truncated file (%s)", format, msg),
			kind:  ErrCorrupt,
			cause: truncationCause(err),
		}
	}
	if isUnsupportedFeature(err) {
		return &decodeError{
			msg:   fmt.Sprintf("%s: unsupported feature: %s", format, msg),
			kind:  ErrUnsupported,
			cause: err,
		}
	}
	return &decodeError{
		msg:   fmt.Sprintf("%s: corrupt image: %s", format, msg),
		kind:  ErrCorrupt,
		cause: err,
	}
}

// isTruncation reports whether err means the data ended early. Some
// decoders format the io error into their message instead of wrapping it,
// hence the string checks.
func isTruncation(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "unexpected EOF") || strings.HasSuffix(s, ": EOF") ||
		strings.Contains(s, "not enough image data") || strings.Contains(s, "not enough pixel data") || strings.Contains(s, "short Huffman data")
}

// truncationCause returns an error that unwraps to io.ErrUnexpectedEOF
// (keeping the original too), so callers can test for truncation.
func truncationCause(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	return errors.Join(io.ErrUnexpectedEOF, err)
}

// isUnsupportedFeature recognises the decoders' "unsupported" errors
// (valid files using features they lack), which are not corruption.
func isUnsupportedFeature(err error) bool {
	s := err.Error()
	return strings.Contains(s, "unsupported JPEG feature") ||
		strings.HasPrefix(s, "png: unsupported feature") ||
		strings.Contains(s, "unsupported BMP image")
}

// cleanMessage strips the prefixes the decoders put on their messages, so
// that ours read "png: corrupt image: invalid checksum" rather than
// "png: corrupt image: png: invalid format: invalid checksum".
func cleanMessage(format, s string) string {
	for _, p := range []string{
		format + ": ",
		"invalid format: ",
		"invalid JPEG format: ",
		"unsupported JPEG feature: ",
		"unsupported feature: ",
	} {
		s = strings.TrimPrefix(s, p)
	}
	switch s {
	case "EOF", "unexpected EOF":
		return "unexpected end of file"
	case "unsupported BMP image":
		return "compressed or unusual BMP variant"
	}
	return s
}

// single wraps a still image into a Decoded.
func single(format string, img image.Image) *Decoded {
	b := img.Bounds()
	return &Decoded{
		Format:     format,
		Width:      b.Dx(),
		Height:     b.Dy(),
		Frames:     []image.Image{img},
		FrameIndex: []int{0},
		FrameCount: 1,
	}
}

// checkDecoded verifies that a decoder returned an image of the size its
// header declared: we size every later step from the header, so a mismatch
// is treated as corruption rather than trusted.
func checkDecoded(format string, img image.Image, w, h int) error {
	if img == nil {
		return newError(ErrCorrupt, nil, "%s: corrupt image: decoder returned no image", format)
	}
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		return newError(ErrCorrupt, nil, "%s: corrupt image: decoded size %dx%d differs from header %dx%d",
			format, b.Dx(), b.Dy(), w, h)
	}
	return nil
}

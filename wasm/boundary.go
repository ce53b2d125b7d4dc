// Command wasm is the WebAssembly boundary of the engine: built with
// GOOS=js GOARCH=wasm (make wasm), it exports a handful of functions
// (//go:wasmexport) that move pixels in and probabilities out through
// buffers in its own linear memory, so that the JS shim (web/engine.js)
// copies the pixels once and calls no syscall/js machinery.
//
// The exports (all pointers are byte offsets in the module's memory):
//
//	nsfw_init() i32                      load the embedded model; 0 or error length
//	nsfw_buffer(n i32) ptr               a pixel buffer of at least n bytes (0 if n is invalid)
//	nsfw_classify(w, h, stride, fmt) i32 classify the buffer; 0 or error length
//	nsfw_result() ptr                    8 float32: 5 probabilities, NSFW score, verdict (0/1), ms
//	nsfw_text(n i32) ptr                 the text buffer, grown to n bytes (errors, JSON)
//	nsfw_set_policy(n i32) i32           parse n bytes of the text buffer as a policy; 0 or error length
//	nsfw_info() i32                      write the model info JSON to the text buffer; its length
//	nsfw_taps(w, h i32) i32              plan which pixels of a w×h image are read; 0 or error length
//	nsfw_taps_info() ptr                 5 int32: grid width, grid height, factor, rows ptr, cols ptr
//	nsfw_classify_taps(stride i32) i32   classify the tap grid in the pixel buffer; 0 or error length
//
// Large images go through the taps: the shim reads only the grid of pixels
// the resize samples (at most 448×448 below 16 MP), so the result equals
// classifying the whole image while only the grid enters this memory.
//
// The logic lives in boundary.go, which builds everywhere and is tested
// natively; main_js.go only declares the exports.
package main

import (
	"strconv"
	"time"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/errfmt"
)

// maxPixelBytes bounds the pixel buffer: the JS shim reads images at most
// 4096×4096 (see web/nsfw.js), 64 MiB of RGBA.
const maxPixelBytes = 4096 * 4096 * 4

// resultLen is the number of float32s in the result buffer.
const resultLen = 8

// boundary holds the state behind the exports: one detector, one pixel
// buffer, one result, one text buffer. JS calls it from one thread.
type boundary struct {
	det      *nsfw.Detector
	pixels   []byte
	result   [resultLen]float32
	text     []byte
	taps     nsfw.Taps
	tapsInfo [5]int32
}

func (b *boundary) init(load func(...nsfw.Option) (*nsfw.Detector, error)) int32 {
	if b.det != nil {
		return 0
	}
	det, err := load(nsfw.WithConcurrency(1))
	if err != nil {
		return b.fail(err)
	}
	b.det = det
	return 0
}

// guard turns a panic in an export into an error result, so that a bug
// reports itself instead of taking the whole instance (and its worker)
// down. Use as: defer b.guard(&n).
func (b *boundary) guard(n *int32) {
	if r := recover(); r != nil {
		*n = b.fail(errfmt.Errorf("internal error: %v", r))
	}
}

// fail writes err's message to the text buffer and returns its length
// (at least 1, so 0 always means success).
func (b *boundary) fail(err error) int32 {
	msg := err.Error()
	if msg == "" {
		msg = "unknown error"
	}
	b.text = append(b.text[:0], msg...)
	return int32(len(b.text))
}

// buffer returns the pixel buffer grown to n bytes, or nil if n is not a
// size the shim should ever ask for.
func (b *boundary) buffer(n int32) []byte {
	if n <= 0 || n > maxPixelBytes {
		return nil
	}
	if cap(b.pixels) < int(n) {
		b.pixels = make([]byte, n)
	}
	b.pixels = b.pixels[:n]
	return b.pixels
}

func (b *boundary) textBuffer(n int32) []byte {
	if n < 0 || n > 1<<20 {
		return nil
	}
	if cap(b.text) < int(n) {
		b.text = make([]byte, n)
	}
	b.text = b.text[:n]
	return b.text
}

func (b *boundary) classify(w, h, stride, format int32) (n int32) {
	defer b.guard(&n)
	if b.det == nil {
		return b.fail(errfmt.Errorf("nsfw_classify before nsfw_init"))
	}
	if w <= 0 || h <= 0 {
		return b.fail(errfmt.Errorf("%w (%dx%d)", nsfw.ErrEmptyImage, w, h))
	}
	need := int64(stride)*int64(h-1) + int64(w)*4
	if format == int32(nsfw.RGB) {
		need = int64(stride)*int64(h-1) + int64(w)*3
	}
	if need > int64(len(b.pixels)) {
		return b.fail(errfmt.Errorf("%dx%d pixels with stride %d need %d bytes, the buffer holds %d", w, h, stride, need, len(b.pixels)))
	}
	start := time.Now()
	r, err := b.det.ClassifyPixels(b.pixels, int(w), int(h), int(stride), nsfw.PixelFormat(format))
	if err != nil {
		return b.fail(err)
	}
	b.setResult(r, start)
	return 0
}

func (b *boundary) setResult(r nsfw.Result, start time.Time) {
	copy(b.result[:nsfw.NumClasses], r.Probabilities[:])
	b.result[5] = r.NSFWScore
	b.result[6] = float32(r.Verdict)
	b.result[7] = float32(time.Since(start).Microseconds()) / 1000
}

// planTaps plans the tap grid for a w×h image; the shim then reads
// tapsInfo to know which rows and columns to copy.
func (b *boundary) planTaps(w, h int32) (n int32) {
	defer b.guard(&n)
	if b.det == nil {
		return b.fail(errfmt.Errorf("nsfw_taps before nsfw_init"))
	}
	if err := b.det.PlanTaps(&b.taps, int(w), int(h)); err != nil {
		return b.fail(err)
	}
	b.tapsInfo = [5]int32{int32(len(b.taps.Cols)), int32(len(b.taps.Rows)), int32(len(b.taps.Rows) / (2 * b.det.Info().InputHeight))}
	return 0
}

func (b *boundary) classifyTaps(stride int32) (n int32) {
	defer b.guard(&n)
	if b.det == nil {
		return b.fail(errfmt.Errorf("nsfw_classify_taps before nsfw_init"))
	}
	if len(b.taps.Rows) == 0 {
		return b.fail(errfmt.Errorf("nsfw_classify_taps before nsfw_taps"))
	}
	start := time.Now()
	r, err := b.det.ClassifyTaps(b.pixels, int(stride), &b.taps)
	if err != nil {
		return b.fail(err)
	}
	b.setResult(r, start)
	return 0
}

func (b *boundary) setPolicy(length int32) (n int32) {
	defer b.guard(&n)
	if b.det == nil {
		return b.fail(errfmt.Errorf("nsfw_set_policy before nsfw_init"))
	}
	if length < 0 || int(length) > len(b.text) {
		return b.fail(errfmt.Errorf("policy length %d out of range", length))
	}
	p, err := nsfw.ParsePolicy(string(b.text[:length]))
	if err != nil {
		return b.fail(err)
	}
	d, err := b.det.WithPolicy(p)
	if err != nil {
		return b.fail(err)
	}
	b.det = d
	return 0
}

// info is what nsfw_info reports to JS, written by hand: encoding/json
// would add about 200 KB of code to the module for one small object.
func appendInfo(dst []byte, in nsfw.ModelInfo, policy nsfw.Policy) []byte {
	str := func(k, v string) { dst = appendJSONString(append(dst, `"`+k+`":`...), v); dst = append(dst, ',') }
	num := func(k string, v int64) {
		dst = strconv.AppendInt(append(dst, `"`+k+`":`...), v, 10)
		dst = append(dst, ',')
	}
	pol := func(p nsfw.Policy) {
		f := func(k string, v float32) {
			dst = strconv.AppendFloat(append(dst, `"`+k+`":`...), float64(v), 'g', -1, 32)
		}
		dst = append(dst, '{')
		f("porn", p.Porn)
		dst = append(dst, ',')
		f("hentai", p.Hentai)
		dst = append(dst, ',')
		f("sexy", p.Sexy)
		dst = append(dst, ',')
		f("sum", p.Sum)
		dst = append(dst, '}')
	}
	dst = append(dst, '{')
	str("Name", in.Name)
	str("Description", in.Description)
	str("Source", in.Source)
	str("License", in.License)
	str("Copyright", in.Copyright)
	str("Kernels", in.Kernels)
	num("InputWidth", int64(in.InputWidth))
	num("InputHeight", int64(in.InputHeight))
	num("MACs", in.MACs)
	num("ArenaBytes", int64(in.ArenaBytes))
	dst = append(dst, `"Classes":[`...)
	for i, c := range in.Classes {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, c)
	}
	dst = append(dst, `],"Policy":`...)
	pol(policy)
	dst = append(dst, `,"Presets":{`...)
	for i, name := range []string{"strict", "balanced", "lenient"} {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, name)
		dst = append(dst, ':')
		pol(nsfw.Presets[name])
	}
	return append(dst, "}}"...)
}

// appendJSONString appends s, valid UTF-8, as a JSON string.
// strconv.AppendQuote writes Go syntax, whose \a, \v and \x escapes JSON
// lacks, and decodes every rune through code so large that V8 spent ~20 ms
// compiling it in its optimizing tier at every start (for the license).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

func (b *boundary) info() (n int32) {
	defer b.guard(&n)
	if b.det == nil {
		return b.fail(errfmt.Errorf("nsfw_info before nsfw_init"))
	}
	b.text = appendInfo(b.text[:0], b.det.Info(), b.det.Policy())
	return int32(len(b.text))
}

// Package nsfw classifies images as Drawing, Hentai, Neutral, Porn or Sexy
// with a MobileNetV2 that runs entirely in this process: pure Go, no cgo,
// no network, the same engine natively and in WebAssembly.
//
// The weights are nsfwjs 4.4.0's (MIT, Copyright (c) 2019 Infinite Red,
// Inc.), converted to this project's model format; the default model is
// embedded, so Default needs no files:
//
//	d, err := nsfw.Default()
//	...
//	r, err := d.Classify(img)
//	if r.Verdict == nsfw.NSFW { ... }
//
// Results match nsfwjs on TF.js: preprocessing (drop alpha, divide by 255,
// bilinear resize with aligned corners to 224×224) is bit-identical, and
// probabilities agree within 1e-3 on the same input.
//
// # Alpha
//
// nsfwjs drops alpha, but a page does not: a picture can be hidden in the
// colour of transparent pixels, or drawn only in their alpha, so that what
// a viewer sees on a white (or black) page is not what the colour channels
// hold. Classify therefore composites an image with any pixel whose alpha
// is below 255 over opaque white and over opaque black, classifies both,
// and reports the worse: the NSFW one if either is, else the one with the
// higher NSFW score. Opaque images are classified exactly as nsfwjs does.
// The raw-pixel entry points (ClassifyPixels, ClassifyTaps, ClassifyInput)
// take pixels as they are.
//
// A Detector is safe for concurrent use. It keeps a bounded pool of
// inference arenas (one per concurrent call, GOMAXPROCS by default);
// after warm-up, classifying raw pixels allocates nothing.
package nsfw

import (
	"errors"
	"image"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/nsfw-go/nsfw/internal/engine"
	"github.com/nsfw-go/nsfw/internal/errfmt"
	"github.com/nsfw-go/nsfw/internal/format"
	"github.com/nsfw-go/nsfw/internal/kernels"
	"github.com/nsfw-go/nsfw/internal/preprocess"
	"github.com/nsfw-go/nsfw/model/mobilenetv2"
	"github.com/nsfw-go/nsfw/model/mobilenetv2mid"
)

// DefaultReduceAbove is the pixel count above which an image is first
// box-reduced by an integer factor before the resize (see WithReduceAbove).
const DefaultReduceAbove = 16_000_000

// MaxModelFileSize bounds what LoadFile reads.
const MaxModelFileSize = 256 << 20

// ErrEmptyImage is returned for images with zero width or height.
var ErrEmptyImage = preprocess.ErrEmpty

// ErrBadModel is wrapped by every error about an invalid model file.
var ErrBadModel = format.ErrFormat

// ModelInfo describes a loaded model.
type ModelInfo struct {
	Name        string   // e.g. "nsfwjs MobileNetV2"
	Description string   // how it was made
	Source      string   // where the weights came from
	License     string   // SPDX id of the weights' license
	Copyright   string   // the weights' copyright line
	LicenseText string   // the license's full text, to ship with the weights
	Classes     []string // output order
	InputWidth  int
	InputHeight int
	// MACs is the multiply-accumulate count of one inference.
	MACs int64
	// ArenaBytes is the memory one concurrent inference needs.
	ArenaBytes int
	// Kernels names the kernel implementation in use ("go", "avx2", "wasm-simd128").
	Kernels string
}

// Detector classifies images with one model and one policy.
type Detector struct {
	info        ModelInfo
	pool        *arenaPool
	table       *preprocess.Table
	policy      Policy
	reduceAbove int64
}

// arenaPool hands out interpreters, each with its own arena and resize
// plan, at most cap(slots) at a time; they are made on first need and then
// reused.
type arenaPool struct {
	plan  *engine.Plan
	slots chan struct{}
	mu    sync.Mutex
	free  []*slot
}

type slot struct {
	it         *engine.Interpreter
	taps       preprocess.Taps
	grid, over []byte // tap grids of transparent images (alpha.go)
}

// Option configures a Detector.
type Option func(*config) error

type config struct {
	policy      Policy
	concurrency int
	reduceAbove int64
	kernels     *kernels.Set
}

// WithPolicy sets the policy (default Balanced).
func WithPolicy(p Policy) Option {
	return func(c *config) error {
		if err := p.Validate(); err != nil {
			return err
		}
		c.policy = p
		return nil
	}
}

// WithConcurrency bounds how many classifications run at once, and so how
// many arenas exist (default GOMAXPROCS). Further calls wait.
func WithConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errfmt.Errorf("concurrency %d: want at least 1", n)
		}
		c.concurrency = n
		return nil
	}
}

// WithReduceAbove sets the pixel count above which an image is first
// reduced by the smallest integer factor f that brings it within the
// budget, averaging f×f blocks, before the bilinear resize nsfwjs uses.
// Up to the budget, preprocessing is bit-identical to nsfwjs. A budget ≤ 0
// disables the reduction. Default DefaultReduceAbove.
func WithReduceAbove(pixels int64) Option {
	return func(c *config) error {
		c.reduceAbove = pixels
		return nil
	}
}

// withKernels selects a kernel implementation; for tests and benchmarks.
func withKernels(k *kernels.Set) Option {
	return func(c *config) error {
		c.kernels = k
		return nil
	}
}

// Default returns a Detector for the embedded default model, nsfwjs's
// MobileNetV2.
func Default(opts ...Option) (*Detector, error) { return Load(mobilenetv2.Bytes(), opts...) }

// Mid returns a Detector for the embedded MobileNetV2Mid: more accurate per
// nsfwjs (93% against 90%), about twice the compute.
func Mid(opts ...Option) (*Detector, error) { return Load(mobilenetv2mid.Bytes(), opts...) }

// LoadFile returns a Detector for the .nsfw model file at path.
func LoadFile(path string, opts ...Option) (*Detector, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxModelFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxModelFileSize {
		return nil, errfmt.Errorf("%s: larger than %d bytes: %w", path, MaxModelFileSize, ErrBadModel)
	}
	d, err := Load(b, opts...)
	if err != nil {
		return nil, errfmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Load returns a Detector for a model file's bytes. The bytes are not
// retained.
func Load(model []byte, opts ...Option) (*Detector, error) {
	cfg := config{policy: Balanced, concurrency: runtime.GOMAXPROCS(0), reduceAbove: DefaultReduceAbove, kernels: kernels.Best()}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	f, g, err := format.Load(model)
	if err != nil {
		return nil, err
	}
	info, _ := f.Info()
	if len(info.Classes) != NumClasses {
		return nil, errfmt.Errorf("%w: model classes %v, want %v", ErrBadModel, info.Classes, classNames)
	}
	for i, c := range info.Classes {
		if c != classNames[i] {
			return nil, errfmt.Errorf("%w: model classes %v, want %v", ErrBadModel, info.Classes, classNames)
		}
	}
	plan, err := engine.NewPlan(g, cfg.kernels)
	if err != nil {
		return nil, errfmt.Errorf("%w: %w", ErrBadModel, err)
	}
	str := func(key string) string {
		v, _ := f.Lookup(key)
		s, _ := v.(string)
		return s
	}
	d := &Detector{
		info: ModelInfo{
			Name: info.Name, Description: str("general.description"), Source: info.Source, License: info.License,
			Copyright: str("general.copyright"), LicenseText: str("general.license_text"), Classes: info.Classes,
			InputHeight: info.InputShape[0], InputWidth: info.InputShape[1],
			MACs: g.MACs(), ArenaBytes: plan.ArenaBytes(), Kernels: cfg.kernels.Name,
		},
		pool:        &arenaPool{plan: plan, slots: make(chan struct{}, cfg.concurrency)},
		table:       preprocess.NewTable(info.InputRange[0], info.InputRange[1]),
		policy:      cfg.policy,
		reduceAbove: cfg.reduceAbove,
	}
	// One arena up front, so that a model too big for memory fails here.
	d.pool.free = append(d.pool.free, &slot{it: plan.NewInterpreter()})
	return d, nil
}

// Info describes the model.
func (d *Detector) Info() ModelInfo { return d.info }

// Policy returns the detector's policy.
func (d *Detector) Policy() Policy { return d.policy }

// WithPolicy returns a detector that shares d's model and arenas but
// applies p.
func (d *Detector) WithPolicy(p Policy) (*Detector, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := *d
	c.policy = p
	return &c, nil
}

func (p *arenaPool) acquire() *slot {
	p.slots <- struct{}{}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		return s
	}
	return &slot{it: p.plan.NewInterpreter()}
}

func (p *arenaPool) release(s *slot) {
	p.mu.Lock()
	p.free = append(p.free, s)
	p.mu.Unlock()
	<-p.slots
}

// Classify classifies img (any image.Image). An opaque image is classified
// as nsfwjs classifies it. An image with transparency is classified as a
// page shows it: composited over opaque white and over opaque black, and
// the worse of the two is reported (see Alpha in the package documentation).
func (d *Detector) Classify(img image.Image) (Result, error) {
	if mayBeTransparent(img) {
		return d.classifyComposited(img)
	}
	src, err := preprocess.FromImage(img)
	if err != nil {
		return Result{}, err
	}
	return d.classify(&src)
}

// PixelFormat is the layout of raw pixels.
type PixelFormat uint8

// The pixel formats.
const (
	RGBA PixelFormat = iota // 4 bytes per pixel, not premultiplied (canvas ImageData)
	RGB                     // 3 bytes per pixel
)

// ClassifyPixels classifies raw 8-bit pixels, stride bytes per row, as
// they are: RGBA's alpha is ignored, as nsfwjs ignores it. This is the path
// the WebAssembly module uses (the browser shim composites transparent
// images itself first); it allocates nothing.
func (d *Detector) ClassifyPixels(pix []byte, width, height, stride int, f PixelFormat) (Result, error) {
	var src preprocess.Source
	var err error
	switch f {
	case RGBA:
		src, err = preprocess.FromRGBA(pix, width, height, stride)
	case RGB:
		src, err = preprocess.FromRGB(pix, width, height, stride)
	default:
		err = errfmt.Errorf("unknown pixel format %d", uint8(f))
	}
	if err != nil {
		return Result{}, err
	}
	return d.classify(&src)
}

func (d *Detector) classify(src *preprocess.Source) (Result, error) {
	start := time.Now()
	s := d.pool.acquire()
	defer d.pool.release(s)
	if _, err := preprocess.Resize(s.it.Input(), d.info.InputHeight, d.info.InputWidth, src, d.table, d.reduceAbove, &s.taps); err != nil {
		return Result{}, err
	}
	return d.run(s.it, start), nil
}

// Taps lists the pixels the preprocessing reads from an image of a given
// size: only 2×224 rows and 2×224 columns (times f² for images reduced by
// f), whatever the image's size. A caller that can read pixels sparsely,
// such as a browser canvas, hands over just those (ClassifyTaps) and gets
// the same result as classifying the whole image, with a fraction of the
// memory. Make one with PlanTaps; reuse it to avoid allocating.
type Taps struct {
	// Rows and Cols are the source rows and columns to read, in grid
	// order: grid pixel (j, i) is source pixel (Cols[j], Rows[i]).
	Rows, Cols []int32
	plan       preprocess.Taps
}

// PlanTaps plans t for a width×height image.
func (d *Detector) PlanTaps(t *Taps, width, height int) error {
	if err := t.plan.Plan(width, height, d.info.InputWidth, d.info.InputHeight, d.reduceAbove); err != nil {
		return err
	}
	t.Rows, t.Cols = t.plan.Rows, t.plan.Cols
	return nil
}

// ClassifyTaps classifies an image from the pixels t lists: grid is RGBA
// (alpha ignored), len(t.Cols)×len(t.Rows), stride bytes per row.
func (d *Detector) ClassifyTaps(grid []byte, stride int, t *Taps) (Result, error) {
	if t.plan.OutW != d.info.InputWidth || t.plan.OutH != d.info.InputHeight {
		return Result{}, errors.New("taps were not planned by this detector's PlanTaps")
	}
	start := time.Now()
	s := d.pool.acquire()
	defer d.pool.release(s)
	if err := preprocess.ResizeGrid(s.it.Input(), grid, stride, d.table, &t.plan); err != nil {
		return Result{}, err
	}
	return d.run(s.it, start), nil
}

// ClassifyInput runs the model on an already preprocessed input: height ×
// width × 3 float32 values in [0, 1], NHWC, as nsfwjs passes to predict.
func (d *Detector) ClassifyInput(input []float32) (Result, error) {
	if n := d.info.InputHeight * d.info.InputWidth * 3; len(input) != n {
		return Result{}, errfmt.Errorf("input has %d values, the model takes %dx%dx3 = %d", len(input), d.info.InputHeight, d.info.InputWidth, n)
	}
	start := time.Now()
	s := d.pool.acquire()
	defer d.pool.release(s)
	copy(s.it.Input(), input)
	return d.run(s.it, start), nil
}

func (d *Detector) run(it *engine.Interpreter, start time.Time) Result {
	out := it.Run()
	var r Result
	copy(r.Probabilities[:], out)
	r.Frames = 1
	r.finish(d.policy)
	r.Elapsed = time.Since(start)
	return r
}

// ClassifyFrames classifies each frame of an animation and reports the
// frame with the highest NSFW score, with Frame set to its index.
func (d *Detector) ClassifyFrames(frames []image.Image) (Result, error) {
	if len(frames) == 0 {
		return Result{}, errors.New("no frames to classify")
	}
	var best Result
	var total time.Duration
	for i, f := range frames {
		r, err := d.Classify(f)
		if err != nil {
			return Result{}, errfmt.Errorf("frame %d: %w", i, err)
		}
		total += r.Elapsed
		if i == 0 || r.NSFWScore > best.NSFWScore {
			best = r
			best.Frame = i
		}
	}
	best.Frames = len(frames)
	best.Elapsed = total
	return best, nil
}

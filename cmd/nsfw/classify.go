package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/sys/cpu"
	"golang.org/x/term"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
)

const classifyHelp = `Usage: nsfw classify [flags] FILE|DIR...

Classifies each image and prints one line per file, in the order given
(folders are walked recursively for .jpg .jpeg .png .gif .webp .bmp files;
files named explicitly are read whatever their extension). Images are
classified as a browser shows them: EXIF orientation and PNG colour chunks
applied, transparent images over white and over black (the worse counts).
Files that cannot be read are reported and skipped.

Animations (GIF, APNG) are sampled by default: --frames N classifies N
frames spread over the animation (first and last included), and the frame
with the highest NSFW score is reported. Sampling can miss frames: content
shown only in frames between the samples is never seen. --frames all
classifies every frame (frames identical to one already classified are
skipped), and refuses animations over 200 frames or over the decoding
budget (error kind too_many_frames), as the upload guard does. An APNG's
default image is classified too when it is not one of its frames.

Policies: strict, balanced, lenient, or thresholds such as
"porn=0.6,hentai=0.6,sexy=0.9,sum=0.8" (unnamed rules are off), or a
preset with overrides such as "balanced,sexy=0".

Exit codes: 0 all safe, 1 something flagged, 2 usage error, 4 some files
failed (5 = flagged and failed), 8 no images found in the paths given
(and none failed).

Flags:
`

// imageExts are the extensions picked up when walking a folder.
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".jpe": true, ".png": true, ".gif": true, ".webp": true, ".bmp": true}

// progressThreshold is the file count from which a progress bar is shown.
const progressThreshold = 20

type classifyOptions struct {
	model      string
	policy     string
	json       bool
	jobs       int
	frames     string
	allFrames  bool
	maxPixels  int64
	maxBytes   int64
	onlyNSFW   bool
	quiet      bool
	noProgress bool
}

// record is one output line.
type record struct {
	File          string             `json:"file"`
	Verdict       string             `json:"verdict,omitempty"`
	Top           string             `json:"top,omitempty"`
	NSFWScore     *float32           `json:"nsfw_score,omitempty"`
	Probabilities map[string]float32 `json:"probabilities,omitempty"`
	Format        string             `json:"format,omitempty"`
	Width         int                `json:"width,omitempty"`
	Height        int                `json:"height,omitempty"`
	Frame         *int               `json:"frame,omitempty"`
	Frames        int                `json:"frames,omitempty"` // frames classified
	FrameCount    int                `json:"frame_count,omitempty"`
	FramesSkipped int                `json:"frames_skipped,omitempty"` // --frames all: identical to one classified
	Partial       bool               `json:"partial,omitempty"`        // later animation frames were not examined
	Milliseconds  *float64           `json:"ms,omitempty"`
	Error         string             `json:"error,omitempty"`
	ErrorKind     string             `json:"error_kind,omitempty"`

	result nsfw.Result
}

func runClassify(args []string, stdout, stderr io.Writer) int {
	var o classifyOptions
	fs := newFlagSet("classify", classifyHelp, stderr)
	fs.StringVar(&o.model, "model", "default", "model: default (MobileNetV2), mid (MobileNetV2Mid), or a .nsfw file")
	fs.StringVar(&o.policy, "policy", "balanced", "policy: strict, balanced, lenient, or thresholds (see above)")
	fs.BoolVar(&o.json, "json", false, "print JSON lines instead of a table")
	fs.IntVar(&o.jobs, "jobs", runtime.GOMAXPROCS(0), "images classified in parallel")
	fs.StringVar(&o.frames, "frames", fmt.Sprint(imageio.DefaultMaxFrames), "frames of an animation to classify: a number to sample (can miss frames), or all")
	fs.Int64Var(&o.maxPixels, "max-pixels", imageio.DefaultMaxPixels, "refuse images with more pixels than this (decompression-bomb guard)")
	fs.Int64Var(&o.maxBytes, "max-bytes", imageio.DefaultMaxBytes, "refuse files larger than this many bytes")
	fs.BoolVar(&o.onlyNSFW, "nsfw-only", false, "print only the images flagged NSFW (and errors)")
	fs.BoolVar(&o.quiet, "quiet", false, "no summary line on stderr")
	fs.BoolVar(&o.noProgress, "no-progress", false, "never show a progress bar")
	paths, err := parseInterleaved(fs, args)
	if helpRequested(err) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "nsfw classify: no files or folders given (try: nsfw classify --help)")
		return exitUsage
	}
	frames, err := strconv.Atoi(o.frames)
	o.allFrames = o.frames == "all"
	if o.allFrames {
		frames, err = 1, nil
	}
	if err != nil || o.jobs < 1 || frames < 1 || o.maxPixels < 1 || o.maxBytes < 1 {
		fmt.Fprintln(stderr, "nsfw classify: --jobs, --frames, --max-pixels and --max-bytes must be positive (--frames may also be all)")
		return exitUsage
	}
	policy, err := nsfw.ParsePolicy(o.policy)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw classify:", err)
		return exitUsage
	}
	det, err := loadModel(o.model, nsfw.WithPolicy(policy), nsfw.WithConcurrency(o.jobs))
	if err != nil {
		fmt.Fprintln(stderr, "nsfw classify: loading the model:", err)
		return exitUsage
	}

	if note := slowKernelsNote(det.Info().Kernels, hasAVX2FMA()); note != "" && !o.quiet {
		fmt.Fprintln(stderr, note)
	}

	items := collect(paths)
	var files []int // the items to classify; the others are errors already
	for i, r := range items {
		if r.Error == "" {
			files = append(files, i)
		}
	}
	start := time.Now()
	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && !o.noProgress && len(files) >= progressThreshold && term.IsTerminal(int(f.Fd())) {
		bar = newProgressBar(stderr, len(files))
	}

	limits := imageio.Limits{MaxPixels: o.maxPixels, MaxBytes: o.maxBytes, MaxFrames: frames}
	results := make([]*record, len(items))
	done := make([]chan struct{}, len(items))
	for i := range done {
		done[i] = make(chan struct{})
		if items[i].Error != "" {
			results[i] = items[i]
			close(done[i])
		}
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < o.jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if o.allFrames {
					results[i] = classifyEveryFrame(det, items[i].File, limits)
				} else {
					results[i] = classifyFile(det, items[i].File, limits)
				}
				close(done[i])
			}
		}()
	}
	go func() {
		for _, i := range files {
			jobs <- i
		}
		close(jobs)
	}()

	out := &printer{w: stdout, json: o.json, onlyNSFW: o.onlyNSFW, errw: stderr}
	status := exitOK
	counts := map[string]int{}
	for i := range items {
		<-done[i]
		r := results[i]
		if bar != nil && items[i].Error == "" {
			_ = bar.Add(1)
		}
		if bar != nil && (r.Error != "" || !o.json) {
			_ = bar.Clear()
		}
		out.print(r)
		switch {
		case r.Error != "":
			counts["error"]++
			status |= exitErrors
		case r.result.Verdict == nsfw.NSFW:
			counts["nsfw"]++
			status |= exitFlagged
		default:
			counts["safe"]++
		}
	}
	wg.Wait()
	if bar != nil {
		_ = bar.Finish()
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "nsfw classify: no images found in %s (folders are searched for %s files)\n",
			strings.Join(paths, " "), strings.Join(slices.Sorted(maps.Keys(imageExts)), " "))
		if status == exitOK {
			status = exitNoImages // a path that failed says more
		}
		return status
	}
	if !o.quiet {
		elapsed := time.Since(start)
		n := counts["nsfw"] + counts["safe"]
		rate := float64(n) / elapsed.Seconds()
		fmt.Fprintf(stderr, "%s in %.1f s (%.1f images/s, %d jobs): %d nsfw, %d safe, %s [model %s, policy %s]\n",
			plural(n, "image", "images"), elapsed.Seconds(), rate, o.jobs, counts["nsfw"], counts["safe"], plural(counts["error"], "error", "errors"), det.Info().Name, policy)
	}
	return status
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// newProgressBar draws on w. It is drawn empty at once, which also starts
// its clock: otherwise the clock starts at the first result, and the first
// frame shows a rate of thousands of images a second.
func newProgressBar(w io.Writer, n int) *progressbar.ProgressBar {
	return progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("classifying"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionThrottle(100*time.Millisecond))
}

// slowKernelsNote is the note printed when the pure-Go kernels run on a CPU
// that the avx2 kernels (in builds with GOEXPERIMENT=simd) would serve.
func slowKernelsNote(kernels string, cpuHasAVX2FMA bool) string {
	if kernels != "go" || !cpuHasAVX2FMA {
		return ""
	}
	return "nsfw: note: this build runs the pure-Go kernels; this CPU has AVX2, and a build with the avx2 kernels " +
		"classifies several times faster (make cli, or GOEXPERIMENT=simd go build ./cmd/nsfw)"
}

func hasAVX2FMA() bool { return runtime.GOARCH == "amd64" && cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// collect expands folders into their image files, in lexical order, and
// keeps the order the paths were given in. Files are records with only File
// set; paths that cannot be read are error records in their place.
func collect(paths []string) []*record {
	var items []*record
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			items = append(items, errorRecord(p, err))
			continue
		}
		if !st.IsDir() {
			items = append(items, &record{File: p})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				items = append(items, errorRecord(path, err))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && imageExts[strings.ToLower(filepath.Ext(path))] {
				items = append(items, &record{File: path})
			}
			return nil
		})
		if err != nil {
			items = append(items, errorRecord(p, err))
		}
	}
	return items
}

func classifyFile(det *nsfw.Detector, path string, limits imageio.Limits) *record {
	start := time.Now()
	dec, err := imageio.DecodeFile(path, limits)
	if err != nil {
		return errorRecord(path, err)
	}
	res, err := det.ClassifyFrames(dec.Frames)
	if err != nil {
		return errorRecord(path, err)
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	r := &record{
		File: path, Verdict: res.Verdict.String(), Top: res.Top().String(), NSFWScore: &res.NSFWScore,
		Probabilities: map[string]float32{}, Format: dec.Format, Width: dec.Width, Height: dec.Height,
		Milliseconds: &ms, result: res,
	}
	for _, c := range nsfw.Classes {
		r.Probabilities[c.String()] = res.Probabilities[c]
	}
	if dec.FrameCount > 1 {
		frame := dec.FrameIndex[res.Frame]
		r.Frame, r.Frames, r.FrameCount = &frame, res.Frames, dec.FrameCount
	}
	r.Partial = dec.Partial
	return r
}

// classifyEveryFrame classifies every frame of path (--frames all),
// streaming: one composited canvas at a time.
func classifyEveryFrame(det *nsfw.Detector, path string, limits imageio.Limits) *record {
	start := time.Now()
	data, err := imageio.ReadFile(path, limits)
	if err != nil {
		return errorRecord(path, err)
	}
	fr, err := imageio.NewFrameReader(data, limits)
	if err != nil {
		return errorRecord(path, err)
	}
	var worst nsfw.Result
	worstFrame, n := 0, 0
	for {
		f, err := fr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errorRecord(path, err)
		}
		res, err := det.Classify(f.Image)
		if err != nil {
			return errorRecord(path, err)
		}
		if n == 0 || res.Verdict == nsfw.NSFW && worst.Verdict != nsfw.NSFW || res.Verdict == worst.Verdict && res.NSFWScore > worst.NSFWScore {
			worst, worstFrame = res, f.Index
		}
		n++
	}
	worst.Frames = n
	info := fr.Info()
	ms := float64(time.Since(start).Microseconds()) / 1000
	r := &record{
		File: path, Verdict: worst.Verdict.String(), Top: worst.Top().String(), NSFWScore: &worst.NSFWScore,
		Probabilities: map[string]float32{}, Format: info.Format, Width: info.Width, Height: info.Height,
		Milliseconds: &ms, result: worst, Partial: fr.Partial() != nil,
	}
	for _, c := range nsfw.Classes {
		r.Probabilities[c.String()] = worst.Probabilities[c]
	}
	if info.FrameCount > 1 || info.DefaultImage {
		r.Frame, r.Frames, r.FrameCount, r.FramesSkipped = &worstFrame, n, info.FrameCount, fr.Skipped()
	}
	return r
}

func errorRecord(path string, err error) *record {
	kind := "io"
	switch {
	case errors.Is(err, imageio.ErrTooManyFrames):
		kind = "too_many_frames"
	case errors.Is(err, imageio.ErrUnsupported):
		kind = "unsupported"
	case errors.Is(err, imageio.ErrTooLarge):
		kind = "too_large"
	case errors.Is(err, imageio.ErrEmpty), errors.Is(err, nsfw.ErrEmptyImage):
		kind = "empty"
	case errors.Is(err, imageio.ErrCorrupt):
		kind = "corrupt"
	}
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Op + ": " + pe.Err.Error()
	}
	return &record{File: path, Error: msg, ErrorKind: kind}
}

type printer struct {
	w, errw  io.Writer
	json     bool
	onlyNSFW bool
	header   bool
}

func (p *printer) print(r *record) {
	if r.Error == "" && p.onlyNSFW && r.result.Verdict != nsfw.NSFW {
		return
	}
	if p.json {
		b, _ := json.Marshal(r)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	if r.Error != "" {
		fmt.Fprintf(p.errw, "nsfw: %s: %s\n", r.File, r.Error)
		return
	}
	if !p.header {
		fmt.Fprintf(p.w, "%-7s %-8s %5s  %7s %6s %7s %5s %5s  %s\n", "VERDICT", "TOP", "NSFW", "DRAWING", "HENTAI", "NEUTRAL", "PORN", "SEXY", "FILE")
		p.header = true
	}
	pr := r.result.Probabilities
	name := r.File
	switch {
	case r.Frame != nil && *r.Frame == -1:
		name += " (the APNG's default image)"
	case r.FrameCount > 1:
		name += fmt.Sprintf(" (frame %d of %d)", *r.Frame, r.FrameCount)
	}
	fmt.Fprintf(p.w, "%-7s %-8s %5.3f  %7.3f %6.3f %7.3f %5.3f %5.3f  %s\n",
		r.Verdict, r.Top, r.result.NSFWScore, pr[nsfw.Drawing], pr[nsfw.Hentai], pr[nsfw.Neutral], pr[nsfw.Porn], pr[nsfw.Sexy], name)
}

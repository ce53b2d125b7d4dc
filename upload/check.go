package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"slices"
	"sort"
	"time"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
)

// reqState is a request's standing with the scheduler (sched.go).
type reqState struct {
	arrival  int64         // unix nanoseconds
	deadline int64         // unix nanoseconds; 0: none
	used     time.Duration // worker time its finished files took
}

// first is the key of a file's first unit of work: the request's arrival,
// pushed back by fairShare times the worker time it has had.
func (rs *reqState) first() int64 { return rs.arrival + fairShare*int64(rs.used) }

// after is the key of work that follows a unit of cost q: q·fairShare from
// now, so that work arriving meanwhile goes first; never so late that it
// could not finish by the deadline (it waits behind cheaper work, it is
// not made to fail).
func (rs *reqState) after(q time.Duration) int64 {
	k := time.Now().UnixNano() + fairShare*int64(q)
	if rs.deadline > 0 {
		k = min(k, rs.deadline-2*int64(q))
	}
	return k
}

// nsPerPixel estimates decoding time per pixel of work (imageio.Info.Work):
// a GIF frame decodes and composites at about 4 ns a pixel natively.
const nsPerPixel = 4

// perFrame is the smoothed time to classify one frame (10 ms until known).
func (g *Guard) perFrame() int64 {
	if v := g.ewma.Load(); v > 0 {
		return v
	}
	return int64(10 * time.Millisecond)
}

// checkParts checks the form's files in body order, then the images in
// its text values and the URL's query. The receiving pass and ReadForm must
// agree on every file, or the application would read something other than
// what was checked: a disagreement is an internal error, never a pass.
// Accepted files get sanitised names (SanitizeFilename).
func (g *Guard) checkParts(ctx context.Context, rs *reqState, form *multipart.Form, parts []part, query []textValue) (*Report, error) {
	rep := &Report{Policy: g.policy.String(), Files: []FileReport{}}
	var texts []textValue
	if form != nil {
		n := 0
		for _, fhs := range form.File {
			n += len(fhs)
		}
		files := 0
		for _, p := range parts {
			if p.file {
				files++
			}
		}
		if n != files {
			return nil, fmt.Errorf("upload: the form has %d files, the body %d", n, files)
		}
		for _, p := range parts {
			if !p.file {
				if vs := form.Value[p.field]; p.index < len(vs) {
					texts = append(texts, textValue{field: p.field, value: vs[p.index]})
				}
				continue
			}
			fhs := form.File[p.field]
			if p.index >= len(fhs) || fhs[p.index].Filename != p.filename || fhs[p.index].Size != p.size {
				return nil, fmt.Errorf("upload: the form's files differ from the body's at %q #%d", p.field, p.index)
			}
			fh := fhs[p.index]
			fh.Filename = SanitizeFilename(p.original)
			if g.cfg.Fields != nil && !slices.Contains(g.cfg.Fields, p.field) {
				continue
			}
			fr := FileReport{Field: p.field, Filename: fh.Filename, Size: fh.Size, Accepted: true}
			if fh.Filename != p.original {
				fr.OriginalFilename = p.original
			}
			if err := g.checkFile(ctx, rs, &fr, fh); err != nil {
				return nil, err
			}
			rep.Files = append(rep.Files, fr)
		}
	}
	for _, v := range append(texts, query...) {
		for _, img := range imagesInText(v.value) {
			fr := FileReport{Field: v.field, Size: int64(len(img.data)), Accepted: true, InText: img.what}
			if v.query {
				fr.InText += " of the URL's query"
			}
			data := img.data
			if err := g.check(ctx, rs, &fr, func(*worker) ([]byte, error) { return data, nil }); err != nil {
				return nil, err
			}
			rep.Files = append(rep.Files, fr)
		}
	}
	bad := 0
	for _, f := range rep.Files {
		if !f.Accepted {
			bad++
		}
	}
	switch {
	case bad == 0:
		rep.Message = fmt.Sprintf("%d %s checked and accepted", len(rep.Files), plural(len(rep.Files), "file", "files"))
	case len(rep.Files) == 1:
		rep.Error, rep.Message = "rejected", "the file was rejected"
	default:
		rep.Error, rep.Message = "rejected", fmt.Sprintf("%d of %d files %s rejected", bad, len(rep.Files), plural(bad, "was", "were"))
	}
	return rep, nil
}

func (g *Guard) checkFile(ctx context.Context, rs *reqState, fr *FileReport, fh *multipart.FileHeader) error {
	switch {
	case fh.Size == 0:
		fr.reject(ReasonEmpty, "the file is empty")
		return nil
	case fh.Size > g.cfg.MaxFileBytes:
		fr.reject(ReasonTooLarge, "the file is %s, over the %s limit", size(fh.Size), size(g.cfg.MaxFileBytes))
		return nil
	}
	return g.check(ctx, rs, fr, func(wk *worker) ([]byte, error) { return wk.read(fh) })
}

// check decodes and classifies one image: every frame, until one is
// flagged. The work is done in units on a worker (sched.go): the
// inspection; then a still's decoding, which goes back in line first if it
// is costly and others wait; or an animation's frames, one unit each,
// between which it gives its worker up whenever others wait. A suspended
// animation keeps its canvas and its bytes in memory of its own, reserved
// from the guard's suspension budget (Workers × MaxDecodeBytes); when the
// budget is spent, it keeps its worker to the end instead.
func (g *Guard) check(ctx context.Context, rs *reqState, fr *FileReport, read func(*worker) ([]byte, error)) (err error) {
	perUnit := time.Duration(g.perFrame())
	wk, err := g.sched.acquire(ctx, rs.first(), perUnit)
	if err != nil {
		return err
	}
	unit := time.Now()
	var reserved int64
	defer func() {
		rs.used += time.Since(unit)
		g.release(wk)
		g.suspendable.release(reserved)
	}()
	// yield gives the worker up for work with a key below `after(q)`, and
	// takes one back.
	yield := func(q time.Duration) error {
		key := rs.after(q)
		if !g.sched.waitingBelow(key) {
			return nil
		}
		rs.used += time.Since(unit)
		g.release(wk)
		wk = nil
		if wk, err = g.sched.acquire(ctx, key, perUnit); err != nil {
			return err
		}
		unit = time.Now()
		return nil
	}

	data, err := read(wk)
	if err != nil {
		return fmt.Errorf("upload: reading the spooled file: %w", err)
	}
	g.stats.images.Add(1)
	r, err := imageio.NewFrameReader(data, g.limits)
	if err != nil {
		fr.reject(reasonOf(err), "%s", err.Error())
		return nil
	}
	info := r.Info()
	fr.Format, fr.Width, fr.Height, fr.TrailingBytes = info.Format, info.Width, info.Height, info.Trailing
	if info.FrameCount > 1 {
		fr.FrameCount = info.FrameCount
	}
	need := info.Memory + int64(len(data))
	if need > g.cfg.MaxDecodeBytes {
		fr.reject(ReasonTooLarge, "decoding this %s needs about %s, over the %s a worker may use", info.Format, size(need), size(g.cfg.MaxDecodeBytes))
		return nil
	}
	if info.Trailing > 0 && g.cfg.RejectTrailingData {
		fr.reject(ReasonUnsupported, "the file has %s of other data after the end of the image, which the check cannot see", size(info.Trailing))
		return nil
	}
	animation := info.Frames > 1
	if animation && g.suspendable.tryAcquire(need) {
		// May be suspended between frames: its bytes must not stay in
		// the worker's buffer, which the next unit on it reuses.
		reserved = need
		data = bytes.Clone(data)
		if r, err = imageio.NewFrameReader(data, g.limits); err != nil {
			return err // it opened a moment ago: cannot happen
		}
	}
	if !animation {
		// A still is one unit: a costly one (a huge picture) waits its turn.
		est := time.Duration(g.perFrame() + info.Work*nsPerPixel)
		if est > 2*perUnit {
			if err := yield(est); err != nil {
				return err
			}
			if data, err = read(wk); err != nil {
				return fmt.Errorf("upload: reading the spooled file: %w", err)
			}
			if r, err = imageio.NewFrameReader(data, g.limits); err != nil {
				return err
			}
		}
	}

	var worst nsfw.Result
	checked := 0
	for {
		if checked > 0 && reserved > 0 {
			if err := yield(time.Since(unit)); err != nil {
				return err
			}
		}
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fr.reject(reasonOf(err), "%s", err.Error())
			return nil
		}
		start := time.Now()
		res, err := g.det.Classify(f.Image)
		if err != nil {
			fr.reject(reasonOf(err), "%s", err.Error())
			return nil
		}
		g.observe(time.Since(start))
		g.stats.frames.Add(1)
		if checked == 0 || worse(res, worst) {
			worst, fr.Frame = res, f.Index
		}
		checked++
		if res.Verdict == nsfw.NSFW {
			break // rejected; the other frames cannot change that
		}
	}
	worst.Frames = checked
	fr.setResult(worst)
	if info.FrameCount > 1 || info.DefaultImage {
		fr.FramesChecked, fr.FramesSkipped = checked, r.Skipped()
	}
	switch {
	case worst.Verdict == nsfw.NSFW:
		g.stats.nsfw.Add(1)
		where := ""
		switch {
		case fr.Frame == -1:
			where = " (in the APNG's default image)"
		case info.FrameCount > 1:
			where = fmt.Sprintf(" (in frame %d of %d)", fr.Frame, info.FrameCount)
		}
		fr.reject(ReasonNSFW, "flagged by the policy (%s)%s: %s", g.policy, where, g.policy.Explain(&worst))
	case r.Partial() != nil && !g.cfg.AllowPartial:
		fr.reject(ReasonDecode, "only part of the animation could be decoded (%v), so it cannot be checked", r.Partial())
	}
	return nil
}

// worse reports whether a is worse than b: flagged where b is not, or a
// higher NSFW score with the same verdict.
func worse(a, b nsfw.Result) bool {
	if a.Verdict != b.Verdict {
		return a.Verdict == nsfw.NSFW
	}
	return a.NSFWScore > b.NSFWScore
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, imageio.ErrTooManyFrames):
		return ReasonTooManyFrames
	case errors.Is(err, imageio.ErrTooLarge):
		return ReasonTooLarge
	case errors.Is(err, imageio.ErrUnsupported):
		return ReasonUnsupported
	case errors.Is(err, imageio.ErrEmpty), errors.Is(err, nsfw.ErrEmptyImage):
		return ReasonEmpty
	}
	return ReasonDecode
}

// read reads the file into the worker's buffer.
func (wk *worker) read(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if int64(cap(wk.buf)) < fh.Size {
		wk.buf = make([]byte, fh.Size)
	}
	buf := wk.buf[:fh.Size]
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func (g *Guard) release(wk *worker) {
	if wk == nil {
		return
	}
	if cap(wk.buf) > keepBuffer {
		wk.buf = nil
	}
	g.sched.release(wk)
}

// observe folds one classification's duration into the moving average
// (weight 1/8).
func (g *Guard) observe(d time.Duration) {
	for {
		old := g.ewma.Load()
		nu := old + (int64(d)-old)/8
		if old == 0 {
			nu = int64(d)
		}
		if g.ewma.CompareAndSwap(old, nu) {
			return
		}
	}
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

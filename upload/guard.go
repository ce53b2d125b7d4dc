// Package upload checks image uploads on the server with the same engine
// and policy as the browser prefilter (web/prefilter). A check in the
// browser spares honest users a slow round trip, but any client can skip
// it; a Guard is the check that counts.
//
// A Guard is net/http middleware. Before the application's handler runs,
// it reads the multipart/form-data body, decodes every file part as an
// image (header and pixel limits first) and classifies it with one shared
// *nsfw.Detector. If any file is NSFW by the policy, or cannot be decoded,
// or is too large, or is not a supported image, the request is answered
// 422 with a JSON reason per file and the handler never runs:
//
//	d, _ := nsfw.Default(nsfw.WithPolicy(nsfw.Balanced))
//	g, _ := upload.New(upload.Config{Detector: d})
//	mux.Handle("POST /upload", g.Wrap(saveHandler))
//
// The handler then reads the upload as usual, with r.FormFile or
// r.MultipartForm: the guard has already parsed the form, so the handler
// sees exactly the parts that were checked, with no second parser that an
// attacker could make disagree with the first. (That is why the guard
// parses rather than re-streams the body: a handler that parsed the bytes
// again, with its own parser, could find parts the guard never saw.) The
// body itself has been consumed; a handler that streams with
// r.MultipartReader must use r.MultipartForm instead.
//
// The body is received once, into a spool, by a first pass of
// mime/multipart that enforces the limits as the bytes arrive; the form is
// then parsed from the spool by http.Request.ParseMultipartForm, whose own
// allowance for form fields (a fixed 10 MB) the first pass keeps it from
// using. The guard checks that both passes found the same files.
//
// # Answers
//
//   - 422 Unprocessable Entity: a file was rejected; the body is a Report.
//   - 400 Bad Request: the multipart body is malformed.
//   - 413 Content Too Large: the body, the form fields or the number of
//     files is over its limit.
//   - 415 Unsupported Media Type: a body that is not multipart/form-data
//     (it could carry an image the guard never sees). Requests without a
//     body pass through, so a guarded route can also serve its form.
//   - 408 Request Timeout: the body did not arrive within Timeout.
//   - 503 Service Unavailable, with Retry-After: too many requests are in
//     progress, or the queue for the workers would outlast Timeout.
//
// Every answer but the handler's own is JSON: {"error": code, "message": text}
// or, for 422, a Report.
//
// # Resources
//
// Memory stays bounded under any load; the bounds are Config fields:
//
//   - at most MaxPending requests are admitted at once; the rest get 503
//     at once, before their bodies are read;
//   - a request's body is read (at most MaxBodyBytes, within Timeout) into
//     a spool that keeps MaxMemory bytes in memory and the rest in an
//     unlinked temporary file; the form fields may hold MaxFieldBytes;
//   - the form handed to the application keeps at most MaxMemory bytes of
//     file data in memory, the rest in temporary files, as
//     http.Request.ParseMultipartForm does; they are removed when the
//     handler returns, or when the request is rejected, times out or is
//     cancelled;
//   - images are decoded and classified by a pool of Workers (GOMAXPROCS by
//     default), each holding one file (at most MaxFileBytes) and its
//     pixels (at most MaxPixels) at a time.
//
// Roughly, then: MaxPending × (2 × MaxMemory + MaxFieldBytes) + Workers ×
// (MaxFileBytes + decoded pixels) + the detector. Decoding costs 1.5 to 8
// bytes per pixel (up to about 16 for a progressive JPEG), so at the
// default 50 MP a worker may briefly hold a few hundred MB; lower MaxPixels
// on a small server. Decoding is not interrupted by Timeout, but the pixel
// limits bound its time. No goroutine is started per request, and
// temporary files are removed however the request ends (the spool's is
// unlinked as soon as it is made, so even a crash leaves nothing).
package upload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxBodyBytes  int64 = 32 << 20
	DefaultMaxFileBytes  int64 = 16 << 20
	DefaultMaxFiles            = 16
	DefaultMaxFieldBytes int64 = 64 << 10
	DefaultMaxMemory     int64 = 256 << 10
	DefaultTimeout             = 60 * time.Second
	DefaultMaxPending          = 256
)

// formats are the image formats the guard decodes (still WebP only), as
// ClientConfig tells the page.
var formats = []string{"jpeg", "png", "gif", "webp", "bmp"}

// Config configures a Guard. Zero fields take their defaults.
type Config struct {
	// Detector classifies the images; required. One Detector serves every
	// request (it is safe for concurrent use), and its policy decides. Give
	// it at least Workers of concurrency (nsfw.WithConcurrency).
	Detector *nsfw.Detector

	// MaxBodyBytes bounds the whole request body; over it: 413. Default
	// 32 MiB. A Content-Length over it is refused before reading.
	MaxBodyBytes int64
	// MaxFileBytes bounds one file; a larger file is rejected (422,
	// "too-large") without being decoded. Default 16 MiB.
	MaxFileBytes int64
	// MaxPixels bounds width×height of an image, checked from its header
	// before any pixel buffer is allocated (422, "too-large"). Default
	// 50 MP, the browser shim's default too. It also bounds the memory of
	// each worker (see Resources in the package documentation).
	MaxPixels int64
	// MaxFrames is how many frames of an animation are classified (evenly
	// spread, first and last included). Default 8.
	MaxFrames int
	// MaxFiles bounds the file parts of one request; more: 413. Default 16.
	MaxFiles int
	// MaxFieldBytes bounds the non-file form fields of one request, names
	// and values, counting 200 bytes of overhead per field; over it: 413.
	// Default 64 KiB.
	MaxFieldBytes int64
	// MaxMemory is how many bytes of a body, and then of the parsed form's
	// files, are kept in memory; the rest goes to temporary files. Default
	// 256 KiB.
	MaxMemory int64

	// Timeout bounds receiving and checking one request. A body that has
	// not arrived by then gets 408; a request still waiting for a worker,
	// 503. It does not limit the application's handler. Default 60 s.
	Timeout time.Duration
	// Workers is how many images are decoded and classified at once.
	// Default GOMAXPROCS.
	Workers int
	// MaxPending bounds the requests being received, queued or checked at
	// once; more get 503 immediately. Default 256.
	MaxPending int

	// Fields, if set, limits the check to file parts in these form fields.
	// File parts in other fields then reach the application unchecked, so
	// it must not treat them as images. By default every file part is
	// checked and must be an image.
	Fields []string
	// AllowPartial accepts animations that could be classified only in
	// part (truncated, or over the decoding work budget). By default they
	// are rejected ("decode"), since the frames not seen could hold
	// anything.
	AllowPartial bool
}

// Guard checks uploads; see the package documentation. It is safe for
// concurrent use; make one and share it.
type Guard struct {
	cfg     Config
	det     *nsfw.Detector
	policy  nsfw.Policy
	limits  imageio.Limits
	workers chan *worker

	pending atomic.Int64
	waiting atomic.Int64
	ewma    atomic.Int64 // nanoseconds per image check, smoothed
	stats   struct {
		requests, passed, rejected, malformed, tooLarge, unsupportedMedia,
		timedOut, overloaded, images, nsfw atomic.Int64
	}
}

// worker is a slot of the pool, with a buffer for the file being checked.
type worker struct{ buf []byte }

// keepBuffer is the largest file buffer a worker keeps between images;
// rarer, larger files get a fresh one that the GC takes back.
const keepBuffer = 1 << 20

// New returns a Guard, after checking the configuration.
func New(cfg Config) (*Guard, error) {
	if cfg.Detector == nil {
		return nil, errors.New("upload: Config.Detector is required")
	}
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	def(&cfg.MaxFileBytes, DefaultMaxFileBytes)
	def(&cfg.MaxPixels, imageio.DefaultMaxPixels)
	def(&cfg.MaxFieldBytes, DefaultMaxFieldBytes)
	def(&cfg.MaxMemory, DefaultMaxMemory)
	if cfg.MaxFrames <= 0 {
		cfg.MaxFrames = imageio.DefaultMaxFrames
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = DefaultMaxFiles
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	cfg.MaxFileBytes = min(cfg.MaxFileBytes, cfg.MaxBodyBytes)
	cfg.Fields = slices.Clone(cfg.Fields)
	g := &Guard{
		cfg:     cfg,
		det:     cfg.Detector,
		policy:  cfg.Detector.Policy(),
		limits:  imageio.Limits{MaxBytes: cfg.MaxFileBytes, MaxPixels: cfg.MaxPixels, MaxFrames: cfg.MaxFrames},
		workers: make(chan *worker, cfg.Workers),
	}
	for range cfg.Workers {
		g.workers <- &worker{}
	}
	return g, nil
}

// Config returns the configuration in use, defaults filled in.
func (g *Guard) Config() Config {
	c := g.cfg
	c.Fields = slices.Clone(c.Fields)
	return c
}

// Policy returns the policy the guard enforces: its detector's.
func (g *Guard) Policy() nsfw.Policy { return g.policy }

// ClientConfig is what a page needs to run the same check in the browser
// (ConfigHandler serves it as JSON). Policy goes to createDetector as it
// is; the limits let the page refuse what the server would refuse.
type ClientConfig struct {
	// Model names the server's model (nsfw.ModelInfo.Name), so the page can
	// check that its engine runs the same one.
	Model string `json:"model"`
	// Policy in nsfw.ParsePolicy's form, which the JS shim also reads.
	Policy string `json:"policy"`
	// Thresholds is the same policy as numbers, for display and checking.
	Thresholds   nsfw.Policy `json:"thresholds"`
	MaxBodyBytes int64       `json:"maxBodyBytes"`
	MaxFileBytes int64       `json:"maxFileBytes"`
	MaxPixels    int64       `json:"maxPixels"`
	MaxFrames    int         `json:"maxFrames"`
	MaxFiles     int         `json:"maxFiles"`
	// Formats the server decodes; the browser should refuse others even
	// when it can decode them itself (Safari and HEIC).
	Formats []string `json:"formats"`
	Fields  []string `json:"fields,omitempty"`
}

// ClientConfig returns the policy and limits for a browser-side check.
func (g *Guard) ClientConfig() ClientConfig {
	return ClientConfig{
		Model: g.det.Info().Name, Policy: g.policy.String(), Thresholds: g.policy,
		MaxBodyBytes: g.cfg.MaxBodyBytes, MaxFileBytes: g.cfg.MaxFileBytes, MaxPixels: g.cfg.MaxPixels,
		MaxFrames: g.cfg.MaxFrames, MaxFiles: g.cfg.MaxFiles,
		Formats: slices.Clone(formats), Fields: slices.Clone(g.cfg.Fields),
	}
}

// ConfigHandler serves ClientConfig as JSON, so that the page's check
// uses the policy and limits this server enforces.
func (g *Guard) ConfigHandler() http.Handler {
	body, _ := json.Marshal(g.ClientConfig())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(body)
	})
}

// Stats counts what a Guard has done since it was made.
type Stats struct {
	Requests         int64 // requests seen
	Passed           int64 // handed to the application
	Rejected         int64 // 422
	Malformed        int64 // 400
	TooLarge         int64 // 413
	UnsupportedMedia int64 // 415
	TimedOut         int64 // 408
	Overloaded       int64 // 503
	Images           int64 // files decoded and classified
	NSFW             int64 // of which flagged by the policy
	InFlight         int64 // requests admitted now
	Waiting          int64 // requests waiting for a worker now
}

// Stats returns the counters.
func (g *Guard) Stats() Stats {
	s := &g.stats
	return Stats{
		Requests: s.requests.Load(), Passed: s.passed.Load(), Rejected: s.rejected.Load(),
		Malformed: s.malformed.Load(), TooLarge: s.tooLarge.Load(), UnsupportedMedia: s.unsupportedMedia.Load(),
		TimedOut: s.timedOut.Load(), Overloaded: s.overloaded.Load(), Images: s.images.Load(), NSFW: s.nsfw.Load(),
		InFlight: g.pending.Load(), Waiting: g.waiting.Load(),
	}
}

// Wrap returns a handler that checks each upload before next sees it.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, next) })
}

// part is a form part as the receiving pass saw it.
type part struct {
	field, filename string
	index           int // among the files of its field, as in Form.File[field]
	size            int64
}

// Errors of the receiving pass, told apart for the status code.
var (
	errTooManyFiles = errors.New("too many files")
	errFieldsLarge  = errors.New("form fields too large")
	errOverloaded   = errors.New("overloaded")
)

func (g *Guard) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	g.stats.requests.Add(1)
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		next.ServeHTTP(w, r) // nothing uploaded
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	boundary := params["boundary"]
	if err != nil || mt != "multipart/form-data" || boundary == "" {
		g.stats.unsupportedMedia.Add(1)
		g.fail(w, http.StatusUnsupportedMediaType, "unsupported-media-type",
			"uploads must be sent as multipart/form-data (with a boundary)")
		return
	}
	if r.ContentLength > g.cfg.MaxBodyBytes {
		g.tooLarge(w, fmt.Sprintf("the upload is %s, over the %s limit", size(r.ContentLength), size(g.cfg.MaxBodyBytes)))
		return
	}
	if g.pending.Add(1) > int64(g.cfg.MaxPending) {
		g.pending.Add(-1)
		g.overloaded(w)
		return
	}
	defer g.pending.Add(-1)

	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	// Receive. The read deadline makes a slow client's Read fail at the
	// deadline instead of holding the request (and its admission) forever;
	// servers that cannot set one (ErrNotSupported) are left as they are.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(deadline)
	sp := newSpool(g.cfg.MaxMemory, r.ContentLength)
	defer sp.Close()
	parts, err := g.receive(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes), boundary, sp)
	_ = rc.SetReadDeadline(time.Time{})
	switch {
	case sp.err != nil:
		g.fail(w, http.StatusInternalServerError, "internal", "could not store the upload: "+sp.err.Error())
		return
	case err != nil:
		g.receiveFailed(w, r, err)
		return
	}

	// Parse the spooled body with the standard parser into the form the
	// application will read. It is the parser of the receiving pass, on the
	// same bytes, so it finds the same parts; checkParts verifies it.
	req := r.WithContext(r.Context())
	req.Body = io.NopCloser(sp.reader())
	err = req.ParseMultipartForm(g.cfg.MaxMemory)
	form := req.MultipartForm
	if form != nil {
		defer form.RemoveAll()
	}
	sp.Close() // the form has its own copy
	req.Body = http.NoBody
	switch {
	case err != nil && form != nil:
		// The form is fine (the receiving pass parsed it); ParseForm
		// choked on the URL's query string.
		g.stats.malformed.Add(1)
		g.fail(w, http.StatusBadRequest, "malformed", "malformed query string: "+err.Error())
		return
	case err != nil:
		// Same bytes, same parser: only storage (temporary files) can fail.
		g.fail(w, http.StatusInternalServerError, "internal", "could not store the upload: "+err.Error())
		return
	}

	rep, err := g.checkParts(ctx, form, parts)
	switch {
	case r.Context().Err() != nil:
		return // the client left; nobody reads an answer
	case errors.Is(err, errOverloaded):
		g.overloaded(w)
		return
	case err != nil:
		g.fail(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	if !rep.Accepted() {
		g.stats.rejected.Add(1)
		writeJSON(w, http.StatusUnprocessableEntity, rep)
		return
	}
	g.stats.passed.Add(1)
	req = req.WithContext(context.WithValue(r.Context(), reportKey{}, rep))
	next.ServeHTTP(w, req)
}

// receive reads the body into sp while walking its parts with the same
// parser ReadForm uses, enforcing the limits on the way: a hostile body
// is refused as soon as it crosses one, and the later ReadForm (whose own
// budget for fields is a fixed 10 MB) only ever sees bounded input.
func (g *Guard) receive(body io.Reader, boundary string, sp *spool) ([]part, error) {
	mr := multipart.NewReader(io.TeeReader(body, sp), boundary)
	var parts []part
	perField := map[string]int{}
	fieldBytes := int64(0)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name := p.FormName()
		if name == "" || p.FileName() == "" {
			// A field (or a part ReadForm skips): only its size matters.
			const overhead = 200
			fieldBytes += int64(len(name)) + overhead
			n, err := io.Copy(io.Discard, io.LimitReader(p, max(0, g.cfg.MaxFieldBytes-fieldBytes)+1))
			fieldBytes += n
			if err != nil {
				return nil, err
			}
			if fieldBytes > g.cfg.MaxFieldBytes {
				return nil, errFieldsLarge
			}
			continue
		}
		if len(parts) == g.cfg.MaxFiles {
			return nil, errTooManyFiles
		}
		n, err := io.Copy(io.Discard, p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part{field: name, filename: p.FileName(), index: perField[name], size: n})
		perField[name]++
	}
	// Drain the epilogue, unspooled, so the connection can be reused.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return nil, err
	}
	return parts, sp.err
}

func (g *Guard) receiveFailed(w http.ResponseWriter, r *http.Request, err error) {
	var maxErr *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &maxErr):
		g.tooLarge(w, fmt.Sprintf("the upload is over the %s limit", size(g.cfg.MaxBodyBytes)))
	case errors.Is(err, errTooManyFiles):
		g.tooLarge(w, fmt.Sprintf("at most %d files can be uploaded at once", g.cfg.MaxFiles))
	case errors.Is(err, errFieldsLarge):
		g.tooLarge(w, fmt.Sprintf("the form fields are over the %s limit", size(g.cfg.MaxFieldBytes)))
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		g.stats.timedOut.Add(1)
		w.Header().Set("Connection", "close")
		g.fail(w, http.StatusRequestTimeout, "timeout", fmt.Sprintf("the upload did not arrive within %s", g.cfg.Timeout))
	case r.Context().Err() != nil:
		// The client went away mid-body.
	default:
		g.stats.malformed.Add(1)
		msg := strings.TrimPrefix(err.Error(), "multipart: ")
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			msg = "the body ends before its closing boundary"
		}
		g.fail(w, http.StatusBadRequest, "malformed", "malformed multipart body: "+msg)
	}
}

// checkParts checks the form's files in body order. The receiving pass and
// ReadForm must agree on every file, or the application would read
// something other than what was checked: a disagreement is an internal
// error, never a pass.
func (g *Guard) checkParts(ctx context.Context, form *multipart.Form, parts []part) (*Report, error) {
	n := 0
	for _, fhs := range form.File {
		n += len(fhs)
	}
	if n != len(parts) {
		return nil, fmt.Errorf("upload: the form has %d files, the body %d", n, len(parts))
	}
	rep := &Report{Policy: g.policy.String(), Files: []FileReport{}}
	for _, p := range parts {
		fhs := form.File[p.field]
		if p.index >= len(fhs) || fhs[p.index].Filename != p.filename || fhs[p.index].Size != p.size {
			return nil, fmt.Errorf("upload: the form's files differ from the body's at %q #%d", p.field, p.index)
		}
		if g.cfg.Fields != nil && !slices.Contains(g.cfg.Fields, p.field) {
			continue
		}
		fr, err := g.checkFile(ctx, fhs[p.index], p.field)
		if err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, fr)
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

// checkFile decodes and classifies one file on a worker.
func (g *Guard) checkFile(ctx context.Context, fh *multipart.FileHeader, field string) (FileReport, error) {
	fr := FileReport{Field: field, Filename: fh.Filename, Size: fh.Size, Accepted: true}
	switch {
	case fh.Size == 0:
		fr.reject(ReasonEmpty, "the file is empty")
		return fr, nil
	case fh.Size > g.cfg.MaxFileBytes:
		fr.reject(ReasonTooLarge, "the file is %s, over the %s limit", size(fh.Size), size(g.cfg.MaxFileBytes))
		return fr, nil
	}
	wk, err := g.acquire(ctx)
	if err != nil {
		return fr, err
	}
	start := time.Now()
	defer func() {
		g.observe(time.Since(start))
		g.release(wk)
	}()

	data, err := wk.read(fh)
	if err != nil {
		return fr, fmt.Errorf("upload: reading the spooled file %q: %w", fh.Filename, err)
	}
	g.stats.images.Add(1)
	dec, err := imageio.DecodeBytes(data, g.limits)
	if err != nil {
		fr.reject(reasonOf(err), "%s", err.Error())
		return fr, nil
	}
	fr.Format, fr.Width, fr.Height = dec.Format, dec.Width, dec.Height
	if dec.Partial && !g.cfg.AllowPartial {
		fr.reject(ReasonDecode, "only part of the animation could be decoded (it is truncated, corrupt or over the decoding budget), so it cannot be checked")
		return fr, nil
	}
	res, err := g.det.ClassifyFrames(dec.Frames)
	if err != nil {
		fr.reject(reasonOf(err), "%s", err.Error())
		return fr, nil
	}
	fr.setResult(res)
	if dec.FrameCount > 1 {
		fr.Frame, fr.FrameCount = dec.FrameIndex[res.Frame], dec.FrameCount
	}
	if res.Verdict == nsfw.NSFW {
		g.stats.nsfw.Add(1)
		fr.reject(ReasonNSFW, "flagged by the policy (%s): %s", g.policy, g.policy.Explain(&res))
	}
	return fr, nil
}

func reasonOf(err error) string {
	switch {
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

// acquire takes a worker, waiting at most until ctx is done. When the
// queue ahead is longer than the time left, it gives up at once: the
// client is better served by a 503 with Retry-After now than by one at
// the deadline.
func (g *Guard) acquire(ctx context.Context) (*worker, error) {
	select {
	case wk := <-g.workers:
		return wk, nil
	default:
	}
	ahead := g.waiting.Add(1)
	defer g.waiting.Add(-1)
	if dl, ok := ctx.Deadline(); ok && g.expectedWait(ahead) > time.Until(dl) {
		return nil, errOverloaded
	}
	select {
	case wk := <-g.workers:
		return wk, nil
	case <-ctx.Done():
		return nil, errOverloaded
	}
}

func (g *Guard) release(wk *worker) {
	if cap(wk.buf) > keepBuffer {
		wk.buf = nil
	}
	g.workers <- wk
}

// observe folds one check's duration into the moving average (weight 1/8).
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

// expectedWait estimates the wait behind n queued images.
func (g *Guard) expectedWait(n int64) time.Duration {
	return time.Duration(n * g.ewma.Load() / int64(g.cfg.Workers))
}

func (g *Guard) overloaded(w http.ResponseWriter) {
	g.stats.overloaded.Add(1)
	wait := g.expectedWait(g.waiting.Load() + int64(g.cfg.Workers))
	secs := int(min(120, max(1, math.Ceil(wait.Seconds()))))
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	g.fail(w, http.StatusServiceUnavailable, "overloaded",
		fmt.Sprintf("the server is busy checking other uploads; try again in %d s", secs))
}

func (g *Guard) tooLarge(w http.ResponseWriter, msg string) {
	g.stats.tooLarge.Add(1)
	g.fail(w, http.StatusRequestEntityTooLarge, "too-large", msg)
}

func (g *Guard) fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// size renders a byte count: "16 MiB", "1.5 MiB", "300 KiB", "12 bytes".
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), ".0") + " MiB"
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", (n+512)>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

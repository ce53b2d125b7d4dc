// Package upload checks image uploads on the server with the same engine
// and policy as the browser prefilter (web/prefilter). A check in the
// browser spares honest users a slow round trip, but any client can skip
// it; a Guard is the check that counts.
//
// A Guard is net/http middleware. Before the application's handler runs,
// it reads the multipart/form-data body, decodes every file part as an
// image (header, memory and frame limits first) and classifies every
// frame a viewer can see with one shared *nsfw.Detector. If any file is
// NSFW by the policy, or cannot be decoded, or is too large, or is not a
// supported image, the request is answered 422 with a JSON reason per file
// and the handler never runs:
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
// limits (1000 parts, 10000 file header values, a fixed 10 MB for fields
// and headers) the first pass keeps it from reaching. The guard checks
// that both passes found the same files.
//
// # What is checked
//
//   - Every file part (or, with Fields, every file part of those fields)
//     must be an image the guard decodes: JPEG, PNG/APNG, GIF, still WebP
//     or BMP, recognised by its bytes, never by its name or type.
//   - It is classified as a browser shows it. JPEG EXIF orientation is
//     applied; PNG colour chunks (gAMA, cHRM, sRGB, iCCP) are applied as
//     Chromium applies them, and profiles that cannot be applied are
//     refused; an image with transparency is classified over white and
//     over black, the worse counting (see nsfw.Detector.Classify).
//   - Every frame of an animation is classified, each composited as a
//     browser shows it, streaming (one canvas whatever the frame count);
//     frames whose canvas is byte-identical to one already classified are
//     skipped. An APNG's default image is classified too when it is not a
//     frame: thumbnailers and viewers without APNG support show it. An
//     animation with more than MaxFrames frames, or over the decoding
//     budget (MaxTotalPixels), is refused ("too-many-frames") from a scan
//     of its structure, before any frame is decoded. One that cannot be
//     decoded to the end (truncated, corrupt) is refused unless
//     AllowPartial.
//   - Images in text: form values (and the URL's query) that are the bytes
//     of an image file, and data: URLs in them, are checked as files are
//     (see fields.go for the rules).
//
// What is not checked: data after the end of an image (an appended ZIP,
// a phone's motion-photo video, an HDR gain map), which no image viewer
// shows, is reported (FileReport.TrailingBytes) and refused only with
// RejectTrailingData; re-encoding uploads removes it. File names are the
// client's: the application gets SanitizeFilename's version.
//
// # Answers
//
//   - 422 Unprocessable Entity: a file was rejected; the body is a Report.
//   - 400 Bad Request: the multipart body (or the query string) is
//     malformed.
//   - 413 Content Too Large: the body, the form fields, a part's headers,
//     the number of files or of parts is over its limit.
//   - 415 Unsupported Media Type: a body that is not multipart/form-data
//     with a boundary parameter (it could carry an image the guard never
//     sees). Requests without a body pass through, so a guarded route can
//     also serve its form (their query is checked for images).
//   - 408 Request Timeout: the body did not arrive within Timeout
//     ("timeout"), or arrived slower than MinRate ("too-slow").
//   - 429 Too Many Requests, with Retry-After: over MaxPendingPerClient.
//   - 503 Service Unavailable, with Retry-After: too many requests are in
//     progress, or the queue for the workers would outlast Timeout.
//   - 500 Internal Server Error: the upload could not be stored (temporary
//     files); the answer says no more.
//
// Every answer but the handler's own is JSON: {"error": code, "message": text}
// or, for 422, a Report. Every answer given before the body was read to
// its end closes the connection, so that it reaches a client that holds
// back the rest of its body.
//
// # Resources
//
// Memory stays bounded under any load:
//
//   - at most MaxPending requests are admitted at once; the rest get 503
//     at once, before their bodies are read, unless a slow one makes room
//     (below);
//   - a request's body is read (at most MaxBodyBytes, within Timeout, at
//     MinRate or faster after MinRateGrace) into a spool that keeps
//     MaxMemory bytes in memory and the rest in an unlinked temporary
//     file; its form fields may hold MaxFieldBytes and its part headers
//     MaxHeaderBytes (MaxPartHeaderBytes each), counted as they arrive;
//   - the form handed to the application keeps at most MaxMemory bytes of
//     file data in memory, the rest in temporary files, as
//     http.Request.ParseMultipartForm does; they are removed when the
//     handler returns, or when the request is rejected, times out or is
//     cancelled;
//   - images are decoded and classified by Workers workers, each holding
//     one file and what decoding it takes, at most MaxDecodeBytes in all
//     (and as much again in all for animations that wait between frames,
//     see Time):
//     the decoder's buffers are estimated from the header (bytes per
//     pixel by format, depth and interlacing; canvas and saved region for
//     animations; progressive JPEG coefficients) and a file over the
//     budget is refused ("too-large") before decoding. Workers defaults to
//     GOMAXPROCS, but no more than a quarter of the available memory (cgroup
//     limit, GOMEMLIMIT or RAM) divided by MaxDecodeBytes.
//
// So the guard's memory is at most MemoryBound:
//
//	2 × (2 × Workers × MaxDecodeBytes + MaxPending × (2 × MaxMemory + MaxFieldBytes + MaxHeaderBytes + 64 KiB))
//
// (the 2 is the garbage collector's headroom), plus the detector. No
// goroutine is started per request, and temporary files are removed
// however the request ends (the spool's is unlinked as soon as it is
// made, so even a crash leaves nothing).
//
// # Time
//
// Slow clients cannot hold the admission slots: after MinRateGrace a body
// must average MinRate, and when every slot is taken a newcomer takes the
// slot of the slowest request still receiving (if it averages under 8 ×
// MinRate, over at least a second), which gets 408. Per-client limits
// (MaxPendingPerClient) are opt-in: behind a proxy every client has the
// proxy's address, so they need TrustedProxies to read X-Forwarded-For.
//
// Workers are shared fairly (stride scheduling, see sched.go): files are
// checked in the order their requests arrived, one unit of work at a time
// (an animation frame is a unit; a still is one, and if it is estimated
// costly it first lets 8 times its cost of other work go ahead). After a
// unit, an animation gives its worker up to work that arrived meanwhile,
// and comes back after 8 times that unit's cost of it. A client sending
// costly files continuously gets about a ninth of a worker while others
// are waiting, and all of it when no one is.
//
// The server must bound what the guard does not see: set
// http.Server.ReadHeaderTimeout (slow request headers) and IdleTimeout.
package upload

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxBodyBytes       int64 = 32 << 20
	DefaultMaxFileBytes       int64 = 16 << 20
	DefaultMaxFiles                 = 16
	DefaultMaxFrames                = imageio.DefaultMaxFrameCount
	DefaultMaxTotalPixels     int64 = 200_000_000
	DefaultMaxDecodeBytes     int64 = 256 << 20
	DefaultMaxFieldBytes      int64 = 64 << 10
	DefaultMaxPartHeaderBytes int64 = 4 << 10
	DefaultMaxHeaderBytes     int64 = 64 << 10
	DefaultMaxMemory          int64 = 256 << 10
	DefaultTimeout                  = 60 * time.Second
	DefaultMaxPending               = 256
	DefaultMinRate            int64 = 8 << 10
	DefaultMinRateGrace             = 5 * time.Second
)

// maxFieldBytesLimit keeps the fields within ReadForm's fixed 10 MB
// allowance, with room for the headers it counts there too.
const maxFieldBytesLimit = 4 << 20

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
	// 50 MP, the browser shim's default too.
	MaxPixels int64
	// MaxDecodeBytes bounds the memory a worker may use for one file: its
	// bytes plus what decoding it takes, estimated from the header before
	// decoding (422, "too-large"). It bounds the guard's memory (see
	// Resources in the package documentation). Default 256 MiB, which
	// admits a 50 MP baseline JPEG or 8-bit PNG, a 30 MP 16-bit PNG, a
	// 17 MP progressive JPEG without chroma subsampling.
	MaxDecodeBytes int64
	// MaxFrames is how many frames an animation may have. Every frame is
	// classified; an animation with more is refused ("too-many-frames")
	// before any is decoded. Default 200.
	MaxFrames int
	// MaxTotalPixels bounds the decoding work of one file: the pixels of
	// all its frames (plus a fixed cost per frame), or of all a JPEG's
	// progressive scans. An animation over it is refused
	// ("too-many-frames") from its structure, before decoding. Default
	// 200 MP, about a second of one core.
	MaxTotalPixels int64
	// MaxFiles bounds the file parts of one request; more: 413. Default 16.
	MaxFiles int
	// MaxFieldBytes bounds the non-file form fields of one request, names
	// and values, counting 200 bytes of overhead per field (as
	// ParseMultipartForm does); over it: 413. Default 64 KiB, at most
	// 4 MiB.
	MaxFieldBytes int64
	// MaxPartHeaderBytes bounds the headers of one part, and
	// MaxHeaderBytes those of all parts of a request, counted as they
	// arrive; over either: 413. Defaults 4 KiB and 64 KiB (a browser sends
	// about 150 bytes a part).
	MaxPartHeaderBytes, MaxHeaderBytes int64
	// MaxMemory is how many bytes of a body, and then of the parsed form's
	// files, are kept in memory; the rest goes to temporary files. Default
	// 256 KiB.
	MaxMemory int64

	// Timeout bounds receiving and checking one request. A body that has
	// not arrived by then gets 408; a request still waiting for a worker,
	// 503. It does not limit the application's handler. Default 60 s.
	Timeout time.Duration
	// MinRate is the slowest average a body may arrive at, in bytes per
	// second, once MinRateGrace has passed since the request was admitted;
	// a slower one is cut off with 408 ("too-slow"). It also decides which
	// requests may lose their slot to a newcomer when every slot is taken
	// (see Time in the package documentation). Default 8 KiB/s; negative:
	// no minimum. MinRateGrace defaults to 5 s.
	MinRate      int64
	MinRateGrace time.Duration
	// Workers is how many files are decoded and classified at once.
	// Default GOMAXPROCS, capped by memory (see Resources).
	Workers int
	// MaxPending bounds the requests being received, queued or checked at
	// once; more get 503 immediately. Default 256.
	MaxPending int
	// MaxPendingPerClient, if set, bounds the requests of one client (429
	// beyond it). A client is its IP address, or, for requests from
	// TrustedProxies, the address they recorded in X-Forwarded-For; behind
	// a proxy that is not trusted every client is the proxy, so set
	// TrustedProxies before this.
	MaxPendingPerClient int
	TrustedProxies      []netip.Prefix

	// Fields, if not empty, limits the check to file parts in these form
	// fields. File parts in other fields then reach the application
	// unchecked, so it must not treat them as images. By default (nil or
	// empty) every file part is checked and must be an image. An empty
	// name in the list is a configuration error (strings.Split("", ",")
	// gives one).
	Fields []string
	// AllowPartial accepts animations that could be classified only in
	// part (truncated, or corrupt after some frames). By default they
	// are rejected ("decode"), since the frames not seen could hold
	// anything.
	AllowPartial bool
	// RejectTrailingData rejects ("unsupported") files with data after the
	// end of the image. By default such files are accepted, and the count
	// is in FileReport.TrailingBytes: phones append motion-photo videos
	// and HDR gain maps to JPEGs.
	RejectTrailingData bool
}

// Guard checks uploads; see the package documentation. It is safe for
// concurrent use; make one and share it.
type Guard struct {
	cfg    Config
	det    *nsfw.Detector
	policy nsfw.Policy
	limits imageio.Limits
	sched  *scheduler
	adm    admission
	// suspendable is the memory animations may keep while they wait for
	// a worker between frames (sched.go).
	suspendable budget

	pending atomic.Int64
	ewma    atomic.Int64 // nanoseconds per classified frame, smoothed
	stats   struct {
		requests, passed, rejected, malformed, tooLarge, unsupportedMedia,
		timedOut, tooSlow, evicted, overloaded, clientLimited, internal,
		images, frames, nsfw atomic.Int64
	}
}

// keepBuffer is the largest file buffer a worker keeps between images;
// rarer, larger files get a fresh one that the GC takes back.
const keepBuffer = 1 << 20

// New returns a Guard, after checking the configuration.
func New(cfg Config) (*Guard, error) {
	if cfg.Detector == nil {
		return nil, errors.New("upload: Config.Detector is required")
	}
	if slices.Contains(cfg.Fields, "") {
		return nil, errors.New(`upload: Config.Fields has an empty field name (from strings.Split("", ",")?); leave Fields empty to check every field`)
	}
	if cfg.MaxFieldBytes > maxFieldBytesLimit {
		return nil, errors.New("upload: Config.MaxFieldBytes over 4 MiB: ParseMultipartForm holds at most 10 MB of fields and headers")
	}
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	def(&cfg.MaxFileBytes, DefaultMaxFileBytes)
	def(&cfg.MaxPixels, imageio.DefaultMaxPixels)
	def(&cfg.MaxDecodeBytes, DefaultMaxDecodeBytes)
	def(&cfg.MaxTotalPixels, DefaultMaxTotalPixels)
	def(&cfg.MaxFieldBytes, DefaultMaxFieldBytes)
	def(&cfg.MaxPartHeaderBytes, DefaultMaxPartHeaderBytes)
	def(&cfg.MaxHeaderBytes, DefaultMaxHeaderBytes)
	def(&cfg.MaxMemory, DefaultMaxMemory)
	if cfg.MinRate == 0 {
		cfg.MinRate = DefaultMinRate
	}
	if cfg.MinRateGrace <= 0 {
		cfg.MinRateGrace = DefaultMinRateGrace
	}
	if cfg.MaxFrames <= 0 {
		cfg.MaxFrames = DefaultMaxFrames
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = DefaultMaxFiles
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Workers <= 0 {
		cfg.Workers = defaultWorkers(runtime.GOMAXPROCS(0), cfg.MaxDecodeBytes)
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	cfg.MaxFileBytes = min(cfg.MaxFileBytes, cfg.MaxBodyBytes)
	cfg.MaxPartHeaderBytes = min(cfg.MaxPartHeaderBytes, cfg.MaxHeaderBytes)
	if len(cfg.Fields) == 0 {
		cfg.Fields = nil
	}
	cfg.Fields = slices.Clone(cfg.Fields)
	cfg.TrustedProxies = slices.Clone(cfg.TrustedProxies)
	g := &Guard{
		cfg:    cfg,
		det:    cfg.Detector,
		policy: cfg.Detector.Policy(),
		limits: imageio.Limits{MaxBytes: cfg.MaxFileBytes, MaxPixels: cfg.MaxPixels, MaxFrameCount: cfg.MaxFrames,
			MaxTotalPixels: cfg.MaxTotalPixels, MaxDecodeBytes: cfg.MaxDecodeBytes},
		sched:       newScheduler(cfg.Workers),
		suspendable: budget{left: int64(cfg.Workers) * cfg.MaxDecodeBytes},
		adm:         admission{all: map[*inflight]struct{}{}, perClient: map[string]int{}},
	}
	return g, nil
}

// Config returns the configuration in use, defaults filled in.
func (g *Guard) Config() Config {
	c := g.cfg
	c.Fields = slices.Clone(c.Fields)
	c.TrustedProxies = slices.Clone(c.TrustedProxies)
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
	// MaxFrames is the most frames an animation may have; the server
	// classifies every one, so the page should too (frames: 'all').
	MaxFrames int `json:"maxFrames"`
	MaxFiles  int `json:"maxFiles"`
	// Formats the server decodes; the browser should refuse others even
	// when it can decode them itself (Safari and HEIC).
	Formats []string `json:"formats"`
	// Fields lists the only fields whose files are checked; absent when
	// every field's are.
	Fields []string `json:"fields,omitempty"`
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
	TimedOut         int64 // 408 after Timeout
	TooSlow          int64 // 408 under MinRate, or evicted
	Evicted          int64 // of which evicted to make room for a newcomer
	Overloaded       int64 // 503
	ClientLimited    int64 // 429
	Internal         int64 // 500
	Images           int64 // files and images in fields decoded and classified
	Frames           int64 // frames classified
	NSFW             int64 // images flagged by the policy
	InFlight         int64 // requests admitted now
	Waiting          int64 // units of work waiting for a worker now
}

// Stats returns the counters.
func (g *Guard) Stats() Stats {
	s := &g.stats
	return Stats{
		Requests: s.requests.Load(), Passed: s.passed.Load(), Rejected: s.rejected.Load(),
		Malformed: s.malformed.Load(), TooLarge: s.tooLarge.Load(), UnsupportedMedia: s.unsupportedMedia.Load(),
		TimedOut: s.timedOut.Load(), TooSlow: s.tooSlow.Load(), Evicted: s.evicted.Load(), Overloaded: s.overloaded.Load(),
		ClientLimited: s.clientLimited.Load(), Internal: s.internal.Load(),
		Images: s.images.Load(), Frames: s.frames.Load(), NSFW: s.nsfw.Load(),
		InFlight: g.pending.Load(), Waiting: int64(g.sched.waiting()),
	}
}

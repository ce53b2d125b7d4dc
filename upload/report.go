package upload

import (
	"context"
	"fmt"

	"github.com/nsfw-go/nsfw"
)

// Reasons a file is rejected, as in FileReport.Reason. They are the codes
// of the browser shim's NSFWError (web/nsfw.js), so a page can show the
// server's answer and its own check with the same messages.
const (
	ReasonNSFW        = "nsfw"        // flagged by the policy
	ReasonDecode      = "decode"      // looks like a supported format but cannot be decoded
	ReasonTooLarge    = "too-large"   // over MaxFileBytes or MaxPixels
	ReasonUnsupported = "unsupported" // not an image, or a format the decoders lack (HEIC, AVIF, ...)
	ReasonEmpty       = "empty"       // no bytes, or zero width or height
	// ReasonTooManyFrames: an animation with more frames than MaxFrames, or
	// whose frames would take more than MaxTotalPixels to decode, found
	// before any frame was decoded.
	ReasonTooManyFrames = "too-many-frames"
)

// Report is what the guard found in one request. A rejected request gets
// it as its 422 response body; an accepted one carries it in the request
// context for the application (ReportFrom).
type Report struct {
	// Error is "rejected" when at least one file was rejected.
	Error string `json:"error,omitempty"`
	// Message sums up the outcome for people.
	Message string `json:"message"`
	// Policy is the policy applied, in nsfw.ParsePolicy's form ("balanced").
	Policy string `json:"policy"`
	// Files has one entry per checked file part, in the order of the body.
	Files []FileReport `json:"files"`
}

// Accepted reports whether every file was accepted.
func (r *Report) Accepted() bool {
	for i := range r.Files {
		if !r.Files[i].Accepted {
			return false
		}
	}
	return true
}

// FileReport is the outcome for one file part, or for one image found in
// a form value (InText says where).
type FileReport struct {
	Field string `json:"field"` // the form field's name
	// Filename is the name the application gets in the parsed form:
	// SanitizeFilename of the name sent, which is in OriginalFilename when
	// it differs. Empty for an image in a form value.
	Filename         string `json:"filename"`
	OriginalFilename string `json:"original_filename,omitempty"`
	// InText, for an image found in a form value rather than a file part,
	// says where: "the value", "a data: URL at byte 12", and " of the
	// URL's query" for query parameters.
	InText   string `json:"in_text,omitempty"`
	Size     int64  `json:"size"` // bytes
	Accepted bool   `json:"accepted"`
	// Reason is why the file was rejected (one of the Reason constants);
	// empty when it was accepted.
	Reason string `json:"reason,omitempty"`
	// Message explains the outcome for people, e.g. "flagged by the policy
	// (balanced): porn 0.99 ≥ 0.50" or the decoder's error.
	Message string `json:"message,omitempty"`

	// The classification, when the image could be decoded.
	Verdict       string             `json:"verdict,omitempty"` // "safe" or "nsfw"
	Top           string             `json:"top,omitempty"`
	NSFWScore     float32            `json:"nsfw_score,omitempty"` // Porn + Hentai + Sexy
	Probabilities map[string]float32 `json:"probabilities,omitempty"`
	Format        string             `json:"format,omitempty"` // "jpeg", "png", "gif", "webp", "bmp"
	Width         int                `json:"width,omitempty"`
	Height        int                `json:"height,omitempty"`
	// Frame is the reported animation frame: the first one flagged, or
	// the one with the highest NSFW score; -1 is an APNG's default image
	// (not a frame of its animation). FrameCount is the frames in the
	// file, FramesChecked those classified (every one, unless one was
	// flagged before the end) and FramesSkipped those skipped because
	// their canvas was identical to one already classified. All 0 for
	// still images.
	Frame         int `json:"frame,omitempty"`
	FrameCount    int `json:"frame_count,omitempty"`
	FramesChecked int `json:"frames_checked,omitempty"`
	FramesSkipped int `json:"frames_skipped,omitempty"`
	// TrailingBytes counts data after the end of the image, which no image
	// viewer shows (see Config.RejectTrailingData).
	TrailingBytes int64 `json:"trailing_bytes,omitempty"`

	// Result is the engine's result; nil if the file was not classified.
	Result *nsfw.Result `json:"-"`
}

func (f *FileReport) reject(reason, format string, args ...any) {
	f.Accepted = false
	f.Reason = reason
	f.Message = fmt.Sprintf(format, args...)
}

func (f *FileReport) setResult(r nsfw.Result) {
	f.Result = &r
	f.Verdict = r.Verdict.String()
	f.Top = r.Top().String()
	f.NSFWScore = r.NSFWScore
	f.Probabilities = make(map[string]float32, nsfw.NumClasses)
	for _, c := range nsfw.Classes {
		f.Probabilities[c.String()] = r.Probabilities[c]
	}
}

type reportKey struct{}

// ReportFrom returns the guard's report for the request whose context is
// ctx, or nil outside a guarded handler.
func ReportFrom(ctx context.Context) *Report {
	r, _ := ctx.Value(reportKey{}).(*Report)
	return r
}

// errorBody is the JSON body of every answer that is not a per-file
// rejection (400, 408, 413, 415, 429, 500, 503).
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

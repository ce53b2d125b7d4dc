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

// FileReport is the outcome for one file part.
type FileReport struct {
	Field    string `json:"field"`    // the form field's name
	Filename string `json:"filename"` // as the client sent it; never used as a path
	Size     int64  `json:"size"`     // bytes
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
	// Frame is the reported animation frame (the one with the highest NSFW
	// score) and FrameCount the frames in the file; 0 for still images.
	Frame      int `json:"frame,omitempty"`
	FrameCount int `json:"frame_count,omitempty"`

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
// rejection (400, 408, 413, 415, 503).
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

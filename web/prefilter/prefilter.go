// Package prefilter carries the browser half of the upload check: the ES
// module prefilter.js (with its types and README) and the example page, as
// files embedded in the Go binary, and the example server that `nsfw
// serve-example` runs. The server half is package upload.
package prefilter

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"

	"github.com/nsfw-go/nsfw/internal/webserve"
	"github.com/nsfw-go/nsfw/upload"
)

//go:embed prefilter.js prefilter.d.ts README.md example
var files embed.FS

// FS holds prefilter.js, prefilter.d.ts, README.md and example/ (the page).
// Serve it next to the engine (nsfw.js and its .wasm files) so that the
// page's imports, ../../nsfw.js and ../prefilter.js, resolve.
func FS() fs.FS { return files }

// ExampleHandler is the example server: the page at /prefilter/example/
// (and / redirects there), the module at /prefilter/, the engine from
// engine (a built web folder, see internal/webbuild) at /, the guard's
// policy and limits at GET /upload/config, and POST /upload guarded by g.
// Every response carries the strict Content-Security-Policy the page is
// written for.
func ExampleHandler(g *upload.Guard, engine fs.FS) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", http.RedirectHandler("/prefilter/example/", http.StatusFound))
	mux.Handle("/prefilter/", http.StripPrefix("/prefilter/", webserve.New(files)))
	mux.Handle("GET /upload/config", g.ConfigHandler())
	mux.Handle("/upload", g.Wrap(http.HandlerFunc(received)))
	mux.Handle("/", webserve.New(engine))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", webserve.CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	})
}

// receivedFile is what the example's application reports for each file.
type receivedFile struct {
	Field     string  `json:"field"`
	Filename  string  `json:"filename"`
	Size      int64   `json:"size"`
	SHA256    string  `json:"sha256"`
	Top       string  `json:"top"`
	NSFWScore float32 `json:"nsfw_score"`
}

// received is the example's application: it runs only after the guard
// accepted every file, reads them from the parsed form as any handler
// would, and stores nothing.
func received(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "POST a multipart/form-data upload here", http.StatusMethodNotAllowed)
		return
	}
	rep := upload.ReportFrom(r.Context())
	var files []upload.FileReport
	if rep != nil {
		for _, f := range rep.Files {
			if f.InText == "" { // images found in text fields are checked too, but are not files
				files = append(files, f)
			}
		}
	}
	if rep == nil || r.MultipartForm == nil || len(files) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "no-files", "message": "no image was chosen"})
		return
	}
	out := struct {
		Message string         `json:"message"`
		Caption string         `json:"caption,omitempty"`
		Files   []receivedFile `json:"files"`
	}{Caption: r.PostFormValue("caption")}
	seen := map[string]int{}
	for _, f := range files {
		fh := r.MultipartForm.File[f.Field][seen[f.Field]]
		seen[f.Field]++
		file, err := fh.Open()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h := sha256.New()
		n, err := io.Copy(h, file)
		file.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out.Files = append(out.Files, receivedFile{f.Field, fh.Filename, n, hex.EncodeToString(h.Sum(nil)), f.Top, f.NSFWScore})
	}
	noun := "images"
	if len(out.Files) == 1 {
		noun = "image"
	}
	out.Message = fmt.Sprintf("Received %d %s, checked by the server too (this example stores nothing).", len(out.Files), noun)
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

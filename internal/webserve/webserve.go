// Package webserve serves the built web folder (the WebAssembly module, the
// JS shim, the demo) the way a production host should: the wasm MIME type
// so browsers can compile while downloading, brotli or gzip chosen by
// Accept-Encoding and cached after the first request, ETags, and a strict
// Content-Security-Policy that allows WebAssembly but no eval.
package webserve

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// CSP is the policy every response carries: scripts and WebAssembly only
// from this origin, and no eval.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"

var types = map[string]string{
	".wasm": "application/wasm",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ts":   "text/plain; charset=utf-8",
	".md":   "text/plain; charset=utf-8",
}

// compressible lists the types worth compressing (images already are).
func compressible(ext string) bool {
	switch ext {
	case ".wasm", ".js", ".mjs", ".css", ".html", ".json", ".svg", ".ts", ".md":
		return true
	}
	return false
}

type entry struct {
	raw, br, gz []byte
	etag        string
	mod         int64 // modification time and size when cached: a
	size        int64 // rebuilt file is reloaded
}

// Handler serves root.
type Handler struct {
	root  fs.FS
	mu    sync.Mutex
	cache map[string]*entry
	// Header, if set, adds headers to every response (tests use it).
	Header http.Header
}

// New returns a handler for root.
func New(root fs.FS) *Handler { return &Handler{root: root, cache: map[string]*entry{}} }

func (h *Handler) load(name string) (*entry, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, err := fs.Stat(h.root, name)
	if err != nil {
		return nil, err
	}
	if e, ok := h.cache[name]; ok && e.mod == st.ModTime().UnixNano() && e.size == st.Size() {
		return e, nil
	}
	raw, err := fs.ReadFile(h.root, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	e := &entry{raw: raw, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, mod: st.ModTime().UnixNano(), size: st.Size()}
	if compressible(path.Ext(name)) {
		// Files precompressed at build time (Precompress) are used when they
		// are newer than the file; otherwise compress now, at a level fast
		// enough for a first request.
		e.br = h.variant(name+".br", st)
		e.gz = h.variant(name+".gz", st)
		if e.br == nil {
			e.br = compressBrotli(raw, 5)
		}
		if e.gz == nil {
			e.gz = compressGzip(raw, gzip.DefaultCompression)
		}
	}
	h.cache[name] = e
	return e, nil
}

func (h *Handler) variant(name string, src fs.FileInfo) []byte {
	st, err := fs.Stat(h.root, name)
	if err != nil || st.ModTime().Before(src.ModTime()) {
		return nil
	}
	b, err := fs.ReadFile(h.root, name)
	if err != nil {
		return nil
	}
	return b
}

func compressBrotli(raw []byte, level int) []byte {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, level)
	w.Write(raw)
	w.Close()
	return b.Bytes()
}

func compressGzip(raw []byte, level int) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, level)
	w.Write(raw)
	w.Close()
	return b.Bytes()
}

// Precompress writes NAME.br (brotli 11) and NAME.gz (gzip 9) next to every
// compressible file under dir, for Handler to serve as they are.
func Precompress(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !compressible(path.Ext(p)) {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p+".br", compressBrotli(raw, brotli.BestCompression), 0o644); err != nil {
			return err
		}
		return os.WriteFile(p+".gz", compressGzip(raw, gzip.BestCompression), 0o644)
	})
}

// Sizes reports the raw, brotli and gzip sizes of a file, for benchmarks.
func (h *Handler) Sizes(name string) (raw, br, gz int, err error) {
	e, err := h.load(name)
	if err != nil {
		return 0, 0, 0, err
	}
	return len(e.raw), len(e.br), len(e.gz), nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", CSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cache-Control", "no-cache")
	for k, v := range h.Header {
		hdr[k] = v
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" || strings.HasSuffix(r.URL.Path, "/") {
		name = path.Join(name, "index.html")
	}
	if st, err := fs.Stat(h.root, name); err == nil && st.IsDir() {
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
		return
	}
	e, err := h.load(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ext := path.Ext(name)
	ct := types[ext]
	if ct == "" {
		ct = mime.TypeByExtension(ext)
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	hdr.Set("Content-Type", ct)
	hdr.Set("ETag", e.etag)
	body := e.raw
	if e.br != nil {
		hdr.Add("Vary", "Accept-Encoding")
		switch ae := r.Header.Get("Accept-Encoding"); {
		case acceptsEncoding(ae, "br"):
			hdr.Set("Content-Encoding", "br")
			body = e.br
		case acceptsEncoding(ae, "gzip"):
			hdr.Set("Content-Encoding", "gzip")
			body = e.gz
		}
	}
	if match := r.Header.Get("If-None-Match"); match == e.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	http.ServeContent(w, r, "", timeZero, bytes.NewReader(body))
}

// acceptsEncoding reports whether an Accept-Encoding header allows enc
// (listed, and not with q=0).
func acceptsEncoding(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		return q > 0
	}
	return false
}

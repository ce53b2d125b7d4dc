package webserve

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
)

var site = fstest.MapFS{
	"index.html":      {Data: []byte("<!doctype html><title>x</title>")},
	"demo/index.html": {Data: []byte("<p>demo</p>")},
	"nsfw.js":         {Data: []byte(strings.Repeat("export const x = 1;\n", 100))},
	"nsfw.wasm":       {Data: append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{1, 2, 3}, 500)...)},
	"logo.png":        {Data: []byte("\x89PNG....")},
}

func get(t *testing.T, h http.Handler, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) []byte {
	t.Helper()
	var rd io.Reader = r.Body
	switch r.Header.Get("Content-Encoding") {
	case "br":
		rd = brotli.NewReader(r.Body)
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		rd = zr
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServe(t *testing.T) {
	h := New(site)
	for _, c := range []struct{ path, ctype, enc, accept string }{
		{"/nsfw.wasm", "application/wasm", "br", "gzip, deflate, br"},
		{"/nsfw.wasm", "application/wasm", "gzip", "gzip"},
		{"/nsfw.wasm", "application/wasm", "", ""},
		{"/nsfw.wasm", "application/wasm", "gzip", "br;q=0, gzip;q=0.5"},
		{"/nsfw.js", "text/javascript; charset=utf-8", "br", "br"},
		{"/", "text/html; charset=utf-8", "br", "br"},
		{"/demo/", "text/html; charset=utf-8", "", ""},
		{"/logo.png", "image/png", "", "br"},
	} {
		r := get(t, h, c.path, map[string]string{"Accept-Encoding": c.accept})
		if r.StatusCode != 200 {
			t.Fatalf("%s: status %d", c.path, r.StatusCode)
		}
		if got := r.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if got := r.Header.Get("Content-Encoding"); got != c.enc {
			t.Errorf("%s (Accept-Encoding %q): Content-Encoding %q, want %q", c.path, c.accept, got, c.enc)
		}
		if got := r.Header.Get("Content-Security-Policy"); got != CSP {
			t.Errorf("%s: CSP %q", c.path, got)
		}
		name := strings.TrimPrefix(c.path, "/")
		if strings.HasSuffix(c.path, "/") {
			name += "index.html"
		}
		if !bytes.Equal(body(t, r), site[name].Data) {
			t.Errorf("%s: body differs after decoding %q", c.path, c.enc)
		}
	}
}

func TestServeErrors(t *testing.T) {
	h := New(site)
	if r := get(t, h, "/missing.js", nil); r.StatusCode != 404 {
		t.Errorf("missing: %d", r.StatusCode)
	}
	if r := get(t, h, "/../../etc/passwd", nil); r.StatusCode != 404 {
		t.Errorf("traversal: %d", r.StatusCode)
	}
	if r := get(t, h, "/demo", nil); r.StatusCode != 301 || r.Header.Get("Location") != "/demo/" {
		t.Errorf("directory without slash: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	req := httptest.NewRequest(http.MethodPost, "/nsfw.js", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 405 {
		t.Errorf("POST: %d", rec.Code)
	}
	r := get(t, h, "/nsfw.js", nil)
	etag := r.Header.Get("ETag")
	if r2 := get(t, h, "/nsfw.js", map[string]string{"If-None-Match": etag}); etag == "" || r2.StatusCode != 304 {
		t.Errorf("ETag %q: revalidation status %d", etag, r2.StatusCode)
	}
	raw, br, gz, err := h.Sizes("nsfw.js")
	if err != nil || !(br < raw && gz < raw) {
		t.Errorf("sizes raw %d br %d gz %d (%v)", raw, br, gz, err)
	}
}

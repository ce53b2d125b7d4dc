package upload

import (
	"bytes"
	"encoding/json"
	"image"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fuzzConfig keeps each run cheap and pushes bodies to disk early, so the
// spool and the form's temporary files are exercised too.
var fuzzConfig = Config{MaxBodyBytes: 1 << 20, MaxFileBytes: 256 << 10, MaxPixels: 1 << 20, MaxFrames: 2,
	MaxFiles: 4, MaxFieldBytes: 4 << 10, MaxMemory: 2 << 10}

// fuzzServe runs one request through a guard and checks what must hold
// for any input: no panic, a status from the documented set, a handler
// that only ever sees checked and accepted files, well-formed JSON
// answers, and no temporary file left behind.
func fuzzServe(t *testing.T, g *Guard, dir, contentType string, body []byte) int {
	var seen []FileReport
	called := false
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		rep := ReportFrom(r.Context())
		if len(body) == 0 {
			w.WriteHeader(http.StatusCreated) // no body, nothing uploaded: passed through
			return
		}
		if r.MultipartForm == nil || rep == nil {
			t.Fatalf("the handler ran without a checked form")
		}
		for field, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				i := slices.IndexFunc(rep.Files, func(f FileReport) bool {
					return f.Field == field && f.Filename == fh.Filename && f.Size == fh.Size
				})
				if i < 0 || !rep.Files[i].Accepted {
					t.Fatalf("the handler got %q/%q, which the guard did not accept: %+v", field, fh.Filename, rep.Files)
				}
			}
		}
		seen = rep.Files
		w.WriteHeader(http.StatusCreated)
	}))
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	switch rec.Code {
	case http.StatusCreated:
		if !called {
			t.Fatal("201 without the handler")
		}
		for _, f := range seen {
			if !f.Accepted || f.Verdict != "safe" {
				t.Fatalf("passed a file that is not safe: %+v", f)
			}
		}
	case http.StatusUnprocessableEntity:
		var rep Report
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || rep.Accepted() || rep.Error != "rejected" {
			t.Fatalf("422 with body %q (%v)", rec.Body, err)
		}
		for _, f := range rep.Files {
			if !f.Accepted && !slices.Contains([]string{ReasonNSFW, ReasonDecode, ReasonTooLarge, ReasonUnsupported, ReasonEmpty, ReasonTooManyFrames}, f.Reason) {
				t.Fatalf("unknown reason %q", f.Reason)
			}
		}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusRequestTimeout:
		errorCode(t, rec.Body.Bytes())
	default:
		// 500 would mean the two parses disagreed: the interesting bug.
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if rec.Code != http.StatusCreated && called {
		t.Fatal("the handler ran on a refused request")
	}
	if es, _ := os.ReadDir(dir); len(es) > 0 {
		t.Fatalf("temporary files left: %v", es)
	}
	return rec.Code
}

// FuzzMultipart fuzzes the whole body and its Content-Type.
func FuzzMultipart(f *testing.F) {
	dir := f.TempDir()
	f.Setenv("TMPDIR", dir)
	g := newGuard(f, fuzzConfig)
	tiny, safe := fixture(f, "odd-2x3.png"), fixture(f, "odd-17x23.png")
	ct, body := multipartBody(f, value("a", "b"), file("f", "x.png", tiny), file("f", "y.png", safe), file("g", "z.heic", []byte(heic)))
	f.Add(ct, body)
	ct, body = multipartBody(f, file("f", "x.png", fixture(f, "ascent-default-porn.png")))
	f.Add(ct, body)
	ct, body = multipartBody(f, file("f", "x.gif", fixture(f, "anim-shapes.gif")))
	f.Add(ct, body)
	b := "multipart/form-data; boundary=b"
	for _, s := range []string{
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=89PNG=0D=0A\r\n--b--\r\n",
		"--b\r\nContent-Disposition: attachment; name=\"f\"; filename=\"a.png\"\r\n\r\nxyz\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; filename=\"a.png\"\r\n\r\nxyz\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\n\r\n\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''%e2%82%ac.png\r\n\r\nxyz\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../../etc/passwd\"\r\n\r\nroot\r\n--b--\r\nepilogue",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n--b\r\n--b--\r\n",
		"preamble\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--",
		"--b--\r\n",
		"",
	} {
		f.Add(b, []byte(s))
	}
	// Header floods, many parts, filename*, images in fields.
	for _, s := range []string{
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\n" + strings.Repeat("X-A: b\r\n", 800) + "\r\nxyz\r\n--b--\r\n",
		strings.Repeat("--b\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n", 30) + "--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''..%2F%00x.png\r\n\r\nxyz\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n<img src=\"data:image/png;base64," + base64Std(tiny) + "\">\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n" + string(tiny) + "\r\n--b--\r\n",
	} {
		f.Add(b, []byte(s))
	}
	f.Add("multipart/form-data; boundary=\"a b\"", []byte("--a b\r\n\r\n--a b--"))
	f.Add("image/png", tiny)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		fuzzServe(t, g, dir, contentType, body)
	})
}

// FuzzImage fuzzes the bytes of one file in a well-formed upload: the
// decoders and the classifier behind the guard.
func FuzzImage(f *testing.F) {
	dir := f.TempDir()
	f.Setenv("TMPDIR", dir)
	g := newGuard(f, fuzzConfig)
	for _, name := range []string{"odd-2x3.png", "odd-17x23.png", "anim-shapes.gif", "photo-coffee-420.jpg", "photo-rocks.bmp", "photo-jellyfish-lossy.webp"} {
		f.Add(fixture(f, name))
	}
	small := toNRGBA(f, fixture(f, "odd-17x23.png"))
	f.Add(makeAPNG(f, []image.Image{small, small}, small, 1))
	f.Add(gammaHidden(f, small, 1.0))
	f.Add(encodePNG(f, hideIn(small, 255)))
	f.Add(append(bytes.Clone(fixture(f, "odd-2x3.png")), "PK\x03\x04"...))
	png := fixture(f, "odd-17x23.png")
	f.Add(png[:len(png)/2])
	f.Add(pngHeader(1<<15, 1<<15))
	f.Add([]byte(heic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ct, body := multipartBody(t, file("f", "x", data))
		if code := fuzzServe(t, g, dir, ct, body); code != http.StatusCreated && code != http.StatusUnprocessableEntity {
			t.Fatalf("a well-formed upload got %d", code)
		}
	})
}

// FuzzFilename checks what SanitizeFilename promises for any input.
func FuzzFilename(f *testing.F) {
	for _, s := range []string{"", ".", "..", "/", "../../etc/passwd", `..\..\x.png`, "a\x00b", "CON.txt", ".htaccess",
		strings.Repeat("é", 200) + ".jpeg", "\xff\xfe.png", " . name . ", "a:b*c?.png"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		s := SanitizeFilename(name)
		switch {
		case s == "", s == ".", s == "..", len(s) > maxFilenameBytes, !utf8.ValidString(s),
			strings.ContainsAny(s, "/\\\x00<>:\"|?*"), strings.HasPrefix(s, "."), strings.HasSuffix(s, "."), strings.HasSuffix(s, " "):
			t.Fatalf("%q sanitised to %q", name, s)
		}
		for _, r := range s {
			if unicode.IsControl(r) {
				t.Fatalf("%q sanitised to %q, with a control character", name, s)
			}
		}
		if again := SanitizeFilename(s); again != s {
			t.Fatalf("not idempotent: %q -> %q -> %q", name, s, again)
		}
	})
}

// FuzzTextImages runs the search for images in form values.
func FuzzTextImages(f *testing.F) {
	tiny := fixture(f, "odd-2x3.png")
	for _, s := range []string{"", "data:", "data:,", "data:image/png;base64,", "x data:image/png;base64," + base64Std(tiny) + "\" y",
		"data:text/plain,%89PNG%0D%0A%1A%0A", string(tiny), "url(data:;base64,R0lGODlh)", "DATA:IMAGE/GIF;BASE64,R0lG\nODlh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, img := range imagesInText(v) {
			if len(img.data) == 0 || img.what == "" {
				t.Fatalf("empty image found in %q", v)
			}
		}
	})
}

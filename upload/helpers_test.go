package upload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nsfw-go/nsfw"
)

var (
	detOnce sync.Once
	det     *nsfw.Detector
	detErr  error
)

// detector is shared by every test, as a server shares one.
func detector(t testing.TB) *nsfw.Detector {
	t.Helper()
	detOnce.Do(func() { det, detErr = nsfw.Default() })
	if detErr != nil {
		t.Fatal(detErr)
	}
	return det
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// formPart is one part of a multipart body; file parts have a filename.
type formPart struct {
	field, filename string
	data            []byte
}

func file(field, filename string, data []byte) formPart { return formPart{field, filename, data} }
func value(field, v string) formPart                    { return formPart{field: field, data: []byte(v)} }

// multipartBody encodes parts as a browser would.
func multipartBody(t testing.TB, parts ...formPart) (contentType string, body []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.field, p.filename))
			h.Set("Content-Type", "application/octet-stream")
			w, err = mw.CreatePart(h)
		} else {
			w, err = mw.CreateFormField(p.field)
		}
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func newGuard(t testing.TB, cfg Config) *Guard {
	t.Helper()
	if cfg.Detector == nil {
		cfg.Detector = detector(t)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// received is what the application's handler saw.
type received struct {
	called bool
	files  map[string][][]byte // field -> contents, in order
	values url.Values
	report *Report
}

// app is an application handler that reads the upload the ordinary way.
func app(t testing.TB, got *received) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.called = true
		got.report = ReportFrom(r.Context())
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			t.Errorf("the application cannot parse the checked form: %v", err)
			http.Error(w, err.Error(), 500)
			return
		}
		got.files = map[string][][]byte{}
		for field, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				f, err := fh.Open()
				if err != nil {
					t.Errorf("opening %s: %v", fh.Filename, err)
					continue
				}
				b, _ := io.ReadAll(f)
				f.Close()
				got.files[field] = append(got.files[field], b)
			}
		}
		got.values = r.PostForm
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "stored")
	})
}

// post sends a multipart body through h in memory and decodes the answer.
func post(t testing.TB, h http.Handler, parts ...formPart) (*httptest.ResponseRecorder, *Report) {
	t.Helper()
	ct, body := multipartBody(t, parts...)
	req := httptest.NewRequest(http.MethodPost, "/upload", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var rep *Report
	if rec.Code == http.StatusUnprocessableEntity {
		rep = new(Report)
		if err := json.Unmarshal(rec.Body.Bytes(), rep); err != nil {
			t.Fatalf("422 body %q: %v", rec.Body, err)
		}
	}
	return rec, rep
}

// errorCode decodes an {"error","message"} body.
func errorCode(t testing.TB, body []byte) (code, msg string) {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", body, err)
	}
	return e.Error, e.Message
}

// tempDir points os.TempDir (and so every temporary file of the guard and
// of mime/multipart) at a fresh folder, and returns a function listing
// what is left in it.
func tempDir(t *testing.T) func() []string {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	return func() []string {
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
}

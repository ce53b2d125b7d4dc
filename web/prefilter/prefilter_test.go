package prefilter

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"testing/fstest"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/upload"
)

// The example's application lists the files it received; an image the
// guard found (and checked) in a text field is not one of them.
func TestExampleReceivesFilesNotTextImages(t *testing.T) {
	det, err := nsfw.Default()
	if err != nil {
		t.Fatal(err)
	}
	g, err := upload.New(upload.Config{Detector: det})
	if err != nil {
		t.Fatal(err)
	}
	h := ExampleHandler(g, fstest.MapFS{})
	img, err := os.ReadFile("../../testdata/fixtures/odd-17x23.png")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, _ := mw.CreateFormFile("photos", "a.png")
	w.Write(img)
	mw.WriteField("caption", `<img src="data:image/png;base64,`+base64.StdEncoding.EncodeToString(img)+`">`)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/upload", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var got struct {
		Files []struct{ Filename string }
	}
	json.Unmarshal(rec.Body.Bytes(), &got)
	if rec.Code != http.StatusOK || len(got.Files) != 1 || got.Files[0].Filename != "a.png" {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

package upload_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/upload"
)

// Guard an upload route: the handler runs only for uploads whose every
// image passed, and reads them as usual.
func Example() {
	d, err := nsfw.Default(nsfw.WithPolicy(nsfw.Balanced)) // one detector for every request
	if err != nil {
		log.Fatal(err)
	}
	g, err := upload.New(upload.Config{Detector: d, MaxBodyBytes: 8 << 20})
	if err != nil {
		log.Fatal(err)
	}
	save := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, h, err := r.FormFile("photo") // the checked file
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer f.Close()
		n, _ := io.Copy(io.Discard, f) // store it somewhere
		fmt.Fprintf(w, "stored %s (%d bytes, %s)", h.Filename, n, upload.ReportFrom(r.Context()).Files[0].Top)
	})
	mux := http.NewServeMux()
	mux.Handle("POST /upload", g.Wrap(save))
	mux.Handle("GET /upload/config", g.ConfigHandler()) // the policy, for the browser's check
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, name := range []string{"photo-chelsea.png", "ascent-default-porn.png"} {
		resp, err := postFile(srv.URL+"/upload", "photo", filepath.Join("..", "testdata", "fixtures", name))
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity {
			fmt.Println(resp.StatusCode, string(body))
			continue
		}
		var rep upload.Report
		json.Unmarshal(body, &rep)
		for _, f := range rep.Files {
			fmt.Println(resp.StatusCode, f.Filename, f.Reason+":", f.Message)
		}
	}
	// Output:
	// 200 stored photo-chelsea.png (49144 bytes, Neutral)
	// 422 ascent-default-porn.png nsfw: flagged by the policy (balanced): porn 1.00 ≥ 0.50, sum 1.00 ≥ 0.70
}

// postFile posts one file as a browser form would.
func postFile(url, field, path string) (*http.Response, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile(field, filepath.Base(path))
	w.Write(data)
	mw.Close()
	return http.Post(url, mw.FormDataContentType(), &body)
}

// The application gets sanitised file names; the names as sent stay in
// the report and the part's header.
func ExampleSanitizeFilename() {
	for _, name := range []string{"IMG_0001.JPG", "../../etc/passwd", `C:\Users\me\cat.png`, "..", ".htaccess", "CON.png", "a<b>:c?.gif"} {
		fmt.Printf("%q\n", upload.SanitizeFilename(name))
	}
	// Output:
	// "IMG_0001.JPG"
	// "passwd"
	// "cat.png"
	// "file"
	// "htaccess"
	// "_CON.png"
	// "a_b__c_.gif"
}

package upload

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
)

// pngHeader is a PNG signature and IHDR declaring w×h (and nothing else).
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	binary.Write(&b, binary.BigEndian, uint32(13))
	c := append([]byte("IHDR"), ihdr...)
	b.Write(c)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	return b.Bytes()
}

const heic = "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x08free"

func TestAcceptsSafeAndTheApplicationReadsIt(t *testing.T) {
	g := newGuard(t, Config{})
	var got received
	safe := fixture(t, "photo-chelsea.png")
	drawing := fixture(t, "illustration-debian-homeworld.png")
	rec, _ := post(t, g.Wrap(app(t, &got)),
		value("title", "holiday"), file("photos", "cat.png", safe), file("photos", "homeworld.png", drawing), value("note", "x"))
	if rec.Code != http.StatusCreated || !got.called {
		t.Fatalf("status %d, handler called %v: %s", rec.Code, got.called, rec.Body)
	}
	if fs := got.files["photos"]; len(fs) != 2 || !bytes.Equal(fs[0], safe) || !bytes.Equal(fs[1], drawing) {
		t.Errorf("the application read different files: %d files", len(fs))
	}
	if got.values.Get("title") != "holiday" || got.values.Get("note") != "x" {
		t.Errorf("fields: %v", got.values)
	}
	rep := got.report
	if rep == nil || len(rep.Files) != 2 || !rep.Accepted() || rep.Policy != "balanced" {
		t.Fatalf("report in the context: %+v", rep)
	}
	want := []struct{ name, top string }{{"cat.png", "Neutral"}, {"homeworld.png", "Drawing"}}
	for i, f := range rep.Files {
		if f.Field != "photos" || f.Filename != want[i].name || f.Verdict != "safe" || f.Top != want[i].top || f.Format != "png" || f.Result == nil {
			t.Errorf("file %d: %+v", i, f)
		}
	}
}

// The guard's scores are the engine's, on the same decoded pixels.
func TestScoresAreTheEngines(t *testing.T) {
	g := newGuard(t, Config{})
	var got received
	data := fixture(t, "ascent-default-sexy.png")
	post(t, g.Wrap(app(t, &got)), file("f", "a.png", data))
	rec, rep := post(t, g.Wrap(app(t, &got)), file("f", "a.png", data))
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	dec, err := imageio.DecodeBytes(data, imageio.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := detector(t).Classify(dec.Frames[0])
	for _, c := range nsfw.Classes {
		if got := rep.Files[0].Probabilities[c.String()]; got != want.Probabilities[c] {
			t.Errorf("%s: %v in the report, %v from the engine", c, got, want.Probabilities[c])
		}
	}
}

func TestRejectsNSFWWithAReasonPerFile(t *testing.T) {
	g := newGuard(t, Config{})
	var got received
	rec, rep := post(t, g.Wrap(app(t, &got)),
		file("a", "safe.png", fixture(t, "photo-coffee.png")),
		file("b", "p.png", fixture(t, "ascent-default-porn.png")),
		file("b", "h.png", fixture(t, "ascent-default-hentai.png")),
		file("c", "s.png", fixture(t, "ascent-default-sexy.png")))
	if rec.Code != http.StatusUnprocessableEntity || got.called {
		t.Fatalf("status %d, handler called %v", rec.Code, got.called)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if rep.Error != "rejected" || rep.Message != "3 of 4 files were rejected" || rep.Policy != "balanced" || len(rep.Files) != 4 {
		t.Fatalf("report: %+v", rep)
	}
	want := []struct{ field, name, top string }{{"a", "safe.png", "Neutral"}, {"b", "p.png", "Porn"}, {"b", "h.png", "Hentai"}, {"c", "s.png", "Sexy"}}
	for i, f := range rep.Files {
		w := want[i]
		if f.Field != w.field || f.Filename != w.name || f.Top != w.top || len(f.Probabilities) != 5 || f.NSFWScore == 0 && i > 0 {
			t.Errorf("file %d: %+v", i, f)
		}
		if i == 0 {
			if !f.Accepted || f.Reason != "" || f.Verdict != "safe" {
				t.Errorf("safe file: %+v", f)
			}
			continue
		}
		if f.Accepted || f.Reason != ReasonNSFW || f.Verdict != "nsfw" || !strings.HasPrefix(f.Message, "flagged by the policy (balanced): "+strings.ToLower(w.top)) {
			t.Errorf("file %d: %+v", i, f)
		}
	}
	// The raw JSON uses the documented names.
	var raw struct {
		Files []map[string]any `json:"files"`
	}
	json.Unmarshal(rec.Body.Bytes(), &raw)
	for _, k := range []string{"field", "filename", "size", "accepted", "reason", "message", "verdict", "top", "nsfw_score", "probabilities", "format", "width", "height"} {
		if _, ok := raw.Files[1][k]; !ok {
			t.Errorf("the JSON of a rejected file has no %q: %v", k, raw.Files[1])
		}
	}
}

// Each way a file can fail to be an acceptable image has its reason.
func TestRejectsFilesThatAreNotImages(t *testing.T) {
	g := newGuard(t, Config{MaxFileBytes: 200 << 10, MaxPixels: 10_000_000})
	png := fixture(t, "photo-chelsea.png")
	for _, c := range []struct {
		name   string
		data   []byte
		reason string
		msg    string
	}{
		{"truncated.png", png[:len(png)/2], ReasonDecode, "png: corrupt image: truncated file"},
		{"photo.heic", []byte(heic), ReasonUnsupported, "unsupported format (HEIC/HEIF)"},
		{"notes.txt", []byte("hello, world\n"), ReasonUnsupported, "not an image: looks like text"},
		{"empty.png", nil, ReasonEmpty, "the file is empty"},
		{"bomb.png", pngHeader(100_000, 100_000), ReasonTooLarge, "100000x100000 pixels exceeds the limit of 10000000 pixels"},
		{"big.png", append(bytes.Clone(png), make([]byte, 200<<10)...), ReasonTooLarge, "over the 200 KiB limit"},
		{"zero.png", pngHeader(0, 5), ReasonEmpty, "empty image"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got received
			rec, rep := post(t, g.Wrap(app(t, &got)), file("photo", c.name, c.data))
			if rec.Code != http.StatusUnprocessableEntity || got.called {
				t.Fatalf("status %d, handler called %v: %s", rec.Code, got.called, rec.Body)
			}
			f := rep.Files[0]
			if f.Accepted || f.Reason != c.reason || !strings.Contains(f.Message, c.msg) || f.Verdict != "" || f.Probabilities != nil {
				t.Errorf("%+v", f)
			}
		})
	}
}

func TestMalformedMultipartIs400(t *testing.T) {
	g := newGuard(t, Config{})
	_, good := multipartBody(t, file("f", "a.png", fixture(t, "odd-2x3.png")))
	for _, c := range []struct{ name, ct, body string }{
		{"no closing boundary", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\n\r\nabc"},
		{"garbage", "multipart/form-data; boundary=b", "this is not multipart at all"},
		{"wrong boundary", "multipart/form-data; boundary=zzz", string(good)},
		{"bad part header", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition form-data\r\n\r\nx\r\n--b--\r\n"},
		{"cut in a header", "multipart/form-data; boundary=b", "--b\r\nContent-Dispo"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got received
			req := httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader(c.body))
			req.Header.Set("Content-Type", c.ct)
			rec := httptest.NewRecorder()
			g.Wrap(app(t, &got)).ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest || got.called {
				t.Fatalf("status %d, handler called %v: %s", rec.Code, got.called, rec.Body)
			}
			if code, _ := errorCode(t, rec.Body.Bytes()); code != "malformed" {
				t.Errorf("error %q", code)
			}
		})
	}
}

func TestOtherBodiesAre415AndNoBodyPasses(t *testing.T) {
	g := newGuard(t, Config{})
	png := string(fixture(t, "ascent-default-porn.png"))
	for _, ct := range []string{"image/png", "application/octet-stream", "application/x-www-form-urlencoded", "", "multipart/form-data", "multipart/mixed; boundary=b"} {
		var got received
		req := httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader(png))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		g.Wrap(app(t, &got)).ServeHTTP(rec, req)
		if rec.Code != http.StatusUnsupportedMediaType || got.called {
			t.Errorf("%q: status %d, handler called %v", ct, rec.Code, got.called)
		}
	}
	// A GET of the form page is not an upload.
	called := false
	rec := httptest.NewRecorder()
	g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true })).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/upload", nil))
	if !called || rec.Code != 200 {
		t.Errorf("GET: status %d, handler called %v", rec.Code, called)
	}
}

// countingReader records how much of a body was read.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestOversizedBodyIsRefused(t *testing.T) {
	g := newGuard(t, Config{MaxBodyBytes: 64 << 10})
	ct, body := multipartBody(t, file("f", "a.png", fixture(t, "ascent-default-porn.png"))) // 85 KB

	// Declared too large: refused before reading.
	var got received
	cr := &countingReader{r: bytes.NewReader(body)}
	req := httptest.NewRequest(http.MethodPost, "/upload", cr)
	req.Header.Set("Content-Type", ct)
	req.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	g.Wrap(app(t, &got)).ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || got.called || cr.n != 0 {
		t.Errorf("declared: status %d, handler called %v, %d bytes read", rec.Code, got.called, cr.n)
	}
	if code, msg := errorCode(t, rec.Body.Bytes()); code != "too-large" || !strings.Contains(msg, "over the 64 KiB limit") {
		t.Errorf("declared: %s %q", code, msg)
	}

	// Streamed without a length, over a real connection: cut at the limit.
	srv := httptest.NewServer(g.Wrap(app(t, &got)))
	defer srv.Close()
	cr = &countingReader{r: bytes.NewReader(body)}
	resp, err := http.Post(srv.URL, ct, io.NopCloser(cr)) // unknown length: chunked
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || got.called {
		t.Errorf("chunked: status %d, handler called %v: %s", resp.StatusCode, got.called, msg)
	}
}

func TestTooManyFilesOrFieldsIs413(t *testing.T) {
	g := newGuard(t, Config{MaxFiles: 2, MaxFieldBytes: 1000})
	tiny := fixture(t, "odd-2x3.png")
	var got received
	rec, _ := post(t, g.Wrap(app(t, &got)), file("f", "1.png", tiny), file("f", "2.png", tiny), file("g", "3.png", tiny))
	if code, msg := errorCode(t, rec.Body.Bytes()); rec.Code != 413 || code != "too-large" || !strings.Contains(msg, "at most 2 files") {
		t.Errorf("files: %d %s %q", rec.Code, code, msg)
	}
	rec, _ = post(t, g.Wrap(app(t, &got)), value("a", strings.Repeat("x", 900)), file("f", "1.png", tiny))
	if code, msg := errorCode(t, rec.Body.Bytes()); rec.Code != 413 || !strings.Contains(msg, "form fields") {
		t.Errorf("fields: %d %s %q", rec.Code, code, msg)
	}
	var parts []formPart
	for i := range 10 {
		parts = append(parts, value(fmt.Sprint("k", i), "v"))
	}
	if rec, _ = post(t, g.Wrap(app(t, &got)), parts...); rec.Code != 413 {
		t.Errorf("many small fields: %d", rec.Code)
	}
	if got.called {
		t.Error("the handler ran")
	}
}

func TestFieldsOption(t *testing.T) {
	g := newGuard(t, Config{Fields: []string{"photo"}})
	var got received
	pdf := []byte("%PDF-1.7 ...")
	rec, _ := post(t, g.Wrap(app(t, &got)), file("photo", "a.png", fixture(t, "photo-rocket.png")), file("doc", "cv.pdf", pdf))
	if rec.Code != http.StatusCreated || len(got.report.Files) != 1 || !bytes.Equal(got.files["doc"][0], pdf) {
		t.Fatalf("status %d, report %+v", rec.Code, got.report)
	}
	rec, rep := post(t, g.Wrap(app(t, &got)), file("photo", "a.png", pdf))
	if rec.Code != 422 || rep.Files[0].Reason != ReasonUnsupported {
		t.Errorf("status %d %+v", rec.Code, rep)
	}
}

// An animated GIF is judged by its worst sampled frame.
func TestAnimation(t *testing.T) {
	g := newGuard(t, Config{})
	var got received
	rec, _ := post(t, g.Wrap(app(t, &got)), file("f", "tux.gif", fixture(t, "anim-tux.gif")))
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if f := got.report.Files[0]; f.Format != "gif" || f.FrameCount < 2 || f.Result.Frames < 2 {
		t.Errorf("%+v", f)
	}
}

// A truncated animation could hide anything in its lost frames.
func TestPartialAnimationIsRejected(t *testing.T) {
	gif := fixture(t, "anim-shapes.gif")
	cut := gif[:len(gif)*2/3]
	if d, err := imageio.DecodeBytes(cut, imageio.Limits{}); err != nil || !d.Partial {
		t.Skipf("the cut GIF does not decode partially (%v)", err)
	}
	var got received
	rec, rep := post(t, newGuard(t, Config{}).Wrap(app(t, &got)), file("f", "cut.gif", cut))
	if rec.Code != 422 || rep.Files[0].Reason != ReasonDecode || !strings.Contains(rep.Files[0].Message, "only part of the animation") {
		t.Errorf("status %d: %s", rec.Code, rec.Body)
	}
	rec, _ = post(t, newGuard(t, Config{AllowPartial: true}).Wrap(app(t, &got)), file("f", "cut.gif", cut))
	if rec.Code != http.StatusCreated {
		t.Errorf("AllowPartial: status %d: %s", rec.Code, rec.Body)
	}
}

// Every temporary file (the spool and the form's) is gone once the request
// is answered, whichever way it ends.
func TestNoTemporaryFilesLeft(t *testing.T) {
	left := tempDir(t)
	g := newGuard(t, Config{MaxMemory: 1024}) // everything goes to disk
	safe, porn := fixture(t, "photo-sheep.png"), fixture(t, "ascent-default-porn.png")
	var during []string
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _, err := r.FormFile("f")
		if err != nil {
			t.Error(err)
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if !bytes.Equal(b, safe) {
			t.Error("the application read different bytes")
		}
		during = left()
	})
	if rec, _ := post(t, g.Wrap(h), file("f", "a.png", safe), value("x", "y")); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if len(during) == 0 {
		t.Error("the form's files were not on disk while the handler ran: the test proves nothing")
	}
	if l := left(); len(l) > 0 {
		t.Errorf("after an accepted upload: %v", l)
	}
	post(t, g.Wrap(h), file("f", "a.png", porn), file("f", "b.png", safe))
	if l := left(); len(l) > 0 {
		t.Errorf("after a rejected upload: %v", l)
	}
	// A handler that panics still gets its files removed.
	func() {
		defer func() { recover() }()
		post(t, g.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })), file("f", "a.png", safe))
	}()
	if l := left(); len(l) > 0 {
		t.Errorf("after a panicking handler: %v", l)
	}
	// A client that gives up mid-body.
	srv := httptest.NewServer(g.Wrap(h))
	defer srv.Close()
	ct, body := multipartBody(t, file("f", "a.png", safe))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, len(body))
	conn.Write(body[:len(body)-100])
	time.Sleep(200 * time.Millisecond)
	conn.Close()
	waitFor(t, func() bool { return g.Stats().InFlight == 0 })
	if l := left(); len(l) > 0 {
		t.Errorf("after an abandoned upload: %v", l)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
	}
}

// A body that stops arriving is answered 408 at the timeout, and the
// request's slot is freed.
func TestSlowBodyTimesOut(t *testing.T) {
	g := newGuard(t, Config{Timeout: 300 * time.Millisecond})
	var got received
	srv := httptest.NewServer(g.Wrap(app(t, &got)))
	defer srv.Close()
	ct, body := multipartBody(t, file("f", "a.png", fixture(t, "photo-sheep.png")))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, len(body))
	conn.Write(body[:1000]) // then nothing
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || got.called {
		t.Errorf("status %d, handler called %v", resp.StatusCode, got.called)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("answered after %v", d)
	}
	waitFor(t, func() bool { return g.Stats().InFlight == 0 })
}

// Over MaxPending, requests get 503 with Retry-After at once; a request
// that would wait for a worker beyond its deadline gets 503 too.
func TestOverloadIs503(t *testing.T) {
	g := newGuard(t, Config{MaxPending: 1, Timeout: 2 * time.Second})
	var got received
	srv := httptest.NewServer(g.Wrap(app(t, &got)))
	defer srv.Close()
	ct, body := multipartBody(t, file("f", "a.png", fixture(t, "photo-sheep.png")))

	// Hold the only slot with a body that arrives slowly.
	pr, pw := io.Pipe()
	first := make(chan int)
	go func() {
		resp, err := http.Post(srv.URL, ct, pr)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	pw.Write(body[:100])
	waitFor(t, func() bool { return g.Stats().InFlight == 1 })
	resp, err := http.Post(srv.URL, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), msg)
	}
	if code, _ := errorCode(t, msg); code != "overloaded" {
		t.Errorf("error %q", code)
	}
	pw.Write(body[100:])
	pw.Close()
	if s := <-first; s != http.StatusCreated {
		t.Errorf("the admitted request: status %d", s)
	}

	// Every worker busy (held here) past the deadline.
	g2 := newGuard(t, Config{Workers: 1, Timeout: 300 * time.Millisecond})
	wk, _ := g2.sched.acquire(context.Background(), 0, 0)
	rec, _ := post(t, g2.Wrap(app(t, &got)), file("f", "a.png", fixture(t, "photo-sheep.png")))
	g2.sched.release(wk)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("queued past the deadline: status %d", rec.Code)
	}
	if s := g2.Stats(); s.Overloaded != 1 || s.InFlight != 0 || s.Waiting != 0 {
		t.Errorf("stats %+v", s)
	}
}

// The guard starts no goroutines that outlive a request.
func TestNoGoroutinesLeft(t *testing.T) {
	g := newGuard(t, Config{Timeout: time.Second})
	srv := httptest.NewServer(g.Wrap(app(t, &received{})))
	client := srv.Client()
	before := runtime.NumGoroutine()
	ct, body := multipartBody(t, file("f", "a.png", fixture(t, "photo-sheep.png")), file("f", "b.png", fixture(t, "ascent-default-porn.png")))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			resp, err := client.Post(srv.URL, ct, bytes.NewReader(body))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	client.CloseIdleConnections()
	srv.Close()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

func TestClientConfig(t *testing.T) {
	d, _ := detector(t).WithPolicy(nsfw.Strict)
	g := newGuard(t, Config{Detector: d, MaxFileBytes: 1 << 20, MaxPixels: 1e6})
	rec := httptest.NewRecorder()
	g.ConfigHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	var c ClientConfig
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Policy != "strict" || c.Thresholds != nsfw.Strict || c.MaxFileBytes != 1<<20 || c.MaxPixels != 1e6 || c.MaxFiles != DefaultMaxFiles || len(c.Formats) != 5 {
		t.Errorf("%+v", c)
	}
	if !strings.Contains(rec.Body.String(), `"thresholds":{"porn":0.3,"hentai":0.3,"sexy":0.5,"sum":0.5}`) {
		t.Errorf("JSON %s", rec.Body)
	}
	// The policy it announces is the one it enforces.
	var got received
	_, rep := post(t, g.Wrap(app(t, &got)), file("f", "s.png", fixture(t, "ascent-default-sexy.png")))
	if rep == nil || rep.Policy != "strict" {
		t.Errorf("%+v", rep)
	}
}

func TestNewNeedsADetector(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("no error")
	}
}

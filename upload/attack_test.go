package upload

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color/palette"
	"image/gif"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nsfw-go/nsfw"
)

// The regression tests of the attack run against the guard (issue 11).
// Each crafted input is built here; the NSFW content is a class-maximising
// fixture, and each test fails on the guard as it was before.

// expectRejected posts parts and expects 422 with reason for file i.
func expectRejected(t *testing.T, g *Guard, reason string, parts ...formPart) FileReport {
	t.Helper()
	var got received
	rec, rep := post(t, g.Wrap(app(t, &got)), parts...)
	if rec.Code != http.StatusUnprocessableEntity || got.called {
		t.Fatalf("status %d, handler called %v: %s", rec.Code, got.called, rec.Body)
	}
	for _, f := range rep.Files {
		if !f.Accepted {
			if f.Reason != reason {
				t.Fatalf("reason %q, want %q: %+v", f.Reason, reason, f)
			}
			return f
		}
	}
	t.Fatalf("no file rejected: %+v", rep)
	return FileReport{}
}

// Item 1: every frame is checked, not a sample.
func TestEveryFrameIsChecked(t *testing.T) {
	g := newGuard(t, Config{MaxFrames: 300})
	safe, bad := safePicture(t), nsfwPicture(t)

	// 9 frames of 60 s each; frame 4 alone is NSFW (sampling 8 misses it).
	var frames []image.Image
	for i := range 9 {
		f := image.Image(shift(safe, i))
		if i == 4 {
			f = bad
		}
		frames = append(frames, f)
	}
	f := expectRejected(t, g, ReasonNSFW, file("f", "nine.png", makeAPNG(t, frames, nil, 6000)))
	if f.Frame != 4 || f.FrameCount != 9 || !strings.Contains(f.Message, "in frame 4 of 9") {
		t.Errorf("9-frame APNG: %+v", f)
	}

	// 100 frames, 92 of them NSFW, the 8 a sampler would pick safe.
	frames = frames[:0]
	sampled := map[int]bool{0: true, 14: true, 28: true, 42: true, 57: true, 71: true, 85: true, 99: true}
	for i := range 100 {
		if sampled[i] {
			frames = append(frames, shift(safe, i))
		} else {
			frames = append(frames, bad)
		}
	}
	f = expectRejected(t, g, ReasonNSFW, file("f", "hundred.png", makeAPNG(t, frames, nil, 10)))
	if f.Frame != 1 || f.FrameCount != 100 {
		t.Errorf("100-frame APNG: %+v", f)
	}

	// A GIF: every frame goes to the classifier too (the sampler took 8
	// of 9). GIF frames hold 256 colours, too few for the fixture's
	// adversarial pixels, so this one is safe, and counted.
	g9 := &gif.GIF{Config: image.Config{Width: 32, Height: 24}}
	for i := range 9 {
		m := image.NewPaletted(image.Rect(0, 0, 32, 24), palette.Plan9)
		for j := range m.Pix {
			m.Pix[j] = uint8(j*7 + i*31)
		}
		g9.Image = append(g9.Image, m)
		g9.Delay = append(g9.Delay, 600)
		g9.Disposal = append(g9.Disposal, gif.DisposalNone)
	}
	var b bytes.Buffer
	gif.EncodeAll(&b, g9)
	var got received
	rec, _ := post(t, g.Wrap(app(t, &got)), file("f", "nine.gif", b.Bytes()))
	if f := got.report.Files[0]; rec.Code != http.StatusCreated || f.FramesChecked != 9 || f.Result.Frames != 9 || f.FrameCount != 9 {
		t.Errorf("9-frame GIF: status %d, %+v", rec.Code, f)
	}
}

// shift makes a slightly different copy of pic (a one-pixel mark in the
// corner), so that no frame is a duplicate of another.
func shift(pic *image.NRGBA, i int) *image.NRGBA {
	out := image.NewNRGBA(pic.Rect)
	copy(out.Pix, pic.Pix)
	o := out.PixOffset(i%pic.Rect.Dx(), 0)
	out.Pix[o], out.Pix[o+1], out.Pix[o+2] = 255, 0, byte(i)
	return out
}

// Items 1 and 9: an animation over the frame or work budget is refused
// with its own reason, from its structure, before any frame is decoded:
// its frames are garbage here, so decoding them would fail as "decode".
func TestTooManyFramesRefusedBeforeDecoding(t *testing.T) {
	g := newGuard(t, Config{})
	garbage := func(w, h, n int) []byte {
		b := []byte("GIF89a")
		b = append(b, byte(w), byte(w>>8), byte(h), byte(h>>8), 0x80, 0, 0, 0, 0, 0, 255, 255, 255)
		for range n {
			b = append(b, 0x2c, 0, 0, 0, 0, byte(w), byte(w>>8), byte(h), byte(h>>8), 0, 2)
			for need := w*h/2730 + 64; need > 0; need -= 255 {
				k := min(need, 255)
				b = append(b, byte(k))
				b = append(b, bytes.Repeat([]byte{0xff}, k)...)
			}
			b = append(b, 0)
		}
		return append(b, 0x3b)
	}
	f := expectRejected(t, g, ReasonTooManyFrames, file("f", "many.gif", garbage(16, 16, 201)))
	if !strings.Contains(f.Message, "201 frames, over the limit of 200") {
		t.Errorf("%+v", f)
	}
	big := garbage(1500, 1500, 100) // 225 MP of frames, over the 200 MP budget, in 130 KB
	start := time.Now()
	f = expectRejected(t, g, ReasonTooManyFrames, file("f", "budget.gif", big))
	if !strings.Contains(f.Message, "work budget") {
		t.Errorf("%+v", f)
	}
	t.Logf("%d-byte GIF over the work budget refused in %v", len(big), time.Since(start))
	// Under both limits, the same garbage is decoded, and fails as such.
	expectRejected(t, g, ReasonDecode, file("f", "few.gif", garbage(16, 16, 3)))
}

// Item 2: what the browser shows is what gets classified.
func TestAlphaAndGammaAsShown(t *testing.T) {
	g := newGuard(t, Config{})
	det := detector(t)
	bad := nsfwPicture(t)
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"shown only on white", encodePNG(t, hideIn(toNRGBA(t, fixture(t, "ascent-default-hentai.png")), 255))},
		{"shown only on black", encodePNG(t, hideIn(bad, 0))},
		{"16-bit with gAMA 1.0", gammaHidden(t, bad, 1.0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The colour channels alone, as nsfwjs (and the guard before)
			// read them: safe.
			raw := toNRGBA(t, c.data)
			r, _ := det.ClassifyPixels(raw.Pix, raw.Rect.Dx(), raw.Rect.Dy(), raw.Stride, nsfw.RGBA)
			if r.Verdict != nsfw.Safe {
				t.Fatalf("the raw samples are already flagged (%.3f): the test shows nothing", r.NSFWScore)
			}
			expectRejected(t, g, ReasonNSFW, file("f", "x.png", c.data))
		})
	}
}

// Item 3: an APNG's default image, which image/png and thumbnailers show,
// is classified too, though browsers show only the animation.
func TestAPNGDefaultImageIsChecked(t *testing.T) {
	g := newGuard(t, Config{})
	safe := safePicture(t)
	data := makeAPNG(t, []image.Image{shift(safe, 1), shift(safe, 2)}, nsfwPicture(t), 100)
	f := expectRejected(t, g, ReasonNSFW, file("f", "a.png", data))
	if f.Frame != -1 || !strings.Contains(f.Message, "default image") {
		t.Errorf("%+v", f)
	}
	// The same animation with a safe default image passes, every frame checked.
	var got received
	rec, _ := post(t, g.Wrap(app(t, &got)), file("f", "a.png", makeAPNG(t, []image.Image{shift(safe, 1), shift(safe, 2)}, shift(safe, 3), 100)))
	if rec.Code != http.StatusCreated || got.report.Files[0].FramesChecked != 3 {
		t.Errorf("status %d: %+v", rec.Code, got.report)
	}
}

// Item 4: part headers are bounded as they arrive.
func TestHeaderFloodsAre413(t *testing.T) {
	g := newGuard(t, Config{})
	tiny := fixture(t, "odd-2x3.png")
	flood := func(n int, line string) string {
		var b strings.Builder
		b.WriteString("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\n")
		for range n {
			b.WriteString(line)
		}
		b.WriteString("\r\n")
		b.Write(tiny)
		b.WriteString("\r\n--b--\r\n")
		return b.String()
	}
	for _, c := range []struct {
		name string
		body string
	}{
		{"9 MB header", flood(1, "X-Flood: "+strings.Repeat("a", 9<<20)+"\r\n")},
		{"100000 header lines", flood(100000, "X: y\r\n")},
		{"5 KiB header", flood(1, "X-Flood: "+strings.Repeat("a", 5<<10)+"\r\n")},
		{"long preamble", strings.Repeat("preamble line\r\n", 10000) + flood(0, "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got received
			cr := &countingReader{r: strings.NewReader(c.body)}
			req := httptest.NewRequest(http.MethodPost, "/upload", cr)
			req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
			rec := httptest.NewRecorder()
			g.Wrap(app(t, &got)).ServeHTTP(rec, req)
			if code, msg := errorCode(t, rec.Body.Bytes()); rec.Code != http.StatusRequestEntityTooLarge || code != "too-large" || got.called {
				t.Fatalf("status %d %s %q, handler called %v", rec.Code, code, msg, got.called)
			}
			if len(c.body) > 64<<10 && cr.n > 64<<10 {
				t.Errorf("read %d bytes of the %d before refusing", cr.n, len(c.body))
			}
		})
	}
	// Many parts whose headers are each under the per-part limit but
	// together over the request's.
	var parts []formPart
	for i := range 20 {
		parts = append(parts, value(fmt.Sprintf("%s%d", strings.Repeat("n", 3900), i), "v"))
	}
	var got received
	rec, _ := post(t, newGuard(t, Config{MaxFieldBytes: 1 << 20}).Wrap(app(t, &got)), parts...)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("20 parts of 4 KB headers: %d %s", rec.Code, rec.Body)
	}
}

// Item 7: what used to be 500 (the two passes hitting different limits)
// is 413, with no internal message.
func TestParserLimitsAgree(t *testing.T) {
	tiny := fixture(t, "odd-2x3.png")
	headers := func(n int, each string) string {
		var b strings.Builder
		for i := range 2 {
			fmt.Fprintf(&b, "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"%d.png\"\r\n", i)
			for j := range n {
				fmt.Fprintf(&b, "X-%d: %s\r\n", j, each)
			}
			b.WriteString("\r\n")
			b.Write(tiny)
			b.WriteString("\r\n")
		}
		b.WriteString("--b--\r\n")
		return b.String()
	}
	var fields strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&fields, "--b\r\nContent-Disposition: form-data; name=\"k%d\"\r\n\r\nv\r\n", i)
	}
	fields.WriteString("--b--\r\n")
	for _, c := range []struct {
		name, body string
		cfg        Config
	}{
		{"6000 headers in each of 2 files", headers(6000, "y"), Config{MaxPartHeaderBytes: 1 << 20, MaxHeaderBytes: 1 << 20}},
		{"6 MB of headers in each of 2 files", headers(1, strings.Repeat("z", 6<<20)), Config{}},
		{"1500 fields", fields.String(), Config{MaxFieldBytes: 4 << 20}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newGuard(t, c.cfg)
			var got received
			req := httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader(c.body))
			req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
			rec := httptest.NewRecorder()
			g.Wrap(app(t, &got)).ServeHTTP(rec, req)
			code, msg := errorCode(t, rec.Body.Bytes())
			if rec.Code != http.StatusRequestEntityTooLarge || code != "too-large" || got.called {
				t.Fatalf("status %d %s %q", rec.Code, code, msg)
			}
			if strings.Contains(msg, "multipart") || strings.Contains(msg, "upload:") {
				t.Errorf("internal message leaked: %q", msg)
			}
		})
	}
}

// Item 8: an empty Fields list checks every field and says so; a list
// with an empty name is refused.
func TestEmptyFieldsChecksEverything(t *testing.T) {
	g := newGuard(t, Config{Fields: []string{}})
	expectRejected(t, g, ReasonNSFW, file("anything", "p.png", fixture(t, "ascent-default-porn.png")))
	if c := g.ClientConfig(); c.Fields != nil {
		t.Errorf("ClientConfig.Fields %v", c.Fields)
	}
	if _, err := New(Config{Detector: detector(t), Fields: strings.Split("", ",")}); err == nil {
		t.Error(`Fields [""] accepted`)
	}
	if _, err := New(Config{Detector: detector(t), Fields: []string{"photo", ""}}); err == nil {
		t.Error(`Fields ["photo", ""] accepted`)
	}
	g = newGuard(t, Config{Fields: []string{"photo"}})
	if c := g.ClientConfig(); fmt.Sprint(c.Fields) != "[photo]" {
		t.Errorf("ClientConfig.Fields %v", c.Fields)
	}
}

// Item 10: a file whose decoding would take more than a worker's memory
// budget is refused from its header: here a 430 KB interlaced 16-bit
// PNG declaring 7000x7000 pixels (about 750 MB to decode), whose data is
// garbage, so that the refusal cannot come from decoding.
func TestDecodeMemoryBudget(t *testing.T) {
	g := newGuard(t, Config{})
	png := pngHeader(7000, 7000)
	png[24], png[25], png[28] = 16, 6, 1
	binary.BigEndian.PutUint32(png[29:], crc32IEEE(png[12:29]))
	png = append(png, pngChunk("IDAT", bytes.Repeat([]byte{0x55}, 430_000))...)
	png = append(png, pngChunk("IEND", nil)...)
	start := time.Now()
	f := expectRejected(t, g, ReasonTooLarge, file("f", "deep.png", png))
	if !strings.Contains(f.Message, "over the 256 MiB limit") || time.Since(start) > 5*time.Second {
		t.Errorf("%v: %+v", time.Since(start), f)
	}
	// The file itself plus its decoding must fit: a 10 MB file whose
	// decoding needs 250 MB does not fit in 256 MiB.
	if g.Config().Workers < 1 || g.MemoryBound() < int64(g.Config().Workers)*g.Config().MaxDecodeBytes {
		t.Errorf("workers %d, bound %d", g.Config().Workers, g.MemoryBound())
	}
}

// Item 12: the application gets sanitised base names; the original stays
// in the report and in the part's header.
func TestFilenamesAreSanitised(t *testing.T) {
	g := newGuard(t, Config{})
	safe := fixture(t, "odd-2x3.png")
	names := map[string]string{
		"../../etc/passwd":   "passwd",
		"..":                 "file",
		"/":                  "file",
		`..\..\win\evil.png`: "evil.png",
		".htaccess":          "htaccess",
		"CON.png":            "_CON.png",
		"photo.png":          "photo.png",
	}
	var parts []formPart
	var order []string
	for sent := range names {
		parts = append(parts, formPart{field: "f", filename: sent, data: safe})
		order = append(order, sent)
	}
	var seen []string
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, fh := range r.MultipartForm.File["f"] {
			seen = append(seen, fh.Filename+"|"+rawFilename(fh.Header.Get("Content-Disposition")))
		}
		for i, f := range ReportFrom(r.Context()).Files {
			if want := names[order[i]]; f.Filename != want || (f.Filename != order[i]) != (f.OriginalFilename == order[i]) {
				t.Errorf("report for %q: %q (original %q), want %q", order[i], f.Filename, f.OriginalFilename, want)
			}
		}
	})
	rec, _ := postRaw(t, g.Wrap(h), parts...)
	if rec.Code != 200 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	// RFC 2231 encoding can carry bytes a plain parameter cannot.
	seen, order = nil, []string{"a\x00b/../c\x01.png"}
	names[order[0]] = "c_.png"
	var b bytes.Buffer
	b.WriteString("--b\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''a%00b%2F..%2Fc%01.png\r\n\r\n")
	b.Write(safe)
	b.WriteString("\r\n--b--\r\n")
	req := httptest.NewRequest(http.MethodPost, "/upload", &b)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	rec = httptest.NewRecorder()
	g.Wrap(h).ServeHTTP(rec, req)
	if rec.Code != 200 || len(seen) != 1 || seen[0] != "c_.png|a\x00b/../c\x01.png" {
		t.Errorf("filename*: status %d, seen %q", rec.Code, seen)
	}
	if rec.Code != 200 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	for i, s := range seen {
		if want := names[order[i]] + "|" + order[i]; s != want {
			t.Errorf("application sees %q, want %q", s, want)
		}
	}
}

// postRaw is post with filenames written as they are (multipart.Writer
// would escape them).
func postRaw(t *testing.T, h http.Handler, parts ...formPart) (*httptest.ResponseRecorder, *Report) {
	var b bytes.Buffer
	for _, p := range parts {
		fmt.Fprintf(&b, "--b\r\nContent-Disposition: form-data; name=%q; filename=\"%s\"\r\n\r\n", p.field, strings.ReplaceAll(p.filename, `"`, `\"`))
		b.Write(p.data)
		b.WriteString("\r\n")
	}
	b.WriteString("--b--\r\n")
	req := httptest.NewRequest(http.MethodPost, "/upload", &b)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, nil
}

// Item 13: images in text values (raw bytes in a part without a filename,
// data: URLs in a field or in the query) are checked; text is not.
func TestImagesInTextAreChecked(t *testing.T) {
	g := newGuard(t, Config{MaxFieldBytes: 1 << 20})
	porn := fixture(t, "ascent-default-porn.png")
	b64 := base64Std(porn)
	f := expectRejected(t, g, ReasonNSFW, value("avatar", string(porn)))
	if f.InText != "the value" || f.Field != "avatar" {
		t.Errorf("%+v", f)
	}
	f = expectRejected(t, g, ReasonNSFW, value("body", `<p>hi</p><img src="data:image/png;base64,`+b64+`">`))
	if !strings.HasPrefix(f.InText, "a data: URL at byte 19") {
		t.Errorf("%+v", f)
	}
	expectRejected(t, g, ReasonNSFW, value("json", `{"img":"data:application/octet-stream;base64,`+strings.ReplaceAll(b64, "/", `\/`)+`"}`))
	expectRejected(t, g, ReasonNSFW, value("css", "background: url(data:image/png;base64,"+wrap(b64, 76)+")"))
	expectRejected(t, g, ReasonUnsupported, value("icon", `data:image/svg+xml;base64,`+base64Std([]byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`))))

	// In the URL's query, with or without a body.
	u := "/upload?img=" + url.QueryEscape("data:image/png;base64,"+b64)
	for _, withBody := range []bool{false, true} {
		var got received
		var req *http.Request
		if withBody {
			ct, body := multipartBody(t, value("a", "b"))
			req = httptest.NewRequest(http.MethodPost, u, bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
		} else {
			req = httptest.NewRequest(http.MethodPost, u, nil)
		}
		rec := httptest.NewRecorder()
		g.Wrap(app(t, &got)).ServeHTTP(rec, req)
		if rec.Code != http.StatusUnprocessableEntity || got.called || !strings.Contains(rec.Body.String(), "of the URL's query") {
			t.Errorf("query (body %v): %d %s", withBody, rec.Code, rec.Body)
		}
	}

	// Text that mentions data: but carries no image passes; so does a safe
	// image in a field.
	var got received
	rec, _ := post(t, g.Wrap(app(t, &got)), value("note", "metadata: none; see data:text/plain,hello and data:image/png;base64,!!!"),
		value("ok", "data:image/png;base64,"+base64Std(fixture(t, "photo-rocket.png"))))
	if rec.Code != http.StatusCreated || len(got.report.Files) != 1 || got.report.Files[0].InText == "" {
		t.Errorf("status %d %+v", rec.Code, got.report)
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// Item 13: an image followed by other data (a PNG then a ZIP) is reported,
// and refused with RejectTrailingData.
func TestTrailingData(t *testing.T) {
	zip := append([]byte("PK\x03\x04"), bytes.Repeat([]byte{1}, 500)...)
	poly := append(bytes.Clone(fixture(t, "photo-rocket.png")), zip...)
	var got received
	rec, _ := post(t, newGuard(t, Config{}).Wrap(app(t, &got)), file("f", "a.png", poly))
	if rec.Code != http.StatusCreated || got.report.Files[0].TrailingBytes != int64(len(zip)) {
		t.Errorf("status %d %+v", rec.Code, got.report)
	}
	f := expectRejected(t, newGuard(t, Config{RejectTrailingData: true}), ReasonUnsupported, file("f", "a.png", poly))
	if !strings.Contains(f.Message, "after the end of the image") {
		t.Errorf("%+v", f)
	}
}

// rawRequest opens a connection to srv and sends a request's head, a
// declared Content-Length and only the first bytes of the body.
func rawRequest(t *testing.T, srv *httptest.Server, ct string, declared int, first []byte) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, declared)
	conn.Write(first)
	return conn
}

// expectAnswer reads the answer on conn within d and checks that the
// server closes the connection after it.
func expectAnswer(t *testing.T, conn net.Conn, d time.Duration, status int, code string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(d))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", d, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status || !strings.Contains(string(body), `"error":"`+code+`"`) {
		t.Errorf("answer %d %s, want %d %s", resp.StatusCode, body, status, code)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("the connection stays open after the answer (%v)", err)
	}
}

// Item 5: answers given before the body is read to its end reach a client
// that holds back the rest of a small body, and the connection closes.
func TestEarlyAnswersAreDelivered(t *testing.T) {
	ct, body := multipartBody(t, file("f", "a.png", fixture(t, "odd-2x3.png")), file("f", "b.png", fixture(t, "odd-2x3.png")))
	g := newGuard(t, Config{MaxFiles: 1, MaxBodyBytes: 64 << 10})
	srv := httptest.NewServer(g.Wrap(app(t, &received{})))
	defer srv.Close()
	bad := "--b\r\nContent-Disposition form-data\r\n\r\nx\r\n"
	for _, c := range []struct {
		name, ct string
		declared int
		first    []byte
		status   int
		code     string
	}{
		{"415", "image/png", 1000, []byte("\x89PNG"), 415, "unsupported-media-type"},
		{"413 declared", ct, 100 << 10, body[:100], 413, "too-large"},
		{"400 mid-body", "multipart/form-data; boundary=b", 1000, []byte(bad), 400, "malformed"},
		{"413 mid-body", ct, len(body) + 5000, body, 413, "too-large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := rawRequest(t, srv, c.ct, c.declared, c.first)
			expectAnswer(t, conn, 3*time.Second, c.status, c.code)
		})
	}
	// 503 while the only slot is held by a request that keeps sending.
	g1 := newGuard(t, Config{MaxPending: 1, MinRate: -1})
	srv1 := httptest.NewServer(g1.Wrap(app(t, &received{})))
	defer srv1.Close()
	hold := rawRequest(t, srv1, ct, len(body), body[:10])
	waitFor(t, func() bool { return g1.Stats().InFlight == 1 })
	conn := rawRequest(t, srv1, ct, len(body), body[:10])
	expectAnswer(t, conn, 3*time.Second, 503, "overloaded")
	hold.Close()
}

// Item 6: a body slower than MinRate after the grace period is cut off.
func TestSlowBodyIsCutOff(t *testing.T) {
	g := newGuard(t, Config{MinRate: 1000, MinRateGrace: 300 * time.Millisecond})
	srv := httptest.NewServer(g.Wrap(app(t, &received{})))
	defer srv.Close()
	ct, body := multipartBody(t, file("f", "a.png", fixture(t, "photo-sheep.png")))
	conn := rawRequest(t, srv, ct, len(body), body[:1])
	go func() {
		for i := 1; i < 50; i++ {
			time.Sleep(100 * time.Millisecond)
			if _, err := conn.Write(body[i : i+1]); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	expectAnswer(t, conn, 5*time.Second, http.StatusRequestTimeout, "too-slow")
	t.Logf("cut off after %v", time.Since(start))
	waitFor(t, func() bool { return g.Stats().InFlight == 0 })
	if s := g.Stats(); s.TooSlow != 1 {
		t.Errorf("stats %+v", s)
	}
}

// Item 6: slow clients holding every slot give way to a normal upload.
func TestSlowClientsGiveWay(t *testing.T) {
	g := newGuard(t, Config{MaxPending: 4, MinRate: 1000, MinRateGrace: time.Minute})
	var got received
	srv := httptest.NewServer(g.Wrap(app(t, &got)))
	defer srv.Close()
	ct, body := multipartBody(t, file("f", "a.png", fixture(t, "photo-sheep.png")))
	var slow []net.Conn
	for range 4 {
		slow = append(slow, rawRequest(t, srv, ct, len(body), body[:1]))
	}
	waitFor(t, func() bool { return g.Stats().InFlight == 4 })
	time.Sleep(evictMinAge + 100*time.Millisecond)
	resp, err := http.Post(srv.URL+"/upload", ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a normal upload behind 4 slow ones: %d", resp.StatusCode)
	}
	answered := 0
	for _, c := range slow {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Errorf("slow client got %d", resp.StatusCode)
			}
			answered++
		}
	}
	if s := g.Stats(); answered != 1 || s.Evicted != 1 || s.Overloaded != 0 {
		t.Errorf("%d slow clients answered; stats %+v", answered, s)
	}
	for _, c := range slow {
		c.Close()
	}
}

// Item 6: the per-client limit is opt-in, and reads X-Forwarded-For only
// from trusted proxies.
func TestPerClientLimit(t *testing.T) {
	ct, body := multipartBody(t, file("f", "a.png", fixture(t, "odd-2x3.png")))
	start := func(cfg Config) (*Guard, string) {
		g := newGuard(t, cfg)
		srv := httptest.NewServer(g.Wrap(app(t, &received{})))
		t.Cleanup(srv.Close)
		return g, srv.URL
	}
	send := func(base, xff string, done chan<- int, hold *io.PipeReader) {
		req, _ := http.NewRequest(http.MethodPost, base+"/upload", hold)
		req.Header.Set("Content-Type", ct)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}
	// held sends a request whose body is held open until release.
	held := func(base, xff string) (chan int, func()) {
		pr, pw := io.Pipe()
		done := make(chan int, 1)
		go send(base, xff, done, pr)
		pw.Write(body[:10])
		return done, func() { pw.Write(body[10:]); pw.Close() }
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	for _, c := range []struct {
		name       string
		cfg        Config
		xff1, xff2 string
		second     int
	}{
		{"off by default", Config{}, "", "", http.StatusCreated},
		{"one client", Config{MaxPendingPerClient: 1}, "", "", http.StatusTooManyRequests},
		{"spoofed X-Forwarded-For", Config{MaxPendingPerClient: 1}, "10.0.0.1", "10.0.0.2", http.StatusTooManyRequests},
		{"behind a trusted proxy", Config{MaxPendingPerClient: 1, TrustedProxies: trusted}, "10.0.0.1", "10.0.0.2", http.StatusCreated},
		{"same client behind the proxy", Config{MaxPendingPerClient: 1, TrustedProxies: trusted}, "10.0.0.1", "10.0.0.1", http.StatusTooManyRequests},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, base := start(c.cfg)
			first, release := held(base, c.xff1)
			waitFor(t, func() bool { return g.Stats().InFlight == 1 })
			second, release2 := held(base, c.xff2)
			if c.second == http.StatusCreated {
				waitFor(t, func() bool { return g.Stats().InFlight == 2 })
				release2()
			}
			if s := <-second; s != c.second {
				t.Errorf("second request: %d, want %d", s, c.second)
			}
			release()
			if s := <-first; s != http.StatusCreated {
				t.Errorf("first request: %d", s)
			}
		})
	}
}

// Fairness: a costly file (a long animation) lets cheaper uploads that
// arrived after it go first, instead of holding the only worker.
func TestCostlyFilesGoBehind(t *testing.T) {
	g := newGuard(t, Config{Workers: 1, MaxFrames: 300})
	g.observe(20 * time.Millisecond)
	srv := httptest.NewServer(g.Wrap(app(t, &received{})))
	defer srv.Close()
	safe := safePicture(t)
	var frames []image.Image
	for i := range 40 {
		frames = append(frames, shift(safe, i))
	}
	costly := makeAPNG(t, frames, nil, 10)
	cheap := fixture(t, "odd-17x23.png")

	wk, _ := g.sched.acquire(context.Background(), 0, 0) // hold the worker while the queue forms
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	postAs := func(name string, data []byte) {
		wg.Go(func() {
			ct, body := multipartBody(t, file("f", name, data))
			resp, err := http.Post(srv.URL+"/upload", ct, bytes.NewReader(body))
			if err == nil {
				resp.Body.Close()
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
		})
	}
	postAs("costly", costly)
	waitFor(t, func() bool { return g.sched.waiting() == 1 })
	for i := range 3 {
		postAs(fmt.Sprint("cheap", i), cheap)
		waitFor(t, func() bool { return g.sched.waiting() == 2+i })
	}
	g.sched.release(wk)
	wg.Wait()
	if order[len(order)-1] != "costly" {
		t.Errorf("finished in the order %v: the costly upload should finish last", order)
	}

	// Already running, the animation gives its worker up between frames:
	// cheap uploads that arrive meanwhile are not kept waiting for all of it.
	done := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		ct, body := multipartBody(t, file("f", "costly.png", costly))
		if resp, err := http.Post(srv.URL+"/upload", ct, bytes.NewReader(body)); err == nil {
			resp.Body.Close()
		}
		done <- time.Since(start)
	}()
	waitFor(t, func() bool { return g.Stats().Frames > 45 }) // past its first frames
	var cheapMax time.Duration
	for range 3 {
		start := time.Now()
		ct, body := multipartBody(t, file("f", "cheap.png", cheap))
		resp, err := http.Post(srv.URL+"/upload", ct, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cheapMax = max(cheapMax, time.Since(start))
	}
	costlyTook := <-done
	t.Logf("40-frame animation: %v; cheap uploads meanwhile: at most %v", costlyTook, cheapMax)
	if cheapMax > costlyTook/3 {
		t.Errorf("a cheap upload took %v while a %v animation ran", cheapMax, costlyTook)
	}
}

// Item 6 and 10: the memory bound holds while slow header floods, large
// images and over-budget images hit a guard at once.
func TestMemoryBoundUnderAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	cfg := Config{Workers: 2, MaxPending: 48, MaxDecodeBytes: 48 << 20, MaxMemory: 64 << 10, Timeout: 2 * time.Minute,
		MinRate: 1000, MinRateGrace: 2 * time.Second}
	g := newGuard(t, cfg)
	srv := httptest.NewServer(g.Wrap(app(t, &received{})))
	defer srv.Close()

	// A 2800x2000 PNG (22 MB of RGBA to decode, near the budget), an
	// interlaced 16-bit one over it, header floods and slow bodies that
	// trickle, and ordinary uploads.
	big := image.NewNRGBA(image.Rect(0, 0, 2800, 2000))
	for i := range big.Pix {
		big.Pix[i] = byte(i / 4 % 2800 / 11)
	}
	bigPNG := encodePNG(t, big)
	deep := pngHeader(5000, 5000)
	deep[24], deep[25], deep[28] = 16, 6, 1
	binary.BigEndian.PutUint32(deep[29:], crc32IEEE(deep[12:29]))
	deep = append(append(deep, pngChunk("IDAT", bytes.Repeat([]byte{0x55}, 200_000))...), pngChunk("IEND", nil)...)
	type upload struct {
		ct   string
		body []byte
		want int
	}
	var uploads []upload
	for _, f := range []struct {
		name string
		data []byte
		want int
	}{{"big.png", bigPNG, http.StatusCreated}, {"deep.png", deep, http.StatusUnprocessableEntity}, {"ok.png", fixture(t, "photo-sheep.png"), http.StatusCreated}} {
		ct, body := multipartBody(t, file("f", f.name, f.data))
		uploads = append(uploads, upload{ct, body, f.want})
	}
	slowCT, slowBody := multipartBody(t, file("f", "slow.png", bigPNG))

	runtimeGC()
	base := heapNow()
	sampler := startHeapSampler()
	var wg sync.WaitGroup
	trickle := func(head string, chunk []byte, every time.Duration, n int) {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, head)
		for range n {
			if _, err := conn.Write(chunk); err != nil {
				return
			}
			time.Sleep(every)
		}
	}
	for i := range 30 { // header floods, 5 KB/s
		wg.Go(func() {
			trickle(fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n", 10<<20, i),
				[]byte("X-Flood: "+strings.Repeat("a", 490)+"\r\n"), 100*time.Millisecond, 40)
		})
	}
	for range 20 { // slow bodies, 10 KB/s for 4 s
		wg.Go(func() {
			head := fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", slowCT, len(slowBody))
			trickle(head+string(slowBody[:1000]), slowBody[1000:2000], 100*time.Millisecond, 40)
		})
	}
	statuses := map[int]int{}
	var mu sync.Mutex
	time.Sleep(1200 * time.Millisecond) // the attack is under way
	for i := range 24 {
		u := uploads[i%3]
		wg.Go(func() {
			var resp *http.Response
			for try := 0; ; try++ {
				var err error
				if resp, err = http.Post(srv.URL, u.ct, bytes.NewReader(u.body)); err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable || try == 20 {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			mu.Lock()
			statuses[resp.StatusCode]++
			if resp.StatusCode != u.want && resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("upload %d: %d, want %d", i%3, resp.StatusCode, u.want)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	peak := sampler.Stop()
	bound := g.MemoryBound()
	t.Logf("statuses %v; peak heap %.1f MiB over the base, bound %.1f MiB; stats %+v", statuses,
		float64(peak-min(peak, base))/(1<<20), float64(bound)/(1<<20), g.Stats())
	if peak > base && int64(peak-base) > bound {
		t.Errorf("peak heap %d over the base, over the bound %d", peak-base, bound)
	}
	if statuses[http.StatusCreated] == 0 || statuses[http.StatusUnprocessableEntity] == 0 {
		t.Errorf("statuses %v", statuses)
	}
}

// Item 10: the default worker count follows memory too: with a 1 GiB
// GOMEMLIMIT, decoding may take a quarter of it, one 256 MiB worker.
func TestDefaultWorkersFollowMemory(t *testing.T) {
	old := debug.SetMemoryLimit(1 << 30)
	defer debug.SetMemoryLimit(old)
	if n := defaultWorkers(8, DefaultMaxDecodeBytes); n != 1 {
		t.Errorf("8 CPUs, 1 GiB: %d workers", n)
	}
	debug.SetMemoryLimit(8 << 30)
	if n := defaultWorkers(64, DefaultMaxDecodeBytes); n > 8 {
		t.Errorf("64 CPUs, 8 GiB: %d workers", n)
	}
	if n := defaultWorkers(2, DefaultMaxDecodeBytes); n < 1 || n > 2 {
		t.Errorf("2 CPUs, 8 GiB: %d workers", n)
	}
}

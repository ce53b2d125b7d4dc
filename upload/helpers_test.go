package upload

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
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

// nsfwPicture is a class-maximising fixture: Porn above 0.99.
func nsfwPicture(t testing.TB) *image.NRGBA { return toNRGBA(t, fixture(t, "ascent-default-porn.png")) }

// safePicture is an ordinary photo of the same size, 224x224.
func safePicture(t testing.TB) *image.NRGBA {
	src := toNRGBA(t, fixture(t, "photo-coffee.png"))
	out := image.NewNRGBA(image.Rect(0, 0, 224, 224))
	sb := src.Bounds()
	for y := range 224 {
		for x := range 224 {
			out.Set(x, y, src.At(sb.Min.X+x*sb.Dx()/224, sb.Min.Y+y*sb.Dy()/224))
		}
	}
	return out
}

func toNRGBA(t testing.TB, data []byte) *image.NRGBA {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.SetNRGBA(x, y, color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA))
		}
	}
	return out
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk is a PNG chunk with its CRC.
func pngChunk(typ string, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	b = append(b, typ...)
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// pngIDAT splits an encoded PNG into its IHDR data and its image data.
func pngIDAT(data []byte) (ihdr, idat []byte) {
	for pos := 8; pos+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[pos:]))
		typ, body := string(data[pos+4:pos+8]), data[pos+8:pos+8+n]
		switch typ {
		case "IHDR":
			ihdr = body
		case "IDAT":
			idat = append(idat, body...)
		}
		pos += 12 + n
	}
	return ihdr, idat
}

// makeAPNG builds an APNG whose frames are full-canvas opaque images
// shown for delay/100 s each. With def, the default image (IDAT) is def
// and not part of the animation; otherwise frame 0 is the default image.
func makeAPNG(t testing.TB, frames []image.Image, def image.Image, delay uint16) []byte {
	t.Helper()
	b := frames[0].Bounds()
	ihdr, _ := pngIDAT(encodePNG(t, frames[0]))
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("acTL", binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(len(frames))), 0))...)
	seq := uint32(0)
	if def != nil {
		_, idat := pngIDAT(encodePNG(t, def))
		out = append(out, pngChunk("IDAT", idat)...)
	}
	for i, f := range frames {
		fc := binary.BigEndian.AppendUint32(nil, seq)
		fc = binary.BigEndian.AppendUint32(fc, uint32(b.Dx()))
		fc = binary.BigEndian.AppendUint32(fc, uint32(b.Dy()))
		fc = append(fc, 0, 0, 0, 0, 0, 0, 0, 0)
		fc = binary.BigEndian.AppendUint16(fc, delay)
		fc = binary.BigEndian.AppendUint16(fc, 100)
		fc = append(fc, 0, 0) // dispose none, blend source
		out = append(out, pngChunk("fcTL", fc)...)
		seq++
		h, idat := pngIDAT(encodePNG(t, f))
		if !bytes.Equal(h, ihdr) {
			t.Fatalf("frame %d encodes with another IHDR", i)
		}
		if i == 0 && def == nil {
			out = append(out, pngChunk("IDAT", idat)...)
			continue
		}
		out = append(out, pngChunk("fdAT", append(binary.BigEndian.AppendUint32(nil, seq), idat...))...)
		seq++
	}
	return append(out, pngChunk("IEND", nil)...)
}

// hideIn turns an opaque picture into a transparent one that shows it
// exactly only over the grey level bg (255 white, 0 black); its colour
// channels, which nsfwjs reads, hold something else.
func hideIn(pic *image.NRGBA, bg uint32) *image.NRGBA {
	out := image.NewNRGBA(pic.Bounds())
	for i := 0; i < len(pic.Pix); i += 4 {
		v := [3]uint32{uint32(pic.Pix[i]), uint32(pic.Pix[i+1]), uint32(pic.Pix[i+2])}
		a := max(v[0], v[1], v[2])
		if bg == 255 {
			a = 255 - min(v[0], v[1], v[2])
		}
		out.Pix[i+3] = uint8(a)
		for k := range 3 {
			for c := uint32(0); c < 256; c++ {
				if (c*a+bg*(255-a)+127)/255 == v[k] {
					out.Pix[i+k] = uint8(c)
					break
				}
			}
		}
	}
	return out
}

// gammaHidden encodes a picture as a 16-bit PNG with a gAMA chunk of
// gamma g: converted with 16-bit precision it shows the picture exactly
// (each sample is the middle of the range of values that show the
// picture's), and Chromium, which keeps only the high byte, shows it with
// banded shadows; the samples themselves, read without the chunk, are
// something else (with g = 1, linear samples: the picture much darker).
func gammaHidden(t testing.TB, pic *image.NRGBA, g float64) []byte {
	t.Helper()
	shown := func(s int) int {
		l := math.Pow(float64(s)/65535, 1/g)
		var e float64
		if l <= 0.0031308 {
			e = 12.92 * l
		} else {
			e = 1.055*math.Pow(l, 1/2.4) - 0.055
		}
		return int(math.Round(math.Max(0, math.Min(1, e)) * 255))
	}
	var lo, hi [256]int
	for i := range lo {
		lo[i], hi[i] = -1, -1
	}
	for s := range 65536 {
		v := shown(s)
		if lo[v] < 0 {
			lo[v] = s
		}
		hi[v] = s
	}
	sample := func(v uint8) uint16 {
		if lo[v] < 0 {
			t.Fatalf("value %d cannot be shown with gamma %v", v, g)
		}
		return uint16((lo[v] + hi[v]) / 2)
	}
	b := pic.Bounds()
	m := image.NewRGBA64(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := pic.NRGBAAt(x, y)
			m.SetRGBA64(x, y, color.RGBA64{sample(c.R), sample(c.G), sample(c.B), 0xffff})
		}
	}
	data := encodePNG(t, m)
	gama := pngChunk("gAMA", binary.BigEndian.AppendUint32(nil, uint32(math.Round(g*100000))))
	return append(append(append([]byte(nil), data[:33]...), gama...), data[33:]...)
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
func runtimeGC()                { runtime.GC() }

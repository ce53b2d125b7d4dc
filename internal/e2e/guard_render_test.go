package e2e

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
	"github.com/nsfw-go/nsfw/upload"
)

// The guard classifies what a browser shows (issue 11, items 2 and 3).
// Each crafted PNG is rendered by Chromium itself, on a white page and on
// a black one; the screenshots are classified with the native engine, and
// the guard's verdict on the file must be the verdict on what Chromium
// rendered (NSFW if either screenshot is). The guard's decoded pixels are
// compared with Chromium's too.

const renderHTML = `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="render.css">
<script type="module" src="render.js"></script></head><body><img id="i" alt=""></body></html>`

const renderCSS = `html, body { margin: 0; padding: 0; }
body.white { background: #fff; } body.black { background: #000; }
img { display: block; }`

const renderJS = `const q = new URLSearchParams(location.search);
document.body.className = q.get('bg') ?? 'white';
const img = document.querySelector('#i');
img.addEventListener('load', () => { document.body.dataset.ready = 'true'; });
img.src = q.get('img') ?? 'none.png';
if (!q.get('img')) document.body.dataset.ready = 'true';`

// crafted is one test input and what the colour channels alone give.
type crafted struct {
	name string
	data []byte
}

func TestGuardMatchesChromium(t *testing.T) {
	s := startExample(t, nsfw.Balanced, upload.Config{})
	for name, body := range map[string]string{"render.html": renderHTML, "render.css": renderCSS, "render.js": renderJS} {
		if err := os.WriteFile(filepath.Join(s.gen, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	det, err := nsfw.Default()
	if err != nil {
		t.Fatal(err)
	}
	porn := fixtureNRGBA(t, "ascent-default-porn.png")
	hentai := fixtureNRGBA(t, "ascent-default-hentai.png")
	photo := fixtureNRGBA(t, "photo-chelsea.png")
	inputs := []crafted{
		{"alpha-on-white.png", encodePNGBytes(t, hideIn(hentai, 255))},
		{"alpha-on-black.png", encodePNGBytes(t, hideIn(porn, 0))},
		{"gama-16bit.png", gammaHidden(t, porn, 1.0)},
		{"gama-photo.png", withChunk(encodePNGBytes(t, photo), pngChunkBytes("gAMA", be32(20000)))},
		{"chrm-photo.png", withChunk(encodePNGBytes(t, photo), chrmP3(), pngChunkBytes("gAMA", be32(45455)))},
		{"iccp-photo.png", withChunk(encodePNGBytes(t, photo), iccpGamma(1.6))},
		{"plain-porn.png", encodePNGBytes(t, porn)},
		{"plain-photo.png", encodePNGBytes(t, photo)},
	}
	for _, in := range inputs {
		os.WriteFile(filepath.Join(s.gen, in.name), in.data, 0o644)
	}
	p := s.open(t, "/generated/render.html")

	shot := func(t *testing.T, name, bg string) *image.NRGBA {
		t.Helper()
		if err := chromedp.Do(p.ctx,
			chromedp.EmulateViewport(400, 400, chromedp.EmulateScale(1)),
			chromedp.Navigate(s.base+"/generated/render.html?bg="+bg+"&img="+name),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
			t.Fatal(err)
		}
		b, err := chromedp.Run(p.ctx, chromedp.Screenshot(chromedp.CSS("#i")))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return toNRGBAImage(img)
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			dec, err := imageio.DecodeBytes(in.data, imageio.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			ours := dec.Frames[0]
			rendered := nsfw.Safe
			for _, bg := range []struct {
				name  string
				level uint32
			}{{"white", 255}, {"black", 0}} {
				sc := shot(t, in.name, bg.name)
				if sc.Rect.Dx() != ours.Bounds().Dx() || sc.Rect.Dy() != ours.Bounds().Dy() {
					t.Fatalf("screenshot %v, image %v", sc.Rect, ours.Bounds())
				}
				r, _ := det.ClassifyPixels(sc.Pix, sc.Rect.Dx(), sc.Rect.Dy(), sc.Stride, nsfw.RGBA)
				if r.Verdict == nsfw.NSFW {
					rendered = nsfw.NSFW
				}
				maxd, mean := diff(flattenOver(ours, bg.level), sc)
				t.Logf("on %s: Chromium's rendering %s (%s %.3f); our pixels differ by %.2f on average, %d at most",
					bg.name, r.Verdict, r.Top(), r.NSFWScore, mean, maxd)
				if mean > 0.5 || maxd > 2 {
					t.Errorf("on %s: our decoded pixels differ from Chromium's by %.2f on average, %d at most", bg.name, mean, maxd)
				}
			}
			guard := guardVerdict(t, s.guard, in.name, in.data)
			raw, _ := det.ClassifyPixels(rawPixels(t, in.data))
			t.Logf("guard: %s; the colour channels alone (nsfwjs): %s %.3f", guard, raw.Verdict, raw.NSFWScore)
			if guard != rendered.String() {
				t.Errorf("the guard says %s, Chromium renders something %s", guard, rendered)
			}
		})
	}

	// An APNG: the frames Chromium decodes (ImageDecoder) are the frames
	// the guard classifies, and its default image, which viewers without
	// APNG support show, is what Chromium shows of the same file with the
	// animation chunk removed.
	t.Run("apng", func(t *testing.T) {
		photo224 := scaleTo(photo, 224, 224) // the default image's size: porn's
		frames := []image.Image{photo224, shiftPixel(photo224, 3), shiftPixel(photo224, 9)}
		data := makeAPNGBytes(t, frames, porn)
		os.WriteFile(filepath.Join(s.gen, "anim.png"), data, 0o644)
		os.WriteFile(filepath.Join(s.gen, "anim-static.png"), dropChunk(data, "acTL"), 0o644)
		var got []string
		p.call(t, `(async () => {
			const data = await (await fetch('/generated/anim.png')).arrayBuffer();
			const dec = new ImageDecoder({data, type: 'image/png'});
			await dec.tracks.ready;
			const n = dec.tracks.selectedTrack.frameCount, out = [];
			for (let i = 0; i < n; i++) {
				const {image} = await dec.decode({frameIndex: i});
				const c = new OffscreenCanvas(image.displayWidth, image.displayHeight);
				const g = c.getContext('2d');
				g.fillStyle = '#fff';
				g.fillRect(0, 0, c.width, c.height);
				g.drawImage(image, 0, 0);
				image.close();
				const px = g.getImageData(0, 0, c.width, c.height).data;
				let s = '';
				for (let j = 0; j < px.length; j += 8192) s += String.fromCharCode(...px.subarray(j, j + 8192));
				out.push(btoa(s));
			}
			return out;
		})()`, &got)
		r, err := imageio.NewFrameReader(data, imageio.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var ours []image.Image
		for {
			f, err := r.Next()
			if err != nil {
				break
			}
			if f.Index >= 0 {
				ours = append(ours, cloneImage(f.Image))
			}
		}
		if len(got) != len(ours) || len(ours) != 3 {
			t.Fatalf("Chromium decodes %d frames, the guard %d", len(got), len(ours))
		}
		b := photo224.Rect
		for i := range got {
			pix, _ := base64.StdEncoding.DecodeString(got[i])
			cr := &image.NRGBA{Pix: pix, Stride: 4 * b.Dx(), Rect: image.Rect(0, 0, b.Dx(), b.Dy())}
			if maxd, mean := diff(flattenOver(ours[i], 255), cr); maxd > 2 {
				t.Errorf("frame %d: ours differs from Chromium's by %d at most (%.2f mean)", i, maxd, mean)
			}
			a, _ := det.Classify(ours[i])
			c, _ := det.ClassifyPixels(cr.Pix, b.Dx(), b.Dy(), cr.Stride, nsfw.RGBA)
			if a.Verdict != c.Verdict || a.Verdict != nsfw.Safe {
				t.Errorf("frame %d: guard %s, Chromium's frame %s", i, a.Verdict, c.Verdict)
			}
		}
		static := shot(t, "anim-static.png", "white")
		sr, _ := det.ClassifyPixels(static.Pix, static.Rect.Dx(), static.Rect.Dy(), static.Stride, nsfw.RGBA)
		animated := shot(t, "anim.png", "white")
		ar, _ := det.ClassifyPixels(animated.Pix, animated.Rect.Dx(), animated.Rect.Dy(), animated.Stride, nsfw.RGBA)
		guard := guardVerdict(t, s.guard, "anim.png", data)
		t.Logf("Chromium shows the animation %s, the default image (without acTL) %s; the guard: %s", ar.Verdict, sr.Verdict, guard)
		if ar.Verdict != nsfw.Safe || sr.Verdict != nsfw.NSFW || guard != "nsfw" {
			t.Errorf("animation %s, default image %s, guard %s; want safe, nsfw, nsfw", ar.Verdict, sr.Verdict, guard)
		}
	})
}

// guardVerdict posts data to the guard and returns "nsfw" or "safe".
func guardVerdict(t *testing.T, g *upload.Guard, name string, data []byte) string {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, _ := mw.CreateFormFile("photos", name)
	w.Write(data)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/upload", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, req)
	switch rec.Code {
	case http.StatusOK:
		return "safe"
	case http.StatusUnprocessableEntity:
		if bytes.Contains(rec.Body.Bytes(), []byte(`"reason":"nsfw"`)) {
			return "nsfw"
		}
	}
	t.Fatalf("guard: %d %s", rec.Code, rec.Body)
	return ""
}

func fixtureNRGBA(t *testing.T, name string) *image.NRGBA {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(fixtureBytes(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	return toNRGBAImage(img)
}

func toNRGBAImage(img image.Image) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.SetNRGBA(x-b.Min.X, y-b.Min.Y, color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA))
		}
	}
	return out
}

func cloneImage(img image.Image) image.Image { return toNRGBAImage(img) }

// rawPixels decodes data without colour chunks or alpha, as nsfwjs reads it.
func rawPixels(t *testing.T, data []byte) ([]byte, int, int, int, nsfw.PixelFormat) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	m := toNRGBAImage(img)
	return m.Pix, m.Rect.Dx(), m.Rect.Dy(), m.Stride, nsfw.RGBA
}

// flattenOver composites img over a grey level, rounding to nearest.
func flattenOver(img image.Image, bg uint32) *image.NRGBA {
	m := toNRGBAImage(img)
	for i := 0; i < len(m.Pix); i += 4 {
		a := uint32(m.Pix[i+3])
		for c := range 3 {
			m.Pix[i+c] = uint8((uint32(m.Pix[i+c])*a + bg*(255-a) + 127) / 255)
		}
		m.Pix[i+3] = 255
	}
	return m
}

// diff is the largest and the mean absolute difference of the colour
// channels of two images of the same size.
func diff(a, b *image.NRGBA) (int, float64) {
	maxd, sum, n := 0, 0, 0
	for y := range a.Rect.Dy() {
		for x := range a.Rect.Dx() {
			i, j := a.PixOffset(x, y), b.PixOffset(b.Rect.Min.X+x, b.Rect.Min.Y+y)
			for c := range 3 {
				d := int(a.Pix[i+c]) - int(b.Pix[j+c])
				d = max(d, -d)
				maxd = max(maxd, d)
				sum += d
				n++
			}
		}
	}
	return maxd, float64(sum) / float64(n)
}

func encodePNGBytes(t *testing.T, m image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func pngChunkBytes(typ string, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	b = append(append(b, typ...), body...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// withChunk inserts chunks after a PNG's IHDR.
func withChunk(data []byte, chunks ...[]byte) []byte {
	out := append([]byte(nil), data[:33]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, data[33:]...)
}

// dropChunk removes every chunk of a type.
func dropChunk(data []byte, typ string) []byte {
	out := append([]byte(nil), data[:8]...)
	for pos := 8; pos+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[pos:]))
		end := pos + 12 + n
		if string(data[pos+4:pos+8]) != typ {
			out = append(out, data[pos:end]...)
		}
		pos = end
	}
	return out
}

// chrmP3 is a cHRM chunk with Display P3's primaries and D65 white.
func chrmP3() []byte {
	var b []byte
	for _, v := range []float64{0.3127, 0.3290, 0.680, 0.320, 0.265, 0.690, 0.150, 0.060} {
		b = binary.BigEndian.AppendUint32(b, uint32(math.Round(v*100000)))
	}
	return pngChunkBytes("cHRM", b)
}

// iccpGamma is an iCCP chunk: a version 4 matrix/TRC profile with sRGB's
// primaries and a pure power curve.
func iccpGamma(g float64) []byte {
	s15 := func(v float64) []byte { return binary.BigEndian.AppendUint32(nil, uint32(int32(math.Round(v*65536)))) }
	xyz := func(x, y, z float64) []byte {
		return append(append(append([]byte("XYZ \x00\x00\x00\x00"), s15(x)...), s15(y)...), s15(z)...)
	}
	para := append([]byte("para\x00\x00\x00\x00\x00\x00\x00\x00"), s15(g)...)
	tags := []struct {
		sig  string
		data []byte
	}{
		{"rXYZ", xyz(0.436065674, 0.222488403, 0.013916016)},
		{"gXYZ", xyz(0.385147095, 0.716873169, 0.097076416)},
		{"bXYZ", xyz(0.143066406, 0.060607910, 0.714096069)},
		{"rTRC", para}, {"gTRC", para}, {"bTRC", para},
		{"wtpt", xyz(0.9642, 1, 0.8249)},
	}
	hdr := make([]byte, 128)
	copy(hdr[8:], []byte{4, 0x30, 0, 0})
	copy(hdr[12:], "mntr")
	copy(hdr[16:], "RGB XYZ ")
	copy(hdr[36:], "acsp")
	copy(hdr[68:], s15(0.9642))
	copy(hdr[72:], s15(1))
	copy(hdr[76:], s15(0.8249))
	table := binary.BigEndian.AppendUint32(nil, uint32(len(tags)))
	var body []byte
	off := 128 + 4 + 12*len(tags)
	for _, tg := range tags {
		table = append(table, tg.sig...)
		table = binary.BigEndian.AppendUint32(table, uint32(off+len(body)))
		table = binary.BigEndian.AppendUint32(table, uint32(len(tg.data)))
		body = append(body, tg.data...)
	}
	p := append(append(hdr, table...), body...)
	binary.BigEndian.PutUint32(p, uint32(len(p)))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(p)
	zw.Close()
	return pngChunkBytes("iCCP", append([]byte("gamma\x00\x00"), z.Bytes()...))
}

// hideIn makes a transparent image that shows pic exactly only over the
// grey level bg (255 or 0); its colour channels hold something else.
func hideIn(pic *image.NRGBA, bg uint32) *image.NRGBA {
	out := image.NewNRGBA(pic.Rect)
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

// gammaHidden is pic as a 16-bit PNG with a gAMA chunk of gamma g whose
// samples, converted with 16-bit precision, show pic exactly (Chromium
// keeps only their high byte first, so it shows pic with banded shadows).
func gammaHidden(t *testing.T, pic *image.NRGBA, g float64) []byte {
	shown := func(s int) int {
		l := math.Pow(float64(s)/65535, 1/g)
		e := 12.92 * l
		if l > 0.0031308 {
			e = 1.055*math.Pow(l, 1/2.4) - 0.055
		}
		return int(math.Round(math.Max(0, math.Min(1, e)) * 255))
	}
	var lo, hi [256]int
	for i := range lo {
		lo[i] = -1
	}
	for s := range 65536 {
		v := shown(s)
		if lo[v] < 0 {
			lo[v] = s
		}
		hi[v] = s
	}
	m := image.NewRGBA64(pic.Rect)
	for i := 0; i < len(pic.Pix); i += 4 {
		for k := range 3 {
			v := pic.Pix[i+k]
			if lo[v] < 0 {
				t.Fatalf("%d cannot be shown", v)
			}
			s := uint16((lo[v] + hi[v]) / 2)
			m.Pix[2*i+2*k], m.Pix[2*i+2*k+1] = byte(s>>8), byte(s)
		}
		m.Pix[2*i+6], m.Pix[2*i+7] = 0xff, 0xff
	}
	return withChunk(encodePNGBytes(t, m), pngChunkBytes("gAMA", be32(uint32(math.Round(g*100000)))))
}

func shiftPixel(pic *image.NRGBA, i int) *image.NRGBA {
	out := image.NewNRGBA(pic.Rect)
	copy(out.Pix, pic.Pix)
	out.Pix[4*i], out.Pix[4*i+1] = 255, 0
	return out
}

// makeAPNGBytes builds an APNG of opaque full-canvas frames with a
// separate default image def.
func makeAPNGBytes(t *testing.T, frames []image.Image, def image.Image) []byte {
	idat := func(m image.Image) (ihdr, data []byte) {
		p := encodePNGBytes(t, m)
		for pos := 8; pos+8 <= len(p); {
			n := int(binary.BigEndian.Uint32(p[pos:]))
			switch string(p[pos+4 : pos+8]) {
			case "IHDR":
				ihdr = p[pos+8 : pos+8+n]
			case "IDAT":
				data = append(data, p[pos+8:pos+8+n]...)
			}
			pos += 12 + n
		}
		return ihdr, data
	}
	b := frames[0].Bounds()
	ihdr, _ := idat(frames[0])
	out := append([]byte("\x89PNG\r\n\x1a\n"), pngChunkBytes("IHDR", ihdr)...)
	out = append(out, pngChunkBytes("acTL", append(be32(uint32(len(frames))), be32(0)...))...)
	dh, dd := idat(def) // same size and type as the frames
	if !bytes.Equal(dh, ihdr) {
		t.Fatal("the default image's IHDR differs from the frames'")
	}
	out = append(out, pngChunkBytes("IDAT", dd)...)
	seq := uint32(0)
	for _, f := range frames {
		fc := be32(seq)
		fc = append(fc, be32(uint32(b.Dx()))...)
		fc = append(fc, be32(uint32(b.Dy()))...)
		fc = append(fc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 50, 0, 100, 0, 0)
		out = append(out, pngChunkBytes("fcTL", fc)...)
		seq++
		_, fd := idat(f)
		out = append(out, pngChunkBytes("fdAT", append(be32(seq), fd...))...)
		seq++
	}
	return append(out, pngChunkBytes("IEND", nil)...)
}

func scaleTo(pic *image.NRGBA, w, h int) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	b := pic.Rect
	for y := range h {
		for x := range w {
			out.Set(x, y, pic.At(b.Min.X+x*b.Dx()/w, b.Min.Y+y*b.Dy()/h))
		}
	}
	return out
}

package nsfw

import (
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nsfw-go/nsfw/model/mobilenetv2"
)

func TestPolicy(t *testing.T) {
	r := func(p [NumClasses]float32) *Result {
		res := &Result{Probabilities: p}
		res.finish(Balanced)
		return res
	}
	cases := []struct {
		p    Policy
		res  *Result
		want bool
	}{
		{Balanced, r([5]float32{0, 0.5, 0.5, 0, 0}), true},     // hentai at threshold
		{Balanced, r([5]float32{0.51, 0.49, 0, 0, 0}), false},  // just below
		{Balanced, r([5]float32{0.3, 0, 0, 0.35, 0.35}), true}, // sum 0.7
		{Balanced, r([5]float32{0.4, 0, 0, 0.3, 0.3}), false},  // sum 0.6
		{Lenient, r([5]float32{0, 0, 0.01, 0, 0.99}), true},    // sum
		{Policy{Porn: 0.5}, r([5]float32{0, 0, 0, 0.1, 0.9}), false},
		{Strict, r([5]float32{0.5, 0, 0, 0, 0.5}), true},
		{Strict, r([5]float32{0.6, 0, 0.1, 0, 0.3}), false},
	}
	for i, c := range cases {
		if got := c.p.Flags(c.res); got != c.want {
			t.Errorf("case %d: %v flags %v = %v, want %v (%s)", i, c.p, c.res.Probabilities, got, c.want, c.p.Explain(c.res))
		}
	}
	res := r([5]float32{0, 0, 0, 0.93, 0.07})
	if got := Balanced.Explain(res); got != "porn 0.93 ≥ 0.50, sum 1.00 ≥ 0.70" {
		t.Errorf("Explain = %q", got)
	}
}

func TestParsePolicy(t *testing.T) {
	good := map[string]Policy{
		"strict":              Strict,
		" Balanced ":          Balanced,
		"lenient":             Lenient,
		"porn=0.6,hentai=0.7": {Porn: 0.6, Hentai: 0.7},
		"balanced,sexy=0":     {Porn: 0.5, Hentai: 0.5, Sum: 0.7},
		"sum=0.9":             {Sum: 0.9},
	}
	for s, want := range good {
		got, err := ParsePolicy(s)
		if err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %+v, %v; want %+v", s, got, err, want)
		}
		// String round-trips.
		again, err := ParsePolicy(got.String())
		if err != nil || again != got {
			t.Errorf("ParsePolicy(%q.String() = %q) = %+v, %v", s, got.String(), again, err)
		}
	}
	for _, s := range []string{"", "paranoid", "porn=1.5", "porn=abc", "foo=0.5", "porn=0.5,strict", "porn=0,sexy=0", `{"porn":0.5}`, "porn=NaN"} {
		if _, err := ParsePolicy(s); err == nil {
			t.Errorf("ParsePolicy(%q) accepted", s)
		}
	}
}

// TestPolicyJSON: the JSON form is the struct's, the same keys as in JS.
func TestPolicyJSON(t *testing.T) {
	b, err := json.Marshal(Balanced)
	if err != nil || string(b) != `{"porn":0.5,"hentai":0.5,"sexy":0.8,"sum":0.7}` {
		t.Fatalf("%s %v", b, err)
	}
	var p Policy
	if err := json.Unmarshal([]byte(`{"porn":0.4,"hentai":0.4,"sum":0.8}`), &p); err != nil || p != (Policy{Porn: 0.4, Hentai: 0.4, Sum: 0.8}) || p.Validate() != nil {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestResultSorted(t *testing.T) {
	r := Result{Probabilities: [5]float32{0.1, 0.05, 0.6, 0.2, 0.05}}
	s := r.Sorted()
	want := []Class{Neutral, Porn, Drawing, Hentai, Sexy}
	for i, c := range want {
		if s[i].Class != c {
			t.Fatalf("Sorted = %v, want order %v", s, want)
		}
	}
	if r.Top() != Neutral {
		t.Fatalf("Top = %v", r.Top())
	}
	var c Class
	if err := c.UnmarshalText([]byte("porn")); err != nil || c != Porn {
		t.Fatalf("UnmarshalText: %v %v", c, err)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(nil); !errors.Is(err, ErrBadModel) {
		t.Errorf("nil model: %v", err)
	}
	if _, err := Load([]byte("NSFWMODL garbage")); !errors.Is(err, ErrBadModel) {
		t.Errorf("garbage: %v", err)
	}
	b := append([]byte(nil), mobilenetv2.Bytes()...)
	b[len(b)/2] ^= 1
	if _, err := Load(b); !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("flipped bit: %v", err)
	}
	if _, err := Load(mobilenetv2.Bytes()[:1000]); !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated: %v", err)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.nsfw")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Default(WithPolicy(Policy{Porn: 2})); err == nil {
		t.Error("invalid policy accepted")
	}
	if _, err := Default(WithConcurrency(0)); err == nil {
		t.Error("concurrency 0 accepted")
	}
}

func TestClassifyErrors(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Classify(nil); !errors.Is(err, ErrEmptyImage) {
		t.Errorf("nil image: %v", err)
	}
	if _, err := d.Classify(image.NewRGBA(image.Rect(0, 0, 0, 10))); !errors.Is(err, ErrEmptyImage) {
		t.Errorf("0x10 image: %v", err)
	}
	if _, err := d.ClassifyPixels(nil, 0, 0, 0, RGBA); !errors.Is(err, ErrEmptyImage) {
		t.Errorf("0x0 pixels: %v", err)
	}
	if _, err := d.ClassifyPixels(make([]byte, 10), 2, 2, 8, RGBA); err == nil {
		t.Error("short pixel buffer accepted")
	}
	if _, err := d.ClassifyPixels(make([]byte, 12), 2, 2, 6, PixelFormat(9)); err == nil || err.Error() != "unknown pixel format 9" {
		t.Error("unknown pixel format accepted")
	}
	if _, err := d.ClassifyInput(make([]float32, 10)); err == nil {
		t.Error("short input accepted")
	}
	if _, err := d.ClassifyFrames(nil); err == nil {
		t.Error("no frames accepted")
	}
	// The detector still works after errors.
	if _, err := d.Classify(image.NewGray(image.Rect(0, 0, 3, 3))); err != nil {
		t.Fatal(err)
	}
}

// TestRawPathsAgree classifies one image through image.Image, RGBA and RGB
// bytes and expects identical results.
func TestRawPathsAgree(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	img := mustDecode(t, "testdata/fixtures/photo-chelsea.png")
	b := img.Bounds()
	nrgba := image.NewNRGBA(b)
	rgb := make([]byte, 0, b.Dx()*b.Dy()*3)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			nrgba.SetNRGBA(x, y, c)
			rgb = append(rgb, c.R, c.G, c.B)
		}
	}
	r1, err := d.Classify(img)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := d.ClassifyPixels(nrgba.Pix, b.Dx(), b.Dy(), nrgba.Stride, RGBA)
	if err != nil {
		t.Fatal(err)
	}
	r3, err := d.ClassifyPixels(rgb, b.Dx(), b.Dy(), 3*b.Dx(), RGB)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Probabilities != r2.Probabilities || r1.Probabilities != r3.Probabilities {
		t.Fatalf("paths disagree: %v %v %v", r1.Probabilities, r2.Probabilities, r3.Probabilities)
	}
	var sum float64
	for _, p := range r1.Probabilities {
		sum += float64(p)
	}
	if math.Abs(sum-1) > 1e-5 || r1.Frames != 1 || r1.Elapsed <= 0 {
		t.Fatalf("result %+v", r1)
	}
}

func TestClassifyPixelsAllocatesNothing(t *testing.T) {
	d, err := Default(WithConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	pix := make([]byte, 300*200*4)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	if n := testing.AllocsPerRun(3, func() {
		if _, err := d.ClassifyPixels(pix, 300, 200, 1200, RGBA); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("ClassifyPixels allocates %v times per call", n)
	}
}

// TestConcurrentUse classifies different images from many goroutines and
// expects exactly the serial results: arenas are never shared.
func TestConcurrentUse(t *testing.T) {
	d, err := Default(WithConcurrency(3))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"photo-chelsea.png", "drawing-frog.png", "ascent-default-porn.png", "ascent-default-hentai.png", "odd-17x23.png"}
	imgs := make([]image.Image, len(files))
	want := make([]Result, len(files))
	for i, f := range files {
		imgs[i] = mustDecode(t, "testdata/fixtures/"+f)
		if want[i], err = d.Classify(imgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				i := (g + j) % len(files)
				r, err := d.Classify(imgs[i])
				if err != nil {
					errs <- err
					return
				}
				if r.Probabilities != want[i].Probabilities {
					errs <- errors.New(files[i] + ": concurrent result differs from serial")
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(d.pool.free); n > 3 {
		t.Fatalf("%d arenas exist with concurrency 3", n)
	}
}

func TestWithPolicySharesModel(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	strict, err := d.WithPolicy(Policy{Sexy: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	img := mustDecode(t, "testdata/fixtures/ascent-default-sexy.png")
	a, _ := d.Classify(img)
	b, _ := strict.Classify(img)
	if a.Probabilities != b.Probabilities || strict.pool != d.pool {
		t.Fatal("WithPolicy changed the model")
	}
	if b.Verdict != NSFW {
		t.Fatalf("sexy %.3f not flagged by sexy=0.01", b.Probabilities[Sexy])
	}
}

func TestClassifyFramesReportsWorstFrame(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	frames := []image.Image{
		mustDecode(t, "testdata/fixtures/photo-chelsea.png"),
		mustDecode(t, "testdata/fixtures/ascent-default-porn.png"),
		mustDecode(t, "testdata/fixtures/drawing-frog.png"),
	}
	r, err := d.ClassifyFrames(frames)
	if err != nil {
		t.Fatal(err)
	}
	if r.Frame != 1 || r.Frames != 3 || r.Top() != Porn || r.Verdict != NSFW {
		t.Fatalf("got frame %d of %d, top %v, verdict %v", r.Frame, r.Frames, r.Top(), r.Verdict)
	}
}

// TestArenaSize fails if the planned arena grows by more than 3%: a
// regression in the planner would otherwise only show as memory use.
func TestArenaSize(t *testing.T) {
	want := map[string]int{"default": 6021120, "mid": 9031680}
	for _, m := range models {
		d, err := m.load()
		if err != nil {
			t.Fatal(err)
		}
		got := d.Info().ArenaBytes
		if float64(got) > 1.03*float64(want[m.name]) {
			t.Errorf("%s: arena %d bytes, more than 3%% over %d", m.name, got, want[m.name])
		}
		t.Logf("%s: arena %.2f MB, %d MMAC", m.name, float64(got)/1e6, d.Info().MACs/1e6)
	}
}

// hideIn turns an opaque picture into a transparent one that shows it,
// exactly, only when composited over the grey level bg (255 white, 0
// black): over white each pixel gets alpha 255 − min(R,G,B), over black
// max(R,G,B), and the colour that composites back to the picture. Its
// colour channels, which nsfwjs reads, hold something else.
func hideIn(pic image.Image, bg uint32) *image.NRGBA {
	b := pic.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(pic.At(x, y)).(color.NRGBA)
			v := [3]uint32{uint32(c.R), uint32(c.G), uint32(c.B)}
			a := max(v[0], v[1], v[2])
			if bg == 255 {
				a = 255 - min(v[0], v[1], v[2])
			}
			px := color.NRGBA{A: uint8(a)}
			ch := [3]*uint8{&px.R, &px.G, &px.B}
			for k := range 3 {
				for cc := uint32(0); cc < 256; cc++ {
					if (cc*a+bg*(255-a)+127)/255 == v[k] {
						*ch[k] = uint8(cc)
						break
					}
				}
			}
			out.SetNRGBA(x, y, px)
		}
	}
	return out
}

// flatten composites img over the grey level bg, the naive way, over the
// whole image: the reference for the alpha rule.
func flatten(img image.Image, bg uint32) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			a := uint32(c.A)
			mix := func(v uint8) uint8 { return uint8((uint32(v)*a + bg*(255-a) + 127) / 255) }
			out.SetNRGBA(x, y, color.NRGBA{mix(c.R), mix(c.G), mix(c.B), 255})
		}
	}
	return out
}

// TestAlphaRule: an image with transparency is classified over white and
// over black, and the worse result is reported; the references are the
// whole image flattened naively and classified as raw pixels. Pictures
// hidden so that they show only on a white or only on a black page are
// caught, where the colour channels alone (nsfwjs, ClassifyPixels) pass.
func TestAlphaRule(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	worse := func(a, b Result) Result {
		if b.Verdict == NSFW && a.Verdict != NSFW || b.Verdict == a.Verdict && b.NSFWScore > a.NSFWScore {
			return b
		}
		return a
	}
	check := func(name string, img image.Image) Result {
		t.Helper()
		got, err := d.Classify(img)
		if err != nil {
			t.Fatal(err)
		}
		var want [2]Result
		for i, bg := range []uint32{255, 0} {
			f := flatten(img, bg)
			if want[i], err = d.ClassifyPixels(f.Pix, f.Rect.Dx(), f.Rect.Dy(), f.Stride, RGBA); err != nil {
				t.Fatal(err)
			}
		}
		w := worse(want[0], want[1])
		if got.Probabilities != w.Probabilities || got.Verdict != w.Verdict {
			t.Errorf("%s: %v %v, want the worse of white %v and black %v", name, got.Probabilities, got.Verdict, want[0].Probabilities, want[1].Probabilities)
		}
		return got
	}
	files, _ := filepath.Glob("testdata/fixtures/alpha-*.png")
	if len(files) < 5 {
		t.Fatalf("%d alpha fixtures", len(files))
	}
	for _, f := range files {
		r := check(filepath.Base(f), mustDecode(t, f))
		t.Logf("%s: %s, %s %.3f", filepath.Base(f), r.Verdict, r.Top(), r.NSFWScore)
	}
	for _, c := range []struct {
		fixture string
		bg      uint32
	}{{"ascent-default-hentai.png", 255}, {"ascent-default-porn.png", 0}, {"ascent-default-sexy.png", 0}} {
		hidden := hideIn(mustDecode(t, "testdata/fixtures/"+c.fixture), c.bg)
		raw, _ := d.ClassifyPixels(hidden.Pix, hidden.Rect.Dx(), hidden.Rect.Dy(), hidden.Stride, RGBA)
		got := check(c.fixture+" hidden", hidden)
		if raw.Verdict != Safe || got.Verdict != NSFW {
			t.Errorf("%s shown only on %d: colour channels %s (%.3f), rule %s (%.3f); want safe and nsfw",
				c.fixture, c.bg, raw.Verdict, raw.NSFWScore, got.Verdict, got.NSFWScore)
		}
	}
	// One transparent pixel where the resize reads it is enough to apply
	// the rule; on a paletted image and a premultiplied one too.
	pic := mustDecode(t, "testdata/fixtures/photo-chelsea.png")
	b := pic.Bounds()
	rgba := image.NewRGBA(b)
	pal := image.NewPaletted(b, color.Palette{color.NRGBA{}, color.NRGBA{200, 30, 30, 255}, color.NRGBA{30, 30, 200, 120}})
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			rgba.Set(x, y, pic.At(x, y))
			pal.SetColorIndex(x, y, uint8((x/7+y/5)%3))
		}
	}
	rgba.SetRGBA(b.Min.X, b.Min.Y, color.RGBA{10, 0, 0, 10})
	check("RGBA with one transparent pixel", rgba)
	check("paletted with transparency", pal)
}

// TestOpaqueClassifyUnchanged: for every opaque fixture (the alpha-*
// fixtures and one lossless WebP have transparency), Classify is
// bit-identical to classifying its preprocessed input (nsfwjs's path).
func TestOpaqueClassifyUnchanged(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/fixtures/*")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".md") || strings.Contains(f, "alpha-") {
			continue
		}
		img := mustDecode(t, f)
		if o, ok := img.(interface{ Opaque() bool }); ok && !o.Opaque() {
			t.Logf("%s has transparency", f)
			continue
		}
		got, err := d.Classify(img)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := d.ClassifyInput(fixtureInput(t, f))
		if got.Probabilities != want.Probabilities {
			t.Errorf("%s: %v, want %v", f, got.Probabilities, want.Probabilities)
		}
		n++
	}
	if n < 40 {
		t.Errorf("only %d opaque fixtures", n)
	}
}

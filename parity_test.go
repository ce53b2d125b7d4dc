package nsfw

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nsfw-go/nsfw/internal/imageio"
	"github.com/nsfw-go/nsfw/internal/kernels"
	"github.com/nsfw-go/nsfw/internal/preprocess"
)

// The parity bars, against nsfwjs 4.4.0 on TF.js's cpu backend
// (testdata/reference.json, made by build/reference/reference.mjs).
const (
	sameInputTolerance = 1e-3 // same 224×224 float input
	endToEndTolerance  = 0.01 // from the file: our decode and resize vs theirs
)

type reference struct {
	Classes  []string `json:"classes"`
	Fixtures []struct {
		Name   string              `json:"name"`
		File   string              `json:"file"`
		Format string              `json:"format"`
		Width  int                 `json:"width"`
		Height int                 `json:"height"`
		Models map[string]refModel `json:"models"`
	} `json:"fixtures"`
}

type refModel struct {
	InputSHA256     string    `json:"input_sha256"`
	SameInput       []float64 `json:"same_input"`
	TFJSInputSHA256 string    `json:"tfjs_input_sha256"`
	Decoder         string    `json:"decoder"`
	E2E             []float64 `json:"e2e"`
	E2EJpegjs       []float64 `json:"e2e_jpegjs"`
	JpegjsPixelDiff *float64  `json:"jpegjs_vs_go_max_abs_pixel_diff"`
	PngjsEqualsGo   *bool     `json:"pngjs_equals_go_rgb"`
}

var loadReference = sync.OnceValues(func() (*reference, error) {
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		return nil, err
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		return nil, err
	}
	return &ref, nil
})

// fixtureInput decodes a fixture and preprocesses its first frame the way
// Classify does, returning the 224×224×3 input.
func fixtureInput(t testing.TB, file string) []float32 {
	t.Helper()
	dec, err := imageio.DecodeFile(file, imageio.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	src, err := preprocess.FromImage(dec.Frames[0])
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, 224*224*3)
	if _, err := preprocess.Resize(in, 224, 224, &src, preprocess.NewTable(0, 1), DefaultReduceAbove, &preprocess.Taps{}); err != nil {
		t.Fatal(err)
	}
	return in
}

func inputSHA256(in []float32) string {
	b := make([]byte, 4*len(in))
	for i, v := range in {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

var models = []struct {
	name string
	load func(...Option) (*Detector, error)
}{{"default", Default}, {"mid", Mid}}

// TestParityWithNSFWJS checks every fixture against the reference, for
// both models and every optimized kernel set:
//   - our preprocessing is bit-identical to TF.js's on the same pixels;
//   - on the same input, every probability is within 1e-3;
//   - end to end from the file, within 0.01 and with the same top-1.
func TestParityWithNSFWJS(t *testing.T) {
	ref, err := loadReference()
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.Fixtures) < 30 {
		t.Fatalf("reference has %d fixtures, want at least 30", len(ref.Fixtures))
	}
	inputs := make([][]float32, len(ref.Fixtures))
	for i, f := range ref.Fixtures {
		inputs[i] = fixtureInput(t, f.File)
	}
	for _, m := range models {
		for _, k := range kernels.Implementations()[1:] {
			t.Run(m.name+"/"+k.Name, func(t *testing.T) {
				d, err := m.load(withKernels(k))
				if err != nil {
					t.Fatal(err)
				}
				var maxSame, maxE2E, maxJpegjs float64
				worst := ""
				for i, f := range ref.Fixtures {
					rm, ok := f.Models[m.name]
					if !ok {
						t.Fatalf("%s: no reference for model %s", f.Name, m.name)
					}
					if got := inputSHA256(inputs[i]); got != rm.InputSHA256 {
						t.Fatalf("%s: our preprocessed input changed since the reference was made (sha256 %s, reference %s): regenerate testdata/reference.json", f.Name, got, rm.InputSHA256)
					}
					// Whenever both sides decoded the same pixels, TF.js's own
					// preprocessing must equal ours bit for bit.
					samePixels := rm.Decoder == "go" || (rm.PngjsEqualsGo != nil && *rm.PngjsEqualsGo)
					if samePixels && rm.TFJSInputSHA256 != rm.InputSHA256 {
						t.Errorf("%s: TF.js's preprocessing of the same pixels differs from ours", f.Name)
					}
					r, err := d.ClassifyInput(inputs[i])
					if err != nil {
						t.Fatal(err)
					}
					got := make([]float64, NumClasses)
					for c := range got {
						got[c] = float64(r.Probabilities[c])
					}
					for c := range got {
						if dd := math.Abs(got[c] - rm.SameInput[c]); dd > maxSame {
							maxSame = dd
						}
						if dd := math.Abs(got[c] - rm.SameInput[c]); !(dd <= sameInputTolerance) {
							t.Errorf("%s: same input: %s = %.6f, nsfwjs %.6f (|Δ| %.2g > %g)", f.Name, Class(c), got[c], rm.SameInput[c], dd, sameInputTolerance)
						}
						if dd := math.Abs(got[c] - rm.E2E[c]); dd > maxE2E {
							maxE2E, worst = dd, f.Name
						}
						if dd := math.Abs(got[c] - rm.E2E[c]); !(dd <= endToEndTolerance) {
							t.Errorf("%s: end to end (%s decoder): %s = %.6f, nsfwjs %.6f (|Δ| %.2g > %g)", f.Name, rm.Decoder, Class(c), got[c], rm.E2E[c], dd, endToEndTolerance)
						}
					}
					if a, b := argmax(got), argmax(rm.E2E); a != b {
						t.Errorf("%s: top-1 %s, nsfwjs %s", f.Name, Class(a), Class(b))
					}
					if rm.E2EJpegjs != nil {
						for c := range got {
							maxJpegjs = math.Max(maxJpegjs, math.Abs(got[c]-rm.E2EJpegjs[c]))
						}
					}
				}
				t.Logf("%d fixtures: max |Δp| same input %.2g, end to end %.2g (%s); JPEG decoder effect (Go vs jpeg-js pixels) up to %.2g",
					len(ref.Fixtures), maxSame, maxE2E, worst, maxJpegjs)
			})
		}
	}
}

// TestFixturesCoverEveryClass checks that the class-maximising fixtures
// drive each class above 0.9 in the reference for the model they target,
// and that the engine agrees.
func TestFixturesCoverEveryClass(t *testing.T) {
	ref, err := loadReference()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models {
		d, err := m.load()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range Classes {
			name := fmt.Sprintf("ascent-%s-%s.png", m.name, lower(c.String()))
			found := false
			for _, f := range ref.Fixtures {
				if f.Name != name {
					continue
				}
				found = true
				if p := f.Models[m.name].E2E[c]; p <= 0.9 {
					t.Errorf("%s: nsfwjs gives %s %.3f, want > 0.9", name, c, p)
				}
				r, err := d.Classify(mustDecode(t, f.File))
				if err != nil {
					t.Fatal(err)
				}
				if r.Top() != c || r.Probabilities[c] <= 0.9 {
					t.Errorf("%s: engine gives %s %.3f (top %s)", name, c, r.Probabilities[c], r.Top())
				}
			}
			if !found {
				t.Errorf("no fixture %s", name)
			}
		}
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func mustDecode(t testing.TB, file string) image.Image {
	t.Helper()
	dec, err := imageio.DecodeFile(filepath.FromSlash(file), imageio.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return dec.Frames[0]
}

// TestReductionPathParity measures what the box reduction above
// DefaultReduceAbove costs in parity. Fixtures are enlarged to 20 MP
// (bilinear, plus ±12 levels of deterministic noise, like a camera's fine
// grain) and classified with the reduction (factor 2) and without it; the
// path without it is bit-identical to nsfwjs's preprocessing, so the
// difference is the parity figure for large images.
func TestReductionPathParity(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 20 MP images")
	}
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	exact, err := Default(WithReduceAbove(-1))
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []struct {
		kind  string
		names []string
	}{
		{"natural", []string{"photo-chelsea.png", "photo-astronaut.png", "photo-ocean-waves.png", "drawing-frog.png", "drawing-jeep.png"}},
		// Class-maximising inputs sit on a knife edge by construction: noise
		// sampled without averaging moves them most.
		{"class-maximising", []string{"ascent-default-porn.png", "ascent-default-hentai.png", "ascent-default-sexy.png"}},
	} {
		var maxDelta float64
		flips := 0
		for _, name := range set.names {
			big := enlarge(mustDecode(t, "testdata/fixtures/"+name), 5000, 4000)
			a, err := d.Classify(big)
			if err != nil {
				t.Fatal(err)
			}
			b, err := exact.Classify(big)
			if err != nil {
				t.Fatal(err)
			}
			delta := 0.0
			for c := range a.Probabilities {
				delta = math.Max(delta, math.Abs(float64(a.Probabilities[c]-b.Probabilities[c])))
			}
			if a.Top() != b.Top() {
				flips++
			}
			maxDelta = math.Max(maxDelta, delta)
			t.Logf("%s at 5000x4000: max |Δp| %.4f (top %s reduced, %s exact)", name, delta, a.Top(), b.Top())
		}
		t.Logf("reduction path, %s images (20 MP → factor 2): max |Δp| %.3f over %d, %d top-1 changes", set.kind, maxDelta, len(set.names), flips)
		if set.kind == "natural" && flips > 0 {
			t.Errorf("the reduction changed the top class of %d natural images", flips)
		}
	}
}

// enlarge resizes img to w×h bilinearly and adds deterministic noise.
func enlarge(img image.Image, w, h int) *image.NRGBA {
	src := image.NewNRGBA(img.Bounds())
	draw.Draw(src, src.Bounds(), img, img.Bounds().Min, draw.Src)
	sw, sh := src.Bounds().Dx(), src.Bounds().Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(1)
	for y := 0; y < h; y++ {
		fy := float64(y) * float64(sh-1) / float64(h-1)
		y0 := int(fy)
		y1 := min(y0+1, sh-1)
		wy := fy - float64(y0)
		for x := 0; x < w; x++ {
			fx := float64(x) * float64(sw-1) / float64(w-1)
			x0 := int(fx)
			x1 := min(x0+1, sw-1)
			wx := fx - float64(x0)
			o := out.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				p := func(xx, yy int) float64 { return float64(src.Pix[src.PixOffset(xx, yy)+c]) }
				v := (p(x0, y0)*(1-wx)+p(x1, y0)*wx)*(1-wy) + (p(x0, y1)*(1-wx)+p(x1, y1)*wx)*wy
				seed = seed*1664525 + 1013904223
				v += float64(int(seed>>24)%25 - 12)
				out.Pix[o+c] = uint8(max(0, min(255, v+0.5)))
			}
			out.Pix[o+3] = 255
		}
	}
	return out
}

// TestTransparentRawParity: Classify composites transparent images (see
// Alpha), so their parity with nsfwjs, which drops alpha, is checked on
// the raw-pixel path: ClassifyPixels on the decoded colour channels must
// match the reference end to end.
func TestTransparentRawParity(t *testing.T) {
	ref, err := loadReference()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range ref.Fixtures {
		img := mustDecode(t, f.File)
		if o, ok := img.(interface{ Opaque() bool }); !ok || o.Opaque() {
			continue
		}
		b := img.Bounds()
		raw := image.NewNRGBA(b) // the colour under alpha 0 kept, as pngjs keeps it
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				raw.SetNRGBA(x, y, color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA))
			}
		}
		r, err := d.ClassifyPixels(raw.Pix, b.Dx(), b.Dy(), raw.Stride, RGBA)
		if err != nil {
			t.Fatal(err)
		}
		e2e := f.Models["default"].E2E
		for c := range e2e {
			if dd := math.Abs(float64(r.Probabilities[c]) - e2e[c]); dd > endToEndTolerance {
				t.Errorf("%s: %s = %.5f, nsfwjs %.5f", f.Name, Class(c), r.Probabilities[c], e2e[c])
			}
		}
		n++
	}
	if n < 7 {
		t.Errorf("only %d transparent fixtures in the reference", n)
	}
}

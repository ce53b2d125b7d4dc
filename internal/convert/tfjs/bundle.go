// Package tfjs converts nsfwjs's TF.js models into .nsfw model files.
//
// It reads the nsfwjs npm tarball directly (checking its sha512 integrity),
// pulls the model JSON and the base64 weight shards out of the UMD-wrapped
// .min.js bundles without running any JavaScript, and converts either a
// Keras layers model (MobileNetV2) or a TF graph model (MobileNetV2Mid).
// The uint8 weight codes are carried over unchanged.
package tfjs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Package is the content of an npm tarball, by path inside it.
type Package struct {
	Files     map[string][]byte
	Integrity string // "sha512-..." of the tarball
}

// maxTarball bounds what OpenTarball reads; nsfwjs 4.4.0 is 25 MB.
const maxTarball = 256 << 20

// Integrity returns the npm SRI string ("sha512-" + base64) of data.
func Integrity(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// OpenTarball reads an npm .tgz, refusing it unless its integrity equals
// wantIntegrity (pass "" to skip the check, e.g. for a local build).
func OpenTarball(tgz []byte, wantIntegrity string) (*Package, error) {
	got := Integrity(tgz)
	if wantIntegrity != "" && got != wantIntegrity {
		return nil, fmt.Errorf("npm tarball integrity mismatch: got %s, want %s", got, wantIntegrity)
	}
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, fmt.Errorf("npm tarball: %w", err)
	}
	tr := tar.NewReader(zr)
	pkg := &Package{Files: map[string][]byte{}, Integrity: got}
	total := int64(0)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("npm tarball: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		total += h.Size
		if total > maxTarball {
			return nil, fmt.Errorf("npm tarball: unpacks to more than %d bytes", maxTarball)
		}
		b, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return nil, fmt.Errorf("npm tarball: %s: %w", h.Name, err)
		}
		pkg.Files[h.Name] = b
	}
	return pkg, nil
}

func (p *Package) file(path string) ([]byte, error) {
	b, ok := p.Files[path]
	if !ok {
		return nil, fmt.Errorf("npm tarball has no %s", path)
	}
	return b, nil
}

// ModelJSON is the model.json of a TF.js model (layers or graph).
type ModelJSON struct {
	Format        string          `json:"format"`
	GeneratedBy   string          `json:"generatedBy"`
	ConvertedBy   string          `json:"convertedBy"`
	ModelTopology json.RawMessage `json:"modelTopology"`
	UserMetadata  struct {
		Signature struct {
			Outputs map[string]struct {
				Name string `json:"name"`
			} `json:"outputs"`
		} `json:"signature"`
	} `json:"userDefinedMetadata"`
	WeightsManifest []struct {
		Paths   []string     `json:"paths"`
		Weights []WeightSpec `json:"weights"`
	} `json:"weightsManifest"`
}

// WeightSpec describes one tensor in the weight shards.
type WeightSpec struct {
	Name         string `json:"name"`
	Shape        []int  `json:"shape"`
	Dtype        string `json:"dtype"`
	Quantization *struct {
		Min   float64 `json:"min"`
		Scale float64 `json:"scale"`
		Dtype string  `json:"dtype"`
	} `json:"quantization"`
}

// RawWeight is one tensor as stored: uint8 codes with their affine, or floats.
type RawWeight struct {
	Spec   WeightSpec
	Codes  []byte    // uint8-quantized tensors
	Floats []float32 // unquantized float32 tensors
}

// Len is the element count.
func (w *RawWeight) Len() int {
	n := 1
	for _, d := range w.Spec.Shape {
		n *= d
	}
	return n
}

// Value dequantizes element i exactly as TF.js does.
func (w *RawWeight) Value(i int) float32 {
	if w.Codes == nil {
		return w.Floats[i]
	}
	q := w.Spec.Quantization
	return float32(float64(float64(w.Codes[i])*q.Scale) + q.Min)
}

// Bundle is one model directory of the nsfwjs package, decoded.
type Bundle struct {
	Dir     string
	Model   ModelJSON
	Weights map[string]*RawWeight
	Order   []string // weight names in manifest order
}

// LoadBundle decodes dist/models/<dir>/ from pkg.
func LoadBundle(pkg *Package, dir string) (*Bundle, error) {
	base := "package/dist/models/" + dir + "/"
	src, err := pkg.file(base + "model.min.js")
	if err != nil {
		return nil, err
	}
	lit, err := moduleExport(string(src), "{")
	if err != nil {
		return nil, fmt.Errorf("%smodel.min.js: %w", base, err)
	}
	v, _, err := parseJSLiteral(lit)
	if err != nil {
		return nil, fmt.Errorf("%smodel.min.js: %w", base, err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Dir: dir, Weights: map[string]*RawWeight{}}
	if err := json.Unmarshal(js, &b.Model); err != nil {
		return nil, fmt.Errorf("%smodel.min.js: %w", base, err)
	}
	var data []byte
	for _, group := range b.Model.WeightsManifest {
		for _, path := range group.Paths {
			shard, err := pkg.file(base + path + ".min.js")
			if err != nil {
				return nil, err
			}
			lit, err := moduleExport(string(shard), `"`)
			if err != nil {
				return nil, fmt.Errorf("%s%s.min.js: %w", base, path, err)
			}
			end := strings.IndexByte(lit[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("%s%s.min.js: unterminated base64 string", base, path)
			}
			raw, err := base64.StdEncoding.DecodeString(lit[1 : 1+end])
			if err != nil {
				return nil, fmt.Errorf("%s%s.min.js: %w", base, path, err)
			}
			data = append(data, raw...)
		}
	}
	off := 0
	for _, group := range b.Model.WeightsManifest {
		for _, spec := range group.Weights {
			w := &RawWeight{Spec: spec}
			n := w.Len()
			switch {
			case spec.Dtype == "float32" && spec.Quantization != nil && spec.Quantization.Dtype == "uint8":
				if off+n > len(data) {
					return nil, fmt.Errorf("%s: weight %s runs past the shards", dir, spec.Name)
				}
				w.Codes = data[off : off+n]
				off += n
			case spec.Dtype == "float32" && spec.Quantization == nil:
				if off+4*n > len(data) {
					return nil, fmt.Errorf("%s: weight %s runs past the shards", dir, spec.Name)
				}
				w.Floats = make([]float32, n)
				for i := range w.Floats {
					w.Floats[i] = float32frombytes(data[off+4*i:])
				}
				off += 4 * n
			default:
				return nil, fmt.Errorf("%s: weight %s has unsupported dtype %s (quantization %+v)", dir, spec.Name, spec.Dtype, spec.Quantization)
			}
			if _, dup := b.Weights[spec.Name]; dup {
				return nil, fmt.Errorf("%s: weight %s appears twice", dir, spec.Name)
			}
			b.Weights[spec.Name] = w
			b.Order = append(b.Order, spec.Name)
		}
	}
	if off != len(data) {
		return nil, fmt.Errorf("%s: shards hold %d bytes, the manifest describes %d", dir, len(data), off)
	}
	return b, nil
}

// moduleExport finds the browserify module body "exports=<open>..." that
// carries the payload (the UMD wrapper also has "exports=X()" calls).
func moduleExport(src, open string) (string, error) {
	marker := "exports=" + open
	i := strings.Index(src, marker)
	if i < 0 {
		return "", fmt.Errorf("no %q in the bundle", marker)
	}
	return src[i+len("exports="):], nil
}

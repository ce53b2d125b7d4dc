package tfjs

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/nsfw-go/nsfw/internal/format"
)

// The npm package the default models come from, pinned by integrity.
const (
	NSFWJSPackage   = "nsfwjs"
	NSFWJSVersion   = "4.4.0"
	NSFWJSIntegrity = "sha512-krC1fgeTLXtZwgdpKJ0jm7hqv0gTSRQQRL+FhOaxaJ9Wj92t42BO3csO2odwgTAgZgf2RvkwPtp0R8Aa7dc+MA=="
)

// Classes is nsfwjs's class order.
var Classes = []string{"Drawing", "Hentai", "Neutral", "Porn", "Sexy"}

// Model describes one nsfwjs model.
type Model struct {
	Name        string // nsfwjs's name for it
	Dir         string // under package/dist/models/
	Graph       bool   // TF graph model rather than Keras layers model
	Description string
}

// Models are the nsfwjs models this converter supports.
var Models = map[string]Model{
	"default": {Name: "MobileNetV2", Dir: "mobilenet_v2",
		Description: "MobileNetV2 (width 1.0, 224x224) NSFW classifier from nsfwjs, a Keras layers model; BatchNorm folded into the conv weights (per-channel affine), uint8 codes unchanged"},
	"mid": {Name: "MobileNetV2Mid", Dir: "mobilenet_v2_mid", Graph: true,
		Description: "MobileNetV2 (width 1.4, 224x224, TF-Hub mobilenet_v2_140_224) NSFW classifier from nsfwjs, a TF graph model; uint8 codes unchanged"},
}

// ConvertNSFWJS converts one model ("default" or "mid") of the nsfwjs
// package into a model file with full provenance metadata.
func ConvertNSFWJS(pkg *Package, which string) (*format.File, error) {
	m, ok := Models[which]
	if !ok {
		return nil, fmt.Errorf("unknown nsfwjs model %q (want default or mid)", which)
	}
	if err := checkPackage(pkg); err != nil {
		return nil, err
	}
	bnd, err := LoadBundle(pkg, m.Dir)
	if err != nil {
		return nil, err
	}
	var f *format.File
	if m.Graph {
		outs := bnd.Model.UserMetadata.Signature.Outputs
		if len(outs) != 1 {
			return nil, fmt.Errorf("%s: want one signature output, got %d", m.Dir, len(outs))
		}
		var out string
		for _, o := range outs {
			out = inputName(o.Name)
		}
		f, err = ConvertGraphModel(bnd, out)
	} else {
		f, err = ConvertLayersModel(bnd)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Dir, err)
	}
	license := string(pkg.Files["package/LICENSE"])
	copyright := ""
	if c := regexp.MustCompile(`(?m)^Copyright .*$`).FindString(license); c != "" {
		copyright = c
	}
	f.Meta = []format.Meta{
		{Key: "general.name", Value: "nsfwjs " + m.Name},
		{Key: "general.description", Value: m.Description},
		{Key: "general.source", Value: fmt.Sprintf("npm:%s@%s package/dist/models/%s (%s)", NSFWJSPackage, NSFWJSVersion, m.Dir, pkg.Integrity)},
		{Key: "general.license", Value: "MIT"},
		{Key: "general.copyright", Value: copyright},
		{Key: "general.license_text", Value: license},
		{Key: "general.converter", Value: "github.com/nsfw-go/nsfw internal/convert/tfjs, format v1"},
		{Key: "nsfw.classes", Value: append([]string(nil), Classes...)},
		{Key: "nsfw.input.shape", Value: []uint32{224, 224, 3}},
		{Key: "nsfw.input.range", Value: []float32{0, 1}},
		{Key: "nsfw.preprocess.resize", Value: format.ResizeBilinearAlignCorners},
	}
	return f, nil
}

// checkPackage confirms this is the nsfwjs we know: MIT licensed, with the
// classes in our order.
func checkPackage(pkg *Package) error {
	lic := string(pkg.Files["package/LICENSE"])
	if !strings.HasPrefix(lic, "MIT License") {
		return fmt.Errorf("package/LICENSE is not the MIT license")
	}
	cls := string(pkg.Files["package/dist/esm/nsfw_classes.js"])
	for i, c := range Classes {
		if !regexp.MustCompile(fmt.Sprintf(`\b%d:\s*['"]%s['"]`, i, c)).MatchString(cls) {
			return fmt.Errorf("package/dist/esm/nsfw_classes.js does not map %d to %s", i, c)
		}
	}
	return nil
}

package extbuild

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// IconSizes are the icon sizes the manifest names.
var IconSizes = []int{16, 32, 48, 128}

// Icon draws the extension's icon: a plum rounded square holding a white
// disc whose edge fades out, a blurred dot. It is drawn here rather than
// committed as a binary, so the build stays reproducible from source.
func Icon(size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const samples = 4 // per axis, for smooth edges
	s := float64(size)
	radius := 0.22 * s // corner radius
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var cover, white float64
			for sy := 0; sy < samples; sy++ {
				for sx := 0; sx < samples; sx++ {
					px := float64(x) + (float64(sx)+0.5)/samples
					py := float64(y) + (float64(sy)+0.5)/samples
					if !inRoundedSquare(px, py, s, radius) {
						continue
					}
					cover++
					d := math.Hypot(px-s/2, py-s/2) / (s / 2) // 0 centre, 1 edge
					white += 1 / (1 + math.Exp((d-0.5)*14))   // a soft edge at half the width
				}
			}
			n := float64(samples * samples)
			if cover == 0 {
				continue
			}
			w := white / cover
			mix := func(plum float64) uint8 { return uint8(math.Round(plum*(1-w) + 255*w)) }
			img.SetNRGBA(x, y, color.NRGBA{mix(0x8a), mix(0x15), mix(0x38), uint8(math.Round(255 * cover / n))})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func inRoundedSquare(x, y, s, r float64) bool {
	cx := math.Max(r, math.Min(s-r, x))
	cy := math.Max(r, math.Min(s-r, y))
	return math.Hypot(x-cx, y-cy) <= r
}

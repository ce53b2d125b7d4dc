package imageio

import (
	"image"
	"image/gif"
	"testing"
)

// photoLike is a smooth gradient with some texture, closer to a photo's
// compressed size than a flat pattern.
func photoLike(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := m.PixOffset(x, y)
			m.Pix[i] = uint8(x * 255 / w)
			m.Pix[i+1] = uint8(y * 255 / h)
			m.Pix[i+2] = uint8((x ^ y) & 0x3f)
			m.Pix[i+3] = 255
		}
	}
	return m
}

func BenchmarkDecodeJPEG1MP(b *testing.B) {
	data := encJPEG(b, photoLike(1224, 816), 85) // ~1 MP
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBytes(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeGIF20Frames(b *testing.B) {
	const w, h = 320, 240
	g := &gif.GIF{Config: image.Config{Width: w, Height: h}}
	for i := range 20 {
		// Moving sub-rectangles with transparency, as in typical animations.
		r := image.Rect(i*8, i*6, i*8+160, i*6+120)
		if i == 0 {
			r = image.Rect(0, 0, w, h)
		}
		g.Image = append(g.Image, frame(r, func(x, y int) uint8 { return uint8((x/4 + y/4 + i) % 6) }))
		g.Delay = append(g.Delay, 5)
		g.Disposal = append(g.Disposal, byte(i%4))
	}
	data := encGIF(b, g)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := DecodeBytes(data, Limits{})
		if err != nil || d.FrameCount != 20 {
			b.Fatal(err)
		}
	}
}

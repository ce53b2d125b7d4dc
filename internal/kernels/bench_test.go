package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Each benchmark pairs the reference loop with every optimized Set on
// shapes from MobileNetV2, and reports GMAC/s. Under build/wasmtest/run.mjs
// with -tags nsfw_simd the Sets include wasm-simd128.

func reportGMACs(b *testing.B, macs int, start time.Time) {
	per := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric(float64(macs)/per/1e9, "GMAC/s")
}

func BenchmarkGemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	// The 1×1 convolutions of MobileNetV2 (m = H·W, k = Cin, n = Cout), one
	// dense layer, and 784×192×192, a cache-friendly shape for peak speed.
	shapes := [][3]int{
		{12544, 16, 96}, {3136, 24, 144}, {3136, 144, 24}, {784, 192, 32}, {196, 96, 576},
		{196, 384, 64}, {49, 960, 160}, {49, 320, 1280}, {1, 1280, 256}, {784, 192, 192},
	}
	for _, sh := range shapes {
		m, k, n := sh[0], sh[1], sh[2]
		a, w, bias, c := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, n), make([]float32, m*n)
		for _, impl := range Implementations() {
			if impl.Name == Reference.Name && m*k*n > 5e6 {
				continue
			}
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, impl.Name), func(b *testing.B) {
				start := time.Now()
				for b.Loop() {
					impl.Gemm(c, a, w, bias, m, k, n, ReLU6Lo, ReLU6Hi)
				}
				reportGMACs(b, m*k*n, start)
			})
		}
	}
}

func BenchmarkDepthwise(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, cc := range []convCase{
		{112, 112, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1},
		{112, 112, 96, 96, 3, 3, 2, 2, 0, 0, 1, 1},
		{56, 56, 144, 144, 3, 3, 1, 1, 1, 1, 1, 1},
		{28, 28, 192, 192, 3, 3, 1, 1, 1, 1, 1, 1},
		{14, 14, 384, 384, 3, 3, 1, 1, 1, 1, 1, 1},
		{7, 7, 960, 960, 3, 3, 1, 1, 1, 1, 1, 1},
	} {
		p := cc.params(ReLU6Lo, ReLU6Hi)
		in, w, bias := randSlice(r, cc.inH*cc.inW*cc.cin), randSlice(r, 9*cc.cin), randSlice(r, cc.cin)
		out := make([]float32, p.OutH*p.OutW*cc.cin)
		macs := p.OutH * p.OutW * cc.cin * 9
		for _, impl := range Implementations() {
			b.Run(fmt.Sprintf("%dx%dx%d_s%d/%s", cc.inH, cc.inW, cc.cin, cc.sh, impl.Name), func(b *testing.B) {
				start := time.Now()
				for b.Loop() {
					impl.Depthwise(out, in, w, bias, p, cc.cin)
				}
				reportGMACs(b, macs, start)
			})
		}
	}
}

func BenchmarkStemConv(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	cc := convCase{224, 224, 3, 32, 3, 3, 2, 2, 0, 0, 1, 1}
	p := cc.params(ReLU6Lo, ReLU6Hi)
	in, w, bias := randSlice(r, 224*224*3), randSlice(r, 27*32), randSlice(r, 32)
	out := make([]float32, p.OutH*p.OutW*32)
	macs := p.OutH * p.OutW * 32 * 27
	for _, impl := range Implementations() {
		scratch := make([]float32, impl.ConvScratch(p, 3))
		b.Run(impl.Name, func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				impl.Conv(out, in, w, bias, scratch, p, 3, 32)
			}
			reportGMACs(b, macs, start)
		})
	}
}

// BenchmarkAdd times residual additions (linear, as in MobileNetV2) and a
// ReLU6 clamp, whose branches mispredict on random signs.
func BenchmarkAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{56 * 56 * 24, 7 * 7 * 160} {
		x, y, out := randSlice(r, n), randSlice(r, n), make([]float32, n)
		for _, impl := range Implementations() {
			for _, a := range []act{acts[0], acts[2]} {
				b.Run(fmt.Sprintf("%d/%s/%s", n, a.name, impl.Name), func(b *testing.B) {
					for b.Loop() {
						impl.Add(out, x, y, a.lo, a.hi)
					}
					b.SetBytes(int64(12 * n))
				})
			}
		}
	}
}

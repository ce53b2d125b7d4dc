package kernels

import "math"

// Add is the optimized AddRef: the sum, then clampSlice while out is in
// cache (its ReLU path has no branches to mispredict).
func Add(out, a, b []float32, lo, hi float32) {
	a = a[:len(out)]
	b = b[:len(out)]
	for i := range out {
		out[i] = a[i] + b[i]
	}
	clampSlice(out, lo, hi)
}

// Affine is the optimized AffineRef.
func Affine(out, in []float32, scale, shift float32) {
	in = in[:len(out)]
	for i := range out {
		prod := float32(in[i] * scale) // the conversion forbids fusing into an FMA
		out[i] = prod + shift
	}
}

// AvgPool is the optimized AvgPoolRef. Global pooling (one window covering
// the whole input, as at the top of MobileNetV2) is a column sum; other
// windows use the reference loop, which is cheap at these sizes.
func AvgPool(out, in []float32, p ConvParams, c int) {
	if p.OutH == 1 && p.OutW == 1 && p.PadT == 0 && p.PadL == 0 && p.KH >= p.InH && p.KW >= p.InW {
		o := out[:c]
		clear(o)
		n := p.InH * p.InW
		for i := 0; i < n; i++ {
			row := in[i*c : (i+1)*c][:len(o)]
			for ch, v := range row {
				o[ch] += v
			}
		}
		inv := 1 / float32(n)
		for ch := range o {
			o[ch] = clamp(o[ch]*inv, p.Lo, p.Hi)
		}
		return
	}
	AvgPoolRef(out, in, p, c)
}

// Softmax is the optimized SoftmaxRef (float32 throughout).
func Softmax(out, in []float32) {
	in = in[:len(out)]
	mx := float32(math.Inf(-1))
	for _, v := range in {
		if v > mx {
			mx = v
		}
	}
	var sum float32
	for i, v := range in {
		e := float32(math.Exp(float64(v - mx)))
		out[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range out {
		out[i] *= inv
	}
}

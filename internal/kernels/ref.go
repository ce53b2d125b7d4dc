package kernels

import "math"

// The reference kernels below are the definitions the optimized kernels are
// tested against. They favour obviousness over speed and accumulate in
// float64 so that they are a stricter oracle than the float32 kernels.

// GemmRef computes
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			s := bias[j] // 0 if bias is nil
//			for p := 0; p < k; p++ {
//				s += a[i*k+p] * b[p*n+j]
//			}
//			c[i*n+j] = clamp(s, lo, hi)
//		}
//	}
func GemmRef(c, a, b, bias []float32, m, k, n int, lo, hi float32) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			if bias != nil {
				s = float64(bias[j])
			}
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(b[p*n+j])
			}
			c[i*n+j] = clamp(float32(s), lo, hi)
		}
	}
}

// ConvRef is a direct grouped convolution: in is InH×InW×cin, w is
// KH×KW×(cin/groups)×cout, out is OutH×OutW×cout. Output channel o reads the
// input channels of its group, g = o / (cout/groups).
func ConvRef(out, in, w, bias []float32, p ConvParams, cin, cout, groups int) {
	cinG, coutG := cin/groups, cout/groups
	for oy := 0; oy < p.OutH; oy++ {
		for ox := 0; ox < p.OutW; ox++ {
			for o := 0; o < cout; o++ {
				g := o / coutG
				var s float64
				if bias != nil {
					s = float64(bias[o])
				}
				for ky := 0; ky < p.KH; ky++ {
					iy := oy*p.StrideH + ky - p.PadT
					if iy < 0 || iy >= p.InH {
						continue
					}
					for kx := 0; kx < p.KW; kx++ {
						ix := ox*p.StrideW + kx - p.PadL
						if ix < 0 || ix >= p.InW {
							continue
						}
						for ci := 0; ci < cinG; ci++ {
							x := in[(iy*p.InW+ix)*cin+g*cinG+ci]
							wv := w[((ky*p.KW+kx)*cinG+ci)*cout+o]
							s += float64(x) * float64(wv)
						}
					}
				}
				out[(oy*p.OutW+ox)*cout+o] = clamp(float32(s), p.Lo, p.Hi)
			}
		}
	}
}

// DepthwiseRef is ConvRef with groups == cin == cout (channel multiplier 1):
// w is KH×KW×C.
func DepthwiseRef(out, in, w, bias []float32, p ConvParams, c int) {
	ConvRef(out, in, w, bias, p, c, c, c)
}

// AddRef computes out[i] = clamp(a[i]+b[i], lo, hi).
func AddRef(out, a, b []float32, lo, hi float32) {
	for i := range out {
		out[i] = clamp(a[i]+b[i], lo, hi)
	}
}

// AffineRef computes out[i] = in[i]*scale + shift, rounding the product to
// float32 first as TF's separate Mul and Sub ops do.
func AffineRef(out, in []float32, scale, shift float32) {
	for i := range out {
		prod := float32(in[i] * scale) // the conversion forbids fusing into an FMA
		out[i] = prod + shift
	}
}

// AvgPoolRef averages each window over the input cells it covers (padding is
// not counted, as in TF "VALID"/"SAME" average pooling).
func AvgPoolRef(out, in []float32, p ConvParams, c int) {
	for oy := 0; oy < p.OutH; oy++ {
		for ox := 0; ox < p.OutW; ox++ {
			for ch := 0; ch < c; ch++ {
				var s float64
				cnt := 0
				for ky := 0; ky < p.KH; ky++ {
					iy := oy*p.StrideH + ky - p.PadT
					if iy < 0 || iy >= p.InH {
						continue
					}
					for kx := 0; kx < p.KW; kx++ {
						ix := ox*p.StrideW + kx - p.PadL
						if ix < 0 || ix >= p.InW {
							continue
						}
						s += float64(in[(iy*p.InW+ix)*c+ch])
						cnt++
					}
				}
				v := float32(0)
				if cnt > 0 {
					v = float32(s / float64(cnt))
				}
				out[(oy*p.OutW+ox)*c+ch] = clamp(v, p.Lo, p.Hi)
			}
		}
	}
}

// SoftmaxRef computes out = exp(in - max(in)) / sum(exp(in - max(in))).
func SoftmaxRef(out, in []float32) {
	mx := math.Inf(-1)
	for _, v := range in {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for i, v := range in {
		e := math.Exp(float64(v) - mx)
		out[i] = float32(e)
		sum += e
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / sum)
	}
}

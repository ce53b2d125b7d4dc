package kernels

// Depthwise is the optimized DepthwiseRef. Output pixels whose whole window
// lies inside the input take a fast path for 3×3 windows that keeps the nine
// taps of a channel in one expression (nine input rows, nine weight rows,
// one store); border pixels and other window sizes go through the general
// path, which skips out-of-range taps.
func Depthwise(out, in, w, bias []float32, p ConvParams, c int) {
	for oy := 0; oy < p.OutH; oy++ {
		iy0 := oy*p.StrideH - p.PadT
		rowInside := iy0 >= 0 && iy0+p.KH <= p.InH
		for ox := 0; ox < p.OutW; ox++ {
			ix0 := ox*p.StrideW - p.PadL
			o := out[(oy*p.OutW+ox)*c : (oy*p.OutW+ox+1)*c]
			if rowInside && p.KH == 3 && p.KW == 3 && ix0 >= 0 && ix0+3 <= p.InW {
				dw3x3Pixel(o, in, w, bias, (iy0*p.InW+ix0)*c, p.InW*c, c, p.Lo, p.Hi)
				continue
			}
			dwPixel(o, in, w, bias, p, iy0, ix0, c)
		}
	}
}

func dw3x3Pixel(o, in, w, bias []float32, base, rowStride, c int, lo, hi float32) {
	r0 := in[base : base+3*c]
	r1 := in[base+rowStride : base+rowStride+3*c]
	r2 := in[base+2*rowStride : base+2*rowStride+3*c]
	i00, i01, i02 := r0[0:c], r0[c : 2*c][:len(o)], r0[2*c : 3*c][:len(o)]
	i10, i11, i12 := r1[0:c][:len(o)], r1[c : 2*c][:len(o)], r1[2*c : 3*c][:len(o)]
	i20, i21, i22 := r2[0:c][:len(o)], r2[c : 2*c][:len(o)], r2[2*c : 3*c][:len(o)]
	w = w[:9*c]
	w00, w01, w02 := w[0*c : 1*c][:len(o)], w[1*c : 2*c][:len(o)], w[2*c : 3*c][:len(o)]
	w10, w11, w12 := w[3*c : 4*c][:len(o)], w[4*c : 5*c][:len(o)], w[5*c : 6*c][:len(o)]
	w20, w21, w22 := w[6*c : 7*c][:len(o)], w[7*c : 8*c][:len(o)], w[8*c : 9*c][:len(o)]
	i00 = i00[:len(o)]
	var b []float32
	if bias != nil {
		b = bias[:len(o)]
	}
	for ch := range o {
		var s float32
		if b != nil {
			s = b[ch]
		}
		s += i00[ch]*w00[ch] + i01[ch]*w01[ch] + i02[ch]*w02[ch]
		s += i10[ch]*w10[ch] + i11[ch]*w11[ch] + i12[ch]*w12[ch]
		s += i20[ch]*w20[ch] + i21[ch]*w21[ch] + i22[ch]*w22[ch]
		if s < lo {
			s = lo
		} else if s > hi {
			s = hi
		}
		o[ch] = s
	}
}

func dwPixel(o, in, w, bias []float32, p ConvParams, iy0, ix0, c int) {
	initRow(o, bias)
	for ky := 0; ky < p.KH; ky++ {
		iy := iy0 + ky
		if iy < 0 || iy >= p.InH {
			continue
		}
		for kx := 0; kx < p.KW; kx++ {
			ix := ix0 + kx
			if ix < 0 || ix >= p.InW {
				continue
			}
			x := in[(iy*p.InW+ix)*c : (iy*p.InW+ix+1)*c][:len(o)]
			wk := w[(ky*p.KW+kx)*c : (ky*p.KW+kx+1)*c][:len(o)]
			for ch := range o {
				o[ch] += x[ch] * wk[ch]
			}
		}
	}
	clampSlice(o, p.Lo, p.Hi)
}

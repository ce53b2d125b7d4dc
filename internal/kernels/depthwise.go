package kernels

// Depthwise is the optimized DepthwiseRef. For 3×3 windows, output
// pixels whose window lies wholly inside the input (all but a one-pixel
// frame, for MobileNetV2's paddings) go through dw3x3Row a row at a time;
// frame pixels and other window sizes go through dwPixel, which skips
// out-of-range taps.
func Depthwise(out, in, w, bias []float32, p ConvParams, c int) {
	oxa, oxb := interiorRange(p.InW, p.PadL, p.StrideW, p.OutW)
	oya, oyb := interiorRange(p.InH, p.PadT, p.StrideH, p.OutH)
	if p.KH != 3 || p.KW != 3 {
		oxa, oxb = 0, 0
	}
	for oy := 0; oy < p.OutH; oy++ {
		iy0 := oy*p.StrideH - p.PadT
		a, b := oxa, oxb
		if oy < oya || oy >= oyb {
			a, b = 0, 0
		}
		for ox := 0; ox < p.OutW; ox++ {
			if ox == a && a < b {
				ix0 := a*p.StrideW - p.PadL
				dw3x3Row(out[(oy*p.OutW+a)*c:(oy*p.OutW+b)*c], in[(iy0*p.InW+ix0)*c:], w, bias,
					p.InW*c, p.StrideW*c, b-a, c, p.Lo, p.Hi)
				ox = b - 1
				continue
			}
			o := out[(oy*p.OutW+ox)*c : (oy*p.OutW+ox+1)*c]
			dwPixel(o, in, w, bias, p, iy0, ox*p.StrideW-p.PadL, c)
		}
	}
}

// interiorRange returns the outputs [begin, end) along one axis whose
// 3-wide window starts at or after the padding (o*s >= pad) and ends
// within the input (o*s - pad + 3 <= size).
func interiorRange(size, pad, s, out int) (begin, end int) {
	if s <= 0 {
		return 0, 0
	}
	begin = min((pad+s-1)/s, out)
	end = begin
	if span := size + pad - 3; span >= 0 {
		end = max(begin, min(out, span/s+1))
	}
	return begin, end
}

// dw3x3Row computes npx consecutive output pixels (o) whose 3×3 windows
// lie inside the input; in starts at the top-left tap of the first window,
// rows of the input are rs floats apart and windows xs apart. It goes one
// channel at a time, holding that channel's nine weights in locals while
// it sweeps the row, so each multiply-add costs one load; the window rows
// stay in cache from one channel to the next. Measured: 2.5–2.9 GMAC/s
// natively and 1.1–1.3 in wasm, against 1.0 and 0.66 for the per-pixel
// loop over channels it replaced, whose 18 slices of inputs and weights Go
// cannot keep in registers.
func dw3x3Row(o, in, w, bias []float32, rs, xs, npx, c int, lo, hi float32) {
	o = o[:npx*c]
	in = in[:2*rs+(npx-1)*xs+3*c]
	w = w[:9*c]
	for ch := 0; ch < c; ch++ {
		var b float32
		if bias != nil {
			b = bias[ch]
		}
		w0, w1, w2 := w[ch], w[c+ch], w[2*c+ch]
		w3, w4, w5 := w[3*c+ch], w[4*c+ch], w[5*c+ch]
		w6, w7, w8 := w[6*c+ch], w[7*c+ch], w[8*c+ch]
		for q := 0; q < npx; q++ {
			i0 := q*xs + ch
			s := b + in[i0]*w0 + in[i0+c]*w1 + in[i0+2*c]*w2
			i1 := i0 + rs
			s += in[i1]*w3 + in[i1+c]*w4 + in[i1+2*c]*w5
			i2 := i1 + rs
			s += in[i2]*w6 + in[i2+c]*w7 + in[i2+2*c]*w8
			o[q*c+ch] = s
		}
	}
	clampSlice(o, lo, hi)
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

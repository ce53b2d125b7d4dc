package kernels

import "unsafe"

// Depthwise is the optimized DepthwiseRef. For 3×3 windows, output
// pixels whose window lies wholly inside the input (all but a one-pixel
// frame, for MobileNetV2's paddings) go through dw3x3Row a row at a time;
// frame pixels and other window sizes go through dwPixel, which skips
// out-of-range taps.
func Depthwise(out, in, w, bias []float32, p ConvParams, c int) {
	depthwiseWith(dw3x3Row, dwPixel, out, in, w, bias, p, c)
}

// depthwiseWith is Depthwise with the interior row sweep and the frame
// pixel replaceable.
func depthwiseWith(row func(o, in, w, bias []float32, rs, xs, npx, c int, lo, hi float32),
	pixel func(o, in, w, bias []float32, p ConvParams, iy0, ix0, c int),
	out, in, w, bias []float32, p ConvParams, c int) {
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
				row(out[(oy*p.OutW+a)*c:(oy*p.OutW+b)*c], in[(iy0*p.InW+ix0)*c:], w, bias,
					p.InW*c, p.StrideW*c, b-a, c, p.Lo, p.Hi)
				ox = b - 1
				continue
			}
			o := out[(oy*p.OutW+ox)*c : (oy*p.OutW+ox+1)*c]
			pixel(o, in, w, bias, p, iy0, ox*p.StrideW-p.PadL, c)
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

// dwRowCheck checks a row sweep's regions, as every sweep must before it
// reads through pointers, and reports whether there is anything to do.
func dwRowCheck(o, in, w, bias []float32, rs, xs, npx, c int) bool {
	needLen("Depthwise", "row out", o, npx*c)
	needLen("Depthwise", "row in", in, 2*rs+(npx-1)*xs+3*c)
	needLen("Depthwise", "w", w, 9*c)
	needBias("Depthwise", bias, c)
	return npx > 0 && c > 0
}

// dw3x3Row computes npx consecutive output pixels (o) whose 3×3 windows
// lie inside the input; in starts at the top-left tap of the first window,
// rows of the input are rs floats apart and windows xs apart. It goes one
// channel at a time, holding that channel's nine weights in locals while
// it sweeps the row (dwSweep1 for stride 1, dwSweep otherwise), so each
// multiply-add costs one load; the window rows stay in cache from one
// channel to the next. The sweeps use unsafe pointers (see unsafe.go):
// with slice indexing Go's wasm output ran at about half the speed.
func dw3x3Row(o, in, w, bias []float32, rs, xs, npx, c int, lo, hi float32) {
	if !dwRowCheck(o, in, w, bias, rs, xs, npx, c) {
		return
	}
	rb, xb, cb := uintptr(rs)*4, uintptr(xs)*4, uintptr(c)*4
	op, ip, wp := ptr(o), ptr(in), ptr(w)
	for ch := 0; ch < c; ch++ {
		var b float32
		if bias != nil {
			b = bias[ch]
		}
		off := uintptr(ch) * 4
		if xs == c {
			dwSweep1(unsafe.Add(op, off), unsafe.Add(ip, off), unsafe.Add(wp, off), b, rb, cb, npx)
		} else {
			dwSweep(unsafe.Add(op, off), unsafe.Add(ip, off), unsafe.Add(wp, off), b, rb, xb, cb, npx)
		}
	}
	clampSlice(o[:npx*c], lo, hi)
}

// dwSweep computes one channel of npx > 0 output pixels cb bytes apart at
// o, from windows xb bytes apart at in (rows rb bytes apart, taps cb
// apart), with the channel's nine weights cb bytes apart at w.
//
//go:noinline
func dwSweep(o, in, w unsafe.Pointer, b float32, rb, xb, cb uintptr, npx int) {
	w0, w1, w2 := ld(w, 0), ld(w, cb), ld(w, 2*cb)
	w3, w4, w5 := ld(w, 3*cb), ld(w, 4*cb), ld(w, 5*cb)
	w6, w7, w8 := ld(w, 6*cb), ld(w, 7*cb), ld(w, 8*cb)
	cb2 := 2 * cb
	pi, po, end := uintptr(0), uintptr(0), uintptr(npx)*cb
	for {
		r0 := unsafe.Add(in, pi)
		s := b + *(*float32)(r0)*w0
		s += *(*float32)(unsafe.Add(r0, cb)) * w1
		s += *(*float32)(unsafe.Add(r0, cb2)) * w2
		r1 := unsafe.Add(r0, rb)
		s += *(*float32)(r1) * w3
		s += *(*float32)(unsafe.Add(r1, cb)) * w4
		s += *(*float32)(unsafe.Add(r1, cb2)) * w5
		r2 := unsafe.Add(r1, rb)
		s += *(*float32)(r2) * w6
		s += *(*float32)(unsafe.Add(r2, cb)) * w7
		s += *(*float32)(unsafe.Add(r2, cb2)) * w8
		*(*float32)(unsafe.Add(o, po)) = s
		po += cb
		if po >= end {
			break
		}
		pi += xb
	}
}

// dwSweep1 is dwSweep for stride 1 (xb = cb), two pixels per step: the
// pair's windows share two of their three columns, so a step loads 12
// inputs for 18 multiply-adds instead of 18.
//
//go:noinline
func dwSweep1(o, in, w unsafe.Pointer, b float32, rb, cb uintptr, npx int) {
	w0, w1, w2 := ld(w, 0), ld(w, cb), ld(w, 2*cb)
	w3, w4, w5 := ld(w, 3*cb), ld(w, 4*cb), ld(w, 5*cb)
	w6, w7, w8 := ld(w, 6*cb), ld(w, 7*cb), ld(w, 8*cb)
	cb2, cb3 := 2*cb, 3*cb
	p := uintptr(0) // byte offset of the pixel in o and of its window in in
	pairs := uintptr(npx/2) * cb2
	for p < pairs {
		r0 := unsafe.Add(in, p)
		r1 := unsafe.Add(r0, rb)
		r2 := unsafe.Add(r1, rb)
		x := *(*float32)(r0)
		s := b + x*w0
		x = *(*float32)(unsafe.Add(r0, cb))
		s += x * w1
		t := b + x*w0
		x = *(*float32)(unsafe.Add(r0, cb2))
		s += x * w2
		t += x * w1
		x = *(*float32)(unsafe.Add(r0, cb3))
		t += x * w2
		x = *(*float32)(r1)
		s += x * w3
		x = *(*float32)(unsafe.Add(r1, cb))
		s += x * w4
		t += x * w3
		x = *(*float32)(unsafe.Add(r1, cb2))
		s += x * w5
		t += x * w4
		x = *(*float32)(unsafe.Add(r1, cb3))
		t += x * w5
		x = *(*float32)(r2)
		s += x * w6
		x = *(*float32)(unsafe.Add(r2, cb))
		s += x * w7
		t += x * w6
		x = *(*float32)(unsafe.Add(r2, cb2))
		s += x * w8
		t += x * w7
		x = *(*float32)(unsafe.Add(r2, cb3))
		t += x * w8
		*(*float32)(unsafe.Add(o, p)) = s
		*(*float32)(unsafe.Add(o, p+cb)) = t
		p += cb2
	}
	if npx%2 == 1 {
		dwSweep(unsafe.Add(o, p), unsafe.Add(in, p), w, b, rb, cb, cb, 1)
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

//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// The avx2 Set runs the GEMM (1×1 convolutions, the stem's im2col GEMM,
// dense layers) and the 3×3 depthwise convolutions with 256-bit AVX2 and
// FMA vectors through Go's experimental simd/archsimd package, so it exists
// only in builds with GOEXPERIMENT=simd, and platformSets offers it only on
// CPUs that have both features. The rest is the Go Set's: Add, Affine,
// AvgPool and Softmax are a few percent of an image, and Dequantize must
// match the reference bit for bit.
//
// FMA rounds each multiply-add once instead of twice, so results differ
// from the Go Set in the last bits; both stay within the float32 dot-product
// bound the tests allow (closeEnough).
var avx2 = func() *Set {
	s := *Go
	s.Name, s.Gemm, s.Depthwise = "avx2", gemmAVX2, depthwiseAVX2
	s.Conv = func(out, in, w, bias, scratch []float32, p ConvParams, cin, cout int) {
		ConvGemm(gemmAVX2, out, in, w, bias, scratch, p, cin, cout)
	}
	return &s
}()

var avx2Sets = func() []*Set {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		return []*Set{avx2}
	}
	return nil
}()

// platformSets returns the avx2 Set on CPUs with AVX2 and FMA.
func platformSets() []*Set { return avx2Sets }

// gemmAVX2 is GemmRef in 4×16 register tiles (gemm4x16), a 16-column
// strip of B at a time: it runs at 24–41 GMAC/s on MobileNetV2's 1×1
// convolutions against 4–5 for the Go Set (2-core AMD EPYC). Columns past
// the last multiple of 16 go through 4×8 tiles and then scalar code, rows
// past the last multiple of 4 through 1-row tiles. Blocking rows for the cache made no measurable difference:
// at these sizes A and B stay in L2.
func gemmAVX2(c, a, b, bias []float32, m, k, n int, lo, hi float32) {
	if gemmTrivial(c, a, b, bias, m, k, n, lo, hi) {
		return
	}
	c, a, b = c[:m*n], a[:m*k], b[:k*n]
	n16 := n &^ 15
	n8 := n &^ 7
	for j := 0; j < n16; j += 16 {
		i := 0
		for ; i+4 <= m; i += 4 {
			gemm4x16(c[i*n+j:], a[i*k:(i+4)*k], b[j:], bias, j, k, n, lo, hi)
		}
		for ; i < m; i++ {
			gemm1x16(c[i*n+j:], a[i*k:(i+1)*k], b[j:], bias, j, n, lo, hi)
		}
	}
	if n8 > n16 {
		i := 0
		for ; i+4 <= m; i += 4 {
			gemm4x8(c[i*n+n16:], a[i*k:(i+4)*k], b[n16:], bias, n16, k, n, lo, hi)
		}
		for ; i < m; i++ {
			gemm1x8(c[i*n+n16:], a[i*k:(i+1)*k], b[n16:], bias, n16, n, lo, hi)
		}
	}
	for i := 0; i < m && n8 < n; i++ {
		for j := n8; j < n; j++ {
			var s float32
			if bias != nil {
				s = bias[j]
			}
			for p, x := range a[i*k : (i+1)*k] {
				s += x * b[p*n+j]
			}
			c[i*n+j] = clamp(s, lo, hi)
		}
	}
}

// loadBias8 returns bias[j:j+8], or zeros for no bias.
func loadBias8(bias []float32, j int) archsimd.Float32x8 {
	if bias == nil {
		return archsimd.Float32x8{}
	}
	return archsimd.LoadFloat32x8Slice(bias[j : j+8])
}

// clamp8 is clamp for eight values (lo = -Inf, hi = +Inf leave them as they are).
func clamp8(v, lo, hi archsimd.Float32x8) archsimd.Float32x8 {
	return v.Max(lo).Min(hi)
}

// gemm4x16 computes the 4×16 tile of C at c (rows n apart) from four rows
// of A (a, k > 0 apart) and the 16 columns of B starting at b (rows n
// apart). Per k step, two B vectors times four broadcast A values go into
// eight accumulators: 11 of the 15 YMM registers Go allocates (X15 is its
// zero register). The broadcast is MulAdd's receiver because VFMADD213PS
// overwrites the receiver, and the broadcast has the fewest later uses.
func gemm4x16(c, a, b, bias []float32, j, k, n int, lo, hi float32) {
	a0 := a[0*k : 1*k]
	a1 := a[1*k : 2*k][:len(a0)]
	a2 := a[2*k : 3*k][:len(a0)]
	a3 := a[3*k : 4*k][:len(a0)]
	c00, c01 := loadBias8(bias, j), loadBias8(bias, j+8)
	c10, c11 := c00, c01
	c20, c21 := c00, c01
	c30, c31 := c00, c01
	// The sweep reads b[p*n : p*n+16] for p < k through a pointer: the
	// bounds checks of slicing b cost ~10% here (37 against 41 GMAC/s).
	_ = b[(k-1)*n+15]
	bp, nb := ptr(b), uintptr(n)*4
	off := uintptr(0)
	for p := range a0 {
		b0, b1 := ld8(bp, off), ld8(bp, off+32)
		off += nb
		x := archsimd.BroadcastFloat32x8(a0[p])
		c00 = x.MulAdd(b0, c00)
		c01 = x.MulAdd(b1, c01)
		x = archsimd.BroadcastFloat32x8(a1[p])
		c10 = x.MulAdd(b0, c10)
		c11 = x.MulAdd(b1, c11)
		x = archsimd.BroadcastFloat32x8(a2[p])
		c20 = x.MulAdd(b0, c20)
		c21 = x.MulAdd(b1, c21)
		x = archsimd.BroadcastFloat32x8(a3[p])
		c30 = x.MulAdd(b0, c30)
		c31 = x.MulAdd(b1, c31)
	}
	lv, hv := archsimd.BroadcastFloat32x8(lo), archsimd.BroadcastFloat32x8(hi)
	clamp8(c00, lv, hv).StoreSlice(c[0*n:])
	clamp8(c01, lv, hv).StoreSlice(c[0*n+8:])
	clamp8(c10, lv, hv).StoreSlice(c[1*n:])
	clamp8(c11, lv, hv).StoreSlice(c[1*n+8:])
	clamp8(c20, lv, hv).StoreSlice(c[2*n:])
	clamp8(c21, lv, hv).StoreSlice(c[2*n+8:])
	clamp8(c30, lv, hv).StoreSlice(c[3*n:])
	clamp8(c31, lv, hv).StoreSlice(c[3*n+8:])
}

// gemm1x16 is gemm4x16 for one row. Its two accumulators form dependency
// chains as long as k, but it only runs for the last m%4 rows and for
// dense layers (m = 1), well under 1% of an image.
func gemm1x16(c, a, b, bias []float32, j, n int, lo, hi float32) {
	c0, c1 := loadBias8(bias, j), loadBias8(bias, j+8)
	off := 0
	for _, av := range a {
		x := archsimd.BroadcastFloat32x8(av)
		c0 = archsimd.LoadFloat32x8Slice(b[off:off+8]).MulAdd(x, c0)
		c1 = archsimd.LoadFloat32x8Slice(b[off+8:off+16]).MulAdd(x, c1)
		off += n
	}
	lv, hv := archsimd.BroadcastFloat32x8(lo), archsimd.BroadcastFloat32x8(hi)
	clamp8(c0, lv, hv).StoreSlice(c)
	clamp8(c1, lv, hv).StoreSlice(c[8:])
}

// gemm4x8 is gemm4x16 for 8 columns.
func gemm4x8(c, a, b, bias []float32, j, k, n int, lo, hi float32) {
	a0 := a[0*k : 1*k]
	a1 := a[1*k : 2*k][:len(a0)]
	a2 := a[2*k : 3*k][:len(a0)]
	a3 := a[3*k : 4*k][:len(a0)]
	c0 := loadBias8(bias, j)
	c1, c2, c3 := c0, c0, c0
	_ = b[(k-1)*n+7] // the last B row the sweep reads
	bp, nb := ptr(b), uintptr(n)*4
	off := uintptr(0)
	for p := range a0 {
		bv := ld8(bp, off)
		off += nb
		c0 = archsimd.BroadcastFloat32x8(a0[p]).MulAdd(bv, c0)
		c1 = archsimd.BroadcastFloat32x8(a1[p]).MulAdd(bv, c1)
		c2 = archsimd.BroadcastFloat32x8(a2[p]).MulAdd(bv, c2)
		c3 = archsimd.BroadcastFloat32x8(a3[p]).MulAdd(bv, c3)
	}
	lv, hv := archsimd.BroadcastFloat32x8(lo), archsimd.BroadcastFloat32x8(hi)
	clamp8(c0, lv, hv).StoreSlice(c[0*n:])
	clamp8(c1, lv, hv).StoreSlice(c[1*n:])
	clamp8(c2, lv, hv).StoreSlice(c[2*n:])
	clamp8(c3, lv, hv).StoreSlice(c[3*n:])
}

// gemm1x8 is gemm4x8 for one row.
func gemm1x8(c, a, b, bias []float32, j, n int, lo, hi float32) {
	c0 := loadBias8(bias, j)
	off := 0
	for _, av := range a {
		c0 = archsimd.LoadFloat32x8Slice(b[off:off+8]).MulAdd(archsimd.BroadcastFloat32x8(av), c0)
		off += n
	}
	clamp8(c0, archsimd.BroadcastFloat32x8(lo), archsimd.BroadcastFloat32x8(hi)).StoreSlice(c)
}

// depthwiseAVX2 is Depthwise with eight channels per vector, in the
// interior rows of 3×3 windows and in the frame pixels alike.
func depthwiseAVX2(out, in, w, bias []float32, p ConvParams, c int) {
	depthwiseWith(dw3x3RowAVX2, dwPixelAVX2, out, in, w, bias, p, c)
}

// dw3x3RowAVX2 is dw3x3Row eight channels at a time: it holds a group's
// nine weight vectors in registers while it sweeps the row, so each output
// vector costs nine loads and nine FMAs. Channels past the last multiple
// of 8 (none in MobileNetV2) go through dw3x3Row's scalar sweeps.
func dw3x3RowAVX2(o, in, w, bias []float32, rs, xs, npx, c int, lo, hi float32) {
	if !dwRowCheck(o, in, w, bias, rs, xs, npx, c) {
		return
	}
	o, in, w = o[:npx*c], in[:2*rs+(npx-1)*xs+3*c], w[:9*c]
	rb, xb, cb := uintptr(rs)*4, uintptr(xs)*4, uintptr(c)*4
	op, ip, wp := ptr(o), ptr(in), ptr(w)
	lv, hv := archsimd.BroadcastFloat32x8(lo), archsimd.BroadcastFloat32x8(hi)
	c8 := c &^ 7
	for ch := 0; ch < c8; ch += 8 {
		w0 := archsimd.LoadFloat32x8Slice(w[ch:])
		w1 := archsimd.LoadFloat32x8Slice(w[c+ch:])
		w2 := archsimd.LoadFloat32x8Slice(w[2*c+ch:])
		w3 := archsimd.LoadFloat32x8Slice(w[3*c+ch:])
		w4 := archsimd.LoadFloat32x8Slice(w[4*c+ch:])
		w5 := archsimd.LoadFloat32x8Slice(w[5*c+ch:])
		w6 := archsimd.LoadFloat32x8Slice(w[6*c+ch:])
		w7 := archsimd.LoadFloat32x8Slice(w[7*c+ch:])
		w8 := archsimd.LoadFloat32x8Slice(w[8*c+ch:])
		bv := loadBias8(bias, ch)
		// Byte offsets into in and o; every load and store below is inside
		// the regions checked above.
		ib, ob := uintptr(ch)*4, uintptr(ch)*4
		for range npx {
			r0 := unsafe.Add(ip, ib)
			r1 := unsafe.Add(r0, rb)
			r2 := unsafe.Add(r1, rb)
			s := ld8(r0, 0).MulAdd(w0, bv)
			s = ld8(r0, cb).MulAdd(w1, s)
			s = ld8(r0, 2*cb).MulAdd(w2, s)
			s = ld8(r1, 0).MulAdd(w3, s)
			s = ld8(r1, cb).MulAdd(w4, s)
			s = ld8(r1, 2*cb).MulAdd(w5, s)
			s = ld8(r2, 0).MulAdd(w6, s)
			s = ld8(r2, cb).MulAdd(w7, s)
			s = ld8(r2, 2*cb).MulAdd(w8, s)
			clamp8(s, lv, hv).Store((*[8]float32)(unsafe.Add(op, ob)))
			ib += xb
			ob += cb
		}
	}
	if c8 == c {
		return
	}
	// The unsafe sweeps read and write channels c8..c-1 of the regions
	// checked above (see dw3x3Row).
	for ch := c8; ch < c; ch++ {
		var b float32
		if bias != nil {
			b = bias[ch]
		}
		off := uintptr(ch) * 4
		dwSweep(unsafe.Add(op, off), unsafe.Add(ip, off), unsafe.Add(wp, off), b, rb, xb, cb, npx)
	}
	for px := range npx {
		clampSlice(o[px*c+c8:(px+1)*c], lo, hi)
	}
}

// dwPixelAVX2 is dwPixel eight channels at a time. On the 7×7 and 14×14
// maps of MobileNetV2's last blocks, the one-pixel frame is half and a
// quarter of the outputs, too many to leave to scalar code.
func dwPixelAVX2(o, in, w, bias []float32, p ConvParams, iy0, ix0, c int) {
	ky0, ky1 := max(0, -iy0), min(p.KH, p.InH-iy0)
	kx0, kx1 := max(0, -ix0), min(p.KW, p.InW-ix0)
	lv, hv := archsimd.BroadcastFloat32x8(p.Lo), archsimd.BroadcastFloat32x8(p.Hi)
	c8 := c &^ 7
	for ch := 0; ch < c8; ch += 8 {
		s := loadBias8(bias, ch)
		for ky := ky0; ky < ky1; ky++ {
			for kx := kx0; kx < kx1; kx++ {
				x := archsimd.LoadFloat32x8Slice(in[((iy0+ky)*p.InW+ix0+kx)*c+ch:])
				s = x.MulAdd(archsimd.LoadFloat32x8Slice(w[(ky*p.KW+kx)*c+ch:]), s)
			}
		}
		clamp8(s, lv, hv).StoreSlice(o[ch : ch+8])
	}
	if c8 == c {
		return
	}
	o = o[c8:c]
	if bias != nil {
		bias = bias[c8:c]
	}
	initRow(o, bias)
	for ky := ky0; ky < ky1; ky++ {
		for kx := kx0; kx < kx1; kx++ {
			x := in[((iy0+ky)*p.InW+ix0+kx)*c+c8:][:len(o)]
			wk := w[(ky*p.KW+kx)*c+c8:][:len(o)]
			for ch := range o {
				o[ch] += x[ch] * wk[ch]
			}
		}
	}
	clampSlice(o, p.Lo, p.Hi)
}

// ld8 loads the eight floats at byte offset off from p.
func ld8(p unsafe.Pointer, off uintptr) archsimd.Float32x8 {
	return archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(p, off)))
}

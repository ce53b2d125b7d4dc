package kernels

import "unsafe"

// gemmTiles computes C one row at a time in 1×12 register tiles, each a
// call to gemmTile12 (then 1×8, 1×4 and single columns for the rest of a
// row), and clamps each row while it is in cache.
//
// Why this shape, in Go's wasm output (measured in Node 20 and Chromium
// 156: 4.2–4.8 GMAC/s on MobileNetV2's shapes, against 2.7 for 2×4 tiles):
//   - Go's wasm backend turns every jump between basic blocks, including a
//     loop's back edge, into a write of the block number and a br_table
//     dispatch at the top of the function, which V8 compiles to an indirect
//     jump plus spills around it: ~15–20 instructions per loop iteration.
//     A tile amortizes that over its width (12 multiply-adds per k step).
//   - Every load costs an add, a zero-extension and the load itself (Go
//     folds no constant offsets into float loads), so each A value is
//     loaded once per step and each B value once per tile row.
//   - V8 keeps ~15 XMM registers: 12 accumulators, the A value and a
//     temporary fit; 1×16, 2×6, 2×8 and 3×4 tiles spill and are slower. Two-
//     and three-row tiles (2×4, 3×3) are as fast in Node but 30–50% slower
//     in Chromium's newer V8, which is the target; 1×12 is the best in both.
//   - The k loop is a single basic block whose exit test is at the bottom,
//     so Go's scheduler sees the accumulators' updates used in the block
//     (by the loop's phis) and interleaves them with the loads instead of
//     piling up twelve products (which spills in Go's 16 float registers).
//     Unrolling k makes both compilers spill and is slower.
//   - Each tile is its own small function: V8 allocates registers per
//     function, and a call costs less than the extra spills that a tile
//     loop nested in the row loop gets.
//
// Natively it runs at 4.0–5.4 GMAC/s on MobileNetV2's shapes (amd64).
func gemmTiles(c, a, b, bias []float32, m, k, n int, lo, hi float32) {
	if gemmTrivial(c, a, b, bias, m, k, n, lo, hi) {
		return
	}
	kb, nb := uintptr(k)*4, uintptr(n)*4
	cp, ap, bp := ptr(c), ptr(a), ptr(b)
	var biasp unsafe.Pointer
	if bias != nil {
		biasp = ptr(bias)
	}
	for i := 0; i < m; i++ {
		ci := unsafe.Add(cp, uintptr(i)*nb) // row i of c: n floats
		ai := unsafe.Add(ap, uintptr(i)*kb) // row i of a: k floats
		gemmRow(ci, ai, bp, biasp, kb, nb)
		clampSlice(c[i*n:(i+1)*n], lo, hi) // ~6% of a model run; clamping in the tiles was slower
	}
}

// needGemm checks that the slices hold the m×k, k×n, m×n and n values
// the shape needs.
func needGemm(c, a, b, bias []float32, m, k, n int) {
	needLen("Gemm", "c", c, m*n)
	needLen("Gemm", "a", a, m*k)
	needLen("Gemm", "b", b, k*n)
	needBias("Gemm", bias, n)
}

// gemmRow computes one row of C, unclamped: c[j] = bias[j] + Σp a[p]·b[p][j]
// for the nb/4 columns, where c and a point to a row of C and A, b to B
// (rows nb bytes apart, kb/4 of them) and bias to n floats or is nil.
// kb > 0.
func gemmRow(c, a, b, bias unsafe.Pointer, kb, nb uintptr) {
	jb := uintptr(0) // byte offset of the column block
	for ; jb+12*4 <= nb; jb += 12 * 4 {
		gemmTile12(unsafe.Add(c, jb), a, unsafe.Add(b, jb), biasAt(bias, jb), kb, nb)
	}
	if jb+8*4 <= nb {
		gemmTile8(unsafe.Add(c, jb), a, unsafe.Add(b, jb), biasAt(bias, jb), kb, nb)
		jb += 8 * 4
	}
	if jb+4*4 <= nb {
		gemmTile4(unsafe.Add(c, jb), a, unsafe.Add(b, jb), biasAt(bias, jb), kb, nb)
		jb += 4 * 4
	}
	for ; jb < nb; jb += 4 {
		gemmTile1(unsafe.Add(c, jb), a, unsafe.Add(b, jb), biasAt(bias, jb), kb, nb)
	}
}

// biasAt is bias advanced by off bytes, or nil without a bias.
func biasAt(bias unsafe.Pointer, off uintptr) unsafe.Pointer {
	if bias == nil {
		return nil
	}
	return unsafe.Add(bias, off)
}

// gemmTile12 computes 12 consecutive values of a row of C, unclamped. c
// points to the 12 outputs, a to the k = kb/4 values of the row of A, b to
// B's k rows (nb bytes apart) at the tile's first column, bias to 12 values
// or is nil; kb > 0. Loads are written out in the statements that use them
// (not through a helper) so that Go's scheduler, which breaks ties by
// source line, keeps each load next to its multiply-add.
//
//go:noinline
func gemmTile12(c, a, b, bias unsafe.Pointer, kb, nb uintptr) {
	var s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11 float32
	if bias != nil {
		s0 = *(*float32)(bias)
		s1 = *(*float32)(unsafe.Add(bias, 4))
		s2 = *(*float32)(unsafe.Add(bias, 8))
		s3 = *(*float32)(unsafe.Add(bias, 12))
		s4 = *(*float32)(unsafe.Add(bias, 16))
		s5 = *(*float32)(unsafe.Add(bias, 20))
		s6 = *(*float32)(unsafe.Add(bias, 24))
		s7 = *(*float32)(unsafe.Add(bias, 28))
		s8 = *(*float32)(unsafe.Add(bias, 32))
		s9 = *(*float32)(unsafe.Add(bias, 36))
		s10 = *(*float32)(unsafe.Add(bias, 40))
		s11 = *(*float32)(unsafe.Add(bias, 44))
	}
	pa, pb := uintptr(0), uintptr(0)
	for {
		x := *(*float32)(unsafe.Add(a, pa))
		r := unsafe.Add(b, pb)
		s0 += x * *(*float32)(r)
		s1 += x * *(*float32)(unsafe.Add(r, 4))
		s2 += x * *(*float32)(unsafe.Add(r, 8))
		s3 += x * *(*float32)(unsafe.Add(r, 12))
		s4 += x * *(*float32)(unsafe.Add(r, 16))
		s5 += x * *(*float32)(unsafe.Add(r, 20))
		s6 += x * *(*float32)(unsafe.Add(r, 24))
		s7 += x * *(*float32)(unsafe.Add(r, 28))
		s8 += x * *(*float32)(unsafe.Add(r, 32))
		s9 += x * *(*float32)(unsafe.Add(r, 36))
		s10 += x * *(*float32)(unsafe.Add(r, 40))
		s11 += x * *(*float32)(unsafe.Add(r, 44))
		pa += 4
		pb += nb
		if pa >= kb {
			break
		}
	}
	*(*float32)(c) = s0
	*(*float32)(unsafe.Add(c, 4)) = s1
	*(*float32)(unsafe.Add(c, 8)) = s2
	*(*float32)(unsafe.Add(c, 12)) = s3
	*(*float32)(unsafe.Add(c, 16)) = s4
	*(*float32)(unsafe.Add(c, 20)) = s5
	*(*float32)(unsafe.Add(c, 24)) = s6
	*(*float32)(unsafe.Add(c, 28)) = s7
	*(*float32)(unsafe.Add(c, 32)) = s8
	*(*float32)(unsafe.Add(c, 36)) = s9
	*(*float32)(unsafe.Add(c, 40)) = s10
	*(*float32)(unsafe.Add(c, 44)) = s11
}

// gemmTile8 is gemmTile12 for 8 columns.
//
//go:noinline
func gemmTile8(c, a, b, bias unsafe.Pointer, kb, nb uintptr) {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	if bias != nil {
		s0 = *(*float32)(bias)
		s1 = *(*float32)(unsafe.Add(bias, 4))
		s2 = *(*float32)(unsafe.Add(bias, 8))
		s3 = *(*float32)(unsafe.Add(bias, 12))
		s4 = *(*float32)(unsafe.Add(bias, 16))
		s5 = *(*float32)(unsafe.Add(bias, 20))
		s6 = *(*float32)(unsafe.Add(bias, 24))
		s7 = *(*float32)(unsafe.Add(bias, 28))
	}
	pa, pb := uintptr(0), uintptr(0)
	for {
		x := *(*float32)(unsafe.Add(a, pa))
		r := unsafe.Add(b, pb)
		s0 += x * *(*float32)(r)
		s1 += x * *(*float32)(unsafe.Add(r, 4))
		s2 += x * *(*float32)(unsafe.Add(r, 8))
		s3 += x * *(*float32)(unsafe.Add(r, 12))
		s4 += x * *(*float32)(unsafe.Add(r, 16))
		s5 += x * *(*float32)(unsafe.Add(r, 20))
		s6 += x * *(*float32)(unsafe.Add(r, 24))
		s7 += x * *(*float32)(unsafe.Add(r, 28))
		pa += 4
		pb += nb
		if pa >= kb {
			break
		}
	}
	*(*float32)(c) = s0
	*(*float32)(unsafe.Add(c, 4)) = s1
	*(*float32)(unsafe.Add(c, 8)) = s2
	*(*float32)(unsafe.Add(c, 12)) = s3
	*(*float32)(unsafe.Add(c, 16)) = s4
	*(*float32)(unsafe.Add(c, 20)) = s5
	*(*float32)(unsafe.Add(c, 24)) = s6
	*(*float32)(unsafe.Add(c, 28)) = s7
}

// gemmTile4 is gemmTile12 for 4 columns.
//
//go:noinline
func gemmTile4(c, a, b, bias unsafe.Pointer, kb, nb uintptr) {
	var s0, s1, s2, s3 float32
	if bias != nil {
		s0 = *(*float32)(bias)
		s1 = *(*float32)(unsafe.Add(bias, 4))
		s2 = *(*float32)(unsafe.Add(bias, 8))
		s3 = *(*float32)(unsafe.Add(bias, 12))
	}
	pa, pb := uintptr(0), uintptr(0)
	for {
		x := *(*float32)(unsafe.Add(a, pa))
		r := unsafe.Add(b, pb)
		s0 += x * *(*float32)(r)
		s1 += x * *(*float32)(unsafe.Add(r, 4))
		s2 += x * *(*float32)(unsafe.Add(r, 8))
		s3 += x * *(*float32)(unsafe.Add(r, 12))
		pa += 4
		pb += nb
		if pa >= kb {
			break
		}
	}
	*(*float32)(c) = s0
	*(*float32)(unsafe.Add(c, 4)) = s1
	*(*float32)(unsafe.Add(c, 8)) = s2
	*(*float32)(unsafe.Add(c, 12)) = s3
}

// gemmTile1 is gemmTile12 for one column.
func gemmTile1(c, a, b, bias unsafe.Pointer, kb, nb uintptr) {
	var s float32
	if bias != nil {
		s = *(*float32)(bias)
	}
	pa, pb := uintptr(0), uintptr(0)
	for {
		s += *(*float32)(unsafe.Add(a, pa)) * *(*float32)(unsafe.Add(b, pb))
		pa += 4
		pb += nb
		if pa >= kb {
			break
		}
	}
	*(*float32)(c) = s
}

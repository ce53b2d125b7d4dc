//go:build js && wasm && nsfw_simd

package kernels

import "unsafe"

// The WebAssembly SIMD128 kernels live in a separate module,
// wasm/kernels/kernels.wasm (source kernels.wat beside it), because Go's
// wasm assembler has no SIMD opcodes. It imports Go's own linear memory, so
// these calls pass byte offsets of Go slices and copy nothing. The JS host
// links it as the import module "nsfw_kernels"; in a browser without SIMD
// the host links stubs whose version() is 0, and the SIMD Set stays out.
//
// Go's garbage collector does not move objects, and the kernels return
// before any Go code runs again, so the pointers stay valid for the call.

// simdVersion is the kernel module's ABI version, 0 for the stubs. Every
// export below must match kernels.wat in name and wasm type;
// TestKernelImportsMatchExports checks that natively.
//
//go:wasmimport nsfw_kernels version
func simdVersion() int32

// simdGemm is GemmRef, accumulating in float32; see gemmSIMD.
//
//go:wasmimport nsfw_kernels gemm
//go:noescape
func simdGemm(c, a, b, bias unsafe.Pointer, m, k, n int32, lo, hi float32)

// simdDepthwise3x3 is DepthwiseRef for 3×3 windows.
//
//go:wasmimport nsfw_kernels depthwise3x3
//go:noescape
func simdDepthwise3x3(out, in, w, bias unsafe.Pointer, inH, inW, outH, outW, strideH, strideW, padT, padL, c int32, lo, hi float32)

// simdIm2col is Im2colRows.
//
//go:wasmimport nsfw_kernels im2col
//go:noescape
func simdIm2col(col, in unsafe.Pointer, inH, inW, cin, kh, kw, strideH, strideW, padT, padL, outW, oy0, rows int32)

// simdAdd is AddRef over n floats.
//
//go:wasmimport nsfw_kernels add
//go:noescape
func simdAdd(out, a, b unsafe.Pointer, n int32, lo, hi float32)

// simdAffine is AffineRef over n floats.
//
//go:wasmimport nsfw_kernels affine
//go:noescape
func simdAffine(out, in unsafe.Pointer, n int32, scale, shift float32)

// simdDequantize is DequantizeRef over n codes; mul 0 means no channel
// factors, else c of them.
//
//go:wasmimport nsfw_kernels dequantize
//go:noescape
func simdDequantize(out, q unsafe.Pointer, n int32, scale, min float64, mul unsafe.Pointer, c int32)

// simdMinVersion is the kernel ABI these declarations match.
const simdMinVersion = 2

// simd128 runs GEMM (1×1 convolutions, dense), depthwise 3×3, im2col (the
// stem), Add and Affine in the module, and dequantizes the weights at load.
// AvgPool and Softmax, well under 1% of an image, stay in Go.
var simd128 = &Set{
	Name:        "wasm-simd128",
	Gemm:        gemmSIMD,
	Conv:        convSIMD,
	Depthwise:   depthwiseSIMD,
	Add:         addSIMD,
	Affine:      affineSIMD,
	AvgPool:     AvgPool,
	Softmax:     Softmax,
	ConvScratch: ConvScratch,
	Dequantize:  dequantizeSIMD,
}

var simdSets = func() []*Set {
	if simdVersion() >= simdMinVersion {
		return []*Set{simd128}
	}
	return nil
}()

// platformSets returns the SIMD128 Set when the host linked the kernel
// module, and nothing when it linked the stubs.
func platformSets() []*Set { return simdSets }

// gemmSIMD is Gemm in the kernel module (f32_gemm_4x8__wasmsimd_splat).
// The reslicing checks bounds here, since the module cannot.
func gemmSIMD(c, a, b, bias []float32, m, k, n int, lo, hi float32) {
	if m <= 0 || n <= 0 {
		return
	}
	c, a, b = c[:m*n], a[:m*k], b[:k*n]
	if bias != nil {
		bias = bias[:n]
	}
	simdGemm(ptr(c), ptr(a), ptr(b), ptr(bias), int32(m), int32(k), int32(n), lo, hi)
}

// depthwiseSIMD runs 3×3 windows in the kernel module and other windows
// in Go.
func depthwiseSIMD(out, in, w, bias []float32, p ConvParams, c int) {
	if p.KH != 3 || p.KW != 3 || p.StrideH < 1 || p.StrideW < 1 || p.PadT < 0 || p.PadL < 0 {
		Depthwise(out, in, w, bias, p, c)
		return
	}
	if p.OutH <= 0 || p.OutW <= 0 || c <= 0 {
		return
	}
	out, in, w = out[:p.OutH*p.OutW*c], in[:p.InH*p.InW*c], w[:9*c]
	if bias != nil {
		bias = bias[:c]
	}
	simdDepthwise3x3(ptr(out), ptr(in), ptr(w), ptr(bias),
		int32(p.InH), int32(p.InW), int32(p.OutH), int32(p.OutW),
		int32(p.StrideH), int32(p.StrideW), int32(p.PadT), int32(p.PadL), int32(c), p.Lo, p.Hi)
}

// convSIMD is ConvGemm with im2col and GEMM in the module.
func convSIMD(out, in, w, bias, scratch []float32, p ConvParams, cin, cout int) {
	convGemmWith(im2colSIMD, gemmSIMD, out, in, w, bias, scratch, p, cin, cout)
}

// im2colSIMD is Im2colRows in the module.
func im2colSIMD(col, in []float32, p ConvParams, cin, oy0, rows int) {
	if rows <= 0 || p.OutW <= 0 {
		return
	}
	if p.StrideH < 1 || p.StrideW < 1 || p.PadT < 0 || p.PadL < 0 || oy0 < 0 || oy0+rows > p.OutH {
		Im2colRows(col, in, p, cin, oy0, rows)
		return
	}
	col, in = col[:rows*p.OutW*p.KH*p.KW*cin], in[:p.InH*p.InW*cin]
	simdIm2col(ptr(col), ptr(in), int32(p.InH), int32(p.InW), int32(cin), int32(p.KH), int32(p.KW),
		int32(p.StrideH), int32(p.StrideW), int32(p.PadT), int32(p.PadL), int32(p.OutW), int32(oy0), int32(rows))
}

// addSIMD is Add in the module.
func addSIMD(out, a, b []float32, lo, hi float32) {
	n := len(out)
	if n == 0 {
		return
	}
	a, b = a[:n], b[:n]
	simdAdd(ptr(out), ptr(a), ptr(b), int32(n), lo, hi)
}

// affineSIMD is Affine in the module.
func affineSIMD(out, in []float32, scale, shift float32) {
	n := len(out)
	if n == 0 {
		return
	}
	in = in[:n]
	simdAffine(ptr(out), ptr(in), int32(n), scale, shift)
}

// dequantizeSIMD is Dequantize in the module.
func dequantizeSIMD(out []float32, q []uint8, scale, min float64, chanMul []float32) {
	n := len(q)
	if n == 0 {
		return
	}
	out = out[:n]
	c := len(chanMul)
	if c > 0 && n%c != 0 {
		DequantizeRef(out, q, scale, min, chanMul)
		return
	}
	simdDequantize(ptr(out), unsafe.Pointer(unsafe.SliceData(q)), int32(n), scale, min, ptr(chanMul), int32(c))
}

package kernels

import (
	"strconv"
	"unsafe"
)

// The hot loops of gemm_tiles.go and depthwise.go read and write through
// unsafe pointers, because in Go's wasm output every slice index is a
// bounds check and most constant offsets are an extra add: the same loops
// written with slices run at half the speed or less. The avx2 kernels
// (avx2_amd64simd.go) load vectors the same way, for the same reason
// natively: bounds checks cost their GEMM ~10% and their depthwise sweep
// ~40%. The rules that keep them memory-safe:
//
//   - Every exported kernel checks its slice lengths against its shape
//     parameters at entry (needLen) and panics, naming the argument, when a
//     caller passes a short slice. The loops below that check are then in
//     bounds by construction: each unsafe function documents which region it
//     touches, and its callers derive that region from the checked shapes.
//   - No pointer is ever formed outside its slice, not even one past the end
//     (which the unsafe rules forbid and -d=checkptr reports): loops carry
//     byte offsets as uintptr and add them to a base pointer only for an
//     access that is inside the slice.
//   - The guard-cell tests run every such kernel on odd shapes with sentinel
//     values around the output, so an out-of-range write fails a test.

// ptr is the address of s's first element (nil for a nil slice, which
// the SIMD kernels take as "no bias").
func ptr(s []float32) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

// ld reads the float32 at byte offset off from p.
func ld(p unsafe.Pointer, off uintptr) float32 { return *(*float32)(unsafe.Add(p, off)) }

// needLen panics unless s holds at least n values. n < 0 means the shape
// parameters themselves were negative.
func needLen(kernel, arg string, s []float32, n int) {
	if n < 0 || len(s) < n {
		panic("kernels: " + kernel + ": " + arg + " has " + strconv.Itoa(len(s)) +
			" values, the shape needs " + strconv.Itoa(n))
	}
}

// needBias is needLen for an optional bias (nil means no bias).
func needBias(kernel string, bias []float32, n int) {
	if bias != nil {
		needLen(kernel, "bias", bias, n)
	}
}

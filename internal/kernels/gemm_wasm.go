//go:build wasm

package kernels

// gemmKernel is gemmTile2x4 in Go's wasm output, where register tiles beat
// the axpy form (see both).
func gemmKernel(c, a, b, bias []float32, m, k, n int, lo, hi float32) {
	gemmTile2x4(c, a, b, bias, m, k, n, lo, hi)
}

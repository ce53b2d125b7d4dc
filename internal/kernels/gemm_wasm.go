//go:build wasm

package kernels

// gemmKernel is gemmTiles in Go's wasm output, where 1×12 register tiles
// run at ~1.7× the 2×4 tiles they replaced and ~2× the axpy form (see
// gemmTiles for why).
func gemmKernel(c, a, b, bias []float32, m, k, n int, lo, hi float32) {
	gemmTiles(c, a, b, bias, m, k, n, lo, hi)
}

//go:build !wasm

package kernels

// gemmKernel is gemmAxpy8 on native targets, where the axpy form beats
// register tiles (see both).
func gemmKernel(c, a, b, bias []float32, m, k, n int, lo, hi float32) {
	gemmAxpy8(c, a, b, bias, m, k, n, lo, hi)
}

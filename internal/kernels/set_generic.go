//go:build !(js && wasm && nsfw_simd) && !(goexperiment.simd && amd64)

package kernels

// platformSets returns the Sets that need platform support: none outside
// a js/wasm build with the nsfw_simd tag (see simd_wasm.go) and an amd64
// build with GOEXPERIMENT=simd (see avx2_amd64simd.go).
func platformSets() []*Set { return nil }

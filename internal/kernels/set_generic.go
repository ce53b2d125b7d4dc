//go:build !(js && wasm && nsfw_simd)

package kernels

// platformSets returns the Sets that need platform support: none outside
// a js/wasm build with the nsfw_simd tag (see simd_wasm.go).
func platformSets() []*Set { return nil }

//go:build js && wasm && nsfw_simd

package kernels

import (
	"os"
	"testing"
)

// TestSIMDLinked makes sure the other tests really ran the SIMD128 Set:
// under build/wasmtest/run.mjs the kernel module must be linked, and with
// NSFW_KERNELS=off (stubs, as in a browser without SIMD) it must not be
// used.
func TestSIMDLinked(t *testing.T) {
	names := []string{}
	for _, s := range Implementations() {
		names = append(names, s.Name)
	}
	if os.Getenv("NSFW_KERNELS") == "off" {
		if simdVersion() != 0 || len(platformSets()) != 0 || Best() != Go {
			t.Fatalf("stub kernels linked, yet the SIMD Set is in use: %v", names)
		}
		return
	}
	if v := simdVersion(); v < simdMinVersion {
		t.Fatalf("nsfw_kernels.version() = %d: run under build/wasmtest/run.mjs, which links wasm/kernels/kernels.wasm", v)
	}
	if Best() != simd128 {
		t.Fatalf("Best() = %s, want %s (have %v)", Best().Name, simd128.Name, names)
	}
}

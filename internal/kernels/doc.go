// Package kernels holds the numeric loops of the engine.
//
// Every kernel comes in two versions with the same signature: a plain
// reference loop (the *Ref functions, written for obviousness, used as the
// oracle in tests) and an optimized version. A Set bundles one implementation
// of every kernel; the engine calls kernels only through a Set so that a
// faster Set can be substituted at start-up without touching the engine.
// Best picks the fastest Set the build and the CPU offer: "wasm-simd128"
// (js/wasm builds with the nsfw_simd tag, when the page supplies the
// kernel module), "avx2" (amd64 builds with GOEXPERIMENT=simd, on CPUs with
// AVX2 and FMA), otherwise "go", the optimized pure-Go Set.
//
// All tensors are float32, row-major, NHWC with batch 1. Activations are
// expressed as a clamp [lo, hi]: linear is (-Inf, +Inf), ReLU is [0, +Inf),
// ReLU6 is [0, 6].
package kernels

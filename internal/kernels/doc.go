// Package kernels holds the numeric loops of the engine.
//
// Every kernel comes in two versions with the same signature: a plain
// reference loop (the *Ref functions, written for obviousness, used as the
// oracle in tests) and an optimized version. A Set bundles one implementation
// of every kernel; the engine calls kernels only through a Set so that a
// faster Set (for example the WebAssembly SIMD128 module) can be substituted
// at start-up without touching the engine.
//
// All tensors are float32, row-major, NHWC with batch 1. Activations are
// expressed as a clamp [lo, hi]: linear is (-Inf, +Inf), ReLU is [0, +Inf),
// ReLU6 is [0, 6].
package kernels

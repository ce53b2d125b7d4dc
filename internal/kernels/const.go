package kernels

import "math"

var (
	posInf = float32(math.Inf(1))
	negInf = float32(math.Inf(-1))
)

// Clamp bounds for the activations the engine supports.
var (
	LinearLo, LinearHi = negInf, posInf
	ReLULo, ReLUHi     = float32(0), posInf
	ReLU6Lo, ReLU6Hi   = float32(0), float32(6)
)

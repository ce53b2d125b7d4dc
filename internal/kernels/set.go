package kernels

// GemmFunc is the signature of GemmRef and Gemm.
type GemmFunc func(c, a, b, bias []float32, m, k, n int, lo, hi float32)

// Set is one implementation of every kernel the engine calls.
type Set struct {
	Name      string
	Gemm      GemmFunc
	Conv      func(out, in, w, bias, scratch []float32, p ConvParams, cin, cout int)
	Depthwise func(out, in, w, bias []float32, p ConvParams, c int)
	Add       func(out, a, b []float32, lo, hi float32)
	Affine    func(out, in []float32, scale, shift float32)
	AvgPool   func(out, in []float32, p ConvParams, c int)
	Softmax   func(out, in []float32)
	// ConvScratch reports the scratch Conv needs, in float32s.
	ConvScratch func(p ConvParams, cin int) int
	// Dequantize turns a tensor's 8-bit codes into weights at load time.
	Dequantize func(out []float32, q []uint8, scale, min float64, chanMul []float32)
}

// Reference runs the naive loops; it is the oracle for tests, not for use.
var Reference = &Set{
	Name: "reference",
	Gemm: GemmRef,
	Conv: func(out, in, w, bias, _ []float32, p ConvParams, cin, cout int) {
		ConvRef(out, in, w, bias, p, cin, cout, 1)
	},
	Depthwise:   DepthwiseRef,
	Add:         AddRef,
	Affine:      AffineRef,
	AvgPool:     AvgPoolRef,
	Softmax:     SoftmaxRef,
	ConvScratch: func(ConvParams, int) int { return 0 },
	Dequantize:  DequantizeRef,
}

// Go is the optimized pure-Go implementation, available everywhere.
var Go = &Set{
	Name: "go",
	Gemm: Gemm,
	Conv: func(out, in, w, bias, scratch []float32, p ConvParams, cin, cout int) {
		ConvGemm(Gemm, out, in, w, bias, scratch, p, cin, cout)
	},
	Depthwise:   Depthwise,
	Add:         Add,
	Affine:      Affine,
	AvgPool:     AvgPool,
	Softmax:     Softmax,
	ConvScratch: ConvScratch,
	Dequantize:  Dequantize,
}

// Implementations lists every Set usable on this platform, reference first.
// Tests run one body over all of them.
func Implementations() []*Set {
	return append([]*Set{Reference, Go}, platformSets()...)
}

// Best is the fastest Set usable on this platform.
func Best() *Set {
	if s := platformSets(); len(s) > 0 {
		return s[len(s)-1]
	}
	return Go
}

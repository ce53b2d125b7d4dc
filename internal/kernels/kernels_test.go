package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

const guard = 16

var sentinel = float32(-12345.678)

// guarded returns a slice of n values with guard cells on both sides, and a
// check that fails the test if a kernel wrote outside its output.
func guarded(t *testing.T, n int) ([]float32, func()) { return guardedSkew(t, n, 0) }

// guardedSkew is guarded with the output starting skew floats past an
// aligned boundary, so that SIMD kernels meet unaligned outputs.
func guardedSkew(t *testing.T, n, skew int) ([]float32, func()) {
	buf := make([]float32, n+2*guard+skew)
	for i := range buf {
		buf[i] = sentinel
	}
	start := guard + skew
	return buf[start : start+n : start+n], func() {
		t.Helper()
		for i := range buf {
			if (i < start || i >= start+n) && buf[i] != sentinel {
				t.Fatalf("kernel wrote outside its output (at %d of a %d-value output)", i-start, n)
			}
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// offset returns s shifted by an odd number of elements so that kernels
// never rely on aligned starts.
func offset(s []float32, by int) []float32 {
	o := make([]float32, len(s)+by)
	copy(o[by:], s)
	return o[by:]
}

func abs32(s []float32) []float32 {
	if s == nil {
		return nil
	}
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(math.Abs(float64(v)))
	}
	return o
}

// closeEnough compares against a float64-accumulated reference. The allowed
// error is the standard bound for a float32 dot product of length k,
// k·ε·Σ|aᵢbᵢ|, with a small absolute floor.
func closeEnough(t *testing.T, what string, got, want, absSum []float32, k int) {
	t.Helper()
	const eps = 1.0 / (1 << 23)
	for i := range want {
		tol := float64(k+2)*eps*float64(absSum[i]) + 1e-6
		if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= tol) {
			t.Fatalf("%s: element %d = %v, want %v (|Δ|=%g > tol %g)", what, i, got[i], want[i], d, tol)
		}
	}
}

type act struct {
	name   string
	lo, hi float32
}

var acts = []act{{"linear", LinearLo, LinearHi}, {"relu", ReLULo, ReLUHi}, {"relu6", ReLU6Lo, ReLU6Hi}}

// gemmShapes are m×k×n cases for the GEMM kernels: tiles of 4×8 and 8-row
// blocks with every kind of edge (m and n off the tile, n < 8, k below any
// unroll, k = 1 and 0), dense layers (m = 1) from MobileNetV2's head, and
// k large enough for the SIMD GEMM to split m into blocks.
var gemmShapes = [][3]int{
	{1, 1, 1}, {1, 5, 3}, {7, 1, 9}, {8, 8, 8}, {9, 3, 17}, {17, 33, 5}, {15, 16, 31},
	{33, 64, 24}, {100, 27, 32}, {3, 320, 1280 / 8},
	{4, 8, 8}, {5, 8, 8}, {6, 2, 8}, {3, 7, 12}, {13, 4, 15}, {12, 9, 7}, {11, 17, 1},
	{2, 1, 16}, {40, 19, 40}, {9, 2, 4}, {2, 0, 9}, {4, 0, 8},
	{1, 1280, 256}, {1, 256, 128}, {1, 128, 5}, {1, 3, 33},
	{57, 700, 9}, {50, 330, 16}, // several row blocks in the SIMD GEMM
	{70, 5, 24}, {5, 0, 24}, // 4×16 and 4×8 tiles with rows left over, k = 0
}

// TestGemm runs every GEMM against GemmRef, with A, B, bias and C starting
// 1–3 floats off any alignment.
func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, impl := range Implementations() {
		for si, sh := range gemmShapes {
			m, k, n := sh[0], sh[1], sh[2]
			for _, a := range acts {
				for _, withBias := range []bool{true, false} {
					name := fmt.Sprintf("%s/m%d_k%d_n%d/%s/bias=%v", impl.Name, m, k, n, a.name, withBias)
					t.Run(name, func(t *testing.T) {
						A := offset(randSlice(r, m*k), 1+si%3)
						B := offset(randSlice(r, k*n), 3-si%3)
						var bias, absBias []float32
						if withBias {
							bias = offset(randSlice(r, n), 1+si%2)
							absBias = abs32(bias)
						}
						want := make([]float32, m*n)
						GemmRef(want, A, B, bias, m, k, n, a.lo, a.hi)
						absSum := make([]float32, m*n)
						GemmRef(absSum, abs32(A), abs32(B), absBias, m, k, n, LinearLo, LinearHi)
						got, check := guardedSkew(t, m*n, si%4)
						impl.Gemm(got, A, B, bias, m, k, n, a.lo, a.hi)
						check()
						closeEnough(t, name, got, want, absSum, k)
					})
				}
			}
		}
	}
}

type convCase struct {
	inH, inW, cin, cout, kh, kw, sh, sw, padT, padL, padB, padR int
}

func (c convCase) params(lo, hi float32) ConvParams {
	return ConvParams{
		InH: c.inH, InW: c.inW, KH: c.kh, KW: c.kw, StrideH: c.sh, StrideW: c.sw,
		PadT: c.padT, PadL: c.padL,
		OutH: OutSize(c.inH, c.kh, c.sh, c.padT, c.padB),
		OutW: OutSize(c.inW, c.kw, c.sw, c.padL, c.padR),
		Lo:   lo, Hi: hi,
	}
}

var convCases = []convCase{
	{1, 1, 3, 5, 1, 1, 1, 1, 0, 0, 0, 0},
	{5, 7, 3, 8, 3, 3, 2, 2, 0, 0, 1, 1},     // the stem: Keras pad [[0,1],[0,1]] + valid
	{9, 9, 3, 32, 3, 3, 2, 2, 0, 0, 1, 1},    // stem, odd size
	{6, 5, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1},     // SAME, stride 1
	{7, 4, 2, 9, 3, 2, 3, 1, 2, 0, 0, 1},     // uneven everything
	{2, 2, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1},     // window larger than input
	{113, 3, 3, 4, 3, 3, 2, 2, 0, 0, 1, 1},   // tall
	{4, 200, 3, 2, 3, 3, 2, 2, 0, 0, 1, 1},   // wide: several im2col blocks
	{40, 150, 3, 16, 3, 3, 2, 2, 0, 0, 1, 1}, // more than one block of rows
	{4, 5, 3, 4, 3, 3, 1, 1, 3, 2, 3, 2},     // windows wholly in the padding
}

func TestConv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, impl := range Implementations() {
		for ci, cc := range convCases {
			for ai, a := range acts {
				withBias := (ci+ai)%3 != 0
				name := fmt.Sprintf("%s/%v/%s/bias=%v", impl.Name, cc, a.name, withBias)
				t.Run(name, func(t *testing.T) {
					p := cc.params(a.lo, a.hi)
					in := offset(randSlice(r, cc.inH*cc.inW*cc.cin), 1+ci%3)
					w := offset(randSlice(r, cc.kh*cc.kw*cc.cin*cc.cout), 1+ai)
					var bias []float32
					if withBias {
						bias = randSlice(r, cc.cout)
					}
					n := p.OutH * p.OutW * cc.cout
					want := make([]float32, n)
					ConvRef(want, in, w, bias, p, cc.cin, cc.cout, 1)
					absSum := make([]float32, n)
					pl := p
					pl.Lo, pl.Hi = LinearLo, LinearHi
					ConvRef(absSum, abs32(in), abs32(w), abs32(bias), pl, cc.cin, cc.cout, 1)
					got, check := guardedSkew(t, n, ci%4)
					scratch, checkScratch := guardedSkew(t, impl.ConvScratch(p, cc.cin), ai)
					impl.Conv(got, in, w, bias, scratch, p, cc.cin, cc.cout)
					check()
					checkScratch()
					closeEnough(t, name, got, want, absSum, cc.kh*cc.kw*cc.cin)
				})
			}
		}
	}
}

// depthwiseCases cover the 3×3 kernels' row sweep and their frame: odd
// sizes, strides 1, 2 and 3, pads 0–2, channel counts with every remainder
// mod 4 and 8, and inputs too small to have an interior.
func depthwiseCases() []convCase {
	cases := []convCase{
		{1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1},
		{5, 5, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1},   // SAME stride 1
		{7, 9, 17, 17, 3, 3, 1, 1, 1, 1, 1, 1}, // odd channel count
		{8, 8, 5, 5, 3, 3, 2, 2, 0, 0, 1, 1},   // Keras stride 2: pad bottom/right
		{9, 7, 33, 33, 3, 3, 2, 2, 0, 0, 1, 1}, // odd size, stride 2
		{6, 6, 4, 4, 5, 5, 1, 1, 2, 2, 2, 2},   // 5x5 window: general path
		{3, 11, 2, 2, 3, 3, 2, 1, 1, 0, 1, 0},  // mixed strides and pads
		{2, 2, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1},   // every pixel on the border
		{11, 13, 8, 8, 3, 3, 1, 1, 0, 0, 0, 0}, // no padding: all interior
		{3, 3, 12, 12, 3, 3, 1, 1, 0, 0, 0, 0}, // one interior pixel
		{6, 7, 16, 16, 3, 3, 2, 2, 2, 2, 2, 2}, // pad 2
		{1, 9, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1},   // one row
		{9, 1, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1},   // one column
		{10, 10, 6, 6, 3, 3, 3, 3, 1, 1, 1, 1}, // stride 3
		{14, 14, 24, 24, 3, 3, 1, 1, 1, 1, 1, 1},
		{4, 5, 5, 5, 3, 3, 1, 1, 3, 3, 3, 3}, // pad 3: windows wholly in the padding
	}
	for _, c := range []int{1, 3, 5, 17, 33} {
		cases = append(cases,
			convCase{7, 9, c, c, 3, 3, 1, 1, 1, 1, 1, 1},  // SAME stride 1
			convCase{9, 11, c, c, 3, 3, 2, 2, 0, 0, 1, 1}, // Keras stride 2
			convCase{9, 7, c, c, 3, 3, 2, 2, 1, 1, 1, 1},  // TF SAME stride 2, odd size
		)
	}
	return cases
}

func TestDepthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := depthwiseCases()
	for _, impl := range Implementations() {
		for _, cc := range cases {
			for _, a := range acts {
				for _, withBias := range []bool{true, false} {
					name := fmt.Sprintf("%s/%v/%s/bias=%v", impl.Name, cc, a.name, withBias)
					t.Run(name, func(t *testing.T) {
						p := cc.params(a.lo, a.hi)
						c := cc.cin
						in := offset(randSlice(r, cc.inH*cc.inW*c), 1+c%3)
						w := offset(randSlice(r, cc.kh*cc.kw*c), 3-c%3)
						var bias, absBias []float32
						if withBias {
							bias = offset(randSlice(r, c), 2)
							absBias = abs32(bias)
						}
						n := p.OutH * p.OutW * c
						want := make([]float32, n)
						DepthwiseRef(want, in, w, bias, p, c)
						absSum := make([]float32, n)
						pl := p
						pl.Lo, pl.Hi = LinearLo, LinearHi
						DepthwiseRef(absSum, abs32(in), abs32(w), absBias, pl, c)
						got, check := guardedSkew(t, n, c%3)
						impl.Depthwise(got, in, w, bias, p, c)
						check()
						closeEnough(t, name, got, want, absSum, cc.kh*cc.kw)
					})
				}
			}
		}
	}
}

func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, impl := range Implementations() {
		for _, n := range []int{1, 3, 17, 1000} {
			a, b := randSlice(r, n), offset(randSlice(r, n), 1)
			for _, ac := range acts {
				want := make([]float32, n)
				AddRef(want, a, b, ac.lo, ac.hi)
				got, check := guardedSkew(t, n, 1+n%3)
				impl.Add(got, a, b, ac.lo, ac.hi)
				check()
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s add n=%d %s: [%d] = %v, want %v", impl.Name, n, ac.name, i, got[i], want[i])
					}
				}
			}
			want := make([]float32, n)
			AffineRef(want, a, 2, -1)
			got, check := guardedSkew(t, n, 1+n%3)
			impl.Affine(got, a, 2, -1)
			check()
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s affine n=%d: [%d] = %v, want %v", impl.Name, n, i, got[i], want[i])
				}
			}
		}
	}
}

func TestAvgPool(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	cases := []convCase{
		{7, 7, 13, 13, 7, 7, 7, 7, 0, 0, 0, 0}, // global, as in MobileNetV2
		{1, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0},
		{5, 6, 4, 4, 2, 3, 2, 3, 0, 0, 1, 0}, // partial windows
	}
	for _, impl := range Implementations() {
		for _, cc := range cases {
			p := cc.params(LinearLo, LinearHi)
			in := randSlice(r, cc.inH*cc.inW*cc.cin)
			n := p.OutH * p.OutW * cc.cin
			want := make([]float32, n)
			AvgPoolRef(want, in, p, cc.cin)
			got, check := guarded(t, n)
			impl.AvgPool(got, in, p, cc.cin)
			check()
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-6 {
					t.Fatalf("%s avgpool %v: [%d] = %v, want %v", impl.Name, cc, i, got[i], want[i])
				}
			}
		}
	}
}

func TestSoftmax(t *testing.T) {
	for _, impl := range Implementations() {
		for _, in := range [][]float32{{0}, {1, 2, 3}, {-1000, 0, 1000}, {88, 89, 90, 91, 92}, {-3, -3, -3, -3}} {
			want := make([]float32, len(in))
			SoftmaxRef(want, in)
			got, check := guarded(t, len(in))
			impl.Softmax(got, in)
			check()
			var sum float64
			for i := range want {
				sum += float64(got[i])
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-6 {
					t.Fatalf("%s softmax %v: [%d] = %v, want %v", impl.Name, in, i, got[i], want[i])
				}
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Fatalf("%s softmax %v sums to %v", impl.Name, in, sum)
			}
		}
	}
}

// TestReferenceConvByHand pins the reference itself to values computed by
// hand, so that a bug shared by the reference and the optimized kernels
// cannot pass unnoticed.
func TestReferenceConvByHand(t *testing.T) {
	// 3×3 input, one channel, 2×2 kernel of ones, stride 1, no padding:
	// each output is the sum of a 2×2 block.
	in := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	w := []float32{1, 1, 1, 1}
	p := ConvParams{InH: 3, InW: 3, OutH: 2, OutW: 2, KH: 2, KW: 2, StrideH: 1, StrideW: 1, Lo: LinearLo, Hi: LinearHi}
	out := make([]float32, 4)
	ConvRef(out, in, w, []float32{0.5}, p, 1, 1, 1)
	want := []float32{12.5, 16.5, 24.5, 28.5}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("ConvRef = %v, want %v", out, want)
		}
	}
	// Keras stride-2 with ZeroPadding2D((0,1),(0,1)): output (1,1) reads
	// input rows/cols 2..4, of which 3 and 4 are padding.
	p = ConvParams{InH: 3, InW: 3, OutH: 2, OutW: 2, KH: 3, KW: 3, StrideH: 2, StrideW: 2, Lo: LinearLo, Hi: LinearHi}
	w9 := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	ConvRef(out, in, w9, nil, p, 1, 1, 1)
	want = []float32{45, 3 + 6 + 9, 7 + 8 + 9, 9}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("ConvRef stride 2 = %v, want %v", out, want)
		}
	}
	// Depthwise, 2 channels, 1×1 kernel: a per-channel scale.
	DepthwiseRef(out[:2], []float32{3, 4}, []float32{2, -1}, nil, ConvParams{InH: 1, InW: 1, OutH: 1, OutW: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Lo: ReLULo, Hi: ReLUHi}, 2)
	if out[0] != 6 || out[1] != 0 {
		t.Fatalf("DepthwiseRef = %v, want [6 0]", out[:2])
	}
	GemmRef(out[:2], []float32{1, 2}, []float32{3, 4, 5, 6}, []float32{10, 20}, 1, 2, 2, ReLU6Lo, ReLU6Hi)
	if out[0] != 6 || out[1] != 6 {
		t.Fatalf("GemmRef clamp = %v, want [6 6]", out[:2])
	}
}

// TestDequantize requires every Dequantize to match DequantizeRef bit for
// bit, on odd sizes and channel counts (vector bodies and scalar tails),
// unaligned codes and outputs, and the quantization parameters of real
// tensors as well as random ones.
func TestDequantize(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	type qcase struct {
		n, c       int // c = 0: no channel factors
		scale, min float64
	}
	cases := []qcase{
		{1, 0, 0.01, -1}, {3, 0, 1.0 / 255, 0}, {4, 0, 0.3, -38.4}, {259, 0, 0.00392156862745098, -0.5},
		{5, 5, 0.02, -2.5}, {8, 1, 0.1, 0}, {21, 3, 0.0123456789, -1.5}, {36, 12, 0.007, -0.9},
		{27 * 32, 32, 0.0037, -0.47}, {9 * 35, 35, 1e-3, -0.1}, {1280 * 5, 5, 0.0021, -0.27},
	}
	for i := 0; i < 20; i++ {
		c := 1 + r.IntN(40)
		cases = append(cases, qcase{c * (1 + r.IntN(9)), c * (i % 2), r.Float64() * 0.05, -r.Float64()})
	}
	for ci, tc := range cases {
		q := make([]uint8, tc.n+ci%3)[ci%3:] // unaligned codes
		for i := range q {
			q[i] = uint8(r.Uint32())
		}
		q[0], q[len(q)-1] = 0, 255
		var mul []float32
		if tc.c > 0 {
			mul = offset(randSlice(r, tc.c), 1+ci%3)
		}
		want := make([]float32, tc.n)
		DequantizeRef(want, q, tc.scale, tc.min, mul)
		for _, impl := range Implementations() {
			got, check := guardedSkew(t, tc.n, ci%4)
			impl.Dequantize(got, q, tc.scale, tc.min, mul)
			check()
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s n=%d c=%d scale=%v min=%v: [%d] (code %d) = %v, want %v",
						impl.Name, tc.n, tc.c, tc.scale, tc.min, i, q[i], got[i], want[i])
				}
			}
		}
	}
}

// TestDequantizeRefByHand pins the reference to values worked out by hand.
func TestDequantizeRefByHand(t *testing.T) {
	out := make([]float32, 4)
	DequantizeRef(out, []uint8{0, 1, 2, 255}, 0.5, -1, nil)
	if want := []float32{-1, -0.5, 0, 126.5}; fmt.Sprint(out) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", out, want)
	}
	DequantizeRef(out, []uint8{0, 1, 2, 255}, 0.5, -1, []float32{2, -1})
	if want := []float32{-2, 0.5, 0, -126.5}; fmt.Sprint(out) != fmt.Sprint(want) {
		t.Fatalf("with channel factors: got %v, want %v", out, want)
	}
}

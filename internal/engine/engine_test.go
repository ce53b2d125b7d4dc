package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nsfw-go/nsfw/internal/kernels"
)

func randW(r *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = (r.Float32()*2 - 1) * scale
	}
	return s
}

// tinyNet is a MobileNetV2-shaped graph small enough to run through the
// reference kernels: affine input, stem conv, an inverted residual block
// with a skip connection, a strided block, global pooling, two dense layers
// and softmax.
func tinyNet(r *rand.Rand) *Graph {
	g := &Graph{Input: Shape{13, 11, 3}}
	add := func(n Node) int {
		if n.In[1] == 0 && n.Kind != Add {
			n.In[1] = -1
		}
		g.Nodes = append(g.Nodes, n)
		return len(g.Nodes)
	}
	conv := func(in, kh, kw, cin, cout, groups, stride int, pad [4]int, act Activation) int {
		return add(Node{Kind: Conv, Act: act, In: [2]int{in, -1}, Weights: randW(r, kh*kw*cin/groups*cout, 0.5),
			Bias: randW(r, cout, 0.1), WShape: [4]int{kh, kw, cin / groups, cout}, Groups: groups,
			StrideH: stride, StrideW: stride, Pad: pad})
	}
	x := add(Node{Kind: Affine, In: [2]int{0, -1}, Scale: 2, Shift: -1})
	x = conv(x, 3, 3, 3, 8, 1, 2, [4]int{0, 0, 1, 1}, ReLU6)     // 7x6x8
	e := conv(x, 1, 1, 8, 24, 1, 1, [4]int{}, ReLU6)             // expand
	d := conv(e, 3, 3, 24, 24, 24, 1, [4]int{1, 1, 1, 1}, ReLU6) // depthwise
	pr := conv(d, 1, 1, 24, 8, 1, 1, [4]int{}, Linear)           // project
	x = add(Node{Kind: Add, In: [2]int{x, pr}})                  // residual
	e = conv(x, 1, 1, 8, 16, 1, 1, [4]int{}, ReLU6)
	d = conv(e, 3, 3, 16, 16, 16, 2, [4]int{0, 0, 1, 1}, ReLU6) // 4x3
	x = conv(d, 1, 1, 16, 12, 1, 1, [4]int{}, Linear)
	x = add(Node{Kind: AvgPool, In: [2]int{x, -1}, KH: 3, KW: 2, StrideH: 3, StrideW: 2})
	x = add(Node{Kind: Dense, Act: ReLU, In: [2]int{x, -1}, Weights: randW(r, 12*10, 0.5), Bias: randW(r, 10, 0.1), WShape: [4]int{12, 10, 1, 1}})
	x = add(Node{Kind: Dense, In: [2]int{x, -1}, Weights: randW(r, 10*5, 0.5), Bias: randW(r, 5, 0.1), WShape: [4]int{10, 5, 1, 1}})
	add(Node{Kind: Softmax, In: [2]int{x, -1}})
	return g
}

// runUnplanned runs g with a fresh buffer per value and the reference
// kernels: the oracle for the planner and the optimized kernels.
func runUnplanned(t *testing.T, g *Graph, input []float32) []float32 {
	shapes, err := g.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	vals := make([][]float32, len(shapes))
	vals[0] = input
	k := kernels.Reference
	for i := range g.Nodes {
		n := &g.Nodes[i]
		out := make([]float32, shapes[i+1].Size())
		in := vals[n.In[0]]
		lo, hi := clampOf(n.Act)
		s := shapes[n.In[0]]
		switch n.Kind {
		case Conv:
			p := kernels.ConvParams{InH: s.H, InW: s.W, OutH: shapes[i+1].H, OutW: shapes[i+1].W, KH: n.WShape[0], KW: n.WShape[1],
				StrideH: n.StrideH, StrideW: n.StrideW, PadT: n.Pad[0], PadL: n.Pad[1], Lo: lo, Hi: hi}
			kernels.ConvRef(out, in, n.Weights, n.Bias, p, s.C, n.WShape[3], n.Groups)
		case Add:
			k.Add(out, in, vals[n.In[1]], lo, hi)
		case Affine:
			k.Affine(out, in, n.Scale, n.Shift)
		case AvgPool:
			p := kernels.ConvParams{InH: s.H, InW: s.W, OutH: shapes[i+1].H, OutW: shapes[i+1].W, KH: n.KH, KW: n.KW,
				StrideH: n.StrideH, StrideW: n.StrideW, PadT: n.Pad[0], PadL: n.Pad[1], Lo: lo, Hi: hi}
			k.AvgPool(out, in, p, s.C)
		case Dense:
			k.Gemm(out, in, n.Weights, n.Bias, 1, n.WShape[0], n.WShape[1], lo, hi)
		case Softmax:
			k.Softmax(out, in)
		}
		vals[i+1] = out
	}
	return vals[len(vals)-1]
}

func TestPlannedRunMatchesUnplanned(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := 0; trial < 5; trial++ {
		g := tinyNet(r)
		input := randW(r, g.Input.Size(), 1)
		want := runUnplanned(t, g, input)
		for _, k := range kernels.Implementations() {
			p, err := NewPlan(g, k)
			if err != nil {
				t.Fatal(err)
			}
			it := p.NewInterpreter()
			// Poison the arena: planned runs must not read stale data.
			for i := range it.arena {
				it.arena[i] = float32(math.NaN())
			}
			copy(it.Input(), input)
			got := it.Run()
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); !(d < 1e-5) {
					t.Fatalf("trial %d %s: out[%d] = %v, want %v", trial, k.Name, i, got[i], want[i])
				}
			}
			// Running twice gives the same answer (no state leaks between runs).
			copy(it.Input(), input)
			again := it.Run()
			for i := range got {
				if again[i] != got[i] {
					t.Fatalf("second run differs at %d", i)
				}
			}
		}
	}
}

func TestPlanLiveBuffersDoNotOverlap(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	g := tinyNet(r)
	p, err := NewPlan(g, kernels.Go)
	if err != nil {
		t.Fatal(err)
	}
	// Reconstruct value intervals and check every pair live together is disjoint.
	nv := len(p.shapes)
	last := make([]int, nv)
	for v := range last {
		last[v] = max(v-1, 0)
	}
	for i, n := range g.Nodes {
		for _, v := range n.In {
			if v >= 0 {
				last[v] = i
			}
		}
	}
	last[nv-1] = len(g.Nodes)
	total := 0
	for a := 0; a < nv; a++ {
		total += p.shapes[a].Size()
		for b := a + 1; b < nv; b++ {
			fa, fb := max(a-1, 0), max(b-1, 0)
			if fa <= last[b] && fb <= last[a] {
				oa, ob := p.offsets[a], p.offsets[b]
				if oa < ob+p.shapes[b].Size() && ob < oa+p.shapes[a].Size() {
					t.Fatalf("values %d and %d are live together and overlap", a, b)
				}
			}
		}
	}
	if p.size >= roundUp(total)+64*len(p.shapes) {
		t.Errorf("arena %d floats is no smaller than all values together (%d)", p.size, total)
	}
}

func TestRunAllocatesNothing(t *testing.T) {
	g := tinyNet(rand.New(rand.NewPCG(1, 1)))
	p, err := NewPlan(g, kernels.Best())
	if err != nil {
		t.Fatal(err)
	}
	it := p.NewInterpreter()
	if n := testing.AllocsPerRun(20, func() { it.Run() }); n != 0 {
		t.Fatalf("Run allocates %v times per call", n)
	}
}

func TestShapeErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	cases := []struct {
		name   string
		mutate func(g *Graph)
		want   string
	}{
		{"no ops", func(g *Graph) { g.Nodes = nil }, "no ops"},
		{"bad input", func(g *Graph) { g.Input.C = 0 }, "input shape"},
		{"forward reference", func(g *Graph) { g.Nodes[1].In[0] = 5 }, "not defined before it"},
		{"negative input", func(g *Graph) { g.Nodes[1].In[0] = -1 }, "not defined before it"},
		{"channel mismatch", func(g *Graph) { g.Nodes[2].In[0] = 0 }, "channels"},
		{"weight count", func(g *Graph) { g.Nodes[1].Weights = g.Nodes[1].Weights[1:] }, "weights, shape"},
		{"bias count", func(g *Graph) { g.Nodes[1].Bias = g.Nodes[1].Bias[1:] }, "biases"},
		{"grouped non-depthwise", func(g *Graph) { g.Nodes[3].Groups = 2 }, "channels"},
		{"zero stride", func(g *Graph) { g.Nodes[1].StrideH = 0 }, "stride"},
		{"window too big", func(g *Graph) { g.Nodes[9].KH = 9 }, "does not fit"},
		{"add shapes", func(g *Graph) { g.Nodes[5].In[1] = 1 }, "adds"},
		{"dense input", func(g *Graph) { g.Nodes[10].WShape[0] = 13 }, "weights expect"},
		{"unknown kind", func(g *Graph) { g.Nodes[0].Kind = 99 }, "unknown op kind"},
		{"unknown activation", func(g *Graph) { g.Nodes[1].Act = 7 }, "unknown activation"},
		{"second input", func(g *Graph) { g.Nodes[1].In[1] = 0 }, "second input"},
		{"activation on softmax", func(g *Graph) { g.Nodes[12].Act = ReLU }, "takes no activation"},
		{"huge padding", func(g *Graph) { g.Nodes[1].Pad[0] = 1000 }, "padding"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := tinyNet(r)
			c.mutate(g)
			_, err := NewPlan(g, kernels.Go)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, c.want)
			}
		})
	}
}

func ExamplePlan() {
	// y = softmax(dense(x)) on a 1×1×2 input.
	g := &Graph{Input: Shape{1, 1, 2}, Nodes: []Node{
		{Kind: Dense, In: [2]int{0, -1}, Weights: []float32{1, 0, 0, 1}, WShape: [4]int{2, 2, 1, 1}},
		{Kind: Softmax, In: [2]int{1, -1}},
	}}
	p, err := NewPlan(g, kernels.Go)
	if err != nil {
		panic(err)
	}
	it := p.NewInterpreter()
	copy(it.Input(), []float32{0, float32(math.Log(3))})
	fmt.Printf("%.2f\n", it.Run())
	// Output: [0.25 0.75]
}

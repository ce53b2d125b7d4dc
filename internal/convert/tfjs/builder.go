package tfjs

import (
	"fmt"
	"math"

	"github.com/nsfw-go/nsfw/internal/engine"
	"github.com/nsfw-go/nsfw/internal/format"
)

// builder accumulates ops and tracks value shapes while a TF.js topology is
// walked, and holds each conv's weights unresolved until the end so that a
// following BatchNorm can still be folded into them.
type builder struct {
	ops    []format.Op
	shapes []engine.Shape // by value id; 0 is the input
	convs  map[int]*pendingConv
	denses map[int]*pendingDense
	order  []int // op indexes with weights, in op order
}

// pendingConv is a conv's weights as value = mul[c]·w + add[c] per output
// channel c, with w the source (quantized) kernel.
type pendingConv struct {
	name     string
	kernel   *RawWeight
	dims     [4]int // KH, KW, Cin/groups, Cout
	mul, add []float64
	hasBias  bool // add carries a bias (from the source or a folded BatchNorm)
	folded   bool // a BatchNorm was folded in
	biasName string
	rawBias  *RawWeight // the source bias, stored as is unless a fold changed it
}

type pendingDense struct {
	kernel, bias *RawWeight
}

func newBuilder(input engine.Shape) *builder {
	return &builder{shapes: []engine.Shape{input}, convs: map[int]*pendingConv{}, denses: map[int]*pendingDense{}}
}

// add appends op and returns its output value id after checking its shape
// with the engine's own shape rules.
func (b *builder) add(op format.Op, node engine.Node) (int, error) {
	// Build a one-node graph around the op's inputs to reuse engine checks.
	g := &engine.Graph{Input: b.shapes[node.In[0]]}
	n := node
	n.In = [2]int{0, -1}
	if node.Kind == engine.Add {
		if b.shapes[node.In[1]] != b.shapes[node.In[0]] {
			return 0, fmt.Errorf("add of %v and %v", b.shapes[node.In[0]], b.shapes[node.In[1]])
		}
		n.In[1] = 0
	}
	g.Nodes = []engine.Node{n}
	shapes, err := g.Shapes()
	if err != nil {
		return 0, err
	}
	b.ops = append(b.ops, op)
	b.shapes = append(b.shapes, shapes[1])
	return len(b.shapes) - 1, nil
}

// conv adds a conv op whose weights are resolved at the end.
func (b *builder) conv(in int, pc *pendingConv, groups int, stride [2]int, pad [4]int, act uint32) (int, error) {
	n := engine.Node{Kind: engine.Conv, Act: engine.Activation(act), In: [2]int{in, -1},
		Weights: make([]float32, pc.kernel.Len()), WShape: pc.dims, Groups: groups,
		StrideH: stride[0], StrideW: stride[1], Pad: pad}
	op := format.Op{Kind: format.OpConv, Activation: act, Input: [2]int32{int32(in), -1}, Weight: -1, Bias: -1,
		Groups: uint32(groups), Stride: [2]uint32{uint32(stride[0]), uint32(stride[1])},
		Pad: [4]uint32{uint32(pad[0]), uint32(pad[1]), uint32(pad[2]), uint32(pad[3])}}
	v, err := b.add(op, n)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", pc.name, err)
	}
	idx := len(b.ops) - 1
	b.convs[idx] = pc
	b.order = append(b.order, idx)
	return v, nil
}

func newPendingConv(name string, kernel *RawWeight, dims [4]int, bias *RawWeight) (*pendingConv, error) {
	cout := dims[3]
	if kernel.Len() != dims[0]*dims[1]*dims[2]*dims[3] {
		return nil, fmt.Errorf("%s: kernel %v does not match %v", name, kernel.Spec.Shape, dims)
	}
	pc := &pendingConv{name: name, kernel: kernel, dims: dims, mul: make([]float64, cout), add: make([]float64, cout)}
	for c := range pc.mul {
		pc.mul[c] = 1
	}
	if bias != nil {
		if bias.Len() != cout {
			return nil, fmt.Errorf("%s: bias has %d values for %d channels", name, bias.Len(), cout)
		}
		for c := range pc.add {
			pc.add[c] = float64(bias.Value(c))
		}
		pc.hasBias = true
	}
	return pc, nil
}

// foldBatchNorm folds y = (x-mean)·γ/√(var+ε) + β into the conv, reading
// the parameters as TF.js would (dequantized to float32).
func (pc *pendingConv) foldBatchNorm(gamma, beta, mean, variance *RawWeight, eps float64) error {
	for _, w := range []*RawWeight{gamma, beta, mean, variance} {
		if w != nil && w.Len() != len(pc.mul) {
			return fmt.Errorf("%s: batchnorm parameter %s has %d values for %d channels", pc.name, w.Spec.Name, w.Len(), len(pc.mul))
		}
	}
	for c := range pc.mul {
		g, bt := 1.0, 0.0
		if gamma != nil {
			g = float64(gamma.Value(c))
		}
		if beta != nil {
			bt = float64(beta.Value(c))
		}
		s := g / math.Sqrt(float64(variance.Value(c))+eps)
		pc.mul[c] *= s
		pc.add[c] = (pc.add[c]-float64(mean.Value(c)))*s + bt
	}
	pc.hasBias = true
	pc.folded = true
	return nil
}

// finish resolves pending weights into tensors and returns the file body.
func (b *builder) finish() ([]format.Tensor, []format.Op, error) {
	var tensors []format.Tensor
	addTensor := func(t format.Tensor) int32 {
		tensors = append(tensors, t)
		return int32(len(tensors) - 1)
	}
	for _, idx := range b.order {
		op := &b.ops[idx]
		if pc, ok := b.convs[idx]; ok {
			op.Weight = addTensor(pc.weightTensor())
			if pc.rawBias != nil && !pc.folded {
				op.Bias = addTensor(rawTensor(pc.rawBias, pc.rawBias.Spec.Shape))
			} else if pc.hasBias {
				bias := make([]float32, len(pc.add))
				for c, v := range pc.add {
					bias[c] = float32(v)
				}
				op.Bias = addTensor(format.Tensor{Name: pc.biasName, Type: format.F32, Dims: []int{len(bias)}, F32: bias})
			}
		}
		if pd, ok := b.denses[idx]; ok {
			op.Weight = addTensor(rawTensor(pd.kernel, pd.kernel.Spec.Shape))
			if pd.bias != nil {
				op.Bias = addTensor(rawTensor(pd.bias, pd.bias.Spec.Shape))
			}
		}
	}
	return tensors, b.ops, nil
}

// weightTensor keeps the source codes and their affine; a folded BatchNorm
// becomes a factor per output channel (U8C).
func (pc *pendingConv) weightTensor() format.Tensor {
	dims := pc.dims[:]
	if !pc.folded {
		return rawTensor(pc.kernel, dims)
	}
	q := pc.kernel.Spec.Quantization
	t := format.Tensor{Name: pc.kernel.Spec.Name, Type: format.U8C, Dims: append([]int(nil), dims...), Q: pc.kernel.Codes,
		Min: q.Min, Scale: q.Scale, ChanMul: make([]float32, len(pc.mul))}
	for c, m := range pc.mul {
		t.ChanMul[c] = float32(m)
	}
	return t
}

// rawTensor stores a source weight as is (U8 or F32) with the given dims.
func rawTensor(w *RawWeight, dims []int) format.Tensor {
	t := format.Tensor{Name: w.Spec.Name, Dims: append([]int(nil), dims...)}
	if w.Codes != nil {
		t.Type, t.Q, t.Min, t.Scale = format.U8, w.Codes, w.Spec.Quantization.Min, w.Spec.Quantization.Scale
	} else {
		t.Type, t.F32 = format.F32, w.Floats
	}
	return t
}

// samePadding is TF's "SAME": output ceil(n/s), the excess split with the
// extra zero after.
func samePadding(n, k, s int) (before, after int) {
	out := (n + s - 1) / s
	total := max((out-1)*s+k-n, 0)
	return total / 2, total - total/2
}

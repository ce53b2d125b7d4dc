// Package engine runs a small graph of NHWC float32 ops (convolution, add,
// affine, average pooling, dense, softmax) with memory planned once.
//
// A Graph is immutable once built and can be shared; Plan assigns every
// intermediate value an offset in one arena from the values' lifetimes
// (as TFLite Micro's greedy planner does), and an Interpreter owns one arena
// and runs the graph without allocating. Use one Interpreter per goroutine.
//
// The ops are few and explicit, with weights held as plain float32 slices,
// so that backward passes for fine-tuning can be added op by op.
package engine

import (
	"errors"

	"github.com/nsfw-go/nsfw/internal/errfmt"
)

// Shape is the extent of a value with batch 1: height, width, channels.
// Vectors (dense inputs and outputs) are 1×1×C.
type Shape struct{ H, W, C int }

// Size is the number of float32s the value holds.
func (s Shape) Size() int { return s.H * s.W * s.C }

func (s Shape) String() string { return errfmt.Sprintf("%dx%dx%d", s.H, s.W, s.C) }

// Kind is the kind of an op.
type Kind uint8

// The op kinds.
const (
	Conv    Kind = iota + 1 // 2-D convolution, groups 1 or depthwise
	Add                     // elementwise sum of two values
	Affine                  // x*Scale + Shift, elementwise
	AvgPool                 // average over windows, padding not counted
	Dense                   // fully connected on the flattened input
	Softmax                 // over all elements of the input
)

var kindNames = [...]string{Conv: "conv", Add: "add", Affine: "affine", AvgPool: "avgpool", Dense: "dense", Softmax: "softmax"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return errfmt.Sprintf("kind(%d)", uint8(k))
}

// Activation is applied to an op's output.
type Activation uint8

// The activations.
const (
	Linear Activation = iota
	ReLU
	ReLU6
)

var actNames = [...]string{Linear: "linear", ReLU: "relu", ReLU6: "relu6"}

func (a Activation) String() string {
	if int(a) < len(actNames) {
		return actNames[a]
	}
	return errfmt.Sprintf("activation(%d)", uint8(a))
}

// Node is one op. Node i of a Graph reads earlier values and produces value
// i+1; value 0 is the graph input.
type Node struct {
	Kind Kind
	Act  Activation
	// In are the value ids read; In[1] is used by Add only and is -1 otherwise.
	In [2]int
	// Weights: Conv KH×KW×(Cin/Groups)×Cout; Dense In×Out. Bias has Cout/Out
	// entries or is nil.
	Weights []float32
	Bias    []float32
	// WShape is the weight shape: Conv {KH, KW, Cin/Groups, Cout}; Dense {In, Out, 1, 1}.
	WShape [4]int
	// Groups is 1 for a full convolution or Cin for a depthwise one.
	Groups int
	// KH, KW are the AvgPool window.
	KH, KW           int
	StrideH, StrideW int
	// Pad is zero padding: top, left, bottom, right.
	Pad [4]int
	// Scale and Shift parametrise Affine.
	Scale, Shift float32
}

// Graph is a model: an input shape and ops in execution order.
type Graph struct {
	Input Shape
	Nodes []Node
}

// ErrInvalid is wrapped by every error that describes a malformed graph.
var ErrInvalid = errors.New("invalid graph")

func nodeErr(i int, n *Node, format string, args ...any) error {
	return errfmt.Errorf("%w: op %d (%s): %s", ErrInvalid, i, n.Kind, errfmt.Sprintf(format, args...))
}

const maxDim = 1 << 16

// Shapes checks every node against its inputs and returns the shape of
// every value: index 0 is the input, index i+1 the output of node i.
func (g *Graph) Shapes() ([]Shape, error) {
	in := g.Input
	if in.H < 1 || in.W < 1 || in.C < 1 || in.H > maxDim || in.W > maxDim || in.C > maxDim {
		return nil, errfmt.Errorf("%w: input shape %v", ErrInvalid, in)
	}
	if len(g.Nodes) == 0 {
		return nil, errfmt.Errorf("%w: no ops", ErrInvalid)
	}
	shapes := make([]Shape, 1, len(g.Nodes)+1)
	shapes[0] = in
	for i := range g.Nodes {
		n := &g.Nodes[i]
		s, err := n.outShape(i, shapes)
		if err != nil {
			return nil, err
		}
		if s.Size() > 1<<28 {
			return nil, nodeErr(i, n, "output %v is too large", s)
		}
		shapes = append(shapes, s)
	}
	return shapes, nil
}

func (n *Node) input(i, which int, shapes []Shape) (Shape, error) {
	v := n.In[which]
	if v < 0 || v >= len(shapes) {
		return Shape{}, nodeErr(i, n, "input %d reads value %d, which is not defined before it", which, v)
	}
	return shapes[v], nil
}

func (n *Node) checkAct(i int) error {
	if n.Act > ReLU6 {
		return nodeErr(i, n, "unknown activation %d", uint8(n.Act))
	}
	return nil
}

func (n *Node) outShape(i int, shapes []Shape) (Shape, error) {
	if err := n.checkAct(i); err != nil {
		return Shape{}, err
	}
	x, err := n.input(i, 0, shapes)
	if err != nil {
		return Shape{}, err
	}
	if n.Kind != Add && n.In[1] != -1 {
		return Shape{}, nodeErr(i, n, "has a second input")
	}
	for _, p := range n.Pad {
		if p < 0 || p > 64 {
			return Shape{}, nodeErr(i, n, "padding %v out of range", n.Pad)
		}
	}
	switch n.Kind {
	case Conv:
		kh, kw, cinG, cout := n.WShape[0], n.WShape[1], n.WShape[2], n.WShape[3]
		if kh < 1 || kw < 1 || cinG < 1 || cout < 1 || kh > 64 || kw > 64 {
			return Shape{}, nodeErr(i, n, "weight shape %v", n.WShape)
		}
		if n.Groups < 1 || x.C != cinG*n.Groups {
			return Shape{}, nodeErr(i, n, "input has %d channels, weights expect %d×%d groups", x.C, cinG, n.Groups)
		}
		if n.Groups != 1 && (cinG != 1 || cout != x.C) {
			return Shape{}, nodeErr(i, n, "only depthwise (groups = channels, multiplier 1) grouping is supported, got %d groups of %d→%d", n.Groups, cinG, cout)
		}
		if len(n.Weights) != kh*kw*cinG*cout {
			return Shape{}, nodeErr(i, n, "has %d weights, shape %v needs %d", len(n.Weights), n.WShape, kh*kw*cinG*cout)
		}
		if n.Bias != nil && len(n.Bias) != cout {
			return Shape{}, nodeErr(i, n, "has %d biases for %d output channels", len(n.Bias), cout)
		}
		return n.window(i, x, kh, kw, cout)
	case AvgPool:
		if n.KH < 1 || n.KW < 1 || n.KH > 1024 || n.KW > 1024 {
			return Shape{}, nodeErr(i, n, "window %dx%d", n.KH, n.KW)
		}
		if n.Weights != nil || n.Bias != nil {
			return Shape{}, nodeErr(i, n, "has weights")
		}
		return n.window(i, x, n.KH, n.KW, x.C)
	case Add:
		y, err := n.input(i, 1, shapes)
		if err != nil {
			return Shape{}, err
		}
		if x != y {
			return Shape{}, nodeErr(i, n, "adds %v to %v", x, y)
		}
		return x, nil
	case Affine, Softmax:
		if n.Weights != nil || n.Bias != nil {
			return Shape{}, nodeErr(i, n, "has weights")
		}
		if n.Act != Linear {
			return Shape{}, nodeErr(i, n, "%s takes no activation", n.Kind)
		}
		return x, nil
	case Dense:
		in, out := n.WShape[0], n.WShape[1]
		if in != x.Size() {
			return Shape{}, nodeErr(i, n, "input has %d values, weights expect %d", x.Size(), in)
		}
		if out < 1 || n.WShape[2] != 1 || n.WShape[3] != 1 || len(n.Weights) != in*out {
			return Shape{}, nodeErr(i, n, "weight shape %v with %d weights", n.WShape, len(n.Weights))
		}
		if n.Bias != nil && len(n.Bias) != out {
			return Shape{}, nodeErr(i, n, "has %d biases for %d outputs", len(n.Bias), out)
		}
		return Shape{1, 1, out}, nil
	}
	return Shape{}, nodeErr(i, n, "unknown op kind")
}

func (n *Node) window(i int, x Shape, kh, kw, c int) (Shape, error) {
	if n.StrideH < 1 || n.StrideW < 1 || n.StrideH > 64 || n.StrideW > 64 {
		return Shape{}, nodeErr(i, n, "stride %dx%d", n.StrideH, n.StrideW)
	}
	h := outSize(x.H, kh, n.StrideH, n.Pad[0], n.Pad[2])
	w := outSize(x.W, kw, n.StrideW, n.Pad[1], n.Pad[3])
	if h < 1 || w < 1 {
		return Shape{}, nodeErr(i, n, "%dx%d window does not fit the %v input with padding %v", kh, kw, x, n.Pad)
	}
	return Shape{h, w, c}, nil
}

func outSize(n, k, s, before, after int) int {
	span := n + before + after - k
	if span < 0 {
		return 0
	}
	return span/s + 1
}

// MACs counts the multiply-accumulates of one run, for reporting GMAC/s.
func (g *Graph) MACs() int64 {
	shapes, err := g.Shapes()
	if err != nil {
		return 0
	}
	var total int64
	for i := range g.Nodes {
		n := &g.Nodes[i]
		out := shapes[i+1]
		switch n.Kind {
		case Conv:
			total += int64(out.H*out.W*out.C) * int64(n.WShape[0]*n.WShape[1]*n.WShape[2])
		case Dense:
			total += int64(n.WShape[0] * n.WShape[1])
		}
	}
	return total
}

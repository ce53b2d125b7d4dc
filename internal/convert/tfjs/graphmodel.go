package tfjs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nsfw-go/nsfw/internal/engine"
	"github.com/nsfw-go/nsfw/internal/format"
)

type graphTopology struct {
	Node []graphNode `json:"node"`
}

type graphNode struct {
	Name  string               `json:"name"`
	Op    string               `json:"op"`
	Input []string             `json:"input"`
	Attr  map[string]attrValue `json:"attr"`
}

type attrValue struct {
	S     string `json:"s"`
	B     *bool  `json:"b"`
	I     string `json:"i"`
	F     *float64
	Shape *struct {
		Dim []struct {
			Size string `json:"size"`
		} `json:"dim"`
	} `json:"shape"`
	List *struct {
		I []string `json:"i"`
		S []string `json:"s"`
	} `json:"list"`
}

func (a attrValue) str() string {
	b, err := base64.StdEncoding.DecodeString(a.S)
	if err != nil {
		return ""
	}
	return string(b)
}

func (a attrValue) ints() []int {
	if a.List == nil {
		return nil
	}
	out := make([]int, len(a.List.I))
	for i, s := range a.List.I {
		out[i], _ = strconv.Atoi(s)
	}
	return out
}

func (a attrValue) strs() []string {
	if a.List == nil {
		return nil
	}
	out := make([]string, len(a.List.S))
	for i, s := range a.List.S {
		b, _ := base64.StdEncoding.DecodeString(s)
		out[i] = string(b)
	}
	return out
}

// ConvertGraphModel converts a TF graph model (nsfwjs MobileNetV2Mid):
// _FusedConv2D and FusedDepthwiseConv2dNative with their fused BiasAdd and
// Relu/Relu6, AddV2, AvgPool, _FusedMatMul, Softmax, and the scalar
// Mul/Sub that map the input from [0,1] to [-1,1] (kept as an affine op so
// the conv's zero padding means what it meant in TF).
func ConvertGraphModel(bnd *Bundle, output string) (*format.File, error) {
	var top graphTopology
	if err := json.Unmarshal(bnd.Model.ModelTopology, &top); err != nil {
		return nil, fmt.Errorf("graph topology: %w", err)
	}
	nodes := map[string]*graphNode{}
	for i := range top.Node {
		n := &top.Node[i]
		if _, dup := nodes[n.Name]; dup {
			return nil, fmt.Errorf("node %s appears twice", n.Name)
		}
		nodes[n.Name] = n
	}
	order, err := topoOrder(nodes, output)
	if err != nil {
		return nil, err
	}
	readers := map[string]int{}
	for _, n := range order {
		for _, in := range n.Input {
			readers[inputName(in)]++
		}
	}
	used := map[string]bool{}
	constant := func(name string) (*RawWeight, error) {
		n := nodes[name]
		if n == nil || n.Op != "Const" {
			return nil, fmt.Errorf("%s is not a constant", name)
		}
		w, ok := bnd.Weights[name]
		if !ok {
			return nil, fmt.Errorf("constant %s has no weights", name)
		}
		used[name] = true
		return w, nil
	}
	scalar := func(name string) (float32, error) {
		w, err := constant(name)
		if err != nil {
			return 0, err
		}
		if w.Len() != 1 {
			return 0, fmt.Errorf("%s: expected a scalar, got shape %v", name, w.Spec.Shape)
		}
		return w.Value(0), nil
	}

	var b *builder
	refs := map[string]ref{}
	for _, n := range order {
		in := make([]ref, 0, len(n.Input))
		for _, name := range n.Input {
			name = inputName(name)
			if nodes[name] != nil && nodes[name].Op == "Const" {
				continue
			}
			r, ok := refs[name]
			if !ok {
				return nil, fmt.Errorf("%s: input %s is not defined before it", n.Name, name)
			}
			in = append(in, r)
		}
		if df := n.Attr["data_format"].str(); df != "" && df != "NHWC" {
			return nil, fmt.Errorf("%s: data_format %s", n.Name, df)
		}
		for _, d := range n.Attr["dilations"].ints() {
			if d != 1 {
				return nil, fmt.Errorf("%s: dilations are not supported", n.Name)
			}
		}
		var out ref
		var err error
		switch n.Op {
		case "Const":
			continue
		case "Placeholder":
			sh := n.Attr["shape"].Shape
			if b != nil || sh == nil || len(sh.Dim) != 4 {
				return nil, fmt.Errorf("%s: unsupported placeholder", n.Name)
			}
			var d [4]int
			for i, x := range sh.Dim {
				d[i], _ = strconv.Atoi(x.Size)
			}
			if d[1] < 1 || d[2] < 1 || d[3] != 3 {
				return nil, fmt.Errorf("%s: unsupported input shape %v", n.Name, d)
			}
			b = newBuilder(engine.Shape{H: d[1], W: d[2], C: d[3]})
			out = ref{value: 0, op: -1}
		case "Mul", "Sub", "AddV2", "Add":
			if len(in) == 2 && (n.Op == "AddV2" || n.Op == "Add") {
				var v int
				v, err = b.add(format.Op{Kind: format.OpAdd, Input: [2]int32{int32(in[0].value), int32(in[1].value)}, Weight: -1, Bias: -1},
					engine.Node{Kind: engine.Add, In: [2]int{in[0].value, in[1].value}})
				out = ref{value: v, op: len(b.ops) - 1}
				break
			}
			if len(in) != 1 || len(n.Input) != 2 || (n.Op == "Sub" && inputName(n.Input[0]) != in[0].src) {
				return nil, fmt.Errorf("%s: %s must combine one tensor with one scalar constant (tensor first for Sub)", n.Name, n.Op)
			}
			var c float32
			for _, name := range n.Input {
				if nodes[inputName(name)].Op == "Const" {
					if c, err = scalar(inputName(name)); err != nil {
						return nil, err
					}
				}
			}
			out, err = b.affine(in[0], readers[inputName(n.Input[0])], n.Op, c)
		case "_FusedConv2D", "FusedDepthwiseConv2dNative":
			out, err = graphConv(b, n, in[0], constant)
		case "AvgPool":
			k, s := n.Attr["ksize"].ints(), n.Attr["strides"].ints()
			if len(k) != 4 || len(s) != 4 || k[0] != 1 || k[3] != 1 || s[0] != 1 || s[3] != 1 {
				return nil, fmt.Errorf("%s: ksize %v strides %v", n.Name, k, s)
			}
			var pad [4]int
			switch n.Attr["padding"].str() {
			case "VALID":
			case "SAME":
				sh := b.shapes[in[0].value]
				pad[0], pad[2] = samePadding(sh.H, k[1], s[1])
				pad[1], pad[3] = samePadding(sh.W, k[2], s[2])
			default:
				return nil, fmt.Errorf("%s: padding %s", n.Name, n.Attr["padding"].str())
			}
			var v int
			v, err = b.add(format.Op{Kind: format.OpAvgPool, Input: [2]int32{int32(in[0].value), -1}, Weight: -1, Bias: -1,
				Window: [2]uint32{uint32(k[1]), uint32(k[2])}, Stride: [2]uint32{uint32(s[1]), uint32(s[2])},
				Pad: [4]uint32{uint32(pad[0]), uint32(pad[1]), uint32(pad[2]), uint32(pad[3])}},
				engine.Node{Kind: engine.AvgPool, In: [2]int{in[0].value, -1}, KH: k[1], KW: k[2], StrideH: s[1], StrideW: s[2], Pad: pad})
			out = ref{value: v, op: len(b.ops) - 1}
		case "Squeeze", "Identity", "Reshape":
			// Our buffers are flat: squeezing 1-sized axes changes nothing.
			out = in[0]
			if n.Op == "Reshape" {
				return nil, fmt.Errorf("%s: Reshape is not supported", n.Name)
			}
		case "_FusedMatMul":
			if (n.Attr["transpose_a"].B != nil && *n.Attr["transpose_a"].B) || (n.Attr["transpose_b"].B != nil && *n.Attr["transpose_b"].B) {
				return nil, fmt.Errorf("%s: transposed MatMul is not supported", n.Name)
			}
			var act uint32
			if act, err = fusedActivation(n); err != nil {
				return nil, err
			}
			var kernel, bias *RawWeight
			if kernel, err = constant(inputName(n.Input[1])); err != nil {
				return nil, err
			}
			if bias, err = constant(inputName(n.Input[2])); err != nil {
				return nil, err
			}
			var v int
			v, err = b.dense(in[0].value, kernel, bias, act)
			out = ref{value: v, op: len(b.ops) - 1}
		case "Softmax":
			var v int
			v, err = b.softmax(in[0].value)
			out = ref{value: v, op: len(b.ops) - 1}
		default:
			return nil, fmt.Errorf("%s: unsupported op %s", n.Name, n.Op)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Name, err)
		}
		out.src = n.Name
		refs[n.Name] = out
	}
	if r := refs[output]; r.value != len(b.shapes)-1 {
		return nil, fmt.Errorf("output %s is not the last op's output", output)
	}
	for _, name := range bnd.Order {
		if !used[name] {
			return nil, fmt.Errorf("weight %s is not used by the converted graph", name)
		}
	}
	return b.file()
}

func inputName(s string) string {
	s = strings.TrimPrefix(s, "^")
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return s
}

// topoOrder lists the nodes the output depends on, inputs first, in the
// order of the topology where it allows.
func topoOrder(nodes map[string]*graphNode, output string) ([]*graphNode, error) {
	state := map[string]int{} // 1 visiting, 2 done
	var order []*graphNode
	var visit func(name string, depth int) error
	visit = func(name string, depth int) error {
		if depth > 10000 {
			return fmt.Errorf("graph too deep")
		}
		switch state[name] {
		case 1:
			return fmt.Errorf("graph has a cycle through %s", name)
		case 2:
			return nil
		}
		n := nodes[name]
		if n == nil {
			return fmt.Errorf("node %s is referenced but not defined", name)
		}
		state[name] = 1
		for _, in := range n.Input {
			if err := visit(inputName(in), depth+1); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, n)
		return nil
	}
	if err := visit(output, 0); err != nil {
		return nil, err
	}
	return order, nil
}

func fusedActivation(n *graphNode) (uint32, error) {
	ops := n.Attr["fused_ops"].strs()
	if len(ops) == 0 || ops[0] != "BiasAdd" {
		return 0, fmt.Errorf("%s: fused ops %v (want BiasAdd first)", n.Name, ops)
	}
	switch {
	case len(ops) == 1:
		return format.ActLinear, nil
	case len(ops) == 2 && ops[1] == "Relu":
		return format.ActReLU, nil
	case len(ops) == 2 && ops[1] == "Relu6":
		return format.ActReLU6, nil
	}
	return 0, fmt.Errorf("%s: fused ops %v are not supported", n.Name, ops)
}

func graphConv(b *builder, n *graphNode, in ref, constant func(string) (*RawWeight, error)) (ref, error) {
	if len(n.Input) != 3 {
		return ref{}, fmt.Errorf("%s: want 3 inputs, got %d", n.Name, len(n.Input))
	}
	act, err := fusedActivation(n)
	if err != nil {
		return ref{}, err
	}
	kernel, err := constant(inputName(n.Input[1]))
	if err != nil {
		return ref{}, err
	}
	bias, err := constant(inputName(n.Input[2]))
	if err != nil {
		return ref{}, err
	}
	s := kernel.Spec.Shape
	if len(s) != 4 {
		return ref{}, fmt.Errorf("%s: kernel shape %v", n.Name, s)
	}
	dims, groups := [4]int{s[0], s[1], s[2], s[3]}, 1
	if n.Op == "FusedDepthwiseConv2dNative" {
		if s[3] != 1 {
			return ref{}, fmt.Errorf("%s: depth multiplier %d is not supported", n.Name, s[3])
		}
		dims, groups = [4]int{s[0], s[1], 1, s[2]}, s[2]
	}
	strides := n.Attr["strides"].ints()
	if len(strides) != 4 || strides[0] != 1 || strides[3] != 1 {
		return ref{}, fmt.Errorf("%s: strides %v", n.Name, strides)
	}
	var pad [4]int
	switch p := n.Attr["padding"].str(); p {
	case "VALID":
	case "SAME":
		sh := b.shapes[in.value]
		pad[0], pad[2] = samePadding(sh.H, dims[0], strides[1])
		pad[1], pad[3] = samePadding(sh.W, dims[1], strides[2])
	case "EXPLICIT":
		e := n.Attr["explicit_paddings"].ints()
		if len(e) != 8 || slices.ContainsFunc(e, func(x int) bool { return x < 0 }) {
			return ref{}, fmt.Errorf("%s: explicit paddings %v", n.Name, e)
		}
		pad = [4]int{e[2], e[4], e[3], e[5]}
	default:
		return ref{}, fmt.Errorf("%s: padding %q", n.Name, p)
	}
	pc, err := newPendingConv(n.Name, kernel, dims, bias)
	if err != nil {
		return ref{}, err
	}
	pc.biasName = bias.Spec.Name
	pc.rawBias = bias
	v, err := b.conv(in.value, pc, groups, [2]int{strides[1], strides[2]}, pad, act)
	return ref{value: v, op: len(b.ops) - 1}, err
}

// affine turns "x * c" into an affine op, and "x - c" into the shift of
// the affine before it when that op is x's only reader and has no shift
// yet: the rounding is then the same as TF's separate Mul and Sub.
func (b *builder) affine(in ref, readers int, op string, c float32) (ref, error) {
	if op == "Sub" && in.op >= 0 && readers == 1 {
		prev := &b.ops[in.op]
		if prev.Kind == format.OpAffine && prev.Shift == 0 {
			prev.Shift = -c
			return in, nil
		}
	}
	scale, shift := float32(1), float32(0)
	switch op {
	case "Mul":
		scale = c
	case "Sub":
		shift = -c
	case "AddV2", "Add":
		shift = c
	}
	v, err := b.add(format.Op{Kind: format.OpAffine, Input: [2]int32{int32(in.value), -1}, Weight: -1, Bias: -1, Scale: scale, Shift: shift},
		engine.Node{Kind: engine.Affine, In: [2]int{in.value, -1}, Scale: scale, Shift: shift})
	return ref{value: v, op: len(b.ops) - 1}, err
}
